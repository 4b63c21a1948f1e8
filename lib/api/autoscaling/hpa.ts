// autoscaling/v2 HorizontalPodAutoscaler: types, defaults (pkg/apis/autoscaling/v2/defaults.go),
// validation with kube's messages (pkg/apis/autoscaling/validation), the strategy
// (pkg/registry/autoscaling/horizontalpodautoscaler/strategy.go) and the table kubectl prints
// (printHorizontalPodAutoscaler). autoscaling/v1 is served from the same storage (./hpav1.ts).

import { type FieldError, Path, forbiddenField, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { isDNS1123Subdomain, nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import { parseQuantity } from '../core/quantity.js';
import type { KubeObject } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';

export interface CrossVersionObjectReference {
  kind: string;
  name: string;
  apiVersion?: string;
}

export interface MetricTarget {
  type: 'Utilization' | 'Value' | 'AverageValue';
  value?: string;
  averageValue?: string;
  averageUtilization?: number;
}

export interface MetricValueStatus {
  value?: string;
  averageValue?: string;
  averageUtilization?: number;
}

export interface ResourceMetricSource {
  name: string;
  target: MetricTarget;
}

export interface ContainerResourceMetricSource extends ResourceMetricSource {
  container: string;
}

/** MetricSpec is one metric of spec.metrics; skiff's controller acts on Resource metrics only. */
export interface MetricSpec {
  type: 'Object' | 'Pods' | 'Resource' | 'ContainerResource' | 'External';
  resource?: ResourceMetricSource;
  containerResource?: ContainerResourceMetricSource;
  object?: Record<string, unknown>;
  pods?: Record<string, unknown>;
  external?: Record<string, unknown>;
}

export interface MetricStatus {
  type: MetricSpec['type'];
  resource?: { name: string; current: MetricValueStatus };
  containerResource?: { name: string; container: string; current: MetricValueStatus };
  object?: Record<string, unknown>;
  pods?: Record<string, unknown>;
  external?: Record<string, unknown>;
}

export interface HPAScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface HPAScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: HPAScalingPolicy[];
}

export interface HorizontalPodAutoscalerBehavior {
  scaleUp?: HPAScalingRules;
  scaleDown?: HPAScalingRules;
}

export interface HorizontalPodAutoscalerSpec {
  scaleTargetRef: CrossVersionObjectReference;
  minReplicas?: number;
  maxReplicas: number;
  metrics?: MetricSpec[];
  behavior?: HorizontalPodAutoscalerBehavior;
}

export interface HorizontalPodAutoscalerCondition {
  type: 'ScalingActive' | 'AbleToScale' | 'ScalingLimited';
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface HorizontalPodAutoscalerStatus {
  observedGeneration?: number;
  lastScaleTime?: string;
  currentReplicas?: number;
  desiredReplicas: number;
  currentMetrics?: MetricStatus[];
  conditions?: HorizontalPodAutoscalerCondition[];
}

/** HorizontalPodAutoscaler is autoscaling/v2 HorizontalPodAutoscaler. */
export interface HorizontalPodAutoscaler extends KubeObject {
  spec: HorizontalPodAutoscalerSpec;
  status?: HorizontalPodAutoscalerStatus;
}

/** DefaultCPUUtilization is the target of an HPA with no metrics (autoscaling.DefaultCPUUtilization). */
export const DefaultCPUUtilization = 80;

/** defaultScaleUpRules are kube's scale-up defaults: the larger of 4 pods or 100% per 15 s, no stabilization. */
export const defaultScaleUpRules = (): Required<HPAScalingRules> => ({
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
});

/** defaultScaleDownRules are kube's scale-down defaults: 100% per 15 s; the window is the controller's (300 s). */
export const defaultScaleDownRules = (): HPAScalingRules => ({ selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });

/** fillRules is GenerateHPAScaleUpRules / GenerateHPAScaleDownRules: the fields left unset take the defaults. */
function fillRules(rules: HPAScalingRules | undefined, defaults: HPAScalingRules): HPAScalingRules {
  const out: HPAScalingRules = { ...(rules ?? {}) };
  if (out.stabilizationWindowSeconds === undefined && defaults.stabilizationWindowSeconds !== undefined) out.stabilizationWindowSeconds = defaults.stabilizationWindowSeconds;
  out.selectPolicy ??= defaults.selectPolicy;
  if (!out.policies?.length) out.policies = defaults.policies;
  return out;
}

/** defaultHPA is SetDefaults_HorizontalPodAutoscaler (v2): minReplicas 1, 80% CPU when no metric, behavior's unset rules. */
export function defaultHPA(hpa: HorizontalPodAutoscaler): void {
  const spec = (hpa.spec ??= {} as HorizontalPodAutoscalerSpec);
  spec.minReplicas ??= 1;
  if (!spec.metrics?.length) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DefaultCPUUtilization } } }];
  }
  if (spec.behavior) {
    spec.behavior = { scaleUp: fillRules(spec.behavior.scaleUp, defaultScaleUpRules()), scaleDown: fillRules(spec.behavior.scaleDown, defaultScaleDownRules()) };
  }
}

