// The DaemonSet controller end to end on simulated nodes: real etcd, apiserver, controller
// manager (daemonset and garbage collector), scheduler (it binds daemon pods through their
// metadata.name node affinity) and the node simulator with three nodes, driven with the real
// kubectl: one pod per eligible node, taints and selectors, nodes coming and going, rolling
// update node by node, OnDelete, rollout status|history|undo|restart, and a controller manager
// killed in the middle of a rollout.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ControllerRevision } from '../lib/api/apps/controllerrevision.js';
import type { DaemonSet } from '../lib/api/apps/daemonset.js';
import type { Pod } from '../lib/api/core/pod.js';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers, row, until } from './kubectl-helpers.js';

let cluster: Cluster;
const { k, ok, fails } = kubectlHelpers(() => cluster);
const simNodes = ['sim-0', 'sim-1', 'sim-2'];

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager', 'scheduler', 'sim'],
    simulatedNodes: 3,
    extraArgs: {
      'controller-manager': ['--controllers=daemonset,garbagecollector'],
      sim: ['--lease-renew-interval=2s', '--pod-cidr-wait=3s', '--max-termination-grace=2s'],
    },
  });
  await until(async () => (await ok(['get', 'nodes', '--no-headers'])).split('\n').filter((l) => /\sReady\s/.test(l)).length === 3, 30_000, 'three Ready sim nodes');
});
after(async () => {
  await cluster?.stop();
});

interface DSOptions {
  image?: string;
  labels?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  strategy?: Record<string, unknown>;
  minReadySeconds?: number;
}

function manifest(ns: string, name: string, o: DSOptions = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: ns },
    spec: {
      selector: { matchLabels: { app: name } },
      ...(o.strategy ? { updateStrategy: o.strategy } : {}),
      ...(o.minReadySeconds ? { minReadySeconds: o.minReadySeconds } : {}),
      template: {
        metadata: { labels: { app: name, ...(o.labels ?? {}) } },
        spec: { containers: [{ name: 'agent', image: o.image ?? 'busybox:1' }], ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}) },
      },
    },
  });
}

async function getJSON<T>(args: string[]): Promise<T> {
  return JSON.parse(await ok([...args, '-o', 'json'])) as T;
}

const ds = (ns: string, name: string) => getJSON<DaemonSet>(['get', 'ds', name, '-n', ns]);

/** livePods are the DaemonSet's pods not being deleted. */
async function livePods(ns: string, name: string): Promise<Pod[]> {
  const list = await getJSON<{ items: Pod[] }>(['get', 'pods', '-n', ns, '-l', `app=${name}`]);
  return list.items.filter((p) => !p.metadata.deletionTimestamp);
}

const hashOf = (p: Pod) => p.metadata.labels?.['controller-revision-hash'] ?? '';
const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** onePerNode waits until exactly the given nodes each run one ready pod (and no other node runs one). */
async function onePerNode(ns: string, name: string, nodes: string[], ms = 30_000, check: (p: Pod) => boolean = () => true): Promise<Pod[]> {
  let pods: Pod[] = [];
  await until(
    async () => {
      pods = await livePods(ns, name);
      const bound = pods.map((p) => p.spec.nodeName ?? '').sort();
      return JSON.stringify(bound) === JSON.stringify([...nodes].sort()) && pods.every(isReady) && pods.every(check);
    },
    ms,
    `one ready pod of ${name} on each of ${nodes.join(',')}`,
  );
  return pods;
}

/** settled waits for the DaemonSet's status to show a finished rollout over want nodes. */
async function settled(ns: string, name: string, want: number, ms = 30_000): Promise<DaemonSet> {
  let d!: DaemonSet;
  await until(
    async () => {
      d = await ds(ns, name);
      const s = d.status ?? {};
      return (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1) && s.desiredNumberScheduled === want && s.updatedNumberScheduled === want && s.numberAvailable === want && s.currentNumberScheduled === want;
    },
    ms,
    `${name} to settle on ${want} nodes`,
  );
  return d;
}

