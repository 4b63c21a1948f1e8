// The scheduler end to end: etcd, the apiserver and the scheduler process, with Nodes made by
// kubectl and their capacity written through nodes/status (no kubelet, no node simulator). Pods
// are bound through pods/binding and never run; a test deletes its pods with grace 0 (nothing
// would finish a graceful deletion) and puts any node it changed back as it was.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { Node } from '../lib/api/core/node.js';
import type { Pod } from '../lib/api/core/pod.js';
import { contextFor } from '../lib/process/cluster.js';
import { scheduler as schedulerComponent } from '../lib/process/components.js';
import { type Cluster, startCluster } from './harness.js';
import { kubectlHelpers, until } from './kubectl-helpers.js';

let cluster: Cluster;
const { ok, fails } = kubectlHelpers(() => cluster);
// A stopping leader releases the Lease, so hand-overs take about one retry period (1 s here,
// kube's default is 2 s); the lease and renew durations stay generous for a loaded machine.
const leaderElectionArgs = ['--leader-elect-lease-duration=15', '--leader-elect-renew-deadline=10', '--leader-elect-retry-period=1'];

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver', 'scheduler'], extraArgs: { scheduler: leaderElectionArgs } });
  for (const n of ['n1', 'n2', 'n3']) await addNode(n, { cpu: '4', zone: n === 'n3' ? 'b' : 'a' });
});
after(async () => {
  standby?.kill('SIGKILL');
  await cluster?.stop();
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function api<T>(path: string, method = 'GET', body?: unknown, headers?: Record<string, string>): Promise<T> {
  const r = await cluster.request(path, { method, body: body as object | undefined, headers });
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.body}`);
  return JSON.parse(r.body) as T;
}

/** addNode creates a Node with kubectl, then writes its capacity through nodes/status as a kubelet would. */
async function addNode(name: string, opts: { cpu: string; zone?: string; labels?: Record<string, string> }): Promise<void> {
  const labels = { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': opts.zone ?? 'a', ...opts.labels };
  await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } }));
  const node = await api<Node>(`/api/v1/nodes/${name}`);
  const capacity = { cpu: opts.cpu, memory: '16Gi', pods: '110' };
  node.status = { ...node.status, capacity, allocatable: capacity, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }] };
  await api(`/api/v1/nodes/${name}/status`, 'PUT', node);
}

async function newNamespace(name: string): Promise<string> {
  await api('/api/v1/namespaces', 'POST', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

interface PodOpts {
  cpu?: string;
  labels?: Record<string, string>;
  spec?: Partial<Pod['spec']>;
}

function podManifest(ns: string, name: string, o: PodOpts = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: o.labels },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: o.cpu ?? '100m' } } }],
      ...o.spec,
    },
  };
}

async function createPod(ns: string, name: string, o: PodOpts = {}): Promise<Pod> {
  return api<Pod>(`/api/v1/namespaces/${ns}/pods`, 'POST', podManifest(ns, name, o));
}

async function getPod(ns: string, name: string): Promise<Pod> {
  return api<Pod>(`/api/v1/namespaces/${ns}/pods/${name}`);
}

async function listPods(ns: string): Promise<Pod[]> {
  return (await api<{ items: Pod[] }>(`/api/v1/namespaces/${ns}/pods`)).items;
}

/** waitBound waits until every named pod has a node and returns pod name → node. */
async function waitBound(ns: string, names: string[], ms = 20_000): Promise<Record<string, string>> {
  let nodes: Record<string, string> = {};
  await until(
    async () => {
      const pods = await listPods(ns);
      nodes = Object.fromEntries(pods.filter((p) => p.spec.nodeName).map((p) => [p.metadata.name!, p.spec.nodeName!]));
      return names.every((n) => nodes[n]);
    },
    ms,
    `pods ${names.join(', ')} in ${ns} to be bound (bound so far: ${JSON.stringify(nodes)})`,
  );
  return nodes;
}

/** waitUnschedulable waits for the pod's PodScheduled=False condition and returns its message. */
async function waitUnschedulable(ns: string, name: string): Promise<string> {
  let message = '';
  await until(
    async () => {
      const c = (await getPod(ns, name)).status?.conditions?.find((x) => x.type === 'PodScheduled');
      message = c?.message ?? '';
      return c?.status === 'False' && c.reason === 'Unschedulable';
    },
    20_000,
    `${ns}/${name} to be marked unschedulable`,
  );
  return message;
}

async function deleteAllPods(ns: string): Promise<void> {
  await ok(['delete', 'pods', '--all', '-n', ns, '--grace-period=0', '--force', '--wait=false']);
  await until(async () => (await listPods(ns)).length === 0, 20_000, `pods of ${ns} to be gone`);
}

async function patchNode(name: string, patch: unknown): Promise<void> {
  await api(`/api/v1/nodes/${name}`, 'PATCH', patch, { 'Content-Type': 'application/merge-patch+json' });
}

function count<T extends string>(values: T[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

let standby: ChildProcess | undefined;

/** schedulerMetrics reads the scheduler's /metrics with the admin client certificate. */
function schedulerMetrics(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      `https://127.0.0.1:${cluster.config.schedulerPort}/metrics`,
      { ca: readFileSync(cluster.caFile), cert: readFileSync(cluster.adminCert), key: readFileSync(cluster.adminKey) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`/metrics: ${res.statusCode} ${body}`))));
      },
    );
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------

