import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import type { HorizontalPodAutoscaler } from '../../lib/api/autoscaling/hpa.js';
import type { PodMetrics } from '../../lib/api/metrics/metrics.js';
import { ApiError, type ResourceType } from '../../lib/client/client.js';
import { HorizontalPodAutoscalers, PodMetricsResource } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { HorizontalController, convertDesiredReplicasWithRules, scaleDownLimit, scaleUpLimit } from './sync.js';

const ns = 'prod';
const t0 = Date.parse('2026-01-01T00:10:00Z');
const Deployments: ResourceType = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true };

function hpa(extra: Partial<HorizontalPodAutoscaler['spec']> = {}): HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: ns, resourceVersion: '5', uid: 'h1' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      ...extra,
    },
  };
}

/** pod is a Running, Ready pod started long ago that requests 100m CPU. */
function pod(name: string): Pod {
  return {
    metadata: { name, namespace: ns, labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu: '100m' } } }] },
    status: { phase: 'Running', startTime: '2026-01-01T00:00:00Z', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:01Z' }] },
  } as Pod;
}

function podMetric(name: string, cpu: string): PodMetrics {
  return { metadata: { name, namespace: ns, labels: { app: 'web' } }, timestamp: '2026-01-01T00:09:55Z', window: '15s', containers: [{ name: 'app', usage: { cpu, memory: '10Mi' } }] };
}

function fixture(h: HorizontalPodAutoscaler, replicas: number, usage: string[], opts: { now?: number; client?: FakeClient; pods?: number } = {}) {
  const names = Array.from({ length: opts.pods ?? usage.length }, (_, i) => `web-${i}`);
  const client = (opts.client ?? new FakeClient())
    .add(HorizontalPodAutoscalers, h)
    .add(Deployments, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: ns, resourceVersion: '7' }, spec: { replicas }, status: { replicas, selector: 'app=web' } })
    .add(PodMetricsResource, ...usage.map((u, i) => podMetric(names[i]!, u)));
  const recorder = new FakeRecorder();
  let now = opts.now ?? t0;
  const hpas = [h];
  const hc = new HorizontalController({ client, hpas: listerOf(hpas), pods: listerOf(names.map(pod)), recorder, now: () => now });
  // resync puts what was stored in the informer's place, as its watch would.
  const resync = () => (hpas[0] = client.stored<HorizontalPodAutoscaler>(HorizontalPodAutoscalers, ns, h.metadata.name!)!);
  return { client, recorder, hc, resync, setNow: (t: number) => (now = t) };
}

const writes = (c: FakeClient) => c.writes().map((a) => ({ verb: a.verb, resource: a.resource, subresource: a.subresource, name: a.name }));