describe('DaemonSet', () => {
  it('kubectl api-resources lists daemonsets with the short name ds in apps/v1', async () => {
    const out = await ok(['api-resources', '--api-group=apps']);
    assert.deepEqual(row(out, 'daemonsets'), ['daemonsets', 'ds', 'apps/v1', 'true', 'DaemonSet']);
    const all = await ok(['api-resources', '--categories=all', '-o', 'name']);
    assert.ok(all.split('\n').includes('daemonsets.apps'), all);
  });

  it('runs one pod per node, bound by the scheduler through a metadata.name affinity, with the daemon tolerations', async () => {
    const ns = 'ds-basic';
    await ok(['create', 'namespace', ns]);
    await ok(['apply', '-f', '-'], manifest(ns, 'agent'));
    const pods = await onePerNode(ns, 'agent', simNodes);
    const d = await settled(ns, 'agent', 3);
    assert.equal(d.metadata.annotations?.['deprecated.daemonset.template.generation'], '1');
    assert.deepEqual(d.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    assert.equal(d.spec.revisionHistoryLimit, 10);
    for (const p of pods) {
      assert.equal(p.metadata.labels?.['pod-template-generation'], '1');
      assert.ok(hashOf(p));
      assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      assert.deepEqual(p.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [p.spec.nodeName] }] }],
      });
      const tolerations = (p.spec.tolerations ?? []).map((t) => `${t.key}:${t.operator}:${t.effect}`);
      for (const want of [
        'node.kubernetes.io/not-ready:Exists:NoExecute',
        'node.kubernetes.io/unreachable:Exists:NoExecute',
        'node.kubernetes.io/disk-pressure:Exists:NoSchedule',
        'node.kubernetes.io/memory-pressure:Exists:NoSchedule',
        'node.kubernetes.io/pid-pressure:Exists:NoSchedule',
        'node.kubernetes.io/unschedulable:Exists:NoSchedule',
      ]) {
        assert.ok(tolerations.includes(want), `${want} missing from ${tolerations.join(' ')}`);
      }
      assert.ok(!tolerations.some((t) => t.startsWith('node.kubernetes.io/network-unavailable')), 'not a host-network pod');
    }
    // The revision the pods' hash names, owned by the DaemonSet.
    const revs = await getJSON<{ items: ControllerRevision[] }>(['get', 'controllerrevisions', '-n', ns]);
    assert.equal(revs.items.length, 1);
    assert.equal(revs.items[0]!.revision, 1);
    assert.equal(revs.items[0]!.metadata.labels?.['controller-revision-hash'], hashOf(pods[0]!));
    assert.equal(revs.items[0]!.metadata.ownerReferences?.[0]?.blockOwnerDeletion, true);

    const table = await ok(['get', 'ds', '-n', ns]);
    assert.deepEqual(table.split('\n')[0]!.trim().split(/\s{2,}/), ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE']);
    assert.deepEqual(row(table, 'agent').slice(0, 7), ['agent', '3', '3', '3', '3', '3', '<none>']);
    const wide = await ok(['get', 'ds', '-n', ns, '-o', 'wide']);
    assert.deepEqual(row(wide, 'agent').slice(8), ['agent', 'busybox:1', 'app=agent']);
    assert.match(await ok(['rollout', 'status', 'ds/agent', '-n', ns, '--timeout=20s']), /daemon set "agent" successfully rolled out/);
  });

  it('leaves out a tainted node and one its nodeSelector does not match, and follows node changes', async () => {
    const ns = 'ds-placement';
    await ok(['create', 'namespace', ns]);
    await ok(['taint', 'nodes', 'sim-2', 'dedicated=infra:NoSchedule']);
    try {
      await ok(['apply', '-f', '-'], manifest(ns, 'tainted'));
      await onePerNode(ns, 'tainted', ['sim-0', 'sim-1']);
      await settled(ns, 'tainted', 2);
      // The taint goes: the node gets its pod.
      await ok(['taint', 'nodes', 'sim-2', 'dedicated=infra:NoSchedule-']);
      await onePerNode(ns, 'tainted', simNodes);
    } finally {
      await k(['taint', 'nodes', 'sim-2', 'dedicated=infra:NoSchedule-']);
    }

    await ok(['label', 'nodes', 'sim-1', 'skiff.test/ds=yes']);
    try {
      await ok(['apply', '-f', '-'], manifest(ns, 'selected', { nodeSelector: { 'skiff.test/ds': 'yes' } }));
      await onePerNode(ns, 'selected', ['sim-1']);
      const table = await ok(['get', 'ds', 'selected', '-n', ns]);
      assert.deepEqual(row(table, 'selected').slice(0, 7), ['selected', '1', '1', '1', '1', '1', 'skiff.test/ds=yes']);
      // Another node gains the label: it gets a pod; sim-1 loses it: its pod goes.
      await ok(['label', 'nodes', 'sim-0', 'skiff.test/ds=yes']);
      await onePerNode(ns, 'selected', ['sim-0', 'sim-1']);
      await ok(['label', 'nodes', 'sim-1', 'skiff.test/ds-']);
      await onePerNode(ns, 'selected', ['sim-0']);
    } finally {
      await k(['label', 'nodes', 'sim-0', 'sim-1', 'skiff.test/ds-']);
    }
  });

  it('creates a pod for a node that joins and removes the unbound one of a node that leaves', async () => {
    const ns = 'ds-nodes';
    await ok(['create', 'namespace', ns]);
    await ok(['apply', '-f', '-'], manifest(ns, 'follow'));
    await onePerNode(ns, 'follow', simNodes);
    // A Node without a kubelet: the DaemonSet still wants a pod there (the scheduler may not bind it).
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'ds-extra', labels: { 'kubernetes.io/hostname': 'ds-extra' } } }));
    try {
      let extra: Pod | undefined;
      await until(
        async () => {
          extra = (await livePods(ns, 'follow')).find((p) => p.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchFields?.[0]?.values?.[0] === 'ds-extra');
          return !!extra;
        },
        20_000,
        'a pod for the new node',
      );
      assert.equal((await livePods(ns, 'follow')).length, 4);
      await ok(['delete', 'node', 'ds-extra']);
      await until(async () => (await livePods(ns, 'follow')).length === 3, 20_000, 'the pod of the removed node to go');
    } finally {
      await k(['delete', 'node', 'ds-extra', '--ignore-not-found']);
    }
  });

  it('rolls out node by node within maxUnavailable 1, and rollout history/undo with kubectl', async () => {
    const ns = 'ds-rolling';
    await ok(['create', 'namespace', ns]);
    await ok(['apply', '-f', '-'], manifest(ns, 'roll'));
    const v1 = await onePerNode(ns, 'roll', simNodes);
    const hash1 = hashOf(v1[0]!);
    // Revision 2's pods never become ready: the rollout replaces one node and stops there.
    await ok(['apply', '-f', '-'], manifest(ns, 'roll', { image: 'busybox:2', labels: { 'skiff.dev/sim': 'unready' } }));
    let pods: Pod[] = [];
    await until(
      async () => {
        pods = await livePods(ns, 'roll');
        return pods.length === 3 && pods.filter((p) => hashOf(p) !== hash1).length === 1;
      },
      30_000,
      'one node on the new revision',
    );
    const d = await ds(ns, 'roll');
    assert.equal(d.metadata.annotations?.['deprecated.daemonset.template.generation'], '2');
    // It stays there: the other two nodes keep their old, available pods.
    await new Promise((r) => setTimeout(r, 3000));
    pods = await livePods(ns, 'roll');
    assert.equal(pods.filter((p) => hashOf(p) === hash1 && isReady(p)).length, 2, 'the other nodes kept their old pods');
    assert.equal(pods.length, 3);
    const status = await k(['rollout', 'status', 'ds/roll', '-n', ns, '--timeout=2s']);
    assert.notEqual(status.code, 0);
    assert.match(status.stdout, /Waiting for daemon set "roll" rollout to finish: 1 out of 3 new pods have been updated\.\.\./);

    const history = await ok(['rollout', 'history', 'ds/roll', '-n', ns]);
    assert.match(history, /daemonset\.apps\/roll/);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    const rev2 = await ok(['rollout', 'history', 'ds/roll', '-n', ns, '--revision=2']);
    assert.match(rev2, /daemonset\.apps\/roll with revision #2/);
    assert.match(rev2, /Image:\s+busybox:2/);
    assert.match(rev2, /skiff\.dev\/sim=unready/);

    // Undo: back to revision 1's template, which becomes revision 3; the rollout then finishes.
    assert.match(await ok(['rollout', 'undo', 'ds/roll', '-n', ns]), /daemonset\.apps\/roll rolled back/);
    await onePerNode(ns, 'roll', simNodes, 30_000, (p) => hashOf(p) === hash1);
    await settled(ns, 'roll', 3);
    assert.match(await ok(['rollout', 'history', 'ds/roll', '-n', ns]), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);
    assert.match(await ok(['rollout', 'status', 'ds/roll', '-n', ns, '--timeout=20s']), /successfully rolled out/);
    // kubectl compares the revision's bytes with the live template: the current one is a no-op.
    assert.match(await ok(['rollout', 'undo', 'ds/roll', '-n', ns, '--to-revision=3']), /skipped rollback \(current template already matches revision 3\)/);
  });

  it('rollout restart replaces every pod; OnDelete replaces only deleted pods', async () => {
    const ns = 'ds-ondelete';
    await ok(['create', 'namespace', ns]);
    await ok(['apply', '-f', '-'], manifest(ns, 'restart'));
    const before = await onePerNode(ns, 'restart', simNodes);
    await ok(['rollout', 'restart', 'ds/restart', '-n', ns]);
    const after = await onePerNode(ns, 'restart', simNodes, 40_000, (p) => !!p.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']);
    assert.ok(after.every((p) => !before.some((b) => b.metadata.uid === p.metadata.uid)));

    await ok(['apply', '-f', '-'], manifest(ns, 'manual', { strategy: { type: 'OnDelete' } }));
    const v1 = await onePerNode(ns, 'manual', simNodes);
    const hash1 = hashOf(v1[0]!);
    await ok(['apply', '-f', '-'], manifest(ns, 'manual', { image: 'busybox:2', strategy: { type: 'OnDelete' } }));
    await until(async () => ((await ds(ns, 'manual')).status?.observedGeneration ?? 0) >= 2, 20_000, 'generation 2 observed');
    await new Promise((r) => setTimeout(r, 2000));
    assert.ok((await livePods(ns, 'manual')).every((p) => hashOf(p) === hash1), 'OnDelete replaced pods by itself');
    const victim = v1.find((p) => p.spec.nodeName === 'sim-1')!;
    await ok(['delete', 'pod', victim.metadata.name!, '-n', ns, '--wait=false']);
    await until(
      async () => {
        const pods = await livePods(ns, 'manual');
        const onSim1 = pods.filter((p) => p.spec.nodeName === 'sim-1');
        return pods.length === 3 && onSim1.length === 1 && hashOf(onSim1[0]!) !== hash1 && onSim1[0]!.spec.containers[0]!.image === 'busybox:2';
      },
      30_000,
      'the deleted pod replaced from the new template',
    );
    assert.equal((await livePods(ns, 'manual')).filter((p) => hashOf(p) === hash1).length, 2);
    assert.match((await k(['rollout', 'status', 'ds/manual', '-n', ns])).stderr, /rollout status is only available for RollingUpdate strategy type/);
  });

  it('refuses invalid DaemonSets with Kubernetes messages', async () => {
    const ns = 'ds-invalid';
    await ok(['create', 'namespace', ns]);
    const bad = JSON.parse(manifest(ns, 'bad')) as DaemonSet;
    bad.spec.template!.metadata!.labels = { app: 'other' };
    let err = await fails(['create', '-f', '-'], JSON.stringify(bad));
    assert.match(err, /The DaemonSet "bad" is invalid: spec\.template\.metadata\.labels: Invalid value: map\[string\]string\{"app":"other"\}: `selector` does not match template `labels`/);
    const surge = JSON.parse(manifest(ns, 'bad', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } } })) as DaemonSet;
    err = await fails(['create', '-f', '-'], JSON.stringify(surge));
    assert.match(err, /spec\.updateStrategy\.rollingUpdate\.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero/);
    await ok(['apply', '-f', '-'], manifest(ns, 'fixed'));
    // Server-side apply of a new image by another manager: the template changes, the generation moves.
    await ok(['apply', '--server-side', '--field-manager=ssa-test', '--force-conflicts', '-f', '-'], manifest(ns, 'fixed', { image: 'busybox:2' }));
    const applied = await ds(ns, 'fixed');
    assert.equal(applied.spec.template?.spec?.containers?.[0]?.image, 'busybox:2');
    assert.equal(applied.metadata.annotations?.['deprecated.daemonset.template.generation'], '2');
    err = await fails(['patch', 'ds', 'fixed', '-n', ns, '--type=merge', '-p', '{"spec":{"selector":{"matchLabels":{"app":"fixed","x":"y"}},"template":{"metadata":{"labels":{"x":"y"}}}}}']);
    assert.match(err, /spec\.selector: Invalid value: .*: field is immutable/);
  });

  it('a controller manager killed in the middle of a rollout converges to exactly one new pod per node', async (t) => {
    const ns = 'ds-kill';
    await ok(['create', 'namespace', ns]);
    await ok(['apply', '-f', '-'], manifest(ns, 'survivor', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } } }));
    const v1 = await onePerNode(ns, 'survivor', simNodes);
    const hash1 = hashOf(v1[0]!);
    await ok(['apply', '-f', '-'], manifest(ns, 'survivor', { image: 'busybox:2', strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } } }));
    await until(async () => (await livePods(ns, 'survivor')).some((p) => hashOf(p) !== hash1) || (await livePods(ns, 'survivor')).length < 3, 20_000, 'the rollout to start');
    await cluster.killHard('controller-manager');
    t.diagnostic(`pods at the kill: ${(await livePods(ns, 'survivor')).map((p) => `${p.spec.nodeName ?? '?'}:${hashOf(p) === hash1 ? 'old' : 'new'}`).join(' ')}`);
    await cluster.restart('controller-manager');
    const pods = await onePerNode(ns, 'survivor', simNodes, 60_000, (p) => hashOf(p) !== hash1);
    await settled(ns, 'survivor', 3, 30_000);
    assert.equal(pods.length, 3);
    // No node ever ends with two pods: every pod of the DaemonSet, even terminating ones, counted per node.
    const all = (await getJSON<{ items: Pod[] }>(['get', 'pods', '-n', ns, '-l', 'app=survivor'])).items.filter((p) => !p.metadata.deletionTimestamp);
    for (const node of simNodes) assert.equal(all.filter((p) => p.spec.nodeName === node).length, 1, `pods on ${node}`);
  });
});
