// A DaemonSet on a real node: etcd, apiserver, controller manager, scheduler, containerd and the
// kubelet as `skiff up` starts them. A busybox DaemonSet gets its pod bound to the node by the
// scheduler (through the controller's metadata.name affinity), the kubelet runs it, and the
// DaemonSet reports it ready and rolled out; an update replaces it with a pod of the new
// revision that runs too.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { DaemonSet } from '../lib/api/apps/daemonset.js';
import type { Pod } from '../lib/api/core/pod.js';
import { nodeName } from '../lib/process/components.js';
import { type Cluster, startCluster } from './harness.js';
import { missingNodeTools, waitFor } from './node-fixture.js';

const skip = missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'iptables', 'kubectl']);
let cluster: Cluster | undefined;
after(async () => {
  await cluster?.stop();
});

const isReady = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

function manifest(version: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'node-agent', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'node-agent' } },
      template: {
        metadata: { labels: { app: 'node-agent' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'agent', image: 'busybox:1.36', command: ['sh', '-c', `echo agent ${version}; exec sleep 3600`] }],
        },
      },
    },
  });
}

test('a busybox DaemonSet runs its pod on the real node and rolls out an update', { skip: skip || false, timeout: 420_000 }, async () => {
  cluster = await startCluster({ realNode: true });
  const c = cluster;
  const name = nodeName(c.config);
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const agentPods = async () => (JSON.parse(await kubectl(['get', 'pods', '-l', 'app=node-agent', '-o', 'json'])) as { items: Pod[] }).items.filter((p) => !p.metadata.deletionTimestamp);
  const diagnose = async () => `\nkubelet log tail:\n${c.logs('kubelet').split('\n').slice(-30).join('\n')}\npods:\n${await kubectl(['get', 'pods', '-o', 'wide'])}`;

  await waitFor('the Node to be Ready', async () => (await kubectl(['get', 'node', name])).includes(' Ready '), 120_000);
  await kubectl(['apply', '-f', '-'], manifest('v1'));
  const first = await waitFor('the daemon pod Running and Ready on the node', async () => {
    const pods = await agentPods();
    return pods.length === 1 && pods[0]!.spec.nodeName === name && pods[0]!.status?.phase === 'Running' && isReady(pods[0]!) && pods[0]!;
  }, 180_000).catch(async (err: Error) => assert.fail(err.message + (await diagnose())));
  assert.match(await kubectl(['logs', first.metadata.name!]), /agent v1/);
  assert.match(await kubectl(['rollout', 'status', 'ds/node-agent', '--timeout=60s']), /daemon set "node-agent" successfully rolled out/);
  const ds = JSON.parse(await kubectl(['get', 'ds', 'node-agent', '-o', 'json'])) as DaemonSet;
  assert.deepEqual(
    [ds.status?.desiredNumberScheduled, ds.status?.currentNumberScheduled, ds.status?.numberReady, ds.status?.numberAvailable],
    [1, 1, 1, 1],
  );

  await kubectl(['apply', '-f', '-'], manifest('v2'));
  const second = await waitFor('the updated pod Running and Ready', async () => {
    const pods = await agentPods();
    return pods.length === 1 && pods[0]!.metadata.uid !== first.metadata.uid && pods[0]!.status?.phase === 'Running' && isReady(pods[0]!) && pods[0]!;
  }, 180_000).catch(async (err: Error) => assert.fail(err.message + (await diagnose())));
  assert.notEqual(second.metadata.labels?.['controller-revision-hash'], first.metadata.labels?.['controller-revision-hash']);
  assert.match(await kubectl(['logs', second.metadata.name!]), /agent v2/);
  assert.match(await kubectl(['rollout', 'status', 'ds/node-agent', '--timeout=60s']), /successfully rolled out/);
  await kubectl(['delete', 'ds', 'node-agent', '--wait=true', '--timeout=60s']);
});
