// Unit tests of the garbage collector: the graph built from observed objects, and the exact API
// actions attemptToDelete and attemptToOrphan take (FakeClient preloaded with the objects).

import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { OwnerReference } from '../../lib/api/meta.js';
import { ApiError, ConfigMaps, Namespaces, type ResourceType } from '../../lib/client/index.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { type DiscoveredResource, ResourceMapper } from '../common/discovery.js';
import { GraphBuilder, type MetaObject } from './graph.js';
import { GarbageCollector } from './sync.js';

const CronTabs: ResourceType = { group: 'stable.example.com', version: 'v1', resource: 'crontabs', kind: 'CronTab', namespaced: true };
const served = (r: ResourceType): DiscoveredResource => ({ ...r, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], preferred: true });

interface Obj extends MetaObject {
  metadata: NonNullable<MetaObject['metadata']>;
}

function cm(name: string, uid: string, owners: OwnerReference[] = [], extra: Partial<Obj['metadata']> = {}): Obj {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', uid, ownerReferences: owners.length ? owners : undefined, ...extra } };
}

function ref(kind: string, name: string, uid: string, block?: boolean, apiVersion = 'v1'): OwnerReference {
  return { apiVersion, kind, name, uid, ...(block === undefined ? {} : { blockOwnerDeletion: block }) };
}

let fake: FakeClient;
let graph: GraphBuilder;
let gc: GarbageCollector;
let toDelete: string[];
let toOrphan: string[];
let toDeleteLater: string[];
let mapperResources: DiscoveredResource[];

/** observe adds objects to the fake store and shows them to the graph (as informers would). */
function observe(r: ResourceType, ...objs: Obj[]): void {
  for (const o of objs) {
    if (!fake.stored(r, o.metadata.namespace ?? '', o.metadata.name!)) fake.add(r, o);
    graph.observe(r, fake.stored(r, o.metadata.namespace ?? '', o.metadata.name!)!);
  }
}

/** reobserve shows the graph the stored state of an object (an informer update or delete). */
function reobserve(r: ResourceType, namespace: string, name: string, last: Obj): void {
  const now = fake.stored<Obj>(r, namespace, name);
  if (now) graph.observe(r, now);
  else graph.observeDelete(r, last);
}

beforeEach(() => {
  fake = new FakeClient();
  toDelete = [];
  toOrphan = [];
  toDeleteLater = [];
  mapperResources = [served(ConfigMaps), served(CronTabs), served(Namespaces)];
  graph = new GraphBuilder({
    attemptToDelete: (n) => toDelete.push(n.identity.uid),
    attemptToDeleteLater: (n) => toDeleteLater.push(n.identity.uid),
    attemptToOrphan: (n) => toOrphan.push(n.identity.uid),
  });
  gc = new GarbageCollector({ client: fake, graph, mapper: () => new ResourceMapper(mapperResources), attemptToDelete: (n) => toDelete.push(n.identity.uid) });
});

