import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Taint, Toleration } from '../../lib/api/core/types.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { Pods } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { TaintEvictionController } from './taintmanager.js';

const T0 = Date.parse('2024-05-01T00:00:00Z');
const tainted = (taints: Taint[]): Node => ({ metadata: { name: 'n1' }, spec: { taints } });
const unreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-05-01T00:00:00Z' };
const pod = (name: string, tolerations?: Toleration[]): Pod => ({ metadata: { name, namespace: 'ns', uid: `uid-${name}` }, spec: { containers: [{ name: 'c' }], nodeName: 'n1', ...(tolerations ? { tolerations } : {}) } });

function setup(nodes: Node[], pods: Pod[]) {
  const client = new FakeClient();
  for (const p of pods) client.add(Pods, p);
  const recorder = new FakeRecorder();
  let now = T0;
  const tm = new TaintEvictionController({ client, pods: listerOf(pods), nodes: listerOf(nodes), recorder, now: () => now });
  return { client, recorder, tm, at: (ms: number) => (now = T0 + ms) };
}
const writes = (client: FakeClient) => client.writes().map((a) => `${a.verb}${a.subresource ? `/${a.subresource}` : ''} ${a.name}`);

describe('TaintEvictionController.syncPod', () => {
  it('deletes a pod that does not tolerate the NoExecute taint at once', async () => {
    const { client, recorder, tm } = setup([tainted([unreachable])], [pod('p')]);
    assert.equal(await tm.syncPod('ns/p'), undefined);
    assert.deepEqual(writes(client), ['patch/status p', 'delete p']);
    assert.deepEqual(client.writes()[0]!.patch, { status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: '2024-05-01T00:00:00Z' }] } });
    assert.deepEqual(client.writes()[1]!.options, {}, 'an ordinary graceful delete');
    assert.deepEqual(recorder.events, ['Normal TaintManagerEviction Marking for deletion Pod ns/p']);
  });

  it('deletes a pod once: events that come before the cache shows the deletion change nothing', async () => {
    const pods = [pod('p')];
    const { client, recorder, tm } = setup([tainted([unreachable])], pods);
    await tm.syncPod('ns/p');
    // The DisruptionTarget patch's watch event enqueues the pod again; the cache still shows it alive.
    await tm.syncPod('ns/p');
    assert.deepEqual(writes(client), ['patch/status p', 'delete p']);
    assert.deepEqual(recorder.events, ['Normal TaintManagerEviction Marking for deletion Pod ns/p']);
    // A pod of that name made again (another uid) is judged afresh.
    pods[0] = { ...pod('p'), metadata: { ...pod('p').metadata, uid: 'uid-p2' } };
    client.add(Pods, pods[0]);
    await tm.syncPod('ns/p');
    assert.deepEqual(writes(client), ['patch/status p', 'delete p', 'patch/status p', 'delete p']);
  });

  it('deletes a pod tolerating the taint for 2 s once 2 s have passed since timeAdded', async () => {
    const { client, tm, at } = setup([tainted([unreachable])], [pod('p', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }])]);
    at(500);
    assert.deepEqual(await tm.syncPod('ns/p'), { requeueAfter: 1500 });
    assert.deepEqual(writes(client), []);
    at(2000);
    await tm.syncPod('ns/p');
    assert.deepEqual(writes(client), ['patch/status p', 'delete p']);
  });

  it('leaves a pod that tolerates the taint forever, and pods on untainted nodes', async () => {
    const forever = pod('p', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }]);
    const { client, tm, at } = setup([tainted([unreachable, { key: 'x', effect: 'NoSchedule' }])], [forever]);
    at(1e9);
    assert.equal(await tm.syncPod('ns/p'), undefined);
    const clean = setup([tainted([{ key: 'x', effect: 'NoSchedule' }])], [pod('q')]);
    await clean.tm.syncPod('ns/q');
    assert.deepEqual([...writes(client), ...writes(clean.client)], []);
  });

  it('cancels a scheduled deletion, with an event, when the taint goes away', async () => {
    const nodes = [tainted([unreachable])];
    const { client, recorder, tm, at } = setup(nodes, [pod('p', [{ operator: 'Exists', tolerationSeconds: 60 }])]);
    at(1000);
    await tm.syncPod('ns/p');
    nodes[0] = tainted([]);
    await tm.syncPod('ns/p');
    assert.deepEqual(writes(client), []);
    assert.deepEqual(recorder.events, ['Normal TaintManagerEviction Cancelling deletion of Pod ns/p']);
  });
});
