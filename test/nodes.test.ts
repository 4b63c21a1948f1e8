// Node IPAM, node lifecycle, taint-based eviction and pod GC end to end: a real apiserver and
// controller manager with a 4 s node monitor grace period and a 2 s pod GC quarantine; the test
// plays the kubelets by renewing the nodes' Leases itself, and stops renewing one to kill it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers, until } from './kubectl-helpers.js';

let cluster: Cluster;
const { ok, k } = kubectlHelpers(() => cluster);
const ns = 'default';
// Leases the test renews, by node name; a node left out of it stops heartbeating.
const renewing = new Set<string>();
let renewer: NodeJS.Timeout | undefined;

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager'],
    extraArgs: { 'controller-manager': ['--node-monitor-grace-period=4s', '--pod-gc-orphan-grace=2s', '--controllers=nodeipam,nodelifecycle,podgc'] },
  });
});
after(async () => {
  if (renewer) clearInterval(renewer);
  await cluster?.stop();
});

const microNow = () => new Date().toISOString().replace('Z', '000Z');
const secondNow = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

function nodeManifest(name: string): string {
  const t = secondNow();
  const cond = (type: string, status: string, reason: string) => `  - {type: ${type}, status: "${status}", reason: ${reason}, lastHeartbeatTime: "${t}", lastTransitionTime: "${t}"}`;
  return `apiVersion: v1
kind: Node
metadata: {name: ${name}}
status:
  conditions:
${cond('Ready', 'True', 'KubeletReady')}
${cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory')}
${cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure')}
${cond('PIDPressure', 'False', 'KubeletHasSufficientPID')}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: ${name}, namespace: kube-node-lease}
spec: {holderIdentity: ${name}, leaseDurationSeconds: 40, renewTime: "${microNow()}"}
`;
}

async function renew(name: string): Promise<void> {
  const r = await cluster.request(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: { spec: { renewTime: microNow() } },
  });
  assert.equal(r.status, 200, r.body);
}

