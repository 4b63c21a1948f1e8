// PodDisruptionBudgets and ReplicationControllers end to end on simulated nodes, every process the
// real one: the disruption controller keeps a budget's status, the eviction subresource refuses
// with Kubernetes' 429 while the budget allows nothing, so the real `kubectl drain` waits and
// retries; an RC keeps its pods, scales and is exposed through its equality-based selector.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, type Cluster } from './harness.js';
import { header, kubectlHelpers, row, until } from './kubectl-helpers.js';

let cluster: Cluster;
const { ok, k, fails } = kubectlHelpers(() => cluster);
const ns = 'guards';
let nodeName = '';

const jsonpath = (kind: string, name: string, path: string) => ok(['get', kind, name, '-n', ns, '-o', `jsonpath=${path}`]);

async function readyPods(selector: string): Promise<number> {
  const out = await ok(['get', 'pods', '-n', ns, '-l', selector, '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{.metadata.deletionTimestamp}{"\\n"}{end}']);
  return out.split('\n').filter((l) => l.trim() === 'True').length;
}

before(async () => {
  cluster = await startCluster({ simulatedNodes: 2 });
  await until(async () => (await ok(['get', 'nodes'])).split('\n').filter((l) => / Ready /.test(l)).length === 2, 30_000, 'two Ready simulated nodes');
  nodeName = (await ok(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
  await ok(['create', 'namespace', ns]);
});

after(async () => {
  await cluster?.stop();
});

describe('PodDisruptionBudgets and eviction', () => {
  it('refuses invalid budgets with Kubernetes\' messages', async () => {
    const both = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'both', namespace: ns }, spec: { minAvailable: 1, maxUnavailable: '50%', selector: { matchLabels: { app: 'x' } } } };
    assert.match(await fails(['create', '-f', '-'], JSON.stringify(both)), /The PodDisruptionBudget "both" is invalid: spec: Invalid value: .*minAvailable and maxUnavailable cannot be both set/);
    const policy = { ...both, spec: { maxUnavailable: '150%', unhealthyPodEvictionPolicy: 'Sometimes', selector: { matchLabels: { app: 'x' } } } };
    const err = await fails(['create', '-f', '-'], JSON.stringify(policy));
    assert.match(err, /spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%/);
    assert.match(err, /spec.unhealthyPodEvictionPolicy: Unsupported value: "Sometimes": supported values: "AlwaysAllow", "IfHealthyBudget"/);
  });

  it('blocks kubectl drain while the budget allows no disruption, and lets it finish once it does', async () => {
    // Two pods pinned to one node, guarded by a budget that needs both.
    await ok(['create', 'deployment', 'web', '-n', ns, '--image=busybox', '--replicas=2']);
    await ok(['patch', 'deployment', 'web', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { template: { spec: { nodeSelector: { 'kubernetes.io/hostname': nodeName } } } } })]);
    await ok(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s']);
    assert.match(await ok(['create', 'poddisruptionbudget', 'web', '-n', ns, '--selector=app=web', '--min-available=2']), /poddisruptionbudget.policy\/web created/);
    await until(async () => (await jsonpath('pdb', 'web', '{.status.currentHealthy}/{.status.desiredHealthy}/{.status.expectedPods}')) === '2/2/2', 30_000, 'the budget to count both pods');
    assert.equal(await jsonpath('pdb', 'web', '{.status.disruptionsAllowed} {.status.observedGeneration}'), '0 1');
    assert.equal(await jsonpath('pdb', 'web', '{.status.conditions[0].type} {.status.conditions[0].status} {.status.conditions[0].reason}'), 'DisruptionAllowed False InsufficientPods');
    const table = await ok(['get', 'pdb', 'web', '-n', ns]);
    assert.deepEqual(header(table), ['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']);
    assert.deepEqual(row(table, 'web').slice(0, 4), ['web', '2', 'N/A', '0']);
    const described = await ok(['describe', 'pdb', 'web', '-n', ns]);
    assert.match(described, /Min available:\s+2/);
    assert.match(described, /Allowed disruptions:\s+0/);
    assert.match(described, /Current:\s+2/);

    // The eviction API itself: 429 with the DisruptionBudget cause.
    const pod = (await ok(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    const r = await cluster.request(`/api/v1/namespaces/${ns}/pods/${pod}/eviction`, {
      method: 'POST',
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: ns } },
    });
    assert.equal(r.status, 429, r.body);
    const status = JSON.parse(r.body);
    assert.equal(status.reason, 'TooManyRequests');
    assert.equal(status.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(status.details.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }]);

    // kubectl drain retries on 429 until its timeout.
    const blocked = await k(['drain', nodeName, '--ignore-daemonsets', '--timeout=8s']);
    assert.notEqual(blocked.code, 0, blocked.stdout);
    assert.match(blocked.stderr, new RegExp(`error when evicting pods/"${pod.replace(/-/g, '\\-')}|error when evicting pods/"web-`));
    assert.match(blocked.stderr, /\(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./);
    assert.equal(await readyPods('app=web'), 2, 'no pod was evicted');

    // Allowing one disruption lets one eviction through: it is recorded in disruptedPods and the
    // pod gets the DisruptionTarget condition before it goes.
    await ok(['patch', 'pdb', 'web', '-n', ns, '--type=merge', '-p', '{"spec":{"minAvailable":1}}']);
    await until(async () => (await jsonpath('pdb', 'web', '{.status.disruptionsAllowed} {.status.observedGeneration}')) === '1 2', 30_000, 'the budget to allow one disruption');
    const evicted = await cluster.request(`/api/v1/namespaces/${ns}/pods/${pod}/eviction`, {
      method: 'POST',
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: ns } },
    });
    assert.equal(evicted.status, 201, evicted.body);
    const gone = JSON.parse(await ok(['get', 'pod', pod, '-n', ns, '-o', 'json', '--ignore-not-found'])) as { status?: { conditions?: { type: string; reason?: string }[] } } | '';
    if (gone) assert.equal(gone.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.reason, 'EvictionByEvictionAPI');

    // Once the budget is gone, the drain goes through.
    await ok(['delete', 'pdb', 'web', '-n', ns]);
    const drained = await ok(['drain', nodeName, '--ignore-daemonsets', '--grace-period=1', '--timeout=60s']);
    assert.match(drained, new RegExp(`node/${nodeName} drained`));
    await ok(['uncordon', nodeName]);
    await ok(['delete', 'deployment', 'web', '-n', ns]);
  });
});

