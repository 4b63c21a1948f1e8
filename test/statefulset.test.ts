// The StatefulSet controller end to end: real etcd, apiserver and controller-manager
// (statefulset and garbage collector controllers), pods made Running by a fake kubelet per test
// namespace, and the real kubectl's get, scale and rollout commands.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import type { StatefulSet } from '../lib/api/apps/statefulset.js';
import type { ControllerRevision } from '../lib/api/apps/controllerrevision.js';
import type { Pod } from '../lib/api/core/pod.js';
import { RestClient } from '../lib/client/client.js';
import { ExactWatch } from '../lib/client/watch.js';
import { ControllerRevisions, EndpointSlices, PersistentVolumeClaims, Pods, StatefulSets } from '../lib/client/resources.js';
import type { PersistentVolumeClaim } from '../lib/api/core/persistentvolumeclaim.js';
import { startFakeKubelet, type FakeKubelet } from './fake-kubelet.js';
import { startCluster, type Cluster } from './harness.js';
import { header, kubectlHelpers, row, until } from './kubectl-helpers.js';

let cluster: Cluster;
let client: RestClient;
let kc: KubeConfig;
const kubelets: FakeKubelet[] = [];
const watches: AbortController[] = [];
const { k, ok } = kubectlHelpers(() => cluster);

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager'],
    extraArgs: { 'controller-manager': ['--controllers=statefulset,garbagecollector,endpointslice,pvc-protection,pv-protection'] },
  });
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  client = new RestClient(kc, { userAgent: 'statefulset-test' });
});
after(async () => {
  for (const w of watches) w.abort();
  await Promise.all(kubelets.map((kl) => kl.stop()));
  await cluster?.stop();
});

interface SetOptions {
  replicas?: number;
  image?: string;
  parallel?: boolean;
  partition?: number;
  claims?: boolean;
  whenDeleted?: string;
  whenScaled?: string;
}

/** manifest is a headless Service `nginx` and a StatefulSet `web` governed by it, pods labelled app=web. */
function manifest(ns: string, o: SetOptions = {}): string {
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'nginx', namespace: ns },
    spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'web', port: 80 }] },
  };
  const set = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: ns },
    spec: {
      serviceName: 'nginx',
      replicas: o.replicas ?? 3,
      ...(o.parallel ? { podManagementPolicy: 'Parallel' } : {}),
      ...(o.partition !== undefined ? { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: o.partition } } } : {}),
      ...(o.whenDeleted || o.whenScaled ? { persistentVolumeClaimRetentionPolicy: { whenDeleted: o.whenDeleted ?? 'Retain', whenScaled: o.whenScaled ?? 'Retain' } } : {}),
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'app', image: o.image ?? 'busybox:1', ...(o.claims ? { volumeMounts: [{ name: 'www', mountPath: '/data' }] } : {}) }],
        },
      },
      ...(o.claims ? { volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] } : {}),
    },
  };
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [service, set] });
}

/** setUp makes the namespace, its fake kubelet and the set. */
async function setUp(ns: string, o: SetOptions = {}, ready: 'auto' | 'manual' = 'auto'): Promise<FakeKubelet> {
  await ok(['create', 'namespace', ns]);
  const kubelet = await startFakeKubelet(cluster.kubeconfig, { ready, namespace: ns });
  kubelets.push(kubelet);
  await ok(['apply', '-f', '-'], manifest(ns, o));
  return kubelet;
}

const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function livePods(ns: string): Promise<Pod[]> {
  return (await client.list<Pod>(Pods, ns, { labelSelector: 'app=web' })).items.filter((p) => !p.metadata.deletionTimestamp);
}

