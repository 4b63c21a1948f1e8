// pods/eviction against the real generic stores (in-memory storage): what a budget allows, what it
// refuses and how, and what an eviction writes to the pod and the budget.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { namespaces, pods } from '../../../lib/api/index.js';
import type { Pod } from '../../../lib/api/core/pod.js';
import { type PodDisruptionBudget, podDisruptionBudgets } from '../../../lib/api/policy/poddisruptionbudget.js';
import { Logger } from '../../../lib/log.js';
import { StatusError } from '../../../lib/machinery/status.js';
import { WatchCache } from '../../storage/cacher.js';
import { MemoryStorage } from '../../storage/memory.js';
import { APIRegistry } from '../registry.js';
import type { GenericStore, RequestContext } from '../store.js';
import { evictionREST } from './eviction.js';

const ctx = (): RequestContext => ({ now: new Date('2024-05-01T12:00:00Z'), dryRun: false });
let storage: MemoryStorage;
let cache: WatchCache;
let registry: APIRegistry;
let podStore: GenericStore;
let pdbStore: GenericStore;
let n = 0;
let ns = '';

before(async () => {
  storage = new MemoryStorage();
  cache = new WatchCache(storage, new Logger('test', 0, () => undefined));
  await cache.start();
  registry = new APIRegistry(storage, cache);
  registry.add(namespaces);
  podStore = registry.add(pods);
  pdbStore = registry.add(podDisruptionBudgets);
});
after(async () => {
  await cache?.stop();
  await storage?.close();
});
beforeEach(async () => {
  ns = `ns${++n}`;
  await registry.lookup('', 'v1', 'namespaces')!.create(undefined, { metadata: { name: ns } }, ctx());
});

/** runningPod creates a pod bound to a node, Running, ready or not. */
async function runningPod(name: string, ready = true, phase = 'Running'): Promise<Pod> {
  await podStore.create(ns, { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } }, ctx());
  const { object } = await podStore.update(ns, name, null, ctx(), {
    subresource: 'status',
    mutate: (p) => ({ ...p, status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }),
  });
  return object as Pod;
}

/** budget creates a PDB for app=web and gives it the status the controller would have written. */
async function budget(name: string, status: PodDisruptionBudget['status'], spec: PodDisruptionBudget['spec'] = {}): Promise<void> {
  await pdbStore.create(ns, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } }, ...spec } }, ctx());
  await pdbStore.update(ns, name, null, ctx(), { subresource: 'status', mutate: (p) => ({ ...p, status: { observedGeneration: 1, ...status } }) });
}

async function evict(name: string, opts: { dryRun?: boolean } = {}) {
  const c = ctx();
  return evictionREST.create!({ store: podStore, namespace: ns, name, ctx: c, dryRun: () => !!opts.dryRun, registry }, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name } });
}

async function refusal(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err;
  }
  assert.fail('the eviction was expected to be refused');
}

const getPod = async (name: string) => (await podStore.get(ns, name)) as Pod;
const getPdb = async (name: string) => (await pdbStore.get(ns, name)) as PodDisruptionBudget;

describe('pods/eviction', () => {
  it('without a budget the pod is deleted, marked DisruptionTarget first', async () => {
    await runningPod('a');
    assert.equal((await evict('a')).code, 201);
    const pod = await getPod('a'); // graceful: still there, being deleted
    assert.ok(pod.metadata.deletionTimestamp);
    const cond = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    assert.deepEqual([cond?.status, cond?.reason, cond?.message], ['True', 'EvictionByEvictionAPI', 'Eviction API: evicting']);
  });

  it('a budget that allows nothing answers 429 with the DisruptionBudget cause and leaves everything as it was', async () => {
    const before = await runningPod('a');
    await budget('web', { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 });
    const err = await refusal(evict('a'));
    assert.deepEqual([err.code, err.reason, err.message], [429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget."]);
    assert.deepEqual(err.status.details, { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 1 healthy pods and has 1 currently' }] });
    assert.equal((await getPod('a')).metadata.resourceVersion, before.metadata.resourceVersion);
  });

  it('a budget that allows one gives it up, records the pod in disruptedPods and the pod goes', async () => {
    await runningPod('a');
    await budget('web', { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
    assert.equal((await evict('a')).code, 201);
    const pdb = await getPdb('web');
    assert.equal(pdb.status?.disruptionsAllowed, 0);
    assert.deepEqual(pdb.status?.disruptedPods, { a: '2024-05-01T12:00:00Z' });
    assert.deepEqual(pdb.status?.conditions?.map((c) => [c.type, c.status, c.reason]), [['DisruptionAllowed', 'False', 'InsufficientPods']]);
    assert.ok((await getPod('a')).metadata.deletionTimestamp);
  });

  it('dryRun decides but writes nothing', async () => {
    const pod = await runningPod('a');
    await budget('web', { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
    const pdbBefore = await getPdb('web');
    assert.equal((await evict('a', { dryRun: true })).code, 201);
    assert.equal((await getPod('a')).metadata.resourceVersion, pod.metadata.resourceVersion);
    assert.equal((await getPdb('web')).metadata.resourceVersion, pdbBefore.metadata.resourceVersion);
  });

  it('more than one budget for the pod is a 500 Status', async () => {
    await runningPod('a');
    await budget('one', { disruptionsAllowed: 1 });
    await budget('two', { disruptionsAllowed: 1 });
    const r = await evict('a');
    assert.equal(r.code, 500);
    assert.equal((r as { body: { message?: string } }).body.message, 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  });

  it('a budget whose status lags behind its spec answers 429 "still being processed"', async () => {
    await runningPod('a');
    await budget('web', { disruptionsAllowed: 3, observedGeneration: 0 });
    const err = await refusal(evict('a'));
    assert.equal(err.code, 429);
    assert.deepEqual(err.status.details, { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web is still being processed by the server.' }], retryAfterSeconds: 10 });
  });

  it('pending pods go without asking; unready pods per unhealthyPodEvictionPolicy', async () => {
    await runningPod('pending', false, 'Pending');
    await runningPod('sick', false);
    await budget('web', { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1, expectedPods: 2 });
    assert.equal((await evict('pending')).code, 201);
    // IfHealthyBudget (the default): the budget is not met, so the unready pod is protected too.
    assert.equal((await refusal(evict('sick'))).code, 429);
    await pdbStore.update(ns, 'web', null, ctx(), { mutate: (p) => ({ ...p, spec: { ...(p.spec as object), unhealthyPodEvictionPolicy: 'AlwaysAllow' } }) });
    await pdbStore.update(ns, 'web', null, ctx(), { subresource: 'status', mutate: (p) => ({ ...p, status: { ...(p.status as object), observedGeneration: 2 } }) });
    assert.equal((await evict('sick')).code, 201);
    assert.equal((await getPdb('web')).status?.disruptionsAllowed, 0, 'an unready pod costs no disruption');
    assert.ok((await getPod('sick')).metadata.deletionTimestamp);
  });
});

