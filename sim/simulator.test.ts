import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Node } from '../lib/api/core/node.js';
import type { Pod } from '../lib/api/core/pod.js';
import type { Lease } from '../lib/api/coordination/lease.js';
import { FakeClient, type Action } from '../lib/testing/fakeclient.js';
import { Leases, Nodes, Pods } from '../lib/client/resources.js';
import { Logger } from '../lib/log.js';
import { FakeClock } from '../lib/testing/fakeclock.js';
import { parseSimConfig } from './config.js';
import { cidrContains, parseIPv4Cidr } from '../lib/net/ip.js';
import { Simulator } from './simulator.js';

const flush = () => new Promise<void>((r) => setImmediate(r));
const t0 = Date.parse('2025-03-01T10:00:00Z');

/**
 * Fixture runs a Simulator against a FakeClient whose store plays the informer caches: after
 * each write it delivers the changed object back as an event, as a watch would.
 */
class Fixture {
  readonly clock = new FakeClock();
  readonly logs: string[] = [];
  readonly sim: Simulator;
  private seen = 0;
  private readonly nodeNames = new Set<string>();
  private readonly podKeys = new Set<string>();
  private readonly lastPods = new Map<string, Pod>();

  constructor(
    readonly client: FakeClient,
    flags: Record<string, string>,
    preload: { nodes?: Node[]; pods?: Pod[] } = {},
  ) {
    this.clock.step(t0);
    for (const n of preload.nodes ?? []) client.add(Nodes, n);
    for (const p of preload.pods ?? []) client.add(Pods, p);
    for (const n of preload.nodes ?? []) this.nodeNames.add(n.metadata.name!);
    for (const p of preload.pods ?? []) this.trackPod(`${p.metadata.namespace}/${p.metadata.name}`);
    const names = this.nodeNames;
    const keys = this.podKeys;
    this.sim = new Simulator({
      client,
      clock: this.clock,
      config: parseSimConfig(flags),
      log: new Logger('sim', 2, (line) => this.logs.push(line)),
      nodes: {
        get: (name) => client.stored<Node>(Nodes, '', name),
        list: () => [...names].map((n) => client.stored<Node>(Nodes, '', n)).filter((n): n is Node => !!n),
      },
      pods: {
        get: (name, ns) => client.stored<Pod>(Pods, ns ?? '', name),
        list: () => [...keys].map((k) => this.pod(k)).filter((p): p is Pod => !!p),
      },
    });
    this.seen = client.actions.length;
  }

  pod(key: string): Pod | undefined {
    const [ns, name] = key.split('/');
    return this.client.stored<Pod>(Pods, ns!, name!);
  }

  node(name: string): Node | undefined {
    return this.client.stored<Node>(Nodes, '', name);
  }

  private trackPod(key: string): void {
    this.podKeys.add(key);
    const p = this.pod(key);
    if (p) this.lastPods.set(key, p);
  }

  /** addPod creates a pod as a user would and delivers the event. */
  addPod(p: Pod): Pod {
    this.client.add(Pods, p);
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    this.trackPod(key);
    this.sim.onPod(this.pod(key)!);
    return this.pod(key)!;
  }

  /** addNode creates a Node as a user would and delivers the event. */
  addNode(n: Node): void {
    this.client.add(Nodes, n);
    this.nodeNames.add(n.metadata.name!);
    this.sim.onNode(this.node(n.metadata.name!)!);
  }

  /** deletePod removes a pod as the API would and delivers the event. */
  deletePod(key: string): void {
    const [ns, name] = key.split('/');
    const old = this.pod(key)!;
    void this.client.delete(Pods, ns!, name!);
    this.lastPods.delete(key);
    this.podKeys.delete(key);
    this.sim.onPodDelete(old);
  }