describe('HorizontalController.sync', () => {
  it('scales a hot Deployment up through /scale, records why, and writes the status', async () => {
    const { client, recorder, hc } = fixture(hpa(), 2, ['150m', '150m']);
    const r = await hc.sync(`${ns}/web`);
    assert.deepEqual(r, { requeueAfter: 15_000 });
    assert.deepEqual(writes(client), [
      { verb: 'update', resource: 'deployments', subresource: 'scale', name: 'web' },
      { verb: 'update', resource: 'horizontalpodautoscalers', subresource: 'status', name: 'web' },
    ]);
    // 150% against 50% asks for ceil(2 × 3) = 6; one step may at most double (4 at least).
    assert.equal((client.actions.find((a) => a.subresource === 'scale' && a.verb === 'update')!.object as { spec: { replicas: number } }).spec.replicas, 4);
    assert.deepEqual(recorder.events, ['Normal SuccessfulRescale New size: 4; reason: cpu resource utilization (percentage of request) above target']);
    const st = client.stored<HorizontalPodAutoscaler>(HorizontalPodAutoscalers, ns, 'web')!.status!;
    assert.equal(st.currentReplicas, 2);
    assert.equal(st.desiredReplicas, 4);
    assert.equal(st.lastScaleTime, '2026-01-01T00:10:00Z');
    assert.deepEqual(st.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageValue: '150m', averageUtilization: 150 } } }]);
    assert.deepEqual(
      st.conditions!.map((c) => [c.type, c.status, c.reason]),
      [
        ['AbleToScale', 'True', 'SucceededRescale'],
        ['ScalingActive', 'True', 'ValidMetricFound'],
        ['ScalingLimited', 'True', 'ScaleUpLimit'],
      ],
    );
  });

  it('leaves the scale alone within the 10% tolerance and only writes the status', async () => {
    const { client, recorder, hc } = fixture(hpa(), 2, ['54m', '54m']);
    await hc.sync(`${ns}/web`);
    assert.deepEqual(writes(client), [{ verb: 'update', resource: 'horizontalpodautoscalers', subresource: 'status', name: 'web' }]);
    assert.deepEqual(recorder.events, []);
    const st = client.stored<HorizontalPodAutoscaler>(HorizontalPodAutoscalers, ns, 'web')!.status!;
    assert.equal(st.desiredReplicas, 2);
    assert.equal(st.lastScaleTime, undefined);
  });

  it('bounds a scale-up by maxReplicas and says so in ScalingLimited', async () => {
    const { client, hc } = fixture(hpa({ maxReplicas: 3 }), 2, ['500m', '500m']);
    await hc.sync(`${ns}/web`);
    const scale = client.actions.find((a) => a.subresource === 'scale' && a.verb === 'update')!.object as { spec: { replicas: number } };
    assert.equal(scale.spec.replicas, 3);
    const limited = client.stored<HorizontalPodAutoscaler>(HorizontalPodAutoscalers, ns, 'web')!.status!.conditions!.find((c) => c.type === 'ScalingLimited')!;
    assert.deepEqual([limited.status, limited.reason, limited.message], ['True', 'TooManyReplicas', 'the desired replica count is more than the maximum replica count']);
  });

  it('keeps the highest recent recommendation for the downscale window, then scales down', async () => {
    const { client, recorder, hc, setNow, resync } = fixture(hpa(), 4, ['10m', '10m', '10m', '10m']);
    await hc.sync(`${ns}/web`);
    // The initial recommendation (4, the current size) is within the 5-minute window.
    assert.deepEqual(writes(client).filter((w) => w.subresource === 'scale'), []);
    const able = client.stored<HorizontalPodAutoscaler>(HorizontalPodAutoscalers, ns, 'web')!.status!.conditions!.find((c) => c.type === 'AbleToScale')!;
    assert.equal(able.reason, 'ScaleDownStabilized');
    resync();
    setNow(t0 + 5 * 60_000 + 1);
    await hc.sync(`${ns}/web`);
    const scale = client.actions.find((a) => a.subresource === 'scale' && a.verb === 'update')!.object as { spec: { replicas: number } };
    assert.equal(scale.spec.replicas, 1);
    assert.deepEqual(recorder.events, ['Normal SuccessfulRescale New size: 1; reason: All metrics below target']);
  });

  it('uses the stabilization window of spec.behavior instead', async () => {
    const h = hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } } });
    const { client, hc } = fixture(h, 4, ['10m', '10m', '10m', '10m']);
    await hc.sync(`${ns}/web`);
    const scale = client.actions.find((a) => a.subresource === 'scale' && a.verb === 'update')!.object as { spec: { replicas: number } };
    assert.equal(scale.spec.replicas, 1);
  });

  it('reports a target it cannot read, and writes no scale', async () => {
    const client = new FakeClient().failOn('get', 'deployments', new ApiError({ code: 404, reason: 'NotFound', message: 'deployments.apps "web" not found' }), 'scale');
    const { recorder, hc } = fixture(hpa(), 2, ['100m', '100m'], { client });
    await hc.sync(`${ns}/web`);
    assert.deepEqual(writes(client), [{ verb: 'update', resource: 'horizontalpodautoscalers', subresource: 'status', name: 'web' }]);
    assert.deepEqual(recorder.events, ['Warning FailedGetScale deployments.apps "web" not found']);
    const able = client.stored<HorizontalPodAutoscaler>(HorizontalPodAutoscalers, ns, 'web')!.status!.conditions!.find((c) => c.type === 'AbleToScale')!;
    assert.deepEqual([able.status, able.reason], ['False', 'FailedGetScale']);
  });

  it('says ScalingActive False when no metrics are served, and keeps the replicas', async () => {
    // The pods exist, but metrics.k8s.io has none for them.
    const { client, recorder, hc } = fixture(hpa(), 2, [], { pods: 2 });
    await hc.sync(`${ns}/web`);
    assert.deepEqual(writes(client), [{ verb: 'update', resource: 'horizontalpodautoscalers', subresource: 'status', name: 'web' }]);
    const active = client.stored<HorizontalPodAutoscaler>(HorizontalPodAutoscalers, ns, 'web')!.status!.conditions!.find((c) => c.type === 'ScalingActive')!;
    assert.deepEqual([active.status, active.reason], ['False', 'FailedGetResourceMetric']);
    assert.equal(active.message, 'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API');
    assert.deepEqual(recorder.events, [
      'Warning FailedGetResourceMetric failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
      'Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
    ]);
  });

  it('does nothing for a target scaled to zero but say scaling is disabled', async () => {
    const { client, hc } = fixture(hpa(), 0, []);
    await hc.sync(`${ns}/web`);
    assert.deepEqual(writes(client).filter((w) => w.subresource === 'scale'), []);
    const active = client.stored<HorizontalPodAutoscaler>(HorizontalPodAutoscalers, ns, 'web')!.status!.conditions!.find((c) => c.type === 'ScalingActive')!;
    assert.deepEqual([active.status, active.reason], ['False', 'ScalingDisabled']);
  });

  it('a deleted HPA is done', async () => {
    const client = new FakeClient();
    const hc = new HorizontalController({ client, hpas: listerOf<HorizontalPodAutoscaler>([]), pods: listerOf<Pod>([]), recorder: new FakeRecorder() });
    assert.deepEqual(await hc.sync(`${ns}/gone`), {});
    assert.deepEqual(client.actions, []);
  });
});

