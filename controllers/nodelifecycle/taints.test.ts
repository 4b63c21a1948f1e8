import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../../lib/api/core/node.js';
import { ApiError } from '../../lib/client/client.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { Nodes } from '../../lib/client/resources.js';
import { doNoScheduleTaintingPass, noScheduleTaintDiff } from './noschedule.js';
import { getMatchingTolerations, toleratesTaint } from '../../lib/node/taints.js';
import { applyTaintSwap, getMinTolerationTime, swapNodeControllerTaint } from './taints.js';

const unreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };

describe('tolerations', () => {
  it('match taints as Toleration.ToleratesTaint does', () => {
    assert.equal(toleratesTaint({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }, unreachable), true);
    assert.equal(toleratesTaint({ operator: 'Exists' }, unreachable), true);
    assert.equal(toleratesTaint({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule' }, unreachable), false);
    assert.equal(toleratesTaint({ key: 'k', value: 'v' }, { key: 'k', value: 'v', effect: 'NoExecute' }), true);
    assert.equal(toleratesTaint({ key: 'k', operator: 'Equal', value: 'v' }, { key: 'k', value: 'w', effect: 'NoExecute' }), false);
  });

  it('need every taint tolerated, and the shortest tolerationSeconds wins', () => {
    const a = { key: 'a', operator: 'Exists', tolerationSeconds: 300 };
    const b = { key: 'b', operator: 'Exists', tolerationSeconds: 2 };
    assert.deepEqual(getMatchingTolerations([{ key: 'a', effect: 'NoExecute' }, { key: 'b', effect: 'NoExecute' }], [a, b]), { all: true, used: [a, b] });
    assert.deepEqual(getMatchingTolerations([{ key: 'c', effect: 'NoExecute' }], [a, b]), { all: false, used: [] });
    assert.equal(getMinTolerationTime([a, b]), 2000);
    assert.equal(getMinTolerationTime([{ key: 'a', operator: 'Exists' }]), -1);
    assert.equal(getMinTolerationTime([{ key: 'a', operator: 'Exists', tolerationSeconds: 0 }]), 0);
    assert.equal(getMinTolerationTime([]), 0);
    // An int64 beyond 2^53 arrives as a BigInt (lib/machinery/json.ts): a wait of millennia, not a throw.
    assert.equal(getMinTolerationTime([{ key: 'a', operator: 'Exists', tolerationSeconds: 9223372036854775807n }, b]), 2000);
    assert.equal(getMinTolerationTime([{ key: 'a', operator: 'Exists', tolerationSeconds: 9223372036854775807n }]), 9223372036854775807 * 1000);
  });
});

describe('taint swaps', () => {
  it('keep the timeAdded of a taint already there and stamp new ones', () => {
    const now = new Date('2024-05-01T00:00:10Z');
    const old = { ...unreachable, timeAdded: '2024-05-01T00:00:00Z' };
    assert.deepEqual(applyTaintSwap([old], [unreachable], [], now), { taints: [old], changed: false });
    assert.deepEqual(applyTaintSwap([{ key: 'x', effect: 'NoSchedule' }, old], [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }], [unreachable], now), {
      taints: [{ key: 'x', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: '2024-05-01T00:00:10Z' }],
      changed: true,
    });
  });

  it('patch taints with the resourceVersion as precondition and re-read the node on a conflict', async () => {
    const node: Node = { metadata: { name: 'n1', resourceVersion: '5' }, spec: {} };
    const client = new FakeClient().add(Nodes, { metadata: { name: 'n1', resourceVersion: '6' }, spec: { taints: [{ key: 'other', effect: 'NoSchedule' }] } });
    let failed = false;
    client.reactors.push((a) => (a.verb === 'patch' && !failed ? ((failed = true), new ApiError({ code: 409, reason: 'Conflict', message: 'conflict' })) : undefined));
    const ok = await swapNodeControllerTaint(client, node, [unreachable], [], () => new Date('2024-05-01T00:00:00Z'));
    assert.equal(ok, true);
    assert.deepEqual(client.actions.map((a) => a.verb), ['patch', 'get', 'patch']);
    assert.deepEqual(client.actions[2]!.patch, { metadata: { resourceVersion: '6' }, spec: { taints: [{ key: 'other', effect: 'NoSchedule' }, { ...unreachable, timeAdded: '2024-05-01T00:00:00Z' }] } });
  });
});

describe('TaintNodesByCondition', () => {
  it('mirrors conditions and unschedulable as NoSchedule taints, leaving other taints alone', async () => {
    const node: Node = {
      metadata: { name: 'n1', resourceVersion: '3' },
      spec: { unschedulable: true, taints: [{ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }, { key: 'dedicated', value: 'db', effect: 'NoSchedule' }] },
      status: { conditions: [{ type: 'Ready', status: 'Unknown' }, { type: 'MemoryPressure', status: 'False' }, { type: 'DiskPressure', status: 'True' }] },
    };
    assert.deepEqual(noScheduleTaintDiff(node), {
      add: [
        { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
      ],
      remove: [{ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }],
    });
    const client = new FakeClient().add(Nodes, node);
    await doNoScheduleTaintingPass(client, node, () => new Date('2024-05-01T00:00:00Z'));
    const t = '2024-05-01T00:00:00Z';
    assert.deepEqual(client.writes().map((a) => a.patch), [
      {
        metadata: { resourceVersion: '3' },
        spec: {
          taints: [
            { key: 'dedicated', value: 'db', effect: 'NoSchedule' },
            { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: t },
            { key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule', timeAdded: t },
            { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: t },
          ],
        },
      },
    ]);
    const healthy: Node = { metadata: { name: 'n2' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
    assert.deepEqual(noScheduleTaintDiff(healthy), { add: [], remove: [] });
  });
});