  /** echo delivers the objects changed by writes since the last echo. */
  private echo(): void {
    const actions = this.client.actions.slice(this.seen);
    this.seen = this.client.actions.length;
    for (const a of actions) {
      if (a.verb === 'get' || a.verb === 'list') continue;
      if (a.resource === 'nodes') {
        const name = a.name || (a.object as Node | undefined)?.metadata?.name || '';
        this.nodeNames.add(name);
        const n = this.node(name);
        if (n) this.sim.onNode(n);
      } else if (a.resource === 'pods') {
        const key = `${a.namespace}/${a.name}`;
        const p = this.pod(key);
        if (p) {
          this.trackPod(key);
          this.sim.onPod(p);
        } else if (this.lastPods.has(key)) {
          this.podKeys.delete(key);
          this.sim.onPodDelete(this.lastPods.get(key)!);
          this.lastPods.delete(key);
        }
      }
    }
  }

  /** run advances time by ms in 100ms steps, letting writes finish and echo after each. */
  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 100) {
      this.clock.step(100);
      for (let i = 0; i < 3; i++) {
        await flush();
        this.echo();
      }
    }
  }

  /** writesSince are the write actions after the given count, optionally of one resource. */
  writes(from = 0, resource?: string): Action[] {
    return this.client.actions.slice(from).filter((a) => a.verb !== 'get' && a.verb !== 'list' && (!resource || a.resource === resource));
  }
}

function simNode(name: string, extra: { podCIDR?: string; annotations?: Record<string, string>; labels?: Record<string, string> } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: extra.labels, annotations: { 'skiff.dev/simulated': 'true', ...extra.annotations } },
    spec: extra.podCIDR ? { podCIDR: extra.podCIDR, podCIDRs: [extra.podCIDR] } : {},
  };
}

function boundPod(name: string, node: string, extra: Partial<Pod['metadata']> = {}, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...extra },
    spec: { nodeName: node, restartPolicy: 'Always', terminationGracePeriodSeconds: 30, containers: [{ name: 'app', image: 'nginx' }], ...spec } as Pod['spec'],
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  };
}