describe('GraphBuilder', () => {
  it('links dependents to owners, with a virtual owner until the owner is observed', () => {
    graph.observe(ConfigMaps, cm('child', 'c1', [ref('ConfigMap', 'parent', 'p1')]));
    const owner = graph.node('p1');
    assert.ok(owner?.virtual, 'owner is a virtual node');
    assert.deepEqual(toDelete, ['p1'], 'the virtual owner is queued to be verified');
    assert.deepEqual([...owner.dependents].map((d) => d.identity.name), ['child']);
    graph.observe(ConfigMaps, cm('parent', 'p1'));
    assert.equal(graph.node('p1'), owner, 'same node, now observed');
    assert.equal(owner.virtual, false);
    assert.equal(owner.identity.namespace, 'default');
  });

  it('queues the dependents of a deleted owner, and a foreground owner when its last blocking dependent goes', () => {
    observe(ConfigMaps, cm('parent', 'p1', [], { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }));
    observe(ConfigMaps, cm('child', 'c1', [ref('ConfigMap', 'parent', 'p1', true)]));
    assert.ok(graph.node('p1')?.deletingDependents);
    assert.deepEqual(graph.node('p1')?.blockingDependents().map((d) => d.identity.uid), ['c1']);
    toDelete.length = 0;
    graph.observeDelete(ConfigMaps, cm('child', 'c1', [ref('ConfigMap', 'parent', 'p1', true)]));
    assert.deepEqual(toDelete, ['p1']);
    assert.deepEqual(graph.node('p1')?.blockingDependents(), []);
    toDelete.length = 0;
    observe(ConfigMaps, cm('other', 'o1', [ref('ConfigMap', 'parent', 'p1')]));
    graph.observeDelete(ConfigMaps, cm('parent', 'p1'));
    assert.equal(graph.node('p1'), undefined);
    assert.deepEqual(toDelete, ['o1']);
  });

  it('starts orphaning or foreground deletion only on the transition into it', () => {
    const owner = cm('parent', 'p1', [], { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['orphan'] });
    graph.observe(ConfigMaps, owner);
    graph.observe(ConfigMaps, { ...owner, metadata: { ...owner.metadata, resourceVersion: '2' } });
    assert.deepEqual(toOrphan, ['p1'], 'queued once');
    const fg = cm('fg', 'f1');
    graph.observe(ConfigMaps, fg);
    assert.deepEqual(toDelete, []);
    graph.observe(ConfigMaps, cm('fg', 'f1', [], { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }));
    assert.deepEqual(toDelete, ['f1']);
    assert.ok(graph.node('f1')?.deletingDependents);
  });

  it('treats an object recreated under the same name as a delete of the old uid', () => {
    observe(ConfigMaps, cm('parent', 'p1'));
    graph.observe(ConfigMaps, cm('child', 'c1', [ref('ConfigMap', 'parent', 'p1')]));
    toDelete.length = 0;
    graph.observe(ConfigMaps, cm('parent', 'p2'));
    assert.equal(graph.node('p1'), undefined);
    assert.deepEqual(toDelete, ['c1']);
  });

  it('checks dependents that name an owner by other coordinates than the ones observed or verified absent', () => {
    // Two dependents name the same uid, one as a ConfigMap, one (wrongly) as a CronTab.
    graph.observe(ConfigMaps, cm('right', 'r1', [ref('ConfigMap', 'parent', 'p1')]));
    graph.observe(ConfigMaps, cm('wrong', 'w1', [ref('CronTab', 'parent', 'p1', false, 'stable.example.com/v1')]));
    assert.deepEqual(toDelete, ['p1', 'w1'], 'the second reference disagrees with the virtual owner: verify it');
    toDelete.length = 0;
    // The collector found no ConfigMap "parent": only the dependent naming it so is checked, and the
    // virtual owner lives on under the other coordinates, checked again with backoff.
    graph.virtualDelete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'parent', uid: 'p1', namespace: 'default' });
    assert.deepEqual(toDelete, ['r1']);
    assert.deepEqual(toDeleteLater, ['p1']);
    assert.equal(graph.node('p1')?.identity.kind, 'CronTab');
    // The informer then observes the owner as a ConfigMap after all (the live read raced its creation):
    toDelete.length = 0;
    graph.observe(ConfigMaps, cm('parent', 'p1'));
    assert.deepEqual(toDelete, ['w1'], 'the dependent with the wrong coordinates is verified again');
    assert.equal(graph.node('p1')?.identity.kind, 'ConfigMap');
  });

  it('queues the owner when a dependent stops blocking it', () => {
    observe(ConfigMaps, cm('parent', 'p1', [], { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }));
    graph.observe(ConfigMaps, cm('child', 'c1', [ref('ConfigMap', 'parent', 'p1', true)]));
    toDelete.length = 0;
    graph.observe(ConfigMaps, cm('child', 'c1', [ref('ConfigMap', 'parent', 'p1', false)]));
    assert.deepEqual(toDelete, ['p1']);
  });
});

