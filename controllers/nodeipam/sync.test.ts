import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../../lib/api/core/node.js';
import { ApiError } from '../../lib/client/client.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { Nodes } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { CidrSet, ErrCIDRRangeNoCIDRsRemaining } from '../../lib/net/allocate.js';
import { RangeAllocator } from './sync.js';

const node = (name: string, podCIDR?: string): Node => ({ metadata: { name, uid: `uid-${name}` }, spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} });

function allocator(nodes: Node[], clusterCIDR = '10.244.0.0/16') {
  const client = new FakeClient();
  for (const n of nodes) client.add(Nodes, n);
  const recorder = new FakeRecorder();
  let released = 0;
  const a = new RangeAllocator(new CidrSet(clusterCIDR, 24), client, listerOf(nodes), recorder, undefined, () => released++);
  return { a, client, recorder, released: () => released };
}

describe('CidrSet', () => {
  it('hands out /24s in order, round robin after a release, and refuses when full', () => {
    const set = new CidrSet('10.244.0.0/22', 24);
    assert.deepEqual([set.allocateNext(), set.allocateNext(), set.allocateNext()], ['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24']);
    set.release('10.244.1.0/24');
    assert.equal(set.allocateNext(), '10.244.3.0/24');
    assert.equal(set.allocateNext(), '10.244.1.0/24');
    assert.throws(() => set.allocateNext(), { message: ErrCIDRRangeNoCIDRsRemaining });
  });

  it('occupies existing subnets and rejects ones outside the cluster CIDR', () => {
    const set = new CidrSet('10.244.0.0/23', 24);
    set.occupy('10.244.0.0/24');
    assert.equal(set.allocateNext(), '10.244.1.0/24');
    assert.throws(() => set.occupy('10.245.0.0/24'), /out the range/);
    assert.throws(() => new CidrSet('10.244.0.0/25', 24), /larger than the cluster CIDR/);
    assert.throws(() => new CidrSet('10.0.0.0/4', 24), /more than 2\^16/);
  });
});

describe('RangeAllocator.syncNode', () => {
  it('patches podCIDR and podCIDRs with the first subnet not held by an existing node', async () => {
    const { a, client } = allocator([node('old', '10.244.0.0/24'), node('new')]);
    await a.syncNode('new');
    assert.deepEqual(
      client.writes().map((w) => ({ verb: w.verb, name: w.name, patchType: w.patchType, patch: w.patch })),
      [{ verb: 'patch', name: 'new', patchType: 'merge', patch: { spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] } } }],
    );
  });

  it('writes nothing for a node that has a podCIDR, and releases a deleted node\'s subnet', async () => {
    const { a, client, released } = allocator([node('n1', '10.244.7.0/24')]);
    await a.syncNode('n1');
    assert.equal(a.allocatedTo('n1'), '10.244.7.0/24');
    await a.syncNode('gone');
    assert.equal(released(), 0);
    assert.deepEqual(client.writes(), []);
  });

  it('releases the subnet of a node once it is deleted', async () => {
    const nodes = [node('n1')];
    const { a, client, released } = allocator(nodes, '10.244.0.0/24');
    await a.syncNode('n1');
    assert.equal(a.allocatedTo('n1'), '10.244.0.0/24');
    nodes.length = 0;
    await a.syncNode('n1');
    assert.equal(a.allocatedTo('n1'), undefined);
    assert.equal(released(), 1);
    nodes.push(node('n2'));
    client.add(Nodes, node('n2'));
    await a.syncNode('n2');
    assert.equal(a.allocatedTo('n2'), '10.244.0.0/24');
  });

  it('does not write again while the cache still shows the node without the podCIDR it was given', async () => {
    const nodes = [node('n1')];
    const { a, client } = allocator(nodes);
    await a.syncNode('n1');
    // A heartbeat from before the patch reaches the cache: the cached node still has no podCIDR.
    await a.syncNode('n1');
    assert.equal(client.writes().length, 1);
    // Deleted and made again under the same name before the cache caught up: the new node gets one.
    nodes[0] = { ...node('n1'), metadata: { name: 'n1', uid: 'uid-n1-again' } };
    client.add(Nodes, nodes[0]);
    await a.syncNode('n1');
    assert.deepEqual(client.writes().map((w) => (w.patch as { spec: { podCIDR: string } }).spec.podCIDR), ['10.244.0.0/24', '10.244.0.0/24']);
  });

  it('reuses the subnet it picked when the patch has to be retried', async () => {
    const { a, client, recorder } = allocator([node('n1')]);
    client.failOn('patch', 'nodes', new ApiError({ code: 500, message: 'etcd down' }));
    await assert.rejects(a.syncNode('n1'), /etcd down/);
    assert.deepEqual(recorder.events, ['Normal CIDRAssignmentFailed Node n1 status is now: CIDRAssignmentFailed']);
    client.reactors.length = 0;
    await a.syncNode('n1');
    const patches = client.writes().map((w) => (w.patch as { spec: { podCIDR: string } }).spec.podCIDR);
    assert.deepEqual(patches, ['10.244.0.0/24', '10.244.0.0/24']);
  });

  it('records CIDRNotAvailable when the range is exhausted', async () => {
    const { a, recorder, client } = allocator([node('a', '10.244.0.0/24'), node('b')], '10.244.0.0/24');
    await assert.rejects(a.syncNode('b'), /no remaining CIDRs/);
    assert.deepEqual(recorder.events, ['Normal CIDRNotAvailable Node b status is now: CIDRNotAvailable']);
    assert.deepEqual(client.writes(), []);
  });
});