describe('Nodes', () => {
  test('registers --nodes Nodes with their status, then one Lease each; ready once all are registered', async () => {
    const f = new Fixture(new FakeClient(), { nodes: '3' });
    f.sim.start();
    assert.equal(f.sim.notReadyReason(), '0 of 3 nodes registered');
    await f.run(300);
    assert.equal(f.sim.notReadyReason(), undefined);
    const created = f.writes(0, 'nodes').filter((a) => a.verb === 'create').map((a) => a.name);
    assert.deepEqual(created, ['sim-0', 'sim-1', 'sim-2']);
    const n = f.node('sim-1')!;
    assert.equal(n.metadata.annotations?.['skiff.dev/simulated'], 'true');
    assert.equal(n.metadata.labels?.['topology.kubernetes.io/zone'], 'zone-b');
    assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.deepEqual(n.status?.addresses?.[0], { type: 'InternalIP', address: '172.30.0.2' });
    const lease = f.client.stored<Lease>(Leases, 'kube-node-lease', 'sim-1')!;
    assert.equal(lease.spec?.holderIdentity, 'sim-1');
    assert.equal(lease.spec?.leaseDurationSeconds, 40);
    assert.equal(lease.metadata.ownerReferences?.[0]?.uid, n.metadata.uid);
    assert.equal(f.writes(0, 'nodes').filter((a) => a.verb !== 'create').length, 0, 'a fresh Node needs no status write');
  });

  test('adopts a user Node with the annotation: fills its status (annotation capacity), leaves labels and taints, ignores other Nodes', async () => {
    const big = simNode('big', { annotations: { 'skiff.dev/capacity-cpu': '64' }, labels: { team: 'x' } });
    big.spec = { taints: [{ key: 'gpu', effect: 'NoSchedule' }] };
    const real: Node = { metadata: { name: 'real' }, status: { conditions: [{ type: 'Ready', status: 'False' }] } };
    const f = new Fixture(new FakeClient(), {}, { nodes: [big, real] });
    f.sim.start();
    await f.run(300);
    const writes = f.writes(0, 'nodes');
    assert.ok(writes.every((a) => a.name === 'big' && a.subresource === 'status'), JSON.stringify(writes.map((a) => [a.verb, a.name, a.subresource])));
    const n = f.node('big')!;
    assert.equal(n.status?.capacity?.cpu, '64');
    assert.equal(n.status?.capacity?.memory, '32Gi');
    assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.deepEqual(n.metadata.labels, { team: 'x' });
    assert.deepEqual(n.spec?.taints, [{ key: 'gpu', effect: 'NoSchedule' }]);
    // A Node found at start renews its Lease at its phase within the first interval.
    await f.run(10_000);
    assert.ok(f.client.stored(Leases, 'kube-node-lease', 'big'));
    assert.equal(f.client.stored(Leases, 'kube-node-lease', 'real'), undefined);

    // A user-created Node later is taken on too.
    f.addNode(simNode('late'));
    await f.run(300);
    assert.equal(f.node('late')?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.ok(f.client.stored(Leases, 'kube-node-lease', 'late'), 'a new Node gets its Lease at once');
    assert.deepEqual(f.node('late')?.status?.addresses?.[0], { type: 'InternalIP', address: '172.30.0.2' });
  });

  test('renews every Lease each interval, spread over the interval rather than all at once', async () => {
    const f = new Fixture(new FakeClient(), { nodes: '50', 'lease-renew-interval': '10s' });
    f.sim.start();
    // The first renewal after the Lease is created comes at the Node's phase, 5-15s later.
    await f.run(15_000);
    const from = f.client.actions.length;
    const start = f.clock.now();
    const perSecond = new Array(20).fill(0);
    const perNode = new Map<string, number>();
    for (let s = 0; s < 20; s++) {
      const before = f.client.actions.length;
      await f.run(1000);
      const renewals = f.client.actions.slice(before).filter((a) => a.resource === 'leases');
      perSecond[s] = renewals.length;
      for (const r of renewals) perNode.set(r.name, (perNode.get(r.name) ?? 0) + 1);
    }
    assert.equal(f.clock.now() - start, 20_000);
    assert.equal(perNode.size, 50);
    assert.ok([...perNode.values()].every((n) => n === 2), `each Node renews twice in 20s: ${[...perNode.values()]}`);
    assert.ok(Math.max(...perSecond) <= 15, `renewals per second: ${perSecond.join(' ')}`);
    const heartbeats = f.writes(from, 'nodes');
    assert.ok(heartbeats.every((a) => a.verb === 'patch' && a.subresource === 'status'));
    assert.ok(new Set(heartbeats.map((a) => a.name)).size === heartbeats.length, 'at most one heartbeat per Node in 20s (every 60s)');
    // As the kubelet: an update of the Lease last written, one request each, never a conflict.
    assert.ok(f.writes(from, 'leases').every((a) => a.verb === 'update'), JSON.stringify(f.writes(from, 'leases').map((a) => a.verb)));
    const lease = f.client.stored<Lease>(Leases, 'kube-node-lease', 'sim-7')!;
    assert.ok(Date.parse(lease.spec!.renewTime!) > f.clock.now() - 11_000, 'renewed within the last interval');
  });

  test('stretches the renewal interval when the write budget cannot carry it, and says so once', async () => {
    const f = new Fixture(new FakeClient(), { nodes: '200', 'max-writes-per-second': '20' });
    f.sim.start();
    // Renewals take three quarters of the budget, registrations what is left.
    await f.run(60_000);
    assert.equal(f.sim.notReadyReason(), undefined);
    // 200 renewals in 75% of 20 writes/s take 13.4s.
    assert.equal(f.sim.leaseRenewIntervalMs, 13_334);
    assert.equal(f.logs.filter((l) => l.includes('renewing less often')).length, 1);
  });

  test('a Node marked Ready=Unknown by the node lifecycle controller reports Ready at once', async () => {
    const f = new Fixture(new FakeClient(), { nodes: '1' });
    f.sim.start();
    await f.run(300);
    const n = f.node('sim-0')!;
    const ready = n.status!.conditions!.find((c) => c.type === 'Ready')!;
    Object.assign(ready, { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    await f.client.update(Nodes, n, { subresource: 'status' });
    const from = f.client.actions.length;
    await f.run(300);
    assert.equal(f.writes(from, 'nodes').filter((a) => a.verb === 'patch').length, 1);
    assert.equal(f.node('sim-0')!.status!.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
  });
});

describe('pods', () => {
  test('a pod bound to a simulated Node runs after the start delay, with an address from the podCIDR', async () => {
    const f = new Fixture(new FakeClient(), { 'pod-start-delay': '1s' }, { nodes: [simNode('n1', { podCIDR: '10.244.3.0/24' })], pods: [boundPod('a', 'n1'), boundPod('b', 'n1'), boundPod('elsewhere', 'real-node')] });
    f.sim.start();
    await f.run(500);
    assert.equal(f.writes(0, 'pods').length, 0, 'not before the start delay');
    await f.run(1000);
    const patches = f.writes(0, 'pods');
    assert.deepEqual(patches.map((a) => [a.name, a.verb, a.subresource, a.patchType]).sort(), [
      ['a', 'patch', 'status', 'strategic'],
      ['b', 'patch', 'status', 'strategic'],
    ]);
    assert.deepEqual((patches[0]!.patch as { metadata: unknown }).metadata, { uid: f.pod('default/a')!.metadata.uid }, 'the write is for this pod, not a namesake');
    const [a, b] = [f.pod('default/a')!, f.pod('default/b')!];
    assert.equal(a.status?.phase, 'Running');
    assert.equal(a.status?.hostIP, '172.30.0.1');
    const block = parseIPv4Cidr('10.244.3.0/24');
    assert.ok(cidrContains(block, a.status!.podIP!) && cidrContains(block, b.status!.podIP!));
    assert.notEqual(a.status!.podIP, b.status!.podIP);
    assert.equal(f.sim.podsRunning, 2);
    await f.run(5000);
    assert.equal(f.writes(0, 'pods').length, 2, 'a running pod is written once');
  });

  test('addresses are never shared: a full block makes pods wait until a pod is deleted', async () => {
    // A /29 holds five pod addresses (.2 to .6).
    const pods = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((n) => boundPod(n, 'n1'));
    const f = new Fixture(new FakeClient(), { 'pod-start-delay': '0s' }, { nodes: [simNode('n1', { podCIDR: '10.244.9.0/29' })], pods });
    f.sim.start();
    await f.run(500);
    const ips = () => ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((n) => f.pod(`default/${n}`)?.status?.podIP);
    const got = ips().filter(Boolean);
    assert.equal(got.length, 5);
    assert.equal(new Set(got).size, 5);
    const waiting = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].find((n) => !f.pod(`default/${n}`)?.status?.podIP)!;
    assert.ok(f.logs.some((l) => l.includes('No pod addresses left on node')));
    const victim = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].find((n) => n !== waiting)!;
    const freed = f.pod(`default/${victim}`)!.status!.podIP;
    f.deletePod(`default/${victim}`);
    await f.run(11_000);
    assert.equal(f.pod(`default/${waiting}`)?.status?.podIP, freed);
  });

  test('without spec.podCIDR, pods wait --pod-cidr-wait, then take addresses from the Node\'s fallback /24', async () => {
    const f = new Fixture(new FakeClient(), { 'pod-start-delay': '0s', 'pod-cidr-wait': '5s' }, { nodes: [simNode('n1')], pods: [boundPod('a', 'n1')] });
    f.sim.start();
    await f.run(4000);
    assert.equal(f.writes(0, 'pods').length, 0);
    await f.run(1500);
    assert.equal(f.pod('default/a')?.status?.phase, 'Running');
    assert.ok(cidrContains(parseIPv4Cidr('100.64.0.0/24'), f.pod('default/a')!.status!.podIP!), f.pod('default/a')!.status!.podIP);
  });

  test('a deleted pod is removed after its grace period, capped by --max-termination-grace, with a uid precondition', async () => {
    const requested = new Date(t0 + 1000);
    const deleting = boundPod('old', 'n1', { deletionTimestamp: new Date(requested.getTime() + 60_000).toISOString(), deletionGracePeriodSeconds: 60 });
    deleting.status = { phase: 'Running', startTime: '2025-03-01T09:00:00Z', podIP: '10.244.3.9', qosClass: 'BestEffort' };
    const f = new Fixture(new FakeClient(), { 'max-termination-grace': '30s' }, { nodes: [simNode('n1', { podCIDR: '10.244.3.0/24' })], pods: [deleting] });
    const uid = f.pod('default/old')!.metadata.uid;
    f.sim.start();
    await f.run(30_500);
    assert.equal(f.writes(0, 'pods').length, 0, 'not before 30s');
    await f.run(1000);
    const deletes = f.writes(0, 'pods');
    assert.deepEqual(deletes.map((a) => [a.verb, a.name, a.options]), [['delete', 'old', { gracePeriodSeconds: 0, preconditions: { uid } }]]);
    assert.equal(f.pod('default/old'), undefined);
  });

  test('a crash-looping pod is restarted on the back-off schedule by the one clock loop', async () => {
    const f = new Fixture(new FakeClient(), { 'pod-start-delay': '0s' }, { nodes: [simNode('n1', { podCIDR: '10.244.3.0/24' })], pods: [boundPod('c', 'n1', { labels: { 'skiff.dev/sim': 'crashloop' } })] });
    f.sim.start();
    const restarts = () => f.pod('default/c')?.status?.containerStatuses?.[0]?.restartCount;
    await f.run(500);
    assert.equal(restarts(), 1);
    await f.run(9000);
    assert.equal(restarts(), 1);
    await f.run(1500);
    assert.equal(restarts(), 2);
    await f.run(20_000);
    assert.equal(restarts(), 3);
    assert.equal(f.sim.podsRunning, 1);
  });

  test('after a restart of the simulator, Ready Nodes and running pods are left alone: only Leases are written', async () => {
    const client = new FakeClient();
    const first = new Fixture(client, { nodes: '2', 'pod-start-delay': '0s', 'pod-cidr-wait': '0s' });
    first.sim.start();
    await first.run(500);
    first.addPod(boundPod('w', 'sim-0'));
    first.addPod(boundPod('f', 'sim-1', { labels: { 'skiff.dev/sim': 'fail' } }, { restartPolicy: 'Never' }));
    await first.run(500);
    assert.equal(first.pod('default/w')?.status?.phase, 'Running');
    assert.equal(first.pod('default/f')?.status?.phase, 'Failed');
    first.sim.stop();
    const ipBefore = first.pod('default/w')!.status!.podIP;

    const nodes = [first.node('sim-0')!, first.node('sim-1')!];
    const pods = [first.pod('default/w')!, first.pod('default/f')!];
    // The second simulator's caches list what is stored, as a fresh informer would.
    const second = new Fixture(client, { nodes: '2', 'pod-start-delay': '0s', 'pod-cidr-wait': '0s' }, { nodes, pods });
    const from = client.actions.length;
    second.clock.step(5000);
    second.sim.start();
    assert.equal(second.sim.notReadyReason(), undefined);
    await second.run(5000);
    const writes = client.actions.slice(from).filter((a) => a.verb !== 'get' && a.verb !== 'list');
    assert.ok(writes.length > 0);
    assert.ok(writes.every((a) => a.resource === 'leases'), JSON.stringify(writes.map((a) => [a.verb, a.resource, a.name])));
    assert.equal(second.pod('default/w')!.status!.podIP, ipBefore);
    // The address stays taken: the next pod gets another.
    second.addPod(boundPod('x', 'sim-0'));
    await second.run(500);
    assert.notEqual(second.pod('default/x')!.status!.podIP, ipBefore);
  });
});
