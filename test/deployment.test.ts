// The Deployment controller end to end: real etcd, apiserver and controller-manager (Deployment
// and ReplicaSet controllers), pods made Running by a fake kubelet that holds them not-ready
// until the test says so, and the real kubectl's rollout commands.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import type { Deployment, ReplicaSet } from '../lib/api/apps/types.js';
import type { Pod } from '../lib/api/core/pod.js';
import { RestClient } from '../lib/client/client.js';
import { ExactWatch } from '../lib/client/watch.js';
import { Deployments, Pods, ReplicaSets } from '../lib/client/resources.js';
import { startFakeKubelet, type FakeKubelet } from './fake-kubelet.js';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers, until } from './kubectl-helpers.js';

let cluster: Cluster;
let kubelet: FakeKubelet;
let client: RestClient;
const { k, ok } = kubectlHelpers(() => cluster);

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager'],
    extraArgs: { 'controller-manager': ['--controllers=deployment,replicaset'] },
  });
  kubelet = await startFakeKubelet(cluster.kubeconfig, { ready: 'manual' });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  client = new RestClient(kc, { userAgent: 'deployment-test' });
});
after(async () => {
  await kubelet?.stop();
  await cluster?.stop();
});

interface DeploymentSpecOptions {
  replicas?: number;
  image?: string;
  strategy?: 'RollingUpdate' | 'Recreate';
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  progressDeadlineSeconds?: number;
}

/** manifest is a Deployment `name` of pods labelled app=<name>, one container called app. */
function manifest(ns: string, name: string, o: DeploymentSpecOptions = {}): string {
  const strategy =
    o.strategy === 'Recreate'
      ? { type: 'Recreate' }
      : { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.maxSurge ?? '25%', maxUnavailable: o.maxUnavailable ?? '25%' } };
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      strategy,
      ...(o.progressDeadlineSeconds ? { progressDeadlineSeconds: o.progressDeadlineSeconds } : {}),
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: o.image ?? 'busybox:1' }] } },
    },
  });
}

async function create(ns: string, name: string, o: DeploymentSpecOptions = {}): Promise<void> {
  await k(['create', 'namespace', ns]);
  await ok(['apply', '-f', '-'], manifest(ns, name, o));
}

interface State {
  d: Deployment;
  rss: ReplicaSet[];
  /** pods are the active pods (not being deleted, not terminal). */
  pods: Pod[];
}

const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const hashOf = (o: { metadata: { labels?: Record<string, string> } }) => o.metadata.labels?.['pod-template-hash'] ?? '';

