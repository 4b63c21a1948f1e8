// autoscaling/v1 HorizontalPodAutoscaler, served from the autoscaling/v2 storage. autoscaling/v1
// knows only a CPU utilization target; what v2 holds beyond it travels in the
// `autoscaling.alpha.kubernetes.io/*` annotations, as kube's pkg/apis/autoscaling/v1/conversion.go
// keeps it: other metrics, their current values, the conditions and the behavior. `kubectl
// autoscale` of kubectl 1.32 creates this version.

import { Path, type FieldError } from '../../machinery/field-errors.js';
import { age as ageOf } from '../../machinery/duration.js';
import type { KubeObject } from '../meta.js';
import { defineResource } from '../resource.js';
import {
  type CrossVersionObjectReference,
  type HorizontalPodAutoscaler,
  type HorizontalPodAutoscalerSpec,
  type MetricSpec,
  type MetricStatus,
  type MetricTarget,
  clearStatus,
  defaultHPA,
  formatTargets,
  horizontalPodAutoscalers,
  validateHPASpec,
  validateHPAStatus,
} from './hpa.js';
import { validateObjectMeta, nameIsDNSSubdomain } from '../../machinery/validation.js';

export const MetricSpecsAnnotation = 'autoscaling.alpha.kubernetes.io/metrics';
export const MetricStatusesAnnotation = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const ConditionsAnnotation = 'autoscaling.alpha.kubernetes.io/conditions';
export const BehaviorSpecsAnnotation = 'autoscaling.alpha.kubernetes.io/behavior';

/** HorizontalPodAutoscalerV1 is autoscaling/v1 HorizontalPodAutoscaler. */
export interface HorizontalPodAutoscalerV1 extends KubeObject {
  spec: { scaleTargetRef: CrossVersionObjectReference; minReplicas?: number; maxReplicas: number; targetCPUUtilizationPercentage?: number };
  status?: {
    observedGeneration?: number;
    lastScaleTime?: string;
    currentReplicas: number;
    desiredReplicas: number;
    currentCPUUtilizationPercentage?: number;
  };
}

/** v1MetricSpec is a v2 metric in the annotation's shape (autoscaling/v1's alpha MetricSpec, v2beta1-like). */
function v1MetricSpec(m: MetricSpec): Record<string, unknown> {
  const src = m.resource ?? m.containerResource;
  if (!src) return { type: m.type, [m.type.charAt(0).toLowerCase() + m.type.slice(1)]: m.object ?? m.pods ?? m.external };
  const out: Record<string, unknown> = { name: src.name };
  if (m.containerResource) out.container = m.containerResource.container;
  if (src.target.averageUtilization !== undefined) out.targetAverageUtilization = src.target.averageUtilization;
  if (src.target.averageValue !== undefined) out.targetAverageValue = src.target.averageValue;
  return { type: m.type, [m.resource ? 'resource' : 'containerResource']: out };
}

/** v2MetricSpec reads one metric of the annotation back. */
function v2MetricSpec(m: Record<string, any>): MetricSpec {
  const src = m.resource ?? m.containerResource;
  if (!src) {
    const key = String(m.type ?? '').charAt(0).toLowerCase() + String(m.type ?? '').slice(1);
    return { type: m.type, [key]: m[key] } as MetricSpec;
  }
  const target: MetricTarget =
    src.targetAverageValue !== undefined ? { type: 'AverageValue', averageValue: src.targetAverageValue } : { type: 'Utilization', averageUtilization: src.targetAverageUtilization };
  if (m.containerResource) return { type: 'ContainerResource', containerResource: { name: src.name, container: src.container, target } };
  return { type: 'Resource', resource: { name: src.name, target } };
}

function v1MetricStatus(s: MetricStatus): Record<string, unknown> {
  const r = s.resource ?? s.containerResource;
  if (!r) return { type: s.type };
  const out: Record<string, unknown> = { name: r.name };
  if (s.containerResource) out.container = s.containerResource.container;
  if (r.current.averageUtilization !== undefined) out.currentAverageUtilization = r.current.averageUtilization;
  out.currentAverageValue = r.current.averageValue ?? '0';
  return { type: s.type, [s.resource ? 'resource' : 'containerResource']: out };
}

