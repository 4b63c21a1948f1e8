// Storage end to end on simulated nodes: a real etcd, apiserver, controller manager (the
// persistentvolume-binder, the local-path provisioner, pvc-protection and pv-protection),
// scheduler and node simulator with two Nodes, driven with the real kubectl. Static binding with
// Retain, dynamic provisioning of the default local-path class with WaitForFirstConsumer and its
// Delete reclaim (the helper pod runs to success on the simulated node), claims and volumes
// deleted while in use (Terminating until the pod is gone), a pod whose claim does not exist, and
// the kinds in `kubectl api-resources` and `kubectl get`.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PersistentVolume, PersistentVolumeClaim } from '../lib/api/core/persistentvolume.js';
import type { Pod } from '../lib/api/core/pod.js';
import { type Cluster, startCluster } from './harness.js';
import { header, kubectlHelpers, row, until } from './kubectl-helpers.js';

const ns = 'storage-e2e';
let cluster: Cluster;
const { ok, k } = kubectlHelpers(() => cluster);

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager', 'scheduler', 'sim'],
    simulatedNodes: 2,
    extraArgs: {
      // -v=4: the protection controllers say when they keep an object (kube's levels: 2 for a claim, 4 for a volume).
      'controller-manager': ['--controllers=persistentvolume-binder,local-path-provisioner,pvc-protection,pv-protection,namespace,serviceaccount', '-v=4'],
      sim: ['--lease-renew-interval=2s', '--max-termination-grace=1s'],
    },
  });
  await ok(['create', 'namespace', ns]);
});

after(async () => {
  await cluster?.stop();
});

async function getJSON<T>(path: string): Promise<T | undefined> {
  const r = await cluster.request(path);
  if (r.status === 404) return undefined;
  assert.equal(r.status, 200, `GET ${path}: ${r.body}`);
  return JSON.parse(r.body) as T;
}
const claim = (name: string) => getJSON<PersistentVolumeClaim>(`/api/v1/namespaces/${ns}/persistentvolumeclaims/${name}`);
const volume = (name: string) => getJSON<PersistentVolume>(`/api/v1/persistentvolumes/${name}`);
const pod = (name: string) => getJSON<Pod>(`/api/v1/namespaces/${ns}/pods/${name}`);

function podUsing(name: string, claimName: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }], terminationGracePeriodSeconds: 0 },
  });
}

