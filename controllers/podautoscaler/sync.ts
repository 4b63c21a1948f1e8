// The horizontal pod autoscaler (kube's pkg/controller/podautoscaler/horizontal.go): every sync
// period each HPA reads its target's /scale, the resource metrics of the pods the scale's
// selector picks (metrics.k8s.io), computes the replica count per metric (./replicas.ts), takes
// the highest, bounds it by min/max replicas, the scale-up rate and the scale-down stabilization
// window (spec.behavior, or kube's defaults), writes the new count through /scale, and reports
// currentMetrics and the AbleToScale, ScalingActive and ScalingLimited conditions in its status.
//
// The recommendations and scale events behind stabilization and rate limits live in this process,
// as in kube: a restarted controller manager starts them afresh.

import type { Pod } from '../../lib/api/core/pod.js';
import { formatQuantity } from '../../lib/api/core/quantity.js';
import type { Scale } from '../../lib/api/autoscaling/scale.js';
import {
  defaultScaleDownRules,
  defaultScaleUpRules,
  type HorizontalPodAutoscaler,
  type HorizontalPodAutoscalerCondition,
  type HPAScalingRules,
  type MetricSpec,
  type MetricStatus,
} from '../../lib/api/autoscaling/hpa.js';
import type { PodMetrics } from '../../lib/api/metrics/metrics.js';
import type { Client, ResourceType } from '../../lib/client/client.js';
import type { InvolvedObject, Recorder } from '../../lib/client/events.js';
import { HorizontalPodAutoscalers, PodMetricsResource } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { ReconcileResult } from '../../lib/controller/controller.js';
import type { Logger } from '../../lib/log.js';
import { semanticEqual } from '../../lib/api/apps/equality.js';
import { type PodMetric, quantityMilli, resourceReplicas } from './replicas.js';

/** defaultSyncPeriodMs is --horizontal-pod-autoscaler-sync-period. */
export const defaultSyncPeriodMs = 15_000;
/** defaultDownscaleStabilizationMs is --horizontal-pod-autoscaler-downscale-stabilization. */
export const defaultDownscaleStabilizationMs = 5 * 60_000;

/** HorizontalControllerOptions are what the controller reads and writes through. */
export interface HorizontalControllerOptions {
  client: Client;
  hpas: Lister<HorizontalPodAutoscaler>;
  pods: Lister<Pod>;
  recorder: Recorder;
  log?: Logger;
  now?: () => number;
  syncPeriodMs?: number;
  downscaleStabilizationMs?: number;
  tolerance?: number;
}

interface TimestampedRecommendation {
  recommendation: number;
  atMs: number;
}

interface ScaleEvent {
  change: number;
  atMs: number;
  outdated: boolean;
}

/** scaleTargetResource names the REST resource of a scale target reference (the kinds kube ships, else the plural by convention). */
export function scaleTargetResource(ref: { apiVersion?: string; kind: string }): ResourceType {
  const [group, version] = ref.apiVersion?.includes('/') ? ref.apiVersion.split('/') : ['', ref.apiVersion || 'v1'];
  const plural = ref.kind.toLowerCase().endsWith('s') ? `${ref.kind.toLowerCase()}es` : `${ref.kind.toLowerCase()}s`;
  return { group: group!, version: version!, resource: plural, kind: ref.kind, namespaced: true };
}

