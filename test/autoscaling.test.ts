// Autoscaling end to end on simulated nodes: the real kubectl's `top nodes` and `top pods` read
// metrics.k8s.io (served by the apiserver from the node simulator's /metrics/resource), and
// `kubectl autoscale` makes an autoscaling/v1 HPA whose controller scales a Deployment whose
// simulated pods use more CPU than the target, then back down when they use less.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers, row, until } from './kubectl-helpers.js';

let cluster: Cluster;
const { ok, k } = kubectlHelpers(() => cluster);
const ns = 'autoscale-e2e';

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager', 'scheduler', 'sim'],
    simulatedNodes: 2,
    extraArgs: { 'controller-manager': ['--horizontal-pod-autoscaler-sync-period=2s'], sim: ['--pod-start-delay=200ms'], apiserver: ['--metric-resolution=2s'] },
  });
  await ok(['create', 'namespace', ns]);
});
after(async () => {
  await cluster?.stop();
});

/** deployment is a Deployment whose pods request 100m CPU and, as simulated pods, use cpu. */
function deployment(name: string, cpu: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: { 'skiff.dev/sim-cpu': cpu, 'skiff.dev/sim-memory': '64Mi' } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
      },
    },
  });
}

describe('kubectl top and autoscaling on simulated nodes', () => {
  test('discovery lists metrics.k8s.io and autoscaling with v2 preferred; api-resources shows hpa', async () => {
    const versions = await ok(['api-versions']);
    assert.match(versions, /^metrics\.k8s\.io\/v1beta1$/m);
    assert.match(versions, /^autoscaling\/v1$/m);
    assert.match(versions, /^autoscaling\/v2$/m);
    const resources = await ok(['api-resources', '--api-group=autoscaling']);
    assert.match(resources, /^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler$/m);
    const metrics = await ok(['api-resources', '--api-group=metrics.k8s.io', '-o', 'name']);
    assert.deepEqual(metrics.trim().split('\n').sort(), ['nodes.metrics.k8s.io', 'pods.metrics.k8s.io']);
  });

  test('kubectl top nodes shows every simulated node with its usage', async () => {
    await until(async () => (await k(['top', 'nodes'])).code === 0, 30_000, 'kubectl top nodes to answer');
    const out = await ok(['top', 'nodes']);
    assert.match(out, /^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)/);
    for (const n of ['sim-0', 'sim-1']) {
      const r = row(out, n);
      // An idle simulated node uses its base of 50m CPU and 256Mi of its 8 CPUs and 32Gi.
      assert.match(r[1]!, /^\d+m$/, out);
      assert.match(r[3]!, /^\d+Mi$/, out);
    }
  });

  test('kubectl top pods shows a pod\'s simulated usage, per container with --containers, and across namespaces', async () => {
    await ok(['apply', '-f', '-'], deployment('busy', '250m'));
    await until(async () => {
      const r = await k(['top', 'pods', '-n', ns, '-l', 'app=busy']);
      return r.code === 0 && /busy-/.test(r.stdout);
    }, 60_000, 'kubectl top pods to show the busy pod');
    const out = await ok(['top', 'pods', '-n', ns, '-l', 'app=busy']);
    assert.match(out, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    assert.match(out, /^busy-\S+\s+250m\s+64Mi\s*$/m);
    const containers = await ok(['top', 'pods', '-n', ns, '--containers']);
    assert.match(containers, /^busy-\S+\s+app\s+250m\s+64Mi\s*$/m);
    const all = await ok(['top', 'pods', '-A']);
    assert.match(all, new RegExp(`^${ns}\\s+busy-\\S+\\s+250m\\s+64Mi\\s*$`, 'm'));
    const missing = await k(['top', 'pod', 'nope', '-n', ns]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /podmetrics\.metrics\.k8s\.io "autoscale-e2e\/nope" not found/);
  });

  test('kubectl autoscale scales a Deployment whose pods run hot up, and reports why', async () => {
    await ok(['apply', '-f', '-'], deployment('hot', '200m'));
    const created = await ok(['autoscale', 'deployment', 'hot', '-n', ns, '--cpu-percent=50', '--min=1', '--max=5']);
    assert.match(created, /horizontalpodautoscaler\.autoscaling\/hot autoscaled/);
    // The v1 object kubectl made reads back as v2 with a CPU utilization metric.
    const v2 = JSON.parse(await ok(['get', 'horizontalpodautoscalers.v2.autoscaling', 'hot', '-n', ns, '-o', 'json']));
    assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
    // 200m of 100m requested is 200% against a 50% target: 4 replicas (ceil(1 × 200 / 50)); the
    // pods keep running hot, so once the new ones report, the HPA goes on to its maximum of 5.
    await until(async () => (await ok(['get', 'deployment', 'hot', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])) === '5', 120_000, 'the HPA to scale hot to 5');
    const events = await ok(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler,reason=SuccessfulRescale', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, /New size: 4; reason: cpu resource utilization \(percentage of request\) above target/);
    assert.match(events, /New size: 5; reason: cpu resource utilization \(percentage of request\) above target/);
    await until(async () => /cpu: 200%\/50%\s+1\s+5\s+5\s/.test(await ok(['get', 'hpa', 'hot', '-n', ns])), 30_000, 'the HPA table to show the utilization');
    const table = await ok(['get', 'hpa', 'hot', '-n', ns]);
    assert.match(table, /^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE$/m);
    assert.match(table, /^hot\s+Deployment\/hot\s+cpu: 200%\/50%\s+1\s+5\s+5\s+\S+$/m);
    const v1 = JSON.parse(await ok(['get', 'horizontalpodautoscalers.v1.autoscaling', 'hot', '-n', ns, '-o', 'json']));
    assert.equal(v1.spec.targetCPUUtilizationPercentage, 50);
    assert.equal(v1.status.currentCPUUtilizationPercentage, 200);
    const conditions = JSON.parse(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/conditions']) as { type: string; status: string; reason: string }[];
    assert.ok(conditions.some((c) => c.type === 'ScalingActive' && c.status === 'True' && c.reason === 'ValidMetricFound'), JSON.stringify(conditions));
  });

  test('an HPA with a short scale-down window scales back to its minimum when the pods cool down', async () => {
    await ok(['apply', '-f', '-'], deployment('cool', '300m'));
    await ok(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'cool', namespace: ns },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cool' },
          minReplicas: 1,
          maxReplicas: 3,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 100 } } }],
          behavior: { scaleDown: { stabilizationWindowSeconds: 1 } },
        },
      }),
    );
    await until(async () => (await ok(['get', 'deployment', 'cool', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])) === '3', 60_000, 'cool to scale up to its maximum of 3');
    // Once the new pods report, the recommendation (9) is above the maximum: the HPA says it is limited.
    const limited = async () => {
      const hpa = JSON.parse(await ok(['get', 'hpa', 'cool', '-n', ns, '-o', 'json']));
      return (hpa.status?.conditions as { type: string; status: string; reason: string }[] | undefined)?.find((c) => c.type === 'ScalingLimited');
    };
    await until(async () => (await limited())?.reason === 'TooManyReplicas', 60_000, 'ScalingLimited to say TooManyReplicas');
    assert.equal((await limited())?.status, 'True');
    // The pods cool down: a new template (10m each) rolls out, and the HPA scales to 1.
    await ok(['patch', 'deployment', 'cool', '-n', ns, '--type=merge', '-p', '{"spec":{"template":{"metadata":{"annotations":{"skiff.dev/sim-cpu":"10m"}}}}}']);
    await until(async () => (await ok(['get', 'deployment', 'cool', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])) === '1', 90_000, 'cool to scale down to 1');
    const events = await ok(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=cool,reason=SuccessfulRescale', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, /reason: All metrics below target/);
  });

  test('invalid HPAs are refused with kube\'s messages', async () => {
    const bad = await k(['autoscale', 'deployment', 'hot', '-n', ns, '--name=bad', '--min=3', '--max=2']);
    assert.notEqual(bad.code, 0);
    const r = await k(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad', namespace: ns }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, minReplicas: 0, maxReplicas: 0 } }),
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.minReplicas: Invalid value: 0: must be greater than or equal to 1/);
    assert.match(r.stderr, /spec\.maxReplicas: Invalid value: 0: must be greater than 0/);
  });
});