describe('attemptToDelete', () => {
  it('deletes a dependent whose owner never existed (Background, uid and resourceVersion preconditions)', async () => {
    observe(ConfigMaps, cm('child', 'c1', [ref('ConfigMap', 'ghost', 'g1')]));
    // The virtual owner: a live read finds nothing, so it leaves the graph and its dependent is queued.
    assert.equal(await gc.attemptToDeleteWorker('g1'), 'forget');
    assert.equal(graph.node('g1'), undefined);
    assert.ok(toDelete.includes('c1'));
    fake.clearActions();
    assert.equal(await gc.attemptToDeleteWorker('c1'), 'forget');
    const del = fake.writes();
    assert.equal(del.length, 1);
    assert.equal(del[0]!.verb, 'delete');
    assert.equal(del[0]!.name, 'child');
    const opts = del[0]!.options as { preconditions: { uid: string; resourceVersion: string }; propagationPolicy: string };
    assert.equal(opts.propagationPolicy, 'Background');
    assert.equal(opts.preconditions.uid, 'c1');
    assert.match(opts.preconditions.resourceVersion, /^\d+$/);
    assert.equal(fake.stored(ConfigMaps, 'default', 'child'), undefined);
  });

  it('leaves a dependent with an existing owner alone', async () => {
    observe(ConfigMaps, cm('parent', 'p1'), cm('child', 'c1', [ref('ConfigMap', 'parent', 'p1')]));
    assert.equal(await gc.attemptToDeleteWorker('c1'), 'forget');
    assert.deepEqual(fake.writes(), []);
  });

  it('treats an owner recreated with another uid as absent', async () => {
    observe(ConfigMaps, cm('parent', 'p-new'), cm('child', 'c1', [ref('ConfigMap', 'parent', 'p-old')]));
    await gc.attemptToDeleteWorker('c1');
    assert.deepEqual(fake.writes().map((a) => [a.verb, a.name]), [['delete', 'child']]);
  });

  it('removes only the dangling reference when another owner remains', async () => {
    observe(ConfigMaps, cm('parent', 'p1'), cm('child', 'c1', [ref('ConfigMap', 'parent', 'p1'), ref('CronTab', 'gone', 'x1', false, 'stable.example.com/v1')]));
    await gc.attemptToDeleteWorker('c1');
    const w = fake.writes();
    assert.equal(w.length, 1);
    assert.equal(w[0]!.verb, 'patch');
    assert.equal(w[0]!.patchType, 'merge');
    const patch = w[0]!.patch as { metadata: { ownerReferences: OwnerReference[]; resourceVersion: string } };
    assert.deepEqual(patch.metadata.ownerReferences, [ref('ConfigMap', 'parent', 'p1')]);
    assert.ok(patch.metadata.resourceVersion, 'guarded by resourceVersion');
    assert.deepEqual(fake.stored<Obj>(ConfigMaps, 'default', 'child')?.metadata.ownerReferences, [ref('ConfigMap', 'parent', 'p1')]);
  });

  it('finds custom-resource owners through discovery, and leaves dependents of unknown kinds alone', async () => {
    fake.add(CronTabs, { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'nightly', namespace: 'default', uid: 'ct1' } });
    observe(ConfigMaps, cm('child', 'c1', [ref('CronTab', 'nightly', 'ct1', true, 'stable.example.com/v1')]));
    await gc.attemptToDeleteWorker('c1');
    assert.deepEqual(fake.writes(), [], 'the CronTab exists');
    assert.deepEqual(fake.actions.filter((a) => a.resource === 'crontabs').map((a) => [a.verb, a.namespace, a.name]), [['get', 'default', 'nightly']]);

    observe(ConfigMaps, cm('stray', 's1', [ref('Widget', 'w', 'w1', false, 'example.com/v1')]));
    assert.equal(await gc.attemptToDeleteWorker('s1'), 'unknownKind');
    assert.equal(await gc.attemptToDeleteWorker('w1'), 'unknownKind', 'the virtual owner of an unknown kind is not read either');
    assert.deepEqual(fake.writes(), []);
    assert.ok(fake.stored(ConfigMaps, 'default', 'stray'));
  });

  it('leaves a cluster-scoped object with a namespaced owner alone', async () => {
    observe(Namespaces, { metadata: { name: 'team', uid: 'n1', ownerReferences: [ref('ConfigMap', 'cfg', 'c9')] } });
    assert.equal(await gc.attemptToDeleteWorker('n1'), 'forget');
    assert.deepEqual(fake.writes(), []);
  });

  it('requeues a virtual owner that exists but has not been observed yet', async () => {
    fake.add(ConfigMaps, cm('parent', 'p1'));
    graph.observe(ConfigMaps, cm('child', 'c1', [ref('ConfigMap', 'parent', 'p1')]));
    assert.equal(await gc.attemptToDeleteWorker('p1'), 'requeue');
    graph.observe(ConfigMaps, fake.stored<Obj>(ConfigMaps, 'default', 'parent')!);
    assert.equal(await gc.attemptToDeleteWorker('p1'), 'forget');
  });

  it('retries a delete that conflicted without resourceVersion when the ownerReferences did not change', async () => {
    observe(ConfigMaps, cm('child', 'c1', [ref('ConfigMap', 'ghost', 'g1')]));
    let conflicts = 0;
    fake.reactors.push((a) => (a.verb === 'delete' && conflicts++ === 0 ? new ApiError({ code: 409, reason: 'Conflict', message: 'Precondition failed' }) : undefined));
    await gc.attemptToDeleteWorker('c1');
    const dels = fake.writes().filter((a) => a.verb === 'delete');
    assert.equal(dels.length, 2);
    assert.deepEqual((dels[1]!.options as { preconditions: unknown }).preconditions, { uid: 'c1' });
    assert.equal(fake.stored(ConfigMaps, 'default', 'child'), undefined);
  });

  it('honours a deletion mode already chosen for the object', async () => {
    observe(ConfigMaps, cm('child', 'c1', [ref('ConfigMap', 'ghost', 'g1')], { finalizers: ['orphan'] }));
    await gc.attemptToDeleteWorker('c1');
    assert.equal((fake.writes()[0]!.options as { propagationPolicy: string }).propagationPolicy, 'Orphan');
  });
});