/** setCondition is setConditionInList: the transition time moves only when the status does. */
export function setCondition(hpa: HorizontalPodAutoscaler, type: HorizontalPodAutoscalerCondition['type'], status: HorizontalPodAutoscalerCondition['status'], reason: string, message: string, now: string): void {
  const st = (hpa.status ??= { desiredReplicas: 0 });
  const list = (st.conditions ??= []);
  const existing = list.find((c) => c.type === type);
  if (existing) {
    if (existing.status !== status) existing.lastTransitionTime = now;
    existing.status = status;
    existing.reason = reason;
    existing.message = message;
    return;
  }
  list.push({ type, status, lastTransitionTime: now, reason, message });
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const milliQuantity = (milli: number) => formatQuantity(BigInt(Math.trunc(milli)) * 1_000_000n, 'DecimalSI');

/** MetricResult is one metric's proposal, or why there is none. */
type MetricResult = { replicas: number; name: string; status: MetricStatus } | { error: string; reason: string };

export class HorizontalController {
  private readonly recommendations = new Map<string, TimestampedRecommendation[]>();
  private readonly scaleUpEvents = new Map<string, ScaleEvent[]>();
  private readonly scaleDownEvents = new Map<string, ScaleEvent[]>();
  private readonly now: () => number;
  private readonly syncPeriodMs: number;
  private readonly downscaleStabilizationMs: number;

  constructor(private readonly opts: HorizontalControllerOptions) {
    this.now = opts.now ?? Date.now;
    this.syncPeriodMs = opts.syncPeriodMs ?? defaultSyncPeriodMs;
    this.downscaleStabilizationMs = opts.downscaleStabilizationMs ?? defaultDownscaleStabilizationMs;
  }

  /** sync reconciles the HPA named key (namespace/name) and asks to be called again after the sync period. */
  async sync(key: string): Promise<ReconcileResult> {
    const cached = this.opts.hpas.get(key);
    if (!cached) {
      this.recommendations.delete(key);
      this.scaleUpEvents.delete(key);
      this.scaleDownEvents.delete(key);
      return {};
    }
    // Never modify the cached object.
    const hpa = structuredClone(cached);
    await this.reconcileAutoscaler(hpa, key, cached);
    return { requeueAfter: this.syncPeriodMs };
  }

  private event(hpa: HorizontalPodAutoscaler, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const target: InvolvedObject = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: hpa.metadata };
    this.opts.recorder.event(target, type, reason, message);
  }

  private async updateStatusIfNeeded(original: HorizontalPodAutoscaler, hpa: HorizontalPodAutoscaler): Promise<void> {
    if (semanticEqual(original.status, hpa.status)) return;
    await this.opts.client.update(HorizontalPodAutoscalers, { ...hpa, apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' }, { subresource: 'status' });
    this.opts.log?.v(2).info('Updated HorizontalPodAutoscaler status', { hpa: `${hpa.metadata.namespace}/${hpa.metadata.name}`, desiredReplicas: hpa.status?.desiredReplicas });
  }

  private async reconcileAutoscaler(hpa: HorizontalPodAutoscaler, key: string, original: HorizontalPodAutoscaler): Promise<void> {
    const nowMs = this.now();
    const now = rfc3339(nowMs);
    const ns = hpa.metadata.namespace ?? '';
    const ref = hpa.spec.scaleTargetRef;
    const reference = `${ref.kind}/${ref.name}`;
    const target = scaleTargetResource(ref);
    let scale: Scale;
    try {
      scale = await this.opts.client.get<Scale>(target, ns, ref.name, 'scale');
    } catch (err) {
      const msg = (err as Error).message;
      setCondition(hpa, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${msg}`, now);
      this.event(hpa, 'Warning', 'FailedGetScale', msg);
      await this.updateStatusIfNeeded(original, hpa);
      return;
    }
    setCondition(hpa, 'AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale', now);
    const currentReplicas = scale.spec?.replicas ?? 0;
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ recommendation: currentReplicas, atMs: nowMs }]);

    const minReplicas = hpa.spec.minReplicas ?? 1;
    const maxReplicas = hpa.spec.maxReplicas;
    let desiredReplicas = 0;
    let rescaleReason = '';
    let metricStatuses = hpa.status?.currentMetrics ?? [];
    let rescale = true;
    if (currentReplicas === 0 && minReplicas !== 0) {
      desiredReplicas = 0;
      rescale = false;
      setCondition(hpa, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero', now);
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      const computed = await this.computeReplicasForMetrics(hpa, scale, currentReplicas, nowMs, now);
      metricStatuses = computed.statuses;
      if (computed.replicas === -1) {
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, metricStatuses, false, nowMs);
        await this.updateStatusIfNeeded(original, hpa);
        this.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', computed.error!);
        this.opts.log?.info('Failed to compute desired number of replicas', { hpa: key, reference, err: computed.error });
        return;
      }
      setCondition(hpa, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${computed.name}`, now);
      let rescaleMetric = '';
      if (computed.replicas > desiredReplicas) {
        desiredReplicas = computed.replicas;
        rescaleMetric = computed.name;
      }
      if (desiredReplicas > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      desiredReplicas = hpa.spec.behavior
        ? this.normalizeWithBehaviors(hpa, key, currentReplicas, desiredReplicas, minReplicas, nowMs, now)
        : this.normalize(hpa, key, currentReplicas, desiredReplicas, minReplicas, nowMs, now);
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      try {
        await this.opts.client.update<Scale>(target, { ...scale, spec: { ...scale.spec, replicas: desiredReplicas } }, { subresource: 'scale' });
      } catch (err) {
        const msg = (err as Error).message;
        this.event(hpa, 'Warning', 'FailedRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${msg}`);
        setCondition(hpa, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${msg}`, now);
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, metricStatuses, false, nowMs);
        await this.updateStatusIfNeeded(original, hpa);
        return;
      }
      setCondition(hpa, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desiredReplicas}`, now);
      this.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
      this.storeScaleEvent(hpa, key, currentReplicas, desiredReplicas, nowMs);
      this.opts.log?.info('Successful rescale', { hpa: key, reference, currentReplicas, desiredReplicas, reason: rescaleReason });
    } else {
      desiredReplicas = currentReplicas;
    }
    this.setStatus(hpa, currentReplicas, desiredReplicas, metricStatuses, rescale, nowMs);
    await this.updateStatusIfNeeded(original, hpa);
  }

  private setStatus(hpa: HorizontalPodAutoscaler, currentReplicas: number, desiredReplicas: number, metrics: MetricStatus[], rescale: boolean, nowMs: number): void {
    const st = hpa.status ?? { desiredReplicas: 0 };
    hpa.status = { ...st, currentReplicas, desiredReplicas };
    if (metrics.length) hpa.status.currentMetrics = metrics;
    else delete hpa.status.currentMetrics;
    if (rescale) hpa.status.lastScaleTime = rfc3339(nowMs);
  }

  /** podMetrics reads the resource metrics of the pods selector picks (the resource metrics client's GetResourceMetric). */
  private async podMetrics(ns: string, selector: string, resource: string): Promise<Map<string, PodMetric>> {
    let items: PodMetrics[];
    try {
      items = (await this.opts.client.list<PodMetrics>(PodMetricsResource, ns, { labelSelector: selector })).items;
    } catch (err) {
      throw new Error(`unable to get metrics for resource ${resource}: unable to fetch metrics from resource metrics API: ${(err as Error).message}`);
    }
    if (!items.length) throw new Error(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
    const out = new Map<string, PodMetric>();
    for (const m of items) {
      let sum = 0;
      let missing = false;
      for (const c of m.containers ?? []) {
        const v = quantityMilli(c.usage?.[resource as 'cpu' | 'memory']);
        if (v === undefined) missing = true;
        else sum += v;
      }
      if (missing) continue;
      out.set(m.metadata.name ?? '', { value: sum, timestampMs: Date.parse(m.timestamp) || 0, windowMs: parseWindow(m.window) });
    }
    return out;
  }

  /** computeReplicasForMetrics: the highest proposal of the valid metrics; -1 when none is valid. */
  private async computeReplicasForMetrics(
    hpa: HorizontalPodAutoscaler,
    scale: Scale,
    currentReplicas: number,
    nowMs: number,
    now: string,
  ): Promise<{ replicas: number; name: string; statuses: MetricStatus[]; error?: string }> {
    const selector = scale.status?.selector;
    if (!selector) {
      const msg = 'selector is required';
      this.event(hpa, 'Warning', 'SelectorRequired', msg);
      setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector", now);
      return { replicas: -1, name: '', statuses: [], error: msg };
    }
    const metrics = hpa.spec.metrics ?? [];
    const statuses: MetricStatus[] = [];
    let replicas = -1;
    let name = '';
    let invalid = 0;
    let firstError = '';
    for (const spec of metrics) {
      const r = await this.computeMetric(hpa, spec, selector, currentReplicas, nowMs);
      if ('error' in r) {
        invalid++;
        if (!firstError) firstError = r.error;
        statuses.push({ type: spec.type });
        this.event(hpa, 'Warning', r.reason, r.error);
        setCondition(hpa, 'ScalingActive', 'False', r.reason, `the HPA was unable to compute the replica count: ${r.error}`, now);
        continue;
      }
      statuses.push(r.status);
      if (replicas === -1 || r.replicas > replicas) {
        replicas = r.replicas;
        name = r.name;
      }
    }
    if (invalid === metrics.length || replicas === -1) {
      return { replicas: -1, name: '', statuses, error: `invalid metrics (${invalid} invalid out of ${metrics.length}), first error is: ${firstError}` };
    }
    return { replicas, name, statuses };
  }

  private async computeMetric(hpa: HorizontalPodAutoscaler, spec: MetricSpec, selector: string, currentReplicas: number, nowMs: number): Promise<MetricResult> {
    if (spec.type !== 'Resource' || !spec.resource) {
      return { reason: 'InvalidMetricSourceType', error: `failed to get ${spec.type} metric value: metric source type "${spec.type}" is not supported by skiff` };
    }
    const { name: resource, target } = spec.resource;
    const utilization = target.averageUtilization !== undefined;
    const fail = (err: unknown): MetricResult => ({
      reason: 'FailedGetResourceMetric',
      error: `failed to get ${resource} ${utilization ? 'utilization' : 'usage'}: ${(err as Error).message}`,
    });
    const ns = hpa.metadata.namespace ?? '';
    let pods: Pod[];
    let metrics: Map<string, PodMetric>;
    try {
      pods = this.opts.pods.list(ns, selector);
      metrics = await this.podMetrics(ns, selector, resource);
    } catch (err) {
      return fail(err);
    }
    try {
      const targetAverage = utilization ? undefined : quantityMilli(target.averageValue);
      const r = resourceReplicas({ currentReplicas, resource, pods, metrics, nowMs, tolerance: this.opts.tolerance, targetUtilization: target.averageUtilization, targetAverage });
      const current: NonNullable<MetricStatus['resource']>['current'] = { averageValue: milliQuantity(r.rawAverage) };
      if (utilization) current.averageUtilization = r.utilization;
      return {
        replicas: r.replicas,
        name: utilization ? `${resource} resource utilization (percentage of request)` : `${resource} resource`,
        status: { type: 'Resource', resource: { name: resource, current } },
      };
    } catch (err) {
      return fail(err);
    }
  }

  /** normalize is normalizeDesiredReplicas: kube's rules without spec.behavior. */
  private normalize(hpa: HorizontalPodAutoscaler, key: string, current: number, prenormalized: number, minReplicas: number, nowMs: number, now: string): number {
    const stabilized = this.stabilize(key, prenormalized, nowMs);
    if (stabilized !== prenormalized) setCondition(hpa, 'AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation', now);
    else setCondition(hpa, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size', now);
    const { replicas, reason, message } = convertDesiredReplicasWithRules(current, stabilized, minReplicas, hpa.spec.maxReplicas);
    setCondition(hpa, 'ScalingLimited', replicas === stabilized ? 'False' : 'True', reason, message, now);
    return replicas;
  }

  /** stabilize is stabilizeRecommendation: the highest recommendation within the downscale window. */
  private stabilize(key: string, prenormalized: number, nowMs: number): number {
    const recs = this.recommendations.get(key) ?? [];
    const cutoff = nowMs - this.downscaleStabilizationMs;
    let max = prenormalized;
    let old = -1;
    recs.forEach((r, i) => {
      if (r.atMs < cutoff) old = i;
      else if (r.recommendation > max) max = r.recommendation;
    });
    if (old >= 0) recs[old] = { recommendation: prenormalized, atMs: nowMs };
    else recs.push({ recommendation: prenormalized, atMs: nowMs });
    this.recommendations.set(key, recs);
    return max;
  }

  /** normalizeWithBehaviors is normalizeDesiredReplicasWithBehaviors. */
  private normalizeWithBehaviors(hpa: HorizontalPodAutoscaler, key: string, current: number, prenormalized: number, minReplicas: number, nowMs: number, now: string): number {
    const up = { ...defaultScaleUpRules(), ...stripUndefined(hpa.spec.behavior?.scaleUp) };
    const down: HPAScalingRules = { ...defaultScaleDownRules(), ...stripUndefined(hpa.spec.behavior?.scaleDown) };
    down.stabilizationWindowSeconds ??= this.downscaleStabilizationMs / 1000;
    const { recommendation, reason, message } = this.stabilizeWithBehaviors(key, current, prenormalized, up, down, nowMs);
    if (recommendation !== prenormalized) setCondition(hpa, 'AbleToScale', 'True', reason, message, now);
    else setCondition(hpa, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size', now);
    const r = this.convertWithBehaviorRate(key, current, recommendation, minReplicas, hpa.spec.maxReplicas, up, down, nowMs);
    setCondition(hpa, 'ScalingLimited', r.replicas === recommendation ? 'False' : 'True', r.reason, r.message, now);
    return r.replicas;
  }

  private stabilizeWithBehaviors(key: string, current: number, desired: number, up: HPAScalingRules, down: HPAScalingRules, nowMs: number) {
    const upWindow = up.stabilizationWindowSeconds ?? 0;
    const downWindow = down.stabilizationWindowSeconds ?? 0;
    const scalingUp = desired >= current;
    const delay = scalingUp ? upWindow : downWindow;
    const better = scalingUp ? Math.min : Math.max;
    const obsoleteCutoff = nowMs - Math.max(upWindow, downWindow) * 1000;
    const cutoff = nowMs - delay * 1000;
    let recommendation = desired;
    let old = -1;
    const recs = this.recommendations.get(key) ?? [];
    recs.forEach((r, i) => {
      if (r.atMs > cutoff) recommendation = better(r.recommendation, recommendation);
      if (r.atMs < obsoleteCutoff) old = i;
    });
    if (old >= 0) recs[old] = { recommendation: desired, atMs: nowMs };
    else recs.push({ recommendation: desired, atMs: nowMs });
    this.recommendations.set(key, recs);
    return scalingUp
      ? { recommendation, reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
      : { recommendation, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
  }

  private convertWithBehaviorRate(key: string, current: number, desired: number, min: number, max: number, up: HPAScalingRules, down: HPAScalingRules, nowMs: number) {
    const ups = this.scaleUpEvents.get(key) ?? [];
    const downs = this.scaleDownEvents.get(key) ?? [];
    if (desired > current) {
      const limit = Math.max(current, scaleUpLimit(current, ups, downs, up, nowMs));
      const [allowed, reason, message] = max > limit
        ? [limit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
        : [max, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
      if (desired > allowed) return { replicas: allowed, reason, message };
    } else if (desired < current) {
      const limit = Math.min(current, scaleDownLimit(current, ups, downs, down, nowMs));
      const [allowed, reason, message] = min < limit
        ? [limit, 'ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate']
        : [min, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
      if (desired < allowed) return { replicas: allowed, reason, message };
    }
    return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
  }

  /** storeScaleEvent remembers a rescale for the rate limits of spec.behavior (none without it). */
  private storeScaleEvent(hpa: HorizontalPodAutoscaler, key: string, prev: number, next: number, nowMs: number): void {
    const behavior = hpa.spec.behavior;
    if (!behavior) return;
    const up = next > prev;
    const rules = up ? { ...defaultScaleUpRules(), ...stripUndefined(behavior.scaleUp) } : { ...defaultScaleDownRules(), ...stripUndefined(behavior.scaleDown) };
    const longest = Math.max(0, ...(rules.policies ?? []).map((p) => p.periodSeconds)) * 1000;
    const map = up ? this.scaleUpEvents : this.scaleDownEvents;
    const events = (map.get(key) ?? []).filter((e) => !e.outdated && e.atMs > nowMs - longest);
    events.push({ change: Math.abs(next - prev), atMs: nowMs, outdated: false });
    map.set(key, events);
  }
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** changeInPeriod is getReplicasChangePerPeriod: the replicas added (or removed) within the last period. */
function changeInPeriod(periodSeconds: number, events: ScaleEvent[], nowMs: number): number {
  const cutoff = nowMs - periodSeconds * 1000;
  return events.filter((e) => e.atMs > cutoff).reduce((a, e) => a + e.change, 0);
}

/** scaleUpLimit is calculateScaleUpLimitWithScalingRules. */
export function scaleUpLimit(current: number, ups: ScaleEvent[], downs: ScaleEvent[], rules: HPAScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
  for (const p of rules.policies ?? []) {
    const start = current - changeInPeriod(p.periodSeconds, ups, nowMs) + changeInPeriod(p.periodSeconds, downs, nowMs);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** scaleDownLimit is calculateScaleDownLimitWithBehaviors. */
export function scaleDownLimit(current: number, ups: ScaleEvent[], downs: ScaleEvent[], rules: HPAScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
  for (const p of rules.policies ?? []) {
    const start = current - changeInPeriod(p.periodSeconds, ups, nowMs) + changeInPeriod(p.periodSeconds, downs, nowMs);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** convertDesiredReplicasWithRules bounds a count by min/max replicas and the default scale-up rate (twice, at least 4). */
export function convertDesiredReplicasWithRules(current: number, desired: number, min: number, max: number): { replicas: number; reason: string; message: string } {
  const upLimit = Math.max(2 * current, 4);
  const [allowed, reason, message] = max > upLimit
    ? [upLimit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
    : [max, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
  if (desired < min) return { replicas: min, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  if (desired > allowed) return { replicas: allowed, reason, message };
  return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}

/** parseWindow reads a metav1.Duration such as "15.012s" or "1m0s" into milliseconds. */
function parseWindow(s: string | undefined): number {
  let ms = 0;
  for (const m of (s ?? '').matchAll(/([\d.]+)(h|ms|m|s)/g)) {
    const v = Number(m[1]);
    ms += m[2] === 'h' ? v * 3_600_000 : m[2] === 'm' ? v * 60_000 : m[2] === 's' ? v * 1000 : v;
  }
  return ms;
}