/** podEvents records the pod watch events of ns (type and pod name), from now on. */
async function podEvents(ns: string): Promise<{ type: string; name: string; uid: string }[]> {
  const start = await client.list<Pod>(Pods, ns);
  const events: { type: string; name: string; uid: string }[] = [];
  const ctl = await new ExactWatch(kc).watch(
    `/api/v1/namespaces/${ns}/pods`,
    { resourceVersion: start.metadata.resourceVersion },
    (type: string, pod: Pod) => events.push({ type, name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' }),
    () => undefined,
  );
  watches.push(ctl);
  return events;
}

/** settled waits until the set's status says all replicas are ready at its latest generation. */
async function settled(ns: string, replicas: number, ms = 30_000): Promise<StatefulSet> {
  let set: StatefulSet | undefined;
  await until(
    async () => {
      set = await client.get<StatefulSet>(StatefulSets, ns, 'web');
      const st = set.status ?? {};
      return (
        (st.observedGeneration ?? 0) >= (set.metadata.generation ?? 0) &&
        st.replicas === replicas &&
        st.readyReplicas === replicas &&
        (await livePods(ns)).length === replicas
      );
    },
    ms,
    `statefulset ${ns}/web to have ${replicas} ready replicas`,
  );
  return set!;
}

const names = (pods: Pod[]) => pods.map((p) => p.metadata.name).sort();

describe('StatefulSet', () => {
  it('OrderedReady creates web-0, web-1, web-2 one at a time, each after its predecessor is ready', async () => {
    const ns = 'sts-ordered';
    await ok(['create', 'namespace', ns]);
    const kubelet = await startFakeKubelet(cluster.kubeconfig, { ready: 'manual', namespace: ns });
    kubelets.push(kubelet);
    const events = await podEvents(ns);
    await ok(['apply', '-f', '-'], manifest(ns));
    for (const i of [0, 1, 2]) {
      await until(async () => (await livePods(ns)).some((p) => p.metadata.name === `web-${i}` && p.status?.phase === 'Running'), 20_000, `web-${i} running`);
      // The controller has seen web-i (status counts it) and still made no web-(i+1): it waits for readiness.
      await until(async () => (await client.get<StatefulSet>(StatefulSets, ns, 'web')).status?.replicas === i + 1, 20_000, `status.replicas ${i + 1}`);
      assert.deepEqual(names(await livePods(ns)), Array.from({ length: i + 1 }, (_, j) => `web-${j}`));
      await kubelet.markReady([`${ns}/web-${i}`]);
    }
    await settled(ns, 3);
    assert.deepEqual(
      events.filter((e) => e.type === 'ADDED').map((e) => e.name),
      ['web-0', 'web-1', 'web-2'],
    );
    const pod = await client.get<Pod>(Pods, ns, 'web-1');
    assert.equal(pod.spec.hostname, 'web-1');
    assert.equal(pod.spec.subdomain, 'nginx');
    assert.equal(pod.metadata.labels?.['statefulset.kubernetes.io/pod-name'], 'web-1');
    assert.equal(pod.metadata.labels?.['apps.kubernetes.io/pod-index'], '1');

    // The governing headless Service publishes each pod under its hostname (web-0.nginx.<ns>.svc…).
    await until(
      async () => {
        const slices = (await client.list<{ endpoints?: { hostname?: string }[] }>(EndpointSlices, ns, { labelSelector: 'kubernetes.io/service-name=nginx' })).items;
        const hosts = slices.flatMap((sl) => (sl.endpoints ?? []).map((e) => e.hostname)).sort();
        return JSON.stringify(hosts) === JSON.stringify(['web-0', 'web-1', 'web-2']);
      },
      20_000,
      'the headless Service endpoints to carry the pod hostnames',
    );

    const resources = await ok(['api-resources', '--api-group=apps']);
    assert.deepEqual(row(resources, 'statefulsets'), ['statefulsets', 'sts', 'apps/v1', 'true', 'StatefulSet']);
    assert.match(await ok(['get', 'all', '-n', ns]), /statefulset\.apps\/web\s+3\/3/);

    const table = await ok(['get', 'sts', '-n', ns]);
    assert.deepEqual(header(table), ['NAME', 'READY', 'AGE']);
    assert.deepEqual(row(table, 'web').slice(0, 2), ['web', '3/3']);
    const wide = await ok(['get', 'statefulset', 'web', '-n', ns, '-o', 'wide']);
    assert.deepEqual(header(wide), ['NAME', 'READY', 'AGE', 'CONTAINERS', 'IMAGES']);
    assert.deepEqual(row(wide, 'web').slice(3), ['app', 'busybox:1']);

    // Scale down: the highest ordinal goes first.
    await ok(['scale', 'sts', 'web', '-n', ns, '--replicas=1']);
    await settled(ns, 1);
    assert.deepEqual(names(await livePods(ns)), ['web-0']);
    assert.deepEqual(
      events.filter((e) => e.type === 'DELETED').map((e) => e.name),
      ['web-2', 'web-1'],
    );
  });

  it('Parallel creates every pod without waiting for readiness, and a failed pod is re-created', async () => {
    const ns = 'sts-parallel';
    const kubelet = await setUp(ns, { parallel: true }, 'manual');
    await until(async () => (await livePods(ns)).filter((p) => p.status?.phase === 'Running').length === 3, 20_000, 'three running pods');
    assert.equal((await livePods(ns)).filter(isReady).length, 0);
    await kubelet.setReadyMode('auto');
    await settled(ns, 3);
    // The fake kubelet would fail the re-created pod of the same name too: stop it, fail web-1 as a
    // kubelet would (phase Failed through /status), and start another once the pod is replaced.
    await kubelet.stop();
    const before = await client.get<Pod>(Pods, ns, 'web-1');
    await client.update<Pod>(Pods, { ...before, status: { ...before.status, phase: 'Failed', conditions: [{ type: 'Ready', status: 'False' }] } }, { subresource: 'status' });
    await until(async () => (await client.get<Pod>(Pods, ns, 'web-1').catch(() => before)).metadata.uid !== before.metadata.uid, 30_000, 'web-1 replaced');
    kubelets.push(await startFakeKubelet(cluster.kubeconfig, { ready: 'auto', namespace: ns }));
    await until(
      async () => {
        const pod = await client.get<Pod>(Pods, ns, 'web-1').catch(() => undefined);
        return !!pod && pod.metadata.uid !== before.metadata.uid && isReady(pod);
      },
      30_000,
      'web-1 re-created',
    );
    await settled(ns, 3);
  });

  it('a partitioned rolling update, kubectl rollout status, history and undo', async () => {
    const ns = 'sts-rollout';
    await setUp(ns, { partition: 2 });
    const first = await settled(ns, 3);
    const rev1 = first.status!.updateRevision!;
    await ok(['set', 'image', 'sts/web', 'app=busybox:2', '-n', ns]);
    await until(
      async () => {
        const pods = await livePods(ns);
        return pods.length === 3 && pods.every(isReady) && pods.find((p) => p.metadata.name === 'web-2')?.spec.containers[0]!.image === 'busybox:2';
      },
      30_000,
      'web-2 updated',
    );
    const out = await ok(['rollout', 'status', 'sts/web', '-n', ns, '--timeout=30s']);
    assert.match(out, /partitioned roll out complete: 1 new pods have been updated/);
    // Below the partition nothing moves.
    const images = async () => Object.fromEntries((await livePods(ns)).map((p) => [p.metadata.name, p.spec.containers[0]!.image]));
    assert.deepEqual(await images(), { 'web-0': 'busybox:1', 'web-1': 'busybox:1', 'web-2': 'busybox:2' });

    await ok(['patch', 'sts', 'web', '-n', ns, '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}']);
    const done = await ok(['rollout', 'status', 'sts/web', '-n', ns, '--timeout=60s']);
    assert.match(done, /partitioned roll out complete: 3 new pods have been updated/);
    assert.deepEqual(await images(), { 'web-0': 'busybox:2', 'web-1': 'busybox:2', 'web-2': 'busybox:2' });
    const updated = await settled(ns, 3);
    assert.notEqual(updated.status!.updateRevision, rev1);
    await until(async () => (await client.get<StatefulSet>(StatefulSets, ns, 'web')).status?.currentRevision === updated.status!.updateRevision, 20_000, 'current revision');

    const history = await ok(['rollout', 'history', 'sts/web', '-n', ns]);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    const rev2detail = await ok(['rollout', 'history', 'sts/web', '-n', ns, '--revision=2']);
    assert.match(rev2detail, /busybox:2/);

    await ok(['rollout', 'undo', 'sts/web', '-n', ns]);
    await ok(['rollout', 'status', 'sts/web', '-n', ns, '--timeout=60s']);
    await until(async () => Object.values(await images()).every((i) => i === 'busybox:1') && (await livePods(ns)).length === 3, 60_000, 'rolled back');
    // kubectl sees that the template already is revision 3's (it compares the revision's bytes).
    const again = await ok(['rollout', 'undo', 'sts/web', '-n', ns, '--to-revision=3']);
    assert.match(again, /skipped rollback \(current template already matches revision 3\)/);
    // The rollback renumbered revision 1 as 3, instead of making a new one.
    const revisions = (await client.list<ControllerRevision>(ControllerRevisions, ns)).items;
    assert.deepEqual(revisions.map((r) => [r.metadata.name, r.revision]).sort(), [
      [rev1, 3],
      [updated.status!.updateRevision, 2],
    ].sort());
  });

  it('each ordinal gets its claim before its pod; claims are retained or deleted as persistentVolumeClaimRetentionPolicy says', async () => {
    const claimNames = async (ns: string) => (await client.list<PersistentVolumeClaim>(PersistentVolumeClaims, ns)).items.map((c) => c.metadata.name).sort();

    // Retain/Retain (the default): claims outlive a scale-down and the set.
    const keep = 'sts-claims-retain';
    await setUp(keep, { replicas: 2, claims: true });
    await settled(keep, 2);
    assert.deepEqual(await claimNames(keep), ['www-web-0', 'www-web-1']);
    const pod = await client.get<Pod>(Pods, keep, 'web-1');
    assert.deepEqual((pod.spec as { volumes?: unknown[] }).volumes?.[0], { name: 'www', persistentVolumeClaim: { claimName: 'www-web-1' } });
    const claim = await client.get<PersistentVolumeClaim>(PersistentVolumeClaims, keep, 'www-web-1');
    assert.deepEqual(claim.metadata.labels, { app: 'web' });
    assert.equal(claim.metadata.ownerReferences, undefined);
    const pvcTable = await ok(['get', 'pvc', '-n', keep]);
    assert.ok(pvcTable.includes('www-web-0'), pvcTable);
    await ok(['scale', 'sts', 'web', '-n', keep, '--replicas=1']);
    await settled(keep, 1);
    await ok(['delete', 'sts', 'web', '-n', keep]);
    await until(async () => (await livePods(keep)).length === 0, 30_000, 'pods of the deleted set gone');
    assert.deepEqual(await claimNames(keep), ['www-web-0', 'www-web-1']);

    // Delete/Delete: a scaled-away ordinal's claim goes with its pod, the rest with the set.
    const drop = 'sts-claims-delete';
    await setUp(drop, { replicas: 3, claims: true, whenDeleted: 'Delete', whenScaled: 'Delete' });
    await settled(drop, 3);
    const owned = await client.get<PersistentVolumeClaim>(PersistentVolumeClaims, drop, 'www-web-0');
    const set = await client.get<StatefulSet>(StatefulSets, drop, 'web');
    assert.deepEqual(owned.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: set.metadata.uid }]);
    await ok(['scale', 'sts', 'web', '-n', drop, '--replicas=1']);
    await settled(drop, 1);
    await until(async () => JSON.stringify(await claimNames(drop)) === JSON.stringify(['www-web-0']), 30_000, 'claims of web-1 and web-2 deleted');
    await ok(['delete', 'sts', 'web', '-n', drop]);
    await until(async () => (await claimNames(drop)).length === 0, 30_000, 'claims deleted with the set');
  });

  it('a controller manager killed in the middle of a scale converges without duplicate or missing ordinals', async () => {
    const ns = 'sts-kill';
    await setUp(ns, { replicas: 1 });
    await settled(ns, 1);
    const events = await podEvents(ns);
    await ok(['scale', 'sts', 'web', '-n', ns, '--replicas=8']);
    await until(async () => (await livePods(ns)).length >= 3, 30_000, 'the scale to be under way');
    await cluster.killHard('controller-manager');
    const midway = (await livePods(ns)).length;
    await cluster.restart('controller-manager');
    await settled(ns, 8, 60_000);
    assert.deepEqual(names(await livePods(ns)), ['web-0', 'web-1', 'web-2', 'web-3', 'web-4', 'web-5', 'web-6', 'web-7'].sort());
    // Every ordinal was made exactly once: no pod was created twice or deleted on the way.
    const added = events.filter((e) => e.type === 'ADDED').map((e) => e.name);
    assert.deepEqual(added, ['web-1', 'web-2', 'web-3', 'web-4', 'web-5', 'web-6', 'web-7'], `midway ${midway}`);
    assert.deepEqual(events.filter((e) => e.type === 'DELETED'), []);
  });
});