describe('ReplicationControllers', () => {
  it('keeps, scales and exposes an RC, with its defaults and kubectl\'s columns', async () => {
    const rc = {
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'legacy', namespace: ns },
      spec: { replicas: 2, template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    };
    assert.match(await ok(['create', '-f', '-'], JSON.stringify(rc)), /replicationcontroller\/legacy created/);
    // The selector and the RC's own labels default from the template's labels.
    assert.equal(await jsonpath('rc', 'legacy', '{.spec.selector.app} {.metadata.labels.app}'), 'legacy legacy');
    await until(async () => (await readyPods('app=legacy')) === 2, 60_000, 'two ready RC pods');
    const owner = await ok(['get', 'pods', '-n', ns, '-l', 'app=legacy', '-o', 'jsonpath={.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}']);
    assert.equal(owner, 'ReplicationController/legacy');
    await until(async () => (await jsonpath('rc', 'legacy', '{.status.readyReplicas}')) === '2', 30_000, 'RC status to count two ready pods');
    const wide = await ok(['get', 'rc', 'legacy', '-n', ns, '-o', 'wide']);
    assert.deepEqual(header(wide), ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    const cells = row(wide, 'legacy');
    assert.deepEqual([...cells.slice(0, 4), ...cells.slice(5)], ['legacy', '2', '2', '2', 'c', 'busybox', 'app=legacy']);

    const described = await ok(['describe', 'rc', 'legacy', '-n', ns]);
    assert.match(described, /Selector:\s+app=legacy/);
    assert.match(described, /Replicas:\s+2 current \/ 2 desired/);
    assert.match(described, /Pods Status:\s+2 Running/);
    assert.match(await ok(['scale', 'rc', 'legacy', '-n', ns, '--replicas=3']), /replicationcontroller\/legacy scaled/);
    await until(async () => (await readyPods('app=legacy')) === 3, 60_000, 'three ready RC pods');
    assert.match(await ok(['expose', 'rc', 'legacy', '-n', ns, '--port=80', '--target-port=8080']), /service\/legacy exposed/);
    assert.equal(await jsonpath('svc', 'legacy', '{.spec.selector.app}'), 'legacy');

    const both = await ok(['get', 'pdb,rc', '-n', ns]);
    assert.match(both, /replicationcontroller\/legacy\s+3\s+3/);
    const all = await ok(['get', 'all', '-n', ns]);
    assert.match(all, /replicationcontroller\/legacy/);

    const bad = { ...rc, metadata: { name: 'bad', namespace: ns }, spec: { ...rc.spec, selector: { app: 'other' } } };
    assert.match(await fails(['create', '-f', '-'], JSON.stringify(bad)), /spec.template.metadata.labels: Invalid value: map\[string\]string\{"app":"legacy"\}: `selector` does not match template `labels`/);

    await ok(['delete', 'rc', 'legacy', '-n', ns]);
    // The garbage collector deletes the RC's pods (gracefully: being deleted is enough here).
    const live = async () => (await ok(['get', 'pods', '-n', ns, '-l', 'app=legacy', '-o', 'jsonpath={range .items[*]}{.metadata.name}:{.metadata.deletionTimestamp}{"\\n"}{end}'])).split('\n').filter((l) => l && l.endsWith(':'));
    await until(async () => (await live()).length === 0, 60_000, 'the garbage collector to delete the RC\'s pods');
  });

  it('lists both kinds in kubectl api-resources with their short names', async () => {
    const out = await ok(['api-resources']);
    assert.match(out, /^replicationcontrollers\s+rc\s+v1\s+true\s+ReplicationController$/m);
    assert.match(out, /^poddisruptionbudgets\s+pdb\s+policy\/v1\s+true\s+PodDisruptionBudget$/m);
    assert.match(await ok(['api-resources', '--categories=all', '-o', 'name']), /^replicationcontrollers$/m);
  });
});
