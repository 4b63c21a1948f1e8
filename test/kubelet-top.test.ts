// kubectl top against a real node: the kubelet serves /metrics/resource from containerd's
// container stats and /proc, the apiserver scrapes it with its kubelet client certificate and
// serves metrics.k8s.io, and the real kubectl shows a busybox pod that spins on a CPU limit of
// 100m using CPU and memory, and the node using its own. Cleanup runs when the test fails too.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { nodeName } from '../lib/process/components.js';
import { type Cluster, startCluster } from './harness.js';
import { row } from './kubectl-helpers.js';
import { missingNodeTools, waitFor } from './node-fixture.js';

const skip = missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'iptables', 'kubectl']);
let cluster: Cluster | undefined;
after(async () => {
  await cluster?.stop();
});

const spinner = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'spin' },
  spec: {
    containers: [{ name: 'spin', image: 'busybox:1.36', command: ['sh', '-c', 'while :; do :; done'], resources: { requests: { cpu: '100m' }, limits: { cpu: '100m', memory: '32Mi' } } }],
  },
});

test('kubectl top pod and node on a real node: a spinning busybox pod shows its CPU and memory', { skip: skip || false, timeout: 300_000 }, async () => {
  cluster = await startCluster({ realNode: true });
  const c = cluster;
  const kubectl = async (args: string[], input?: string) => {
    const r = await c.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await kubectl(['apply', '-f', '-'], spinner);
  await waitFor('the spin pod to run', async () => (await kubectl(['get', 'pod', 'spin', '-o', 'jsonpath={.status.phase}'])) === 'Running', 120_000);

  const top = await waitFor('kubectl top pod spin to show usage', async () => {
    const r = await c.kubectl(['top', 'pod', 'spin', '--containers']);
    return r.code === 0 && /^spin\s+spin\s+\d+m\s+\d+Mi/m.test(r.stdout) && r.stdout;
  }, 120_000);
  const [, container, cpu, memory] = row(top, 'spin');
  assert.equal(container, 'spin');
  // The loop runs against its 100m quota: clearly above idle, never far above the limit.
  const milli = Number(cpu!.replace(/m$/, ''));
  assert.ok(milli >= 20 && milli <= 150, `cpu ${cpu}`);
  assert.ok(Number(memory!.replace(/Mi$/, '')) >= 0, `memory ${memory}`);

  const nodes = await kubectl(['top', 'nodes']);
  const [, nodeCPU, nodeCPUPercent, nodeMemory] = row(nodes, nodeName(c.config));
  assert.match(nodeCPU!, /^\d+m$/, nodes);
  assert.match(nodeCPUPercent!, /^\d+%$/, nodes);
  assert.match(nodeMemory!, /^\d+Mi$/, nodes);
  assert.ok(Number(nodeCPU!.replace(/m$/, '')) >= milli, `the node uses at least what its pod does: ${nodes}`);
});