async function state(ns: string, name: string): Promise<State> {
  const d = await client.get<Deployment>(Deployments, ns, name);
  const rss = (await client.list<ReplicaSet>(ReplicaSets, ns)).items.filter((rs) => rs.metadata.ownerReferences?.some((r) => r.uid === d.metadata.uid));
  const pods = (await client.list<Pod>(Pods, ns, { labelSelector: `app=${name}` })).items.filter(
    (p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded',
  );
  return { d, rss, pods };
}

/**
 * settled: nothing is left for the controllers to do. Every ReplicaSet has observed its spec and
 * has as many pods as it wants, the pods' readiness is counted, and the Deployment's status adds
 * up its ReplicaSets' statuses for its latest generation.
 */
function settled(s: State): boolean {
  const st = s.d.status ?? {};
  const sum = (f: (rs: ReplicaSet) => number) => s.rss.reduce((n, rs) => n + f(rs), 0);
  const rsOK = s.rss.every(
    (rs) =>
      (rs.status?.observedGeneration ?? 0) >= (rs.metadata.generation ?? 0) &&
      (rs.status?.replicas ?? 0) === (rs.spec.replicas ?? 0) &&
      (rs.status?.readyReplicas ?? 0) === s.pods.filter((p) => hashOf(p) === hashOf(rs) && isReady(p)).length,
  );
  return (
    rsOK &&
    s.pods.length === sum((rs) => rs.spec.replicas ?? 0) &&
    (st.observedGeneration ?? 0) >= (s.d.metadata.generation ?? 0) &&
    (st.replicas ?? 0) === sum((rs) => rs.status?.replicas ?? 0) &&
    (st.availableReplicas ?? 0) === sum((rs) => rs.status?.availableReplicas ?? 0)
  );
}

/** quiet waits until the Deployment is settled in two reads in a row, and returns that state. */
async function quiet(ns: string, name: string, ms = 15_000): Promise<State> {
  let last: State | undefined;
  let prev = '';
  await until(
    async () => {
      last = await state(ns, name);
      if (!settled(last)) {
        prev = '';
        return false;
      }
      const key = JSON.stringify([last.d.metadata.resourceVersion, last.rss.map((rs) => rs.metadata.resourceVersion), last.pods.map((p) => p.metadata.resourceVersion)]);
      const same = key === prev;
      prev = key;
      return same;
    },
    ms,
    `deployment ${ns}/${name} to settle`,
  );
  return last!;
}

/** readyAll marks every active pod of the Deployment ready. */
async function readyAll(ns: string, name: string): Promise<void> {
  const { pods } = await state(ns, name);
  await kubelet.markReady(pods.filter((p) => !isReady(p)).map((p) => `${ns}/${p.metadata.name}`));
}

/** rollOut readies pods until the Deployment has rolled out completely. */
async function rollOut(ns: string, name: string): Promise<State> {
  let s!: State;
  await until(
    async () => {
      await readyAll(ns, name);
      s = await state(ns, name);
      const st = s.d.status ?? {};
      const want = s.d.spec.replicas ?? 1;
      return (st.observedGeneration ?? 0) >= (s.d.metadata.generation ?? 0) && st.updatedReplicas === want && st.replicas === want && st.availableReplicas === want;
    },
    20_000,
    `deployment ${ns}/${name} to roll out`,
  );
  return s;
}

const revisions = (history: string) =>
  history
    .split('\n')
    .filter((l) => /^\d+\s/.test(l))
    .map((l) => Number(l.split(/\s+/)[0]));

describe('Deployment controller', () => {
  it('rolls out with maxSurge 1 / maxUnavailable 1 inside its bounds at every step; rollout status exits 0', async () => {
    const ns = 'roll';
    await create(ns, 'web', { replicas: 4, maxSurge: 1, maxUnavailable: 1 });
    const first = await rollOut(ns, 'web');
    assert.equal(first.rss.length, 1);
    assert.equal(first.rss[0]!.metadata.name, `web-${hashOf(first.rss[0]!)}`);
    assert.equal(first.d.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.equal(first.d.metadata.generation, 1, 'the revision annotation rides on /status: no new generation');
    await quiet(ns, 'web');

    await ok(['set', 'image', '-n', ns, 'deployment/web', 'app=busybox:2']);
    const status = k(['rollout', 'status', '-n', ns, 'deployment/web', '--timeout=60s']);
    const seen = new Set<string>();
    for (let step = 0; step < 30; step++) {
      const s = await quiet(ns, 'web');
      const ready = s.pods.filter(isReady);
      seen.add(s.rss.map((rs) => `${rs.spec.replicas}`).join('/'));
      assert.ok(s.pods.length <= 5, `step ${step}: ${s.pods.length} pods, more than replicas+maxSurge (5)`);
      assert.ok(ready.length >= 3, `step ${step}: ${ready.length} ready pods, fewer than replicas-maxUnavailable (3)`);
      const newRS = s.rss.find((rs) => rs.spec.template?.spec?.containers?.[0]?.image === 'busybox:2');
      if (s.d.status?.updatedReplicas === 4 && s.d.status.availableReplicas === 4 && s.d.status.replicas === 4) break;
      // One more new pod passes its readiness check.
      const next = s.pods.find((p) => !isReady(p) && newRS && hashOf(p) === hashOf(newRS));
      if (next) await kubelet.markReady([`${ns}/${next.metadata.name}`]);
    }
    const r = await status;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployment "web" successfully rolled out/);
    assert.ok(seen.size >= 3, `the rollout went through several steps (${[...seen].join(' ')})`);

    const end = await state(ns, 'web');
    assert.equal(end.pods.length, 4);
    assert.ok(end.pods.every((p) => p.spec.containers[0]!.image === 'busybox:2'));
    assert.equal(end.d.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    const conds = Object.fromEntries((end.d.status?.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]));
    assert.deepEqual(conds, { Available: 'True MinimumReplicasAvailable', Progressing: 'True NewReplicaSetAvailable' });
    const events = await ok(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.kind=Deployment,reason=ScalingReplicaSet', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, /Scaled up replica set web-\w+ from 0 to 4/);
    assert.match(events, /Scaled down replica set web-\w+ from 4 to 3/);
  });

  it('rollout history lists revisions; rollout undo goes back, and --to-revision too', async () => {
    const ns = 'roll';
    await kubelet.setReadyMode('auto');
    let history = await ok(['rollout', 'history', '-n', ns, 'deployment/web']);
    assert.deepEqual(revisions(history), [1, 2]);

    assert.match(await ok(['rollout', 'undo', '-n', ns, 'deployment/web']), /rolled back/);
    let s = await rollOut(ns, 'web');
    assert.ok(s.pods.every((p) => p.spec.containers[0]!.image === 'busybox:1'));
    assert.equal(s.rss.length, 2, 'the revision-1 ReplicaSet was reused');
    history = await ok(['rollout', 'history', '-n', ns, 'deployment/web']);
    assert.deepEqual(revisions(history), [2, 3]);
    const reused = s.rss.find((rs) => rs.spec.template?.spec?.containers?.[0]?.image === 'busybox:1')!;
    assert.equal(reused.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(reused.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(s.d.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');

    await ok(['rollout', 'undo', '-n', ns, 'deployment/web', '--to-revision=2']);
    s = await rollOut(ns, 'web');
    assert.ok(s.pods.every((p) => p.spec.containers[0]!.image === 'busybox:2'));
    assert.deepEqual(revisions(await ok(['rollout', 'history', '-n', ns, 'deployment/web'])), [3, 4]);
  });

  it('pause holds a rollout but not scaling; resume continues it', async () => {
    const ns = 'roll';
    await ok(['rollout', 'pause', '-n', ns, 'deployment/web']);
    await ok(['set', 'image', '-n', ns, 'deployment/web', 'app=busybox:3']);
    await ok(['scale', '-n', ns, 'deployment/web', '--replicas=5']);
    let s = await quiet(ns, 'web');
    assert.equal(s.d.spec.paused, true);
    assert.ok(!s.rss.some((rs) => rs.spec.template?.spec?.containers?.[0]?.image === 'busybox:3'), 'no ReplicaSet for the paused template');
    assert.equal(s.pods.length, 5, 'scaled while paused');
    const progressing = s.d.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.deepEqual([progressing?.status, progressing?.reason, progressing?.message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);

    await ok(['rollout', 'resume', '-n', ns, 'deployment/web']);
    const r = await k(['rollout', 'status', '-n', ns, 'deployment/web', '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
    s = await quiet(ns, 'web');
    assert.equal(s.pods.length, 5);
    assert.ok(s.pods.every((p) => p.spec.containers[0]!.image === 'busybox:3'));
  });

  it('rollout restart starts a rollout that replaces every pod', async () => {
    const ns = 'roll';
    const before = new Set((await state(ns, 'web')).pods.map((p) => p.metadata.name));
    await ok(['rollout', 'restart', '-n', ns, 'deployment/web']);
    const r = await k(['rollout', 'status', '-n', ns, 'deployment/web', '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
    const s = await quiet(ns, 'web');
    assert.equal(s.pods.length, 5);
    assert.ok(s.pods.every((p) => !before.has(p.metadata.name)), 'all pods replaced');
    assert.ok(s.pods.every((p) => p.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']));
  });

  it('Recreate stops every old pod before the first new one starts', async () => {
    const ns = 'recreate';
    await create(ns, 'db', { replicas: 3, strategy: 'Recreate' });
    await rollOut(ns, 'db');
    await quiet(ns, 'db');
    // Every state of the namespace's pods is checked, through a watch from before the change: a
    // poll could miss a moment with old and new pods together.
    const start = await client.list<Pod>(Pods, ns);
    const pods = new Map(start.items.map((p) => [p.metadata.name!, p]));
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    let sawOld = false;
    let abort: AbortController | undefined;
    const outcome = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for the Recreate rollout')), 60_000);
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      void new ExactWatch(kc)
        .watch(`/api/v1/namespaces/${ns}/pods`, { resourceVersion: start.metadata.resourceVersion }, (type: string, pod: Pod) => {
          if (type === 'DELETED') pods.delete(pod.metadata.name!);
          else if (type === 'ADDED' || type === 'MODIFIED') pods.set(pod.metadata.name!, pod);
          else return;
          const all = [...pods.values()];
          const live = all.filter((p) => !p.metadata.deletionTimestamp);
          const images = new Set(live.map((p) => p.spec.containers[0]!.image));
          if (images.size > 1) return finish(new Error(`old and new pods at once: ${[...images].join(', ')}`));
          // The controller may already be deleting the old pods at the first event: terminating ones count as seen.
          if (all.some((p) => p.spec.containers[0]!.image === 'busybox:1')) sawOld = true;
          if (live.length === 3 && images.has('busybox:2') && live.every(isReady)) finish();
        }, (err) => finish(err ? (err as Error) : new Error('the watch ended before the rollout did')))
        .then((a) => (abort = a), (err) => finish(err as Error));
    });
    await ok(['set', 'image', '-n', ns, 'deployment/db', 'app=busybox:2']);
    try {
      await outcome;
    } finally {
      abort?.abort();
    }
    assert.ok(sawOld);
    const r = await k(['rollout', 'status', '-n', ns, 'deployment/db', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
  });

  it('kubectl wait --for=condition=Available', async () => {
    const ns = 'recreate';
    await create(ns, 'cache', { replicas: 2 });
    const r = await k(['wait', '-n', ns, '--for=condition=Available', 'deployment/cache', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployment.apps\/cache condition met/);
  });

  it('each controller acts as its own service account (--use-service-account-credentials), with only its role', async () => {
    const ns = 'identity';
    await create(ns, 'whoami', { replicas: 1 });
    await until(async () => (await state(ns, 'whoami')).pods.length === 1, 20_000, 'the pod of deployment identity/whoami');
    const { rss } = await state(ns, 'whoami');
    // The audit log names the authenticated user of every write.
    const creates = () =>
      cluster
        .logs('audit')
        .split('\n')
        .filter((l) => l.includes('"verb":"create"') && l.includes(`"namespace":"${ns}"`))
        .map((l) => JSON.parse(l) as { user: { username: string }; objectRef: { resource: string; name?: string }; responseStatus?: { code?: number } })
        .filter((e) => e.responseStatus?.code === 201);
    await until(() => creates().some((e) => e.objectRef.resource === 'pods'), 10_000, 'the audit record of the pod create');
    const who = (resource: string) => [...new Set(creates().filter((e) => e.objectRef.resource === resource).map((e) => e.user.username))];
    assert.deepEqual(who('replicasets'), ['system:serviceaccount:kube-system:deployment-controller'], `ReplicaSet ${rss[0]?.metadata.name} created by`);
    assert.deepEqual(who('pods'), ['system:serviceaccount:kube-system:replicaset-controller']);
    // And each account holds only its controller's role (kube's system:controller:* rules).
    const can = async (sa: string, ...what: string[]) => (await k(['auth', 'can-i', ...what, `--as=system:serviceaccount:kube-system:${sa}`])).stdout.trim();
    assert.equal(await can('deployment-controller', 'create', 'replicasets.apps', '-n', ns), 'yes');
    assert.equal(await can('deployment-controller', 'create', 'pods', '-n', ns), 'no');
    assert.equal(await can('replicaset-controller', 'create', 'pods', '-n', ns), 'yes');
    assert.equal(await can('replicaset-controller', 'delete', 'deployments.apps', '-n', ns), 'no');
  });

  it('scaling mid-rollout spreads the new replicas proportionally over the old and new ReplicaSets', async () => {
    const ns = 'proportional';
    await kubelet.setReadyMode('manual');
    await create(ns, 'api', { replicas: 10 }); // maxSurge 25% (3), maxUnavailable 25% (2)
    await rollOut(ns, 'api');
    await quiet(ns, 'api');
    await ok(['set', 'image', '-n', ns, 'deployment/api', 'app=busybox:2']);
    // New pods never become ready: the rollout stops at old 8 (10 - maxUnavailable) and new 5 (13 - 8).
    await until(async () => {
      const s = await quiet(ns, 'api');
      return s.rss.map((rs) => rs.spec.replicas).sort((a, b) => a! - b!).join(',') === '5,8';
    }, 15_000, 'the rollout to stall at 8 old and 5 new');
    await ok(['scale', '-n', ns, 'deployment/api', '--replicas=20']);
    // 13 → 25 (20 + 25% surge): old 8·25/13 ≈ 15, new 5·25/13 ≈ 10.
    await until(async () => {
      const s = await quiet(ns, 'api');
      const byImage = Object.fromEntries(s.rss.map((rs) => [rs.spec.template!.spec!.containers![0]!.image, rs.spec.replicas]));
      return byImage['busybox:1'] === 15 && byImage['busybox:2'] === 10;
    }, 15_000, 'old 15 and new 10 after scaling to 20');
    const s = await state(ns, 'api');
    for (const rs of s.rss) {
      assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '20');
      assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/max-replicas'], '25');
    }
  });

  it('reports ProgressDeadlineExceeded after a short deadline, and rollout status fails', async () => {
    const ns = 'stuck';
    await create(ns, 'slow', { replicas: 1, progressDeadlineSeconds: 2 });
    // The pod never becomes ready.
    const r = await k(['rollout', 'status', '-n', ns, 'deployment/slow', '--timeout=30s']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /deployment "slow" exceeded its progress deadline/);
    const d = await client.get<Deployment>(Deployments, ns, 'slow');
    const c = d.status?.conditions?.find((x) => x.type === 'Progressing');
    assert.deepEqual([c?.status, c?.reason], ['False', 'ProgressDeadlineExceeded']);
    assert.match(c?.message ?? '', /^ReplicaSet "slow-\w+" has timed out progressing\.$/);
  });

  it('surfaces a ReplicaSet that cannot create pods as ReplicaFailure', async () => {
    const ns = 'failing';
    await k(['create', 'namespace', ns]);
    const m = JSON.parse(manifest(ns, 'bad', { replicas: 1 }));
    m.spec.template.spec.priorityClassName = 'no-such-class';
    await ok(['apply', '-f', '-'], JSON.stringify(m));
    await until(
      async () => (await client.get<Deployment>(Deployments, ns, 'bad')).status?.conditions?.some((c) => c.type === 'ReplicaFailure' && c.status === 'True') ?? false,
      15_000,
      'a ReplicaFailure condition',
    );
    const d = await client.get<Deployment>(Deployments, ns, 'bad');
    const c = d.status!.conditions!.find((x) => x.type === 'ReplicaFailure')!;
    assert.equal(c.reason, 'FailedCreate');
    assert.match(c.message ?? '', /forbidden/);
  });
});

describe('a controller manager killed mid-rollout', () => {
  it('converges after each restart with one ReplicaSet per template and no extra pods', async () => {
    const ns = 'crash';
    await create(ns, 'crashy', { replicas: 6, maxSurge: 2, maxUnavailable: 1 });
    await rollOut(ns, 'crashy');
    await ok(['-n', ns, 'set', 'image', 'deployment/crashy', 'app=busybox:2']);
    // Kill it while the rollout is under way, twice, readying pods in between.
    for (let i = 0; i < 2; i++) {
      await readyAll(ns, 'crashy');
      await cluster.kill('controller-manager');
      await readyAll(ns, 'crashy');
      await cluster.restart('controller-manager');
    }
    const s = await rollOut(ns, 'crashy');
    const final = await quiet(ns, 'crashy');
    assert.equal(s.rss.length, 2, 'the old and the new ReplicaSet, nothing more');
    const byHash = new Map(final.rss.map((rs) => [hashOf(rs), rs.spec.replicas ?? 0]));
    assert.deepEqual([...byHash.values()].sort(), [0, 6]);
    assert.equal(final.pods.length, 6, 'exactly spec.replicas pods');
    assert.ok(final.pods.every((p) => byHash.get(hashOf(p)) === 6), 'every pod from the new template');
    const status = await ok(['-n', ns, 'rollout', 'status', 'deployment/crashy', '--timeout=20s']);
    assert.match(status, /successfully rolled out/);
  });
});