const metricTypes = ['Object', 'Pods', 'Resource', 'ContainerResource', 'External'] as const;
const targetTypes = ['Utilization', 'Value', 'AverageValue'] as const;
const maxPeriodSeconds = 1800;
const maxStabilizationWindowSeconds = 3600;

/** validateCrossVersionObjectReference is ValidateCrossVersionObjectReference. */
function validateCrossVersionObjectReference(ref: CrossVersionObjectReference | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const pathSegment = (v: string, p: Path) => {
    if (v === '.' || v === '..') errs.push(invalidValue(p, v, `may not be '${v}'`));
    for (const bad of ['/', '%']) if (v.includes(bad)) errs.push(invalidValue(p, v, `may not contain '${bad}'`));
  };
  if (!ref?.kind) errs.push(required(path.child('kind')));
  else pathSegment(ref.kind, path.child('kind'));
  if (!ref?.name) errs.push(required(path.child('name')));
  else pathSegment(ref.name, path.child('name'));
  return errs;
}

/** validateQuantityPositive checks a target quantity: it parses and is above zero. */
function validateQuantityPositive(q: string | undefined, path: Path): FieldError[] {
  if (q === undefined) return [];
  const parsed = parseQuantity(q);
  if (!parsed) return [invalidValue(path, q, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")];
  return parsed.nanos <= 0n ? [invalidValue(path, q, 'must be positive')] : [];
}

/** validateResourceSource is validateResourceSource / validateContainerResourceSource: a named resource with a utilization or an average value. */
function validateResourceSource(src: ResourceMetricSource | undefined, path: Path, container: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!src) return errs;
  if (!src.name) errs.push(required(path.child('name'), 'must specify a resource name'));
  if (container) {
    const c = (src as ContainerResourceMetricSource).container;
    if (!c) errs.push(required(path.child('container'), 'must specify a container'));
    else for (const m of isDNS1123Subdomain(c)) errs.push(invalidValue(path.child('container'), c, m));
  }
  const t = src.target;
  const tp = path.child('target');
  if (!t) return [...errs, required(tp, 'must specify a metric target')];
  if (!t.type) errs.push(required(tp.child('type'), 'must specify a metric target type'));
  else if (!(targetTypes as readonly string[]).includes(t.type)) errs.push(notSupported(tp.child('type'), t.type, targetTypes));
  if (t.averageUtilization === undefined && t.averageValue === undefined) errs.push(required(tp.child('averageUtilization'), 'must set either a target raw value or a target utilization'));
  if (t.averageUtilization !== undefined && t.averageUtilization < 1) errs.push(invalidValue(tp.child('averageUtilization'), t.averageUtilization, 'must be greater than 0'));
  if (t.averageUtilization !== undefined && t.averageValue !== undefined) errs.push(forbiddenField(tp.child('averageValue'), 'may not set both a target raw value and a target utilization'));
  if (t.value !== undefined) errs.push(forbiddenField(tp.child('value'), 'may not set a target value for metrics of type Resource'));
  errs.push(...validateQuantityPositive(t.averageValue, tp.child('averageValue')));
  return errs;
}

/** validateMetrics is validateMetrics: each metric's type names the one source it carries. */
function validateMetrics(metrics: MetricSpec[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  (metrics ?? []).forEach((m, i) => {
    const p = path.index(i);
    const sources = (['object', 'pods', 'resource', 'containerResource', 'external'] as const).filter((k) => m[k] !== undefined);
    if (!m.type) {
      errs.push(required(p.child('type'), 'must specify a metric source type'));
      return;
    }
    if (!(metricTypes as readonly string[]).includes(m.type)) {
      errs.push(notSupported(p.child('type'), m.type, metricTypes));
      return;
    }
    const own = m.type === 'ContainerResource' ? 'containerResource' : (m.type.toLowerCase() as 'object' | 'pods' | 'resource' | 'external');
    if (sources.length > 1 || (sources.length === 1 && sources[0] !== own)) {
      errs.push(forbiddenField(p, 'must populate the given metric source only'));
    }
    if (m[own] === undefined) {
      errs.push(required(p.child(own), 'must populate information for the given metric source'));
      return;
    }
    if (m.type === 'Resource') errs.push(...validateResourceSource(m.resource, p.child('resource'), false));
    if (m.type === 'ContainerResource') errs.push(...validateResourceSource(m.containerResource, p.child('containerResource'), true));
  });
  return errs;
}

/** validateScalingRules is validateScalingRules: policies, their periods and values, and the window. */
function validateScalingRules(rules: HPAScalingRules | undefined, path: Path): FieldError[] {
  if (!rules) return [];
  const errs: FieldError[] = [];
  const w = rules.stabilizationWindowSeconds;
  if (w !== undefined && w < 0) errs.push(invalidValue(path.child('stabilizationWindowSeconds'), w, 'must be greater than or equal to zero'));
  if (w !== undefined && w > maxStabilizationWindowSeconds) errs.push(invalidValue(path.child('stabilizationWindowSeconds'), w, `must be less than or equal to ${maxStabilizationWindowSeconds}`));
  if (rules.selectPolicy !== undefined && !['Max', 'Min', 'Disabled'].includes(rules.selectPolicy)) errs.push(notSupported(path.child('selectPolicy'), rules.selectPolicy, ['Disabled', 'Max', 'Min']));
  if (!rules.policies?.length) errs.push(required(path.child('policies'), 'must specify at least one Policy'));
  (rules.policies ?? []).forEach((pol, i) => {
    const p = path.child('policies').index(i);
    if (pol.type !== 'Pods' && pol.type !== 'Percent') errs.push(notSupported(p.child('type'), pol.type, ['Percent', 'Pods']));
    if (!(pol.value > 0)) errs.push(invalidValue(p.child('value'), pol.value, 'must be greater than zero'));
    if (!(pol.periodSeconds > 0)) errs.push(invalidValue(p.child('periodSeconds'), pol.periodSeconds, 'must be greater than zero'));
    if (pol.periodSeconds > maxPeriodSeconds) errs.push(invalidValue(p.child('periodSeconds'), pol.periodSeconds, `must be less than or equal to ${maxPeriodSeconds}`));
  });
  return errs;
}

/** validateHPASpec is validateHorizontalPodAutoscalerSpec. */
export function validateHPASpec(spec: HorizontalPodAutoscalerSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const min = spec.minReplicas;
  if (min !== undefined && min < 1) errs.push(invalidValue(path.child('minReplicas'), min, 'must be greater than or equal to 1'));
  if (!(spec.maxReplicas >= 1)) errs.push(invalidValue(path.child('maxReplicas'), spec.maxReplicas ?? 0, 'must be greater than 0'));
  if (min !== undefined && spec.maxReplicas < min) errs.push(invalidValue(path.child('maxReplicas'), spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateCrossVersionObjectReference(spec.scaleTargetRef, path.child('scaleTargetRef')));
  errs.push(...validateMetrics(spec.metrics, path.child('metrics')));
  if (spec.behavior) {
    errs.push(...validateScalingRules(spec.behavior.scaleUp, path.child('behavior', 'scaleUp')));
    errs.push(...validateScalingRules(spec.behavior.scaleDown, path.child('behavior', 'scaleDown')));
  }
  return errs;
}

/** validateHPA is ValidateHorizontalPodAutoscaler. */
export function validateHPA(hpa: HorizontalPodAutoscaler): FieldError[] {
  return [...validateObjectMeta(hpa.metadata, true, nameIsDNSSubdomain), ...validateHPASpec(hpa.spec ?? ({} as HorizontalPodAutoscalerSpec), new Path('spec'))];
}

/** validateHPAStatus is ValidateHorizontalPodAutoscalerStatusUpdate: replica counts are not negative. */
export function validateHPAStatus(status: HorizontalPodAutoscalerStatus | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const p = new Path('status');
  if ((status?.currentReplicas ?? 0) < 0) errs.push(invalidValue(p.child('currentReplicas'), status!.currentReplicas, 'must be greater than or equal to 0'));
  if ((status?.desiredReplicas ?? 0) < 0) errs.push(invalidValue(p.child('desiredReplicas'), status!.desiredReplicas, 'must be greater than or equal to 0'));
  return errs;
}

/** formatTarget is one metric of the Targets column, as kubectl's formatHPAMetrics prints it. */
function formatTarget(spec: MetricSpec, statuses: MetricStatus[] | undefined, i: number): string {
  const src = spec.type === 'Resource' ? spec.resource : spec.type === 'ContainerResource' ? spec.containerResource : undefined;
  if (!src) return `<unknown>/<unknown>`;
  const st = statuses?.[i];
  const cur = spec.type === 'Resource' ? st?.resource?.current : st?.containerResource?.current;
  const prefix = `${src.name}: `;
  if (src.target?.averageValue !== undefined) return `${prefix}${cur?.averageValue ?? '<unknown>'}/${src.target.averageValue}`;
  const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : '<unknown>';
  return `${prefix}${current}/${src.target?.averageUtilization ?? 0}%`;
}

/** formatTargets is the Targets column: up to three metrics, then "+ N more...". */
export function formatTargets(hpa: HorizontalPodAutoscaler): string {
  const metrics = hpa.spec?.metrics ?? [];
  if (!metrics.length) return '<none>';
  const shown = metrics.slice(0, 3).map((m, i) => formatTarget(m, hpa.status?.currentMetrics, i));
  let out = shown.join(', ');
  if (metrics.length > 3) out += ` + ${metrics.length - 3} more...`;
  return out;
}

const hpaColumns: PrinterColumn<HorizontalPodAutoscaler>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (h) => h.metadata.name },
  { name: 'Reference', type: 'string', cell: (h) => `${h.spec?.scaleTargetRef?.kind}/${h.spec?.scaleTargetRef?.name}` },
  { name: 'Targets', type: 'string', cell: formatTargets },
  { name: 'MinPods', type: 'string', cell: (h) => (h.spec?.minReplicas !== undefined ? String(h.spec.minReplicas) : '<unset>') },
  { name: 'MaxPods', type: 'integer', cell: (h) => h.spec?.maxReplicas ?? 0 },
  { name: 'Replicas', type: 'integer', cell: (h) => h.status?.currentReplicas ?? 0 },
  { name: 'Age', type: 'string', cell: (h, now) => age(h.metadata.creationTimestamp, now) },
];

/** clearStatus is the strategy's PrepareForCreate: a new HPA has no status (the registry keeps status on updates). */
export function clearStatus(hpa: KubeObject): void {
  delete hpa.status;
}

export const horizontalPodAutoscalers = defineResource<HorizontalPodAutoscaler>({
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  shortNames: ['hpa'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  hasGeneration: true,
  printerColumns: hpaColumns,
  defaults: defaultHPA,
  prepareForCreate: clearStatus,
  validate: validateHPA,
  validateStatusUpdate: (hpa) => validateHPAStatus(hpa.status),
});