interface NodeJSON {
  spec: { podCIDR?: string; podCIDRs?: string[]; taints?: { key: string; effect: string; timeAdded?: string }[] };
  status: { conditions: { type: string; status: string; reason?: string; message?: string }[] };
}
interface PodJSON {
  metadata: { deletionTimestamp?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

/** getJSON is the object kubectl gets, undefined when the server answers NotFound; any other failure fails the test. */
async function getJSON<T>(args: string[]): Promise<T | undefined> {
  const r = await k([...args, '-o', 'json']);
  if (r.code === 0) return JSON.parse(r.stdout) as T;
  assert.match(r.stderr, /Error from server \(NotFound\)/, r.stderr);
  return undefined;
}

const ready = (n: NodeJSON | undefined) => n?.status.conditions.find((c) => c.type === 'Ready');
const hasTaint = (n: NodeJSON | undefined, key: string, effect: string) => (n?.spec.taints ?? []).some((t) => t.key === key && t.effect === effect);

function boundPod(name: string, node: string, tolerations: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}}
spec:
  nodeName: ${node}
  tolerations: ${tolerations}
  containers: [{name: c, image: busybox}]
`;
}

async function markPodReady(name: string): Promise<void> {
  const t = secondNow();
  const r = await cluster.request(`/api/v1/namespaces/${ns}/pods/${name}/status`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: { status: { phase: 'Running', podIP: '10.244.9.9', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t }] } },
  });
  assert.equal(r.status, 200, r.body);
}

describe('node lifecycle', () => {
  it('gives each Node a /24 podCIDR of the cluster CIDR', async () => {
    await ok(['apply', '-f', '-'], `${nodeManifest('alive')}---\n${nodeManifest('dying')}`);
    renewing.add('alive').add('dying');
    renewer = setInterval(() => {
      for (const n of renewing) void renew(n).catch(() => undefined);
    }, 500);
    const cidrs: string[] = [];
    await until(async () => {
      cidrs.length = 0;
      for (const n of ['alive', 'dying']) cidrs.push((await getJSON<NodeJSON>(['get', 'node', n]))?.spec.podCIDR ?? '');
      return cidrs.every(Boolean);
    }, 20_000, 'podCIDRs');
    for (const c of cidrs) assert.match(c, /^10\.244\.\d{1,3}\.0\/24$/);
    assert.notEqual(cidrs[0], cidrs[1]);
    const alive = await getJSON<NodeJSON>(['get', 'node', 'alive']);
    assert.deepEqual(alive?.spec.podCIDRs, [cidrs[0]]);
  });

  it('keeps a Node whose Lease is renewed, even with a stale Ready heartbeat', async () => {
    await ok(['apply', '-f', '-'], [
      boundPod('tolerates-2s', 'dying', '[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}]'),
      boundPod('tolerates-forever', 'dying', '[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}]'),
    ].join('---\n'));
    await markPodReady('tolerates-2s');
    await markPodReady('tolerates-forever');
    // Longer than the 4 s grace period: only the Lease renewals keep the node alive.
    const deadline = Date.now() + 6_000;
    while (Date.now() < deadline) {
      const n = await getJSON<NodeJSON>(['get', 'node', 'dying']);
      assert.equal(ready(n)?.status, 'True', JSON.stringify(n?.status));
      assert.equal(hasTaint(n, 'node.kubernetes.io/unreachable', 'NoExecute'), false);
      await new Promise((r) => setTimeout(r, 500));
    }
  });

  it('marks a Node that stops renewing Unknown, taints it unreachable and its pods NotReady', async () => {
    renewing.delete('dying');
    let n: NodeJSON | undefined;
    await until(async () => ready((n = await getJSON<NodeJSON>(['get', 'node', 'dying'])))?.status === 'Unknown', 20_000, 'Ready=Unknown');
    assert.equal(ready(n)?.reason, 'NodeStatusUnknown');
    assert.equal(ready(n)?.message, 'Kubelet stopped posting node status.');
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) assert.equal(n?.status.conditions.find((c) => c.type === type)?.status, 'Unknown', type);
    await until(async () => hasTaint((n = await getJSON<NodeJSON>(['get', 'node', 'dying'])), 'node.kubernetes.io/unreachable', 'NoExecute'), 20_000, 'unreachable:NoExecute taint');
    assert.ok(n?.spec.taints?.find((t) => t.effect === 'NoExecute')?.timeAdded, 'the NoExecute taint has a timeAdded');
    await until(async () => hasTaint(await getJSON<NodeJSON>(['get', 'node', 'dying']), 'node.kubernetes.io/unreachable', 'NoSchedule'), 20_000, 'unreachable:NoSchedule taint');
    const alive = await getJSON<NodeJSON>(['get', 'node', 'alive']);
    assert.equal(ready(alive)?.status, 'True');
    assert.equal((alive?.spec.taints ?? []).length, 0);
    await until(async () => (await getJSON<PodJSON>(['get', 'pod', 'tolerates-forever']))?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False', 20_000, 'pod marked NotReady');
  });

  it('evicts the pod that tolerates unreachable for 2 s and keeps the one that tolerates it forever', async () => {
    await until(async () => {
      const p = await getJSON<PodJSON>(['get', 'pod', 'tolerates-2s']);
      return !p || !!p.metadata.deletionTimestamp;
    }, 20_000, 'tolerates-2s deleted');
    const events = await ok(['get', 'events', '--field-selector', 'involvedObject.name=tolerates-2s']);
    assert.match(events, /TaintManagerEviction\s+.*Marking for deletion Pod default\/tolerates-2s/);
    const kept = await getJSON<PodJSON>(['get', 'pod', 'tolerates-forever']);
    assert.ok(kept, 'tolerates-forever still exists');
    assert.equal(kept.metadata.deletionTimestamp, undefined);
  });

  it('removes the taints when the Node renews its Lease again', async () => {
    renewing.add('dying');
    // The kubelet would post Ready again; the Lease alone brings the node back within the grace.
    await ok(['patch', 'node', 'dying', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: secondNow(), lastTransitionTime: secondNow() }] } })]);
    await until(async () => {
      const n = await getJSON<NodeJSON>(['get', 'node', 'dying']);
      return ready(n)?.status === 'True' && !hasTaint(n, 'node.kubernetes.io/unreachable', 'NoExecute') && !hasTaint(n, 'node.kubernetes.io/unreachable', 'NoSchedule');
    }, 20_000, 'taints removed');
  });
});

describe('pod garbage collection', () => {
  it('deletes a pod bound to a Node that does not exist', async () => {
    await ok(['apply', '-f', '-'], boundPod('orphan', 'ghost', '[]'));
    await until(async () => (await getJSON<PodJSON>(['get', 'pod', 'orphan'])) === undefined, 20_000, 'orphan pod collected');
  });

  it('force-deletes the pods of a deleted Node, terminating ones included', async () => {
    renewing.delete('dying');
    await ok(['delete', 'node', 'dying']);
    await until(
      async () => (await getJSON<PodJSON>(['get', 'pod', 'tolerates-2s'])) === undefined && (await getJSON<PodJSON>(['get', 'pod', 'tolerates-forever'])) === undefined,
      20_000,
      'pods of the deleted node collected',
    );
  });
});