describe('storage on simulated nodes', () => {
  it('serves the kinds with kube\'s short names, and the default local-path class', async () => {
    const out = await ok(['api-resources']);
    assert.deepEqual(row(out, 'persistentvolumes'), ['persistentvolumes', 'pv', 'v1', 'false', 'PersistentVolume']);
    assert.deepEqual(row(out, 'persistentvolumeclaims'), ['persistentvolumeclaims', 'pvc', 'v1', 'true', 'PersistentVolumeClaim']);
    assert.deepEqual(row(out, 'storageclasses'), ['storageclasses', 'sc', 'storage.k8s.io/v1', 'false', 'StorageClass']);
    let sc = '';
    await until(async () => (sc = (await k(['get', 'sc'])).stdout).includes('local-path'), 30_000, 'the default StorageClass');
    assert.deepEqual(header(sc), ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
    assert.deepEqual(row(sc, 'local-path').slice(0, 5), ['local-path (default)', 'skiff.dev/local-path', 'Delete', 'WaitForFirstConsumer', 'false']);
  });

  it('binds a claim to the smallest matching static volume, and Retain keeps it Released', async () => {
    const pv = (name: string, size: string) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name },
      spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', hostPath: { path: `/tmp/skiff-e2e/${name}` } },
    });
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pv('big-pv', '5Gi'), pv('small-pv', '1Gi')] }));
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'static', namespace: ns }, spec: { storageClassName: 'manual', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '500Mi' } } } }));
    await until(async () => (await claim('static'))?.status?.phase === 'Bound', 30_000, 'the static claim to bind');
    const c = (await claim('static'))!;
    assert.equal(c.spec.volumeName, 'small-pv');
    assert.equal(c.metadata.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
    assert.equal(c.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    const pvc = await ok(['get', 'pvc', '-n', ns]);
    assert.deepEqual(header(pvc), ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
    assert.deepEqual(row(pvc, 'static').slice(0, 6), ['static', 'Bound', 'small-pv', '1Gi', 'RWO', 'manual']);
    await until(async () => (await volume('small-pv'))?.status?.phase === 'Bound', 30_000, 'the volume to be Bound');
    const pvs = await ok(['get', 'pv']);
    assert.deepEqual(row(pvs, 'small-pv').slice(0, 7), ['small-pv', '1Gi', 'RWO', 'Retain', 'Bound', `${ns}/static`, 'manual']);
    assert.deepEqual(row(pvs, 'big-pv').slice(0, 6), ['big-pv', '5Gi', 'RWO', 'Retain', 'Available', 'manual']);

    await ok(['delete', 'pvc', 'static', '-n', ns]);
    await until(async () => (await volume('small-pv'))?.status?.phase === 'Released', 30_000, 'the Retain volume to be Released');
    const released = (await volume('small-pv'))!;
    assert.equal(released.spec.claimRef?.name, 'static', 'a Released volume keeps its claimRef');
  });

  it('a claim without a class gets local-path, waits for its first pod, and is provisioned on that pod\'s node', async () => {
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'dyn', namespace: ns }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } }));
    const created = (await claim('dyn'))!;
    assert.equal(created.spec.storageClassName, 'local-path', 'DefaultStorageClass admission set the class');
    await until(async () => (await ok(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=dyn'])).includes('WaitForFirstConsumer'), 30_000, 'the WaitForFirstConsumer event');
    assert.equal((await claim('dyn'))!.status?.phase, 'Pending');

    await ok(['apply', '-f', '-'], podUsing('writer', 'dyn'));
    await until(async () => !!(await pod('writer'))?.spec?.nodeName, 60_000, 'the pod to be scheduled');
    const node = (await pod('writer'))!.spec!.nodeName!;
    const c = (await claim('dyn'))!;
    assert.equal(c.status?.phase, 'Bound', 'the pod was bound only once its claim was');
    assert.equal(c.metadata.annotations?.['volume.kubernetes.io/selected-node'], node);
    assert.equal(c.metadata.annotations?.['volume.kubernetes.io/storage-provisioner'], 'skiff.dev/local-path');
    const pv = (await volume(c.spec.volumeName!))!;
    assert.equal(pv.metadata.name, `pvc-${c.metadata.uid}`);
    assert.equal(pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by'], 'skiff.dev/local-path');
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
    assert.match(pv.spec.hostPath!.path, new RegExp(`/pvc-${c.metadata.uid}$`));
    assert.deepEqual(pv.spec.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values, [node]);

    // A second pod of the same claim must land on the volume's node.
    await ok(['apply', '-f', '-'], podUsing('reader', 'dyn'));
    await until(async () => !!(await pod('reader'))?.spec?.nodeName, 60_000, 'the second pod to be scheduled');
    assert.equal((await pod('reader'))!.spec!.nodeName, node);

    // Delete: the pods, then the claim; the helper pod removes the directory and the volume goes.
    await ok(['delete', 'pod', 'writer', 'reader', '-n', ns, '--wait=false']);
    await ok(['delete', 'pvc', 'dyn', '-n', ns, '--wait=false']);
    await until(async () => (await volume(pv.metadata.name!)) === undefined, 60_000, 'the provisioned volume to be deleted');
    const helper = await k(['get', 'pod', `helper-pod-delete-${pv.metadata.name}`, '-n', 'kube-system']);
    assert.notEqual(helper.code, 0, 'the helper pod is removed once it has run');
  });

  it('claims a running pod uses, and a bound volume, stay Terminating until the pod is gone', async () => {
    // A static Retain volume and a local-path (Delete) claim, both mounted by one pod.
    await ok(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'held-pv' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'held', hostPath: { path: '/tmp/skiff-e2e/held-pv' } } },
        { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'held', namespace: ns }, spec: { storageClassName: 'held', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
        { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'held-dyn', namespace: ns }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'holder', namespace: ns },
          spec: {
            containers: [{ name: 'c', image: 'busybox' }],
            volumes: [{ name: 'a', persistentVolumeClaim: { claimName: 'held' } }, { name: 'b', persistentVolumeClaim: { claimName: 'held-dyn' } }],
            terminationGracePeriodSeconds: 0,
          },
        },
      ],
    }));
    await until(async () => (await pod('holder'))?.status?.phase === 'Running', 60_000, 'the pod to run');
    await until(async () => (await volume('held-pv'))?.status?.phase === 'Bound', 30_000, 'the static volume to be Bound');
    const dynVolume = (await claim('held-dyn'))!.spec.volumeName!;
    assert.deepEqual((await volume('held-pv'))!.metadata.finalizers, ['kubernetes.io/pv-protection']);
    assert.match(await ok(['describe', 'pvc', 'held', '-n', ns]), /^Finalizers:\s+\[kubernetes\.io\/pvc-protection\]$/m);

    // The volume first: bound, it is only marked.
    assert.match(await ok(['delete', 'pv', 'held-pv', '--wait=false']), /persistentvolume "held-pv" deleted/);
    assert.equal(row(await ok(['get', 'pv', 'held-pv']), 'held-pv')[4], 'Terminating');
    // Then both claims, while the pod runs.
    await ok(['delete', 'pvc', 'held', 'held-dyn', '-n', ns, '--wait=false']);
    const pvcs = await ok(['get', 'pvc', '-n', ns]);
    assert.deepEqual(row(pvcs, 'held').slice(0, 3), ['held', 'Terminating', 'held-pv']);
    assert.deepEqual(row(pvcs, 'held-dyn').slice(0, 3), ['held-dyn', 'Terminating', dynVolume]);
    const logged = (msg: string, field: string) => cluster.logs('controller-manager').split('\n').some((l) => l.includes(`"msg":"${msg}"`) && l.includes(field));
    await until(async () => logged('Keeping PVC because it is being used', `"pvc":"${ns}/held"`) && logged('Keeping PVC because it is being used', `"pvc":"${ns}/held-dyn"`), 30_000, 'pvc-protection to keep both claims');
    await until(async () => logged('Keeping PV because it is being used', '"pv":"held-pv"'), 30_000, 'pv-protection to keep the volume');
    assert.equal((await claim('held'))?.status?.phase, 'Bound');
    assert.equal((await claim('held-dyn'))?.status?.phase, 'Bound');
    assert.equal((await volume('held-pv'))?.status?.phase, 'Bound', 'the volume stays Bound while its claim exists');
    assert.equal((await volume(dynVolume))?.status?.phase, 'Bound', 'no reclaim while the pod runs');
    assert.equal((await k(['get', 'pod', `helper-pod-delete-${dynVolume}`, '-n', 'kube-system'])).code, 1, 'no helper pod removes the data under the running pod');

    // The pod goes: the claims go, the static volume is released and goes, the local-path one is deleted.
    await ok(['delete', 'pod', 'holder', '-n', ns, '--wait=false']);
    await until(async () => (await claim('held')) === undefined && (await claim('held-dyn')) === undefined, 60_000, 'the claims to go once the pod is gone');
    await until(async () => (await volume('held-pv')) === undefined, 60_000, 'the Terminating volume to go once released');
    await until(async () => (await volume(dynVolume)) === undefined, 60_000, 'the local-path volume to be deleted');
  });

  it('a pod whose claim does not exist stays Pending with kube\'s message', async () => {
    await ok(['apply', '-f', '-'], podUsing('orphan', 'nope'));
    await until(
      async () => (await ok(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=orphan,reason=FailedScheduling'])).includes('persistentvolumeclaim "nope" not found'),
      30_000,
      'the FailedScheduling event',
    );
    assert.equal((await pod('orphan'))!.spec?.nodeName, undefined);
  });
});
