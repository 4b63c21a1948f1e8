import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { Nodes, Pods } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { PodGC } from './gc.js';

function pod(name: string, o: { node?: string; phase?: string; created?: string; deleting?: boolean; reason?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: o.created ?? '2024-01-01T00:00:00Z', ...(o.deleting ? { deletionTimestamp: '2024-01-02T00:00:00Z' } : {}) },
    spec: { containers: [{ name: 'c' }], ...(o.node ? { nodeName: o.node } : {}) },
    status: { phase: o.phase ?? 'Running', ...(o.reason ? { reason: o.reason } : {}) },
  };
}
const node = (name: string, extra: Partial<Node> = {}): Node => ({ metadata: { name }, ...extra });

function setup(pods: Pod[], nodes: Node[], opts: { threshold?: number; quarantineMs?: number } = {}) {
  const client = new FakeClient();
  for (const p of pods) client.add(Pods, p);
  for (const n of nodes) client.add(Nodes, n);
  let now = 1_000_000;
  const gc = new PodGC({ client, pods: listerOf(pods), nodes: listerOf(nodes), terminatedPodThreshold: opts.threshold ?? 0, quarantineMs: opts.quarantineMs ?? 40_000, now: () => now });
  return { client, gc, advance: (ms: number) => (now += ms) };
}

const writes = (client: FakeClient) => client.writes().map((a) => `${a.verb}${a.subresource ? `/${a.subresource}` : ''} ${a.name}`);

describe('PodGC', () => {
  it('deletes the oldest finished pods beyond the threshold, evicted ones first', async () => {
    const pods = [
      pod('new', { phase: 'Succeeded', created: '2024-01-03T00:00:00Z' }),
      pod('old', { phase: 'Failed', created: '2024-01-01T00:00:00Z' }),
      pod('evicted', { phase: 'Failed', reason: 'Evicted', created: '2024-01-05T00:00:00Z' }),
      pod('mid', { phase: 'Succeeded', created: '2024-01-02T00:00:00Z' }),
      pod('running', { created: '2023-01-01T00:00:00Z' }),
    ];
    const { client, gc } = setup(pods, [], { threshold: 2 });
    await gc.gc();
    assert.deepEqual(writes(client).sort(), ['delete evicted', 'delete old']);
    assert.deepEqual(client.writes().map((a) => a.options).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [
      { gracePeriodSeconds: 0, preconditions: { uid: 'uid-evicted' } },
      { gracePeriodSeconds: 0, preconditions: { uid: 'uid-old' } },
    ]);
  });

  it('leaves alone a pod made again under the name of one it collects', async () => {
    const { client, gc } = setup([pod('old', { phase: 'Failed', created: '2023-01-01T00:00:00Z' }), pod('new', { phase: 'Succeeded' })], [], { threshold: 1 });
    // The apiserver already holds a new pod named "old"; the cache still shows the finished one.
    client.add(Pods, { ...pod('old'), metadata: { ...pod('old').metadata, uid: 'uid-old-again' } });
    await gc.gc();
    assert.deepEqual(writes(client), ['delete old']);
    assert.equal(client.stored<Pod>(Pods, 'ns', 'old')?.metadata.uid, 'uid-old-again');
  });

  it('deletes pods of a missing node only after the quarantine and a live check, marking them Failed first', async () => {
    const pods = [pod('orphan', { node: 'gone' }), pod('dying', { node: 'gone', deleting: true }), pod('fine', { node: 'here' })];
    const { client, gc, advance } = setup(pods, [node('here')], { quarantineMs: 2000 });
    await gc.gc();
    advance(1999);
    await gc.gc();
    assert.equal(client.actions.length, 0);
    advance(1);
    await gc.gc();
    assert.deepEqual(client.actions.filter((a) => a.verb === 'get').map((a) => `${a.resource} ${a.name}`), ['nodes gone']);
    assert.deepEqual(writes(client).sort(), ['delete dying', 'delete orphan', 'patch/status dying', 'patch/status orphan']);
    const apply = client.writes().find((a) => a.verb === 'patch' && a.name === 'orphan')!;
    assert.equal(apply.patchType, 'apply');
    const status = (apply.patch as { status: { phase: string; conditions: { type: string; reason: string; message: string }[] } }).status;
    assert.equal(status.phase, 'Failed');
    assert.deepEqual(status.conditions.map((c) => [c.type, c.reason, c.message]), [['DisruptionTarget', 'DeletionByPodGC', 'PodGC: node no longer exists']]);
  });

  it('spares pods whose node the cache misses but the apiserver still has', async () => {
    const { client, gc, advance } = setup([pod('p', { node: 'late' })], [], { quarantineMs: 1000 });
    client.add(Nodes, node('late'));
    await gc.gc();
    advance(1000);
    await gc.gc();
    assert.deepEqual(writes(client), []);
  });

  it('force-deletes terminating pods on an out-of-service node and unscheduled terminating pods', async () => {
    const oos = node('down', { spec: { taints: [{ key: 'node.kubernetes.io/out-of-service', effect: 'NoExecute' }] }, status: { conditions: [{ type: 'Ready', status: 'False' }] } });
    const pods = [pod('stuck', { node: 'down', deleting: true }), pod('alive', { node: 'down' }), pod('unbound', { deleting: true })];
    const { client, gc } = setup(pods, [oos]);
    await gc.gc();
    assert.deepEqual(writes(client).sort(), ['delete stuck', 'delete unbound', 'patch/status stuck', 'patch/status unbound']);
  });
});