describe('foreground deletion', () => {
  const deleting = { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] };

  it('deletes the dependents (Foreground when they have dependents of their own), then removes the finalizer', async () => {
    observe(
      ConfigMaps,
      cm('owner', 'o1'),
      cm('middle', 'm1', [ref('ConfigMap', 'owner', 'o1', true)]),
      cm('leaf', 'l1', [ref('ConfigMap', 'middle', 'm1', true)]),
      cm('loose', 'x1', [ref('ConfigMap', 'owner', 'o1', false)]),
    );
    assert.equal(toDelete.length, 0);
    // kubectl delete --cascade=foreground: the apiserver adds the finalizer and the deletionTimestamp.
    const owner = fake.stored<Obj>(ConfigMaps, 'default', 'owner')!;
    fake.add(ConfigMaps, { ...owner, metadata: { ...owner.metadata, ...deleting } });
    graph.observe(ConfigMaps, fake.stored<Obj>(ConfigMaps, 'default', 'owner')!);
    assert.deepEqual([...toDelete].sort(), ['m1', 'o1', 'x1']);

    await gc.attemptToDeleteWorker('o1');
    assert.deepEqual(fake.writes(), [], 'a dependent still blocks the owner');
    assert.ok(toDelete.includes('m1'));

    fake.clearActions();
    await gc.attemptToDeleteWorker('m1');
    assert.deepEqual(fake.writes().map((a) => [a.verb, a.name, (a.options as { propagationPolicy: string }).propagationPolicy]), [['delete', 'middle', 'Foreground']]);

    fake.clearActions();
    await gc.attemptToDeleteWorker('x1');
    assert.deepEqual(fake.writes().map((a) => [a.verb, a.name, (a.options as { propagationPolicy: string }).propagationPolicy]), [['delete', 'loose', 'Background']]);

    // The informer reports both gone: the owner is queued again and may now go.
    toDelete.length = 0;
    reobserve(ConfigMaps, 'default', 'middle', cm('middle', 'm1', [ref('ConfigMap', 'owner', 'o1', true)]));
    reobserve(ConfigMaps, 'default', 'loose', cm('loose', 'x1', [ref('ConfigMap', 'owner', 'o1', false)]));
    assert.ok(toDelete.includes('o1'));
    fake.clearActions();
    await gc.attemptToDeleteWorker('o1');
    const w = fake.writes();
    assert.equal(w.length, 1);
    assert.equal(w[0]!.verb, 'patch');
    assert.equal(w[0]!.name, 'owner');
    assert.deepEqual((w[0]!.patch as { metadata: { finalizers: unknown } }).metadata.finalizers, null);
  });

  it('keeps other finalizers when removing foregroundDeletion', async () => {
    observe(ConfigMaps, cm('owner', 'o1', [], { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['example.com/keep', 'foregroundDeletion'] }));
    await gc.attemptToDeleteWorker('o1');
    assert.deepEqual((fake.writes()[0]!.patch as { metadata: { finalizers: unknown } }).metadata.finalizers, ['example.com/keep']);
  });

  it('drops the reference to a foreground owner when another owner remains', async () => {
    observe(ConfigMaps, cm('owner', 'o1', [], deleting), cm('keeper', 'k1'), cm('child', 'c1', [ref('ConfigMap', 'owner', 'o1', true), ref('ConfigMap', 'keeper', 'k1')]));
    await gc.attemptToDeleteWorker('c1');
    const w = fake.writes();
    assert.deepEqual(w.map((a) => a.verb), ['patch']);
    assert.deepEqual((w[0]!.patch as { metadata: { ownerReferences: OwnerReference[] } }).metadata.ownerReferences, [ref('ConfigMap', 'keeper', 'k1')]);
  });

  it('breaks a cycle (A owns B owns A) by unblocking the references of one side', async () => {
    // A is deleted in the foreground; B and A block each other.
    observe(ConfigMaps, cm('a', 'A', [ref('ConfigMap', 'b', 'B', true)], deleting), cm('b', 'B', [ref('ConfigMap', 'a', 'A', true)]));
    assert.ok(graph.node('A')?.deletingDependents);
    await gc.attemptToDeleteWorker('A');
    assert.deepEqual(fake.writes(), [], 'B still blocks A');

    // B: its owner A waits for its dependents, and B's dependent A is itself deleting its
    // dependents. Waiting would deadlock: B unblocks its reference, then goes in the foreground.
    await gc.attemptToDeleteWorker('B');
    const w = fake.writes();
    assert.deepEqual(w.map((a) => [a.verb, a.name]), [['patch', 'b'], ['delete', 'b']]);
    assert.deepEqual((w[0]!.patch as { metadata: { ownerReferences: OwnerReference[] } }).metadata.ownerReferences, [ref('ConfigMap', 'a', 'A', false)]);
    assert.equal((w[1]!.options as { propagationPolicy: string }).propagationPolicy, 'Foreground');

    // The graph sees B's reference unblocked: A is queued, and nothing blocks it any more.
    toDelete.length = 0;
    graph.observe(ConfigMaps, cm('b', 'B', [ref('ConfigMap', 'a', 'A', false)], deleting));
    assert.ok(toDelete.includes('A'));
    fake.clearActions();
    await gc.attemptToDeleteWorker('A');
    assert.deepEqual(fake.writes().map((a) => [a.verb, a.name]), [['patch', 'a']], 'A loses its finalizer');
    assert.equal((fake.writes()[0]!.patch as { metadata: { finalizers: unknown } }).metadata.finalizers, null);
  });
});