function v2MetricStatus(s: Record<string, any>): MetricStatus {
  const r = s.resource ?? s.containerResource;
  if (!r) return { type: s.type };
  const current = { averageUtilization: r.currentAverageUtilization, averageValue: r.currentAverageValue };
  if (current.averageUtilization === undefined) delete current.averageUtilization;
  if (s.containerResource) return { type: 'ContainerResource', containerResource: { name: r.name, container: r.container, current } };
  return { type: 'Resource', resource: { name: r.name, current } };
}

const isCPUUtilization = (m: MetricSpec) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target?.averageUtilization !== undefined && m.resource.target.averageValue === undefined;

function parseAnnotation<T>(annotations: Record<string, string> | undefined, key: string): T | undefined {
  const raw = annotations?.[key];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

/** hpaToV1 is Convert_autoscaling_HorizontalPodAutoscaler_To_v1_HorizontalPodAutoscaler on the v2 form. */
export function hpaToV1(hpa: HorizontalPodAutoscaler): HorizontalPodAutoscalerV1 {
  const annotations: Record<string, string> = { ...(hpa.metadata.annotations ?? {}) };
  const metrics = hpa.spec?.metrics ?? [];
  const cpu = metrics.find(isCPUUtilization);
  const others = metrics.filter((m) => m !== cpu);
  if (others.length) annotations[MetricSpecsAnnotation] = JSON.stringify(others.map(v1MetricSpec));
  if (hpa.spec?.behavior) annotations[BehaviorSpecsAnnotation] = JSON.stringify(hpa.spec.behavior);
  const spec: HorizontalPodAutoscalerV1['spec'] = { scaleTargetRef: hpa.spec?.scaleTargetRef, maxReplicas: hpa.spec?.maxReplicas };
  if (hpa.spec?.minReplicas !== undefined) spec.minReplicas = hpa.spec.minReplicas;
  if (cpu) spec.targetCPUUtilizationPercentage = cpu.resource!.target.averageUtilization;
  let status: HorizontalPodAutoscalerV1['status'];
  if (hpa.status) {
    const st = hpa.status;
    status = { currentReplicas: st.currentReplicas ?? 0, desiredReplicas: st.desiredReplicas ?? 0 };
    if (st.observedGeneration !== undefined) status.observedGeneration = st.observedGeneration;
    if (st.lastScaleTime !== undefined) status.lastScaleTime = st.lastScaleTime;
    const current = st.currentMetrics ?? [];
    const cpuNow = current.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.current.averageUtilization !== undefined);
    if (cpuNow) status.currentCPUUtilizationPercentage = cpuNow.resource!.current.averageUtilization;
    const otherNow = current.filter((m) => m !== cpuNow);
    if (otherNow.length) annotations[MetricStatusesAnnotation] = JSON.stringify(otherNow.map(v1MetricStatus));
    if (st.conditions?.length) annotations[ConditionsAnnotation] = JSON.stringify(st.conditions);
  }
  const out = { ...hpa, apiVersion: 'autoscaling/v1', metadata: { ...hpa.metadata }, spec } as HorizontalPodAutoscalerV1;
  if (Object.keys(annotations).length) out.metadata.annotations = annotations;
  else delete out.metadata.annotations;
  if (status) out.status = status;
  else delete out.status;
  return out;
}

