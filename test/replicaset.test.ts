// The ReplicaSet controller end to end: a real etcd, apiserver and controller manager (only the
// replicaset controller enabled, so this file tests that one controller), a fake kubelet that
// marks pods Running and Ready, and the real kubectl.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ReplicaSet } from '../lib/api/apps/types.js';
import type { Pod } from '../lib/api/core/pod.js';
import { type FakeKubelet, startFakeKubelet } from './fake-kubelet.js';
import { type Cluster, startCluster } from './harness.js';
import { header, kubectlHelpers, row, until } from './kubectl-helpers.js';

const ns = 'rs-e2e';
let cluster: Cluster;
let kubelet: FakeKubelet;
const { ok } = kubectlHelpers(() => cluster);

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager'],
    extraArgs: { 'controller-manager': ['--controllers=replicaset'] },
  });
  await ok(['create', 'namespace', ns]);
  kubelet = await startFakeKubelet(cluster.kubeconfig, { namespace: ns });
});

after(async () => {
  await kubelet?.stop();
  await cluster?.stop();
});

function replicaSet(name: string, replicas: number, labels: Record<string, string>, image = 'busybox'): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'c', image }] } },
    },
  });
}

async function getJSON<T>(path: string): Promise<T> {
  const r = await cluster.request(path);
  assert.equal(r.status, 200, `GET ${path}: ${r.body}`);
  return JSON.parse(r.body) as T;
}

/** pods lists the namespace's pods matching selector, straight from the apiserver. */
async function pods(selector: string): Promise<Pod[]> {
  return (await getJSON<{ items: Pod[] }>(`/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(selector)}`)).items;
}

async function rs(name: string): Promise<ReplicaSet> {
  return getJSON<ReplicaSet>(`/apis/apps/v1/namespaces/${ns}/replicasets/${name}`);
}

const controllerOf = (p: Pod) => p.metadata.ownerReferences?.find((r) => r.controller)?.name;

/** settled: the ReplicaSet saw its latest spec and has exactly n ready pods, all its own. */
async function settled(name: string, selector: string, n: number, ms = 30_000): Promise<void> {
  let last = '';
  await until(
    async () => {
      const r = await rs(name);
      const list = await pods(selector);
      last = `status ${JSON.stringify(r.status)}, pods ${list.map((p) => `${p.metadata.name}(${controllerOf(p)})`).join(' ')}`;
      return (
        r.status?.observedGeneration === r.metadata.generation &&
        r.status?.replicas === n &&
        r.status?.readyReplicas === n &&
        list.length === n &&
        list.every((p) => controllerOf(p) === name)
      );
    },
    ms,
    `${name} to settle at ${n} ready pods (last: ${last})`,
  );
}

/** deleteEvents counts the SuccessfulDelete events recorded for a ReplicaSet. */
async function deleteEvents(name: string): Promise<number> {
  const list = await getJSON<{ items: Array<{ reason?: string; count?: number }> }>(
    `/api/v1/namespaces/${ns}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`,
  );
  return list.items.filter((e) => e.reason === 'SuccessfulDelete').reduce((n, e) => n + (e.count ?? 1), 0);
}