describe('attemptToOrphan', () => {
  it('removes the references to the owner from every dependent, then the orphan finalizer', async () => {
    observe(
      ConfigMaps,
      cm('owner', 'o1', [], { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['orphan'] }),
      cm('one', 'd1', [ref('ConfigMap', 'owner', 'o1', true)]),
      cm('two', 'd2', [ref('ConfigMap', 'owner', 'o1'), ref('ConfigMap', 'other', 'x9')]),
    );
    assert.deepEqual(toOrphan, ['o1']);
    assert.equal(await gc.attemptToOrphanWorker('o1'), 'forget');
    const patches = fake.writes().map((a) => [a.name, (a.patch as { metadata: Record<string, unknown> }).metadata]);
    assert.equal(patches.length, 3);
    const byName = new Map(patches.map(([n, m]) => [n, m as Record<string, unknown>]));
    assert.equal(byName.get('one')!.ownerReferences, null);
    assert.deepEqual(byName.get('two')!.ownerReferences, [ref('ConfigMap', 'other', 'x9')]);
    assert.equal(byName.get('owner')!.finalizers, null);
    assert.equal(fake.writes()[2]!.name, 'owner', 'the finalizer goes last');
  });

  it('retries the owner when a dependent cannot be patched, keeping the finalizer', async () => {
    observe(ConfigMaps, cm('owner', 'o1', [], { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['orphan'] }), cm('one', 'd1', [ref('ConfigMap', 'owner', 'o1')]));
    fake.failOn('patch', 'configmaps', new ApiError({ code: 500, reason: 'InternalError', message: 'boom' }));
    await assert.rejects(gc.attemptToOrphanWorker('o1'), /failed to orphan dependents/);
    assert.deepEqual(fake.stored<Obj>(ConfigMaps, 'default', 'owner')?.metadata.finalizers, ['orphan']);
  });
});