describe('scheduler', () => {
  it('packs pods onto the most allocated node that fits', async () => {
    const ns = await newNamespace('binpack');
    await createPod(ns, 'first', { cpu: '1' });
    const first = (await waitBound(ns, ['first'])).first;
    await createPod(ns, 'second', { cpu: '1' });
    const second = (await waitBound(ns, ['second'])).second;
    assert.equal(second, first, 'the second pod joins the first on the fuller node');
    // 2 of 4 CPUs are left there: a 3-CPU pod must go to another node.
    await createPod(ns, 'big', { cpu: '3' });
    const big = (await waitBound(ns, ['big'])).big;
    assert.notEqual(big, first);
    // kubectl shows the node, and the Scheduled event names it.
    const wide = await ok(['get', 'pod', 'big', '-n', ns, '-o', 'wide']);
    assert.match(wide, new RegExp(`\\b${big}\\b`));
    const events = await ok(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=big,reason=Scheduled', '-o', 'jsonpath={.items[*].message}']);
    assert.equal(events, `Successfully assigned ${ns}/big to ${big}`);
    await deleteAllPods(ns);
  });

  it('honours nodeSelector and required node affinity', async () => {
    const ns = await newNamespace('selectors');
    await ok(['label', 'node', 'n2', 'disk=ssd']);
    try {
      await createPod(ns, 'ssd', { spec: { nodeSelector: { disk: 'ssd' } } });
      await createPod(ns, 'zone-b', {
        spec: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['b'] }] }] },
            },
          },
        },
      });
      const nodes = await waitBound(ns, ['ssd', 'zone-b']);
      assert.deepEqual(nodes, { ssd: 'n2', 'zone-b': 'n3' });
    } finally {
      await ok(['label', 'node', 'n2', 'disk-']);
      await deleteAllPods(ns);
    }
  });

  it('keeps pods off tainted nodes they do not tolerate and off cordoned nodes', async () => {
    const ns = await newNamespace('taints');
    await ok(['taint', 'node', 'n1', 'dedicated=gpu:NoSchedule']);
    await ok(['cordon', 'n2']);
    try {
      for (const name of ['a', 'b', 'c']) await createPod(ns, name);
      await createPod(ns, 'gpu', {
        spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }], nodeSelector: { 'kubernetes.io/hostname': 'n1' } },
      });
      const nodes = await waitBound(ns, ['a', 'b', 'c', 'gpu']);
      assert.deepEqual(nodes, { a: 'n3', b: 'n3', c: 'n3', gpu: 'n1' });
    } finally {
      await ok(['taint', 'node', 'n1', 'dedicated-']);
      await ok(['uncordon', 'n2']);
      await deleteAllPods(ns);
    }
  });

  it('gives each host port to one pod per node', async () => {
    const ns = await newNamespace('hostports');
    const withPort = (): PodOpts => ({ spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80, hostPort: 8080 }] }] } });
    for (const name of ['p1', 'p2', 'p3']) await createPod(ns, name, withPort());
    const nodes = await waitBound(ns, ['p1', 'p2', 'p3']);
    assert.deepEqual(Object.values(nodes).sort(), ['n1', 'n2', 'n3']);
    await createPod(ns, 'p4', withPort());
    const msg = await waitUnschedulable(ns, 'p4');
    assert.match(msg, /^0\/3 nodes are available: 3 node\(s\) didn't have free ports for the requested pod ports\./);
    await deleteAllPods(ns);
  });

  it('spreads pods with anti-affinity and topology spread constraints', async () => {
    const ns = await newNamespace('spread');
    const anti: PodOpts = {
      labels: { app: 'web' },
      spec: {
        affinity: {
          podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] },
        },
      },
    };
    for (const name of ['web-1', 'web-2', 'web-3']) await createPod(ns, name, anti);
    const web = await waitBound(ns, ['web-1', 'web-2', 'web-3']);
    assert.deepEqual(Object.values(web).sort(), ['n1', 'n2', 'n3']);
    // Without the constraint these small pods would all be packed onto one node.
    const spread: PodOpts = {
      labels: { app: 'db' },
      spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'db' } } }] },
    };
    const names = ['db-1', 'db-2', 'db-3', 'db-4', 'db-5', 'db-6'];
    for (const name of names) await createPod(ns, name, spread);
    const db = await waitBound(ns, names);
    assert.deepEqual(count(names.map((n) => db[n])), { n1: 2, n2: 2, n3: 2 });
    await deleteAllPods(ns);
  });

  it('reports an unschedulable pod and schedules it as soon as a node fits', async () => {
    const ns = await newNamespace('pending');
    await createPod(ns, 'huge', { cpu: '32' });
    const msg = await waitUnschedulable(ns, 'huge');
    const expected = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..';
    assert.equal(msg, expected);
    const described = await ok(['describe', 'pod', 'huge', '-n', ns]);
    assert.match(described, /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available: 3 Insufficient cpu\./);
    const row = await ok(['get', 'pod', 'huge', '-n', ns, '--no-headers']);
    assert.match(row, /Pending/);
    await addNode('big', { cpu: '64' });
    try {
      const nodes = await waitBound(ns, ['huge'], 15_000);
      assert.equal(nodes.huge, 'big');
      const scheduled = (await getPod(ns, 'huge')).status?.conditions?.find((c) => c.type === 'PodScheduled');
      assert.equal(scheduled?.status, 'True');
    } finally {
      await deleteAllPods(ns);
      await ok(['delete', 'node', 'big']);
    }
  });

  it('publishes its metrics', async () => {
    const text = await schedulerMetrics();
    // Series carry the process's component label besides their own.
    assert.match(text, /^scheduler_schedule_attempts_total\{(?=[^}]*result="scheduled")(?=[^}]*profile="default-scheduler")[^}]*\} [1-9]/m);
    assert.match(text, /^scheduler_schedule_attempts_total\{(?=[^}]*result="unschedulable")(?=[^}]*profile="default-scheduler")[^}]*\} [1-9]/m);
    assert.match(text, /^scheduler_pod_scheduling_duration_seconds_count\{[^}]*attempts="\d+"[^}]*\} [1-9]/m);
    assert.match(text, /^scheduler_pending_pods\{[^}]*queue="active"[^}]*\} \d+/m);
  });

  it('leaves pods of another scheduler alone', async () => {
    const ns = await newNamespace('other');
    await createPod(ns, 'theirs', { spec: { schedulerName: 'my-scheduler' } });
    await createPod(ns, 'mine');
    // The default-scheduler pod came later: once it is bound, the other one has been seen and skipped.
    await waitBound(ns, ['mine']);
    const theirs = await getPod(ns, 'theirs');
    assert.equal(theirs.spec.nodeName, undefined);
    assert.equal(theirs.status?.conditions, undefined);
    await deleteAllPods(ns);
  });

  it('resolves priority classes at admission and preempts a lower-priority pod', async () => {
    const ns = await newNamespace('preempt');
    const classes = await ok(['get', 'priorityclasses']);
    assert.match(classes, /system-cluster-critical\s+2000000000\s+false/);
    assert.match(classes, /system-node-critical\s+2000001000\s+false/);
    await ok(['create', 'priorityclass', 'low', '--value=10']);
    await ok(['create', 'priorityclass', 'high', '--value=1000']);
    try {
      const err = await fails(['create', '-f', '-'], JSON.stringify(podManifest(ns, 'nope', { spec: { priorityClassName: 'missing' } })));
      assert.match(err, /pods "nope" is forbidden: no PriorityClass with name missing was found/);
      // One low-priority pod fills each node.
      for (const n of ['n1', 'n2', 'n3']) await createPod(ns, `low-${n}`, { cpu: '4', spec: { priorityClassName: 'low', nodeSelector: { 'kubernetes.io/hostname': n } } });
      await waitBound(ns, ['low-n1', 'low-n2', 'low-n3']);
      const low = await getPod(ns, 'low-n1');
      assert.equal(low.spec.priority, 10);
      assert.equal(low.spec.preemptionPolicy, 'PreemptLowerPriority');
      // DefaultTolerationSeconds admission added the not-ready and unreachable tolerations.
      assert.deepEqual(
        low.spec.tolerations?.map((t) => `${t.key}:${t.effect}:${t.tolerationSeconds}`),
        ['node.kubernetes.io/not-ready:NoExecute:300', 'node.kubernetes.io/unreachable:NoExecute:300'],
      );
      await createPod(ns, 'high', { cpu: '4', spec: { priorityClassName: 'high' } });
      const nodes = await waitBound(ns, ['high'], 20_000);
      const high = await getPod(ns, 'high');
      assert.equal(high.status?.nominatedNodeName, nodes.high, 'the preemptor was nominated to the node it got');
      const left = (await listPods(ns)).map((p) => p.metadata.name).sort();
      assert.deepEqual(left, ['high', ...['low-n1', 'low-n2', 'low-n3'].filter((n) => n !== `low-${nodes.high}`)]);
      const preempted = await ok(['get', 'events', '-n', ns, '--field-selector', 'reason=Preempted', '-o', 'jsonpath={.items[*].message}']);
      assert.equal(preempted, `Preempted by pod ${high.metadata.uid} on node ${nodes.high}`);
    } finally {
      await deleteAllPods(ns);
      await ok(['delete', 'priorityclass', 'low', 'high']);
    }
  });

  it('binds every pod exactly once across a scheduler restart', async () => {
    const ns = await newNamespace('restart');
    // Pods keep coming before, during and after the restart.
    const names: string[] = [];
    let restarted = false;
    let after = 0;
    const creating = (async () => {
      while (!restarted || after++ < 10) {
        const name = `p-${names.length}`;
        await createPod(ns, name, { cpu: '10m' });
        names.push(name);
      }
    })();
    await until(async () => (await listPods(ns)).some((p) => p.spec.nodeName), 20_000, 'a first pod to be bound');
    await cluster.restart('scheduler');
    restarted = true;
    await creating;
    assert.ok(names.length > 12, `pods were created while the scheduler restarted (${names.length})`);
    await waitBound(ns, names, 30_000);
    // A second binding of a pod would be refused by the apiserver; here each pod also got at most one Scheduled event.
    const events = await api<{ items: { involvedObject: { name: string }; reason: string; count?: number }[] }>(`/api/v1/namespaces/${ns}/events?fieldSelector=reason%3DScheduled`);
    const perPod = count(events.items.map((e) => e.involvedObject.name));
    for (const [pod, n] of Object.entries(perPod)) assert.equal(n, 1, `${pod} has ${n} Scheduled events`);
    assert.ok(events.items.every((e) => (e.count ?? 1) === 1));
    await deleteAllPods(ns);
  });

  it('with two schedulers only the leader binds; the other takes over when it goes', async () => {
    const ns = await newNamespace('standby');
    const { command, args } = schedulerComponent.command(contextFor(cluster.config));
    const standbyArgs = [...args.map((a) => (a.startsWith('--secure-port=') ? '--secure-port=0' : a)), '-v=2'];
    let log = '';
    standby = spawn(command, standbyArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    standby.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    await until(() => log.includes('New leader elected'), 30_000, `the standby to see the leader:\n${log}`);
    for (const name of ['a', 'b', 'c']) await createPod(ns, name);
    await waitBound(ns, ['a', 'b', 'c']);
    assert.doesNotMatch(log, /Started leading|Successfully bound/, `the standby did nothing while the leader ran:\n${log}\nleader:\n${cluster.logs('scheduler').slice(-3000)}`);

    await cluster.kill('scheduler');
    await until(() => log.includes('Started leading'), 30_000, `the standby to take over:\n${log}`);
    await createPod(ns, 'd');
    await waitBound(ns, ['d']);
    // The binding is visible through the API before the standby's log line crosses its pipe.
    await until(() => /Successfully bound pod to node.*"pod":"standby\/d"/.test(log), 10_000, `the standby to log binding d:\n${log}`);
    await deleteAllPods(ns);
  });
});