describe('ReplicaSet controller', () => {
  it('kubectl create -f makes the pods, and kubectl get rs shows DESIRED/CURRENT/READY', async () => {
    await ok(['create', '-f', '-'], replicaSet('web', 3, { app: 'web' }));
    await settled('web', 'app=web', 3);
    const table = await ok(['get', 'rs', 'web', '-n', ns]);
    assert.deepEqual(header(table), ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE']);
    assert.deepEqual(row(table, 'web').slice(0, 4), ['web', '3', '3', '3']);
    const list = await pods('app=web');
    for (const p of list) {
      assert.match(p.metadata.name!, /^web-[a-z0-9]{5}$/);
      assert.equal(p.metadata.ownerReferences?.[0]?.blockOwnerDeletion, true);
    }
    const describe = await ok(['describe', 'rs', 'web', '-n', ns]);
    assert.match(describe, /Normal\s+SuccessfulCreate\s+\S+\s+replicaset-controller\s+Created pod: web-[a-z0-9]{5}/);
  });

  it('kubectl scale rs up and down', async () => {
    await ok(['scale', 'rs', 'web', '-n', ns, '--replicas=5']);
    await settled('web', 'app=web', 5);
    const before = new Set((await pods('app=web')).map((p) => p.metadata.name));
    await ok(['scale', 'rs', 'web', '-n', ns, '--replicas=2']);
    await settled('web', 'app=web', 2);
    // Scaling down deletes, it never replaces: the survivors are pods that were there before.
    for (const p of await pods('app=web')) assert.ok(before.has(p.metadata.name), `${p.metadata.name} is new`);
    assert.deepEqual(row(await ok(['get', 'rs', 'web', '-n', ns]), 'web').slice(0, 4), ['web', '2', '2', '2']);
  });

  it('adopts an orphan pod that matches its selector instead of creating one', async () => {
    await ok(['run', 'lonely', '-n', ns, '--image=busybox', '--labels=app=adopt']);
    await ok(['create', '-f', '-'], replicaSet('adopter', 1, { app: 'adopt' }));
    await settled('adopter', 'app=adopt', 1);
    const [only] = await pods('app=adopt');
    assert.equal(only!.metadata.name, 'lonely');
    assert.deepEqual(
      only!.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.controller, r.blockOwnerDeletion]),
      [['ReplicaSet', 'adopter', true, true]],
    );
  });

  it('relabelling a pod releases it, and a replacement is made', async () => {
    const [victim] = await pods('app=web');
    const name = victim!.metadata.name!;
    await ok(['label', 'pod', name, '-n', ns, 'app=debug', '--overwrite']);
    // Released: no owner left. (The apiserver answers `ownerReferences: []` where kube omits the field.)
    await until(async () => !(await pods('app=debug'))[0]?.metadata.ownerReferences?.length, 20_000, `${name} to be released`);
    await settled('web', 'app=web', 2);
    assert.ok(!(await pods('app=web')).some((p) => p.metadata.name === name));
    await ok(['delete', 'pod', name, '-n', ns]);
  });

  it('a controller manager killed mid scale-up ends with exactly spec.replicas pods after its restart', async (t) => {
    const replicas = 60;
    const deletesBefore = await deleteEvents('web');
    await ok(['scale', 'rs', 'web', '-n', ns, `--replicas=${replicas}`]);
    // Stop it as soon as the scale-up is under way.
    await until(async () => (await pods('app=web')).length > 2, 20_000, 'the scale-up to start');
    await cluster.kill('controller-manager');
    const atKill = (await pods('app=web')).length;
    t.diagnostic(`${atKill} of ${replicas} pods when the controller manager stopped`);
    await cluster.restart('controller-manager');
    await settled('web', 'app=web', replicas, 60_000);
    assert.equal((await pods('app=web')).length, replicas, `started from ${atKill} pods`);
    // Had the new controller manager created pods twice it would have deleted the surplus.
    assert.equal(await deleteEvents('web'), deletesBefore, 'pods were deleted: some were created twice');
    await ok(['scale', 'rs', 'web', '-n', ns, '--replicas=1']);
  });

  it('a template the apiserver rejects shows ReplicaFailure and FailedCreate in kubectl describe, without a hot loop', async () => {
    // Valid as a template, refused as a pod: pod images may not have surrounding whitespace.
    await ok(['create', '-f', '-'], replicaSet('broken', 2, { app: 'broken' }, ' busybox'));
    await until(
      async () => (await rs('broken')).status?.conditions?.some((c) => c.type === 'ReplicaFailure' && c.status === 'True' && c.reason === 'FailedCreate') ?? false,
      20_000,
      'the ReplicaFailure condition',
    );
    const cond = (await rs('broken')).status!.conditions!.find((c) => c.type === 'ReplicaFailure')!;
    assert.match(cond.message!, /is invalid: spec\.containers\[0\]\.image: Invalid value: " busybox": must not have leading or trailing whitespace/);
    let text = '';
    await until(
      async () => {
        text = await ok(['describe', 'rs', 'broken', '-n', ns]);
        return /Warning\s+FailedCreate/.test(text);
      },
      20_000,
      'the FailedCreate event in describe',
    );
    assert.match(text, /ReplicaFailure\s+True\s+FailedCreate/);
    assert.match(text, /Warning\s+FailedCreate\s+.*replicaset-controller\s+Error creating: .*must not have leading or trailing whitespace/);
    assert.deepEqual(await pods('app=broken'), []);
    // Retries back off: a handful of attempts, not thousands.
    const events = await getJSON<{ items: Array<{ reason?: string; count?: number }> }>(
      `/api/v1/namespaces/${ns}/events?fieldSelector=${encodeURIComponent('involvedObject.name=broken')}`,
    );
    const attempts = events.items.filter((e) => e.reason === 'FailedCreate').reduce((n, e) => n + (e.count ?? 1), 0);
    assert.ok(attempts >= 1 && attempts < 40, `${attempts} failed creates`);
  });
});