/** hpaFromV1 is Convert_v1_HorizontalPodAutoscaler_To_autoscaling_HorizontalPodAutoscaler: the v2 form, the annotations taken in. */
export function hpaFromV1(v1: HorizontalPodAutoscalerV1): HorizontalPodAutoscaler {
  const annotations: Record<string, string> = { ...(v1.metadata?.annotations ?? {}) };
  const metrics: MetricSpec[] = [];
  const s = v1.spec ?? ({} as HorizontalPodAutoscalerV1['spec']);
  if (s.targetCPUUtilizationPercentage !== undefined) {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: s.targetCPUUtilizationPercentage } } });
  }
  for (const m of parseAnnotation<Record<string, unknown>[]>(annotations, MetricSpecsAnnotation) ?? []) metrics.push(v2MetricSpec(m));
  const spec: HorizontalPodAutoscalerSpec = { scaleTargetRef: s.scaleTargetRef, maxReplicas: s.maxReplicas };
  if (s.minReplicas !== undefined) spec.minReplicas = s.minReplicas;
  if (metrics.length) spec.metrics = metrics;
  const behavior = parseAnnotation<HorizontalPodAutoscalerSpec['behavior']>(annotations, BehaviorSpecsAnnotation);
  if (behavior) spec.behavior = behavior;
  const out: HorizontalPodAutoscaler = { ...v1, apiVersion: 'autoscaling/v2', metadata: { ...(v1.metadata ?? {}) }, spec } as HorizontalPodAutoscaler;
  delete out.status;
  if (v1.status) {
    const st = v1.status;
    const current: MetricStatus[] = [];
    if (st.currentCPUUtilizationPercentage !== undefined) current.push({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: st.currentCPUUtilizationPercentage } } });
    for (const m of parseAnnotation<Record<string, unknown>[]>(annotations, MetricStatusesAnnotation) ?? []) current.push(v2MetricStatus(m));
    out.status = { currentReplicas: st.currentReplicas, desiredReplicas: st.desiredReplicas ?? 0 };
    if (st.observedGeneration !== undefined) out.status.observedGeneration = st.observedGeneration;
    if (st.lastScaleTime !== undefined) out.status.lastScaleTime = st.lastScaleTime;
    if (current.length) out.status.currentMetrics = current;
    const conditions = parseAnnotation<NonNullable<HorizontalPodAutoscaler['status']>['conditions']>(annotations, ConditionsAnnotation);
    if (conditions?.length) out.status.conditions = conditions;
  }
  for (const k of [MetricSpecsAnnotation, MetricStatusesAnnotation, ConditionsAnnotation, BehaviorSpecsAnnotation]) delete annotations[k];
  if (Object.keys(annotations).length) out.metadata.annotations = annotations;
  else delete out.metadata.annotations;
  return out;
}

/** validateV1 validates the v2 form, as kube validates the internal object whatever version was sent. */
function validateV1(obj: HorizontalPodAutoscalerV1): FieldError[] {
  const v2 = hpaFromV1(obj);
  return [...validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain), ...validateHPASpec(v2.spec, new Path('spec'))];
}

export const horizontalPodAutoscalersV1 = defineResource<HorizontalPodAutoscalerV1>({
  ...(horizontalPodAutoscalers as unknown as Parameters<typeof defineResource<HorizontalPodAutoscalerV1>>[0]),
  version: 'v1',
  storageVersion: { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' },
  printerColumns: [
    { name: 'Name', type: 'string', format: 'name', cell: (h) => h.metadata.name },
    { name: 'Reference', type: 'string', cell: (h) => `${h.spec?.scaleTargetRef?.kind}/${h.spec?.scaleTargetRef?.name}` },
    { name: 'Targets', type: 'string', cell: (h) => formatTargets(hpaFromV1(h)) },
    { name: 'MinPods', type: 'string', cell: (h) => (h.spec?.minReplicas !== undefined ? String(h.spec.minReplicas) : '<unset>') },
    { name: 'MaxPods', type: 'integer', cell: (h) => h.spec?.maxReplicas ?? 0 },
    { name: 'Replicas', type: 'integer', cell: (h) => h.status?.currentReplicas ?? 0 },
    { name: 'Age', type: 'string', cell: (h, now) => ageOf(h.metadata.creationTimestamp, now) },
  ],
  // v1 defaults only minReplicas (SetDefaults_HorizontalPodAutoscaler in v1); the stored v2 form gets the rest.
  defaults: (h) => {
    h.spec ??= {} as HorizontalPodAutoscalerV1['spec'];
    h.spec.minReplicas ??= 1;
  },
  prepareForCreate: clearStatus,
  validate: validateV1,
  validateStatusUpdate: (h) => validateHPAStatus(hpaFromV1(h).status),
  storageConversion: {
    toStorage: (obj) => {
      const v2 = hpaFromV1(obj as HorizontalPodAutoscalerV1);
      defaultHPA(v2);
      return v2;
    },
    fromStorage: (obj) => hpaToV1(obj as HorizontalPodAutoscaler),
  },
});