describe('scale rate limits', () => {
  it('without behavior: at most twice the current count (4 at least), within min and max', () => {
    assert.deepEqual(convertDesiredReplicasWithRules(1, 10, 1, 20).replicas, 4);
    assert.deepEqual(convertDesiredReplicasWithRules(5, 30, 1, 20).replicas, 10);
    assert.deepEqual(convertDesiredReplicasWithRules(5, 30, 1, 8), { replicas: 8, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' });
    assert.deepEqual(convertDesiredReplicasWithRules(5, 0, 2, 8).reason, 'TooFewReplicas');
  });

  it('with behavior: the default scale-up of 4 pods or 100% per 15 s, less what was added in the period', () => {
    const rules = { selectPolicy: 'Max' as const, policies: [{ type: 'Pods' as const, value: 4, periodSeconds: 15 }, { type: 'Percent' as const, value: 100, periodSeconds: 15 }] };
    assert.equal(scaleUpLimit(1, [], [], rules, t0), 5);
    assert.equal(scaleUpLimit(10, [], [], rules, t0), 20);
    // 6 added 5 s ago: the period started at 4 replicas.
    assert.equal(scaleUpLimit(10, [{ change: 6, atMs: t0 - 5_000, outdated: false }], [], rules, t0), 8);
    assert.equal(scaleDownLimit(10, [], [], { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] }, t0), 5);
    assert.equal(scaleUpLimit(3, [], [], { ...rules, selectPolicy: 'Disabled' }, t0), 3);
  });
});
