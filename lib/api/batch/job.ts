// batch/v1 Job: defaults (SetDefaults_Job), the registry strategy (pkg/registry/batch/job/
// strategy.go: the generated selector, status cleared on create), validation with Kubernetes'
// messages (pkg/apis/batch/validation) and the table kubectl prints (printers.go printJob).

import { type FieldError, Path, duplicate, forbiddenField, invalidValue, notSupported, required, tooMany } from '../../machinery/field-errors.js';
import { age, humanDuration } from '../../machinery/duration.js';
import { formatLabelSelector, labelSelectorAsSelector, matches, validateLabelSelector } from '../../machinery/labels.js';
import { isDNS1123Label, isQualifiedName, nameIsDNSSubdomain, validateImmutable, validateObjectMeta } from '../../machinery/validation.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import { semanticEqual } from '../apps/equality.js';
import { defaultPodTemplate, podTemplateWarnings, validatePodTemplate } from '../apps/podtemplate.js';
import { layoutContainerCells } from '../apps/types.js';
import { validateNonnegativeField } from '../apps/validation.js';
import { CompletionMode, type Job, type JobSpec, JobConditionType, JobLabels } from './types.js';

const maxParallelismForIndexedJob = 100_000;
const maxPodFailurePolicyRules = 20;
const maxOnExitCodesValues = 255;
const maxOnPodConditionsPatterns = 20;
const supportedActions = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const supportedOperators = ['In', 'NotIn'];
const supportedConditionStatus = ['False', 'True', 'Unknown'];

/** defaultJobSpec is SetDefaults_Job for the spec (shared with a CronJob's jobTemplate). */
export function defaultJobSpec(spec: JobSpec): void {
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6;
  spec.completionMode ??= CompletionMode.NonIndexed;
  spec.suspend ??= false;
  for (const rule of spec.podFailurePolicy?.rules ?? []) {
    for (const p of rule.onPodConditions ?? []) p.status ??= 'True';
  }
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  defaultPodTemplate((spec.template ??= {}));
}

/** defaultJob is SetDefaults_Job: a Job without labels takes its template's. */
export function defaultJob(job: Job): void {
  defaultJobSpec((job.spec ??= {}));
  const labels = job.spec.template?.metadata?.labels;
  if (labels && Object.keys(labels).length && !Object.keys(job.metadata.labels ?? {}).length) job.metadata.labels = { ...labels };
}

/**
 * generateSelector is the Job strategy's generateSelector: the template gets the job-name and
 * controller-uid labels (new and legacy keys) unless the user set them, and the selector selects
 * the uid. A Job whose metadata has no labels then shows the template's, as kube's defaulting on
 * the way out of storage makes it.
 */
export function generateSelector(job: Job): void {
  const template = (job.spec.template ??= {});
  const meta = (template.metadata ??= {});
  const labels = (meta.labels ??= {});
  for (const key of [JobLabels.LegacyJobName, JobLabels.JobName]) labels[key] ??= job.metadata.name ?? '';
  for (const key of [JobLabels.LegacyControllerUid, JobLabels.ControllerUid]) labels[key] ??= job.metadata.uid ?? '';
  const selector = (job.spec.selector ??= {});
  const matchLabels = (selector.matchLabels ??= {});
  matchLabels[JobLabels.ControllerUid] ??= job.metadata.uid ?? '';
  if (!Object.keys(job.metadata.labels ?? {}).length) job.metadata.labels = { ...labels };
}

function hasLabel(labels: Record<string, string> | undefined, key: string, want: string, path: Path): FieldError[] {
  const p = path.child('labels').key(key);
  const got = labels?.[key];
  if (got === undefined) return [required(p, '')];
  if (got !== want) return [invalidValue(p, got, `must be '${want}'`)];
  return [];
}

/** validateGeneratedSelector is validateGeneratedSelector: the generated labels are there and selected. */
export function validateGeneratedSelector(job: Job): FieldError[] {
  if (job.spec.manualSelector === true || !job.spec.selector) return [];
  const errs: FieldError[] = [];
  if (!job.metadata.uid) errs.push(required(new Path('metadata').child('uid'), ''));
  const metaPath = new Path('spec').child('template', 'metadata');
  const labels = job.spec.template?.metadata?.labels;
  const uid = job.metadata.uid ?? '';
  const name = job.metadata.name ?? '';
  errs.push(...hasLabel(labels, JobLabels.LegacyControllerUid, uid, metaPath));
  errs.push(...hasLabel(labels, JobLabels.LegacyJobName, name, metaPath));
  errs.push(...hasLabel(labels, JobLabels.ControllerUid, uid, metaPath));
  errs.push(...hasLabel(labels, JobLabels.JobName, name, metaPath));
  const expected = { [JobLabels.ControllerUid]: uid, [JobLabels.JobName]: name, [JobLabels.LegacyControllerUid]: uid, [JobLabels.LegacyJobName]: name };
  try {
    if (!matches(labelSelectorAsSelector(job.spec.selector), expected)) {
      errs.push(invalidValue(new Path('spec').child('selector'), job.spec.selector, '`selector` not auto-generated'));
    }
  } catch {
    // An invalid selector is reported by the spec validation.
  }
  return errs;
}

function validatePodFailurePolicy(spec: JobSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const rules = spec.podFailurePolicy?.rules ?? [];
  const rulesPath = path.child('rules');
  if (rules.length > maxPodFailurePolicyRules) errs.push(tooMany(rulesPath, rules.length, maxPodFailurePolicyRules));
  const containerNames = new Set([...(spec.template?.spec?.containers ?? []), ...(spec.template?.spec?.initContainers ?? [])].map((c) => c.name));
  rules.forEach((rule, i) => {
    const rulePath = rulesPath.index(i);
    const actionPath = rulePath.child('action');
    if (!rule.action) errs.push(required(actionPath, `valid values: ${goQuoteList(supportedActions)}`));
    else if (rule.action === 'FailIndex') {
      if (spec.backoffLimitPerIndex === undefined) errs.push(invalidValue(actionPath, rule.action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!supportedActions.includes(rule.action)) errs.push(notSupported(actionPath, rule.action, supportedActions));
    if (rule.onExitCodes) {
      const p = rulePath.child('onExitCodes');
      const op = rule.onExitCodes.operator;
      if (!op) errs.push(required(p.child('operator'), `valid values: ${goQuoteList(supportedOperators)}`));
      else if (!supportedOperators.includes(op)) errs.push(notSupported(p.child('operator'), op, supportedOperators));
      const cn = rule.onExitCodes.containerName;
      if (cn !== undefined && cn !== null && !containerNames.has(cn)) {
        errs.push(invalidValue(p.child('containerName'), cn, 'must be one of the container or initContainer names in the pod template'));
      }
      const values = rule.onExitCodes.values ?? [];
      const vp = p.child('values');
      if (!values.length) errs.push(invalidValue(vp, values, 'at least one value is required'));
      else if (values.length > maxOnExitCodesValues) errs.push(tooMany(vp, values.length, maxOnExitCodesValues));
      const seen = new Set<number>();
      let ordered = true;
      values.forEach((v, j) => {
        if (op === 'In' && v === 0) errs.push(invalidValue(vp.index(j), v, 'must not be 0 for the In operator'));
        if (seen.has(v)) errs.push(duplicate(vp.index(j), v));
        else seen.add(v);
        if (j > 0 && values[j - 1]! > v) ordered = false;
      });
      if (!ordered) errs.push(invalidValue(vp, values, 'must be ordered'));
    }
    const conds = rule.onPodConditions ?? [];
    if (conds.length) {
      const p = rulePath.child('onPodConditions');
      if (conds.length > maxOnPodConditionsPatterns) errs.push(tooMany(p, conds.length, maxOnPodConditionsPatterns));
      conds.forEach((c, j) => {
        for (const m of isQualifiedName(c.type ?? '')) errs.push(invalidValue(p.index(j).child('type'), c.type, m));
        if (!c.status) errs.push(required(p.index(j).child('status'), `valid values: ${goQuoteList(supportedConditionStatus)}`));
        else if (!supportedConditionStatus.includes(c.status)) errs.push(notSupported(p.index(j).child('status'), c.status, supportedConditionStatus));
      });
    }
    if (rule.onExitCodes && conds.length) errs.push(omitValue(rulePath, 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!rule.onExitCodes && !conds.length) errs.push(omitValue(rulePath, 'specifying one of OnExitCodes and OnPodConditions is required'));
  });
  return errs;
}

/** omitValue is field.Invalid with field.OmitValueType: `Invalid value: "null"` is not printed, only the detail. */
function omitValue(path: Path, detail: string): FieldError {
  return { ...invalidValue(path, undefined, detail), omitValue: true };
}

/** goQuoteList is Go's %q of a []string: ["a" "b"]. */
function goQuoteList(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}

/** validateJobSpecFields is validateJobSpec: everything of a JobSpec but its selector (a CronJob's template has none). */
export function validateJobSpecFields(spec: JobSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes'] as const) {
    errs.push(...validateNonnegativeField(spec[f], path.child(f)));
  }
  if (spec.maxFailedIndexes !== undefined && spec.backoffLimitPerIndex === undefined) errs.push(required(path.child('backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  const indexed = spec.completionMode === CompletionMode.Indexed;
  if (spec.completionMode !== undefined) {
    if (spec.completionMode !== CompletionMode.NonIndexed && !indexed) errs.push(notSupported(path.child('completionMode'), spec.completionMode, [CompletionMode.NonIndexed, CompletionMode.Indexed]));
    if (indexed) {
      if (spec.completions === undefined || spec.completions === null) errs.push(required(path.child('completions'), `when completion mode is ${CompletionMode.Indexed}`));
      if ((spec.parallelism ?? 0) > maxParallelismForIndexedJob) {
        errs.push(invalidValue(path.child('parallelism'), spec.parallelism, `must be less than or equal to ${maxParallelismForIndexedJob} when completion mode is ${CompletionMode.Indexed}`));
      }
      if (spec.completions !== undefined && spec.maxFailedIndexes !== undefined && spec.maxFailedIndexes > spec.completions) {
        errs.push(invalidValue(path.child('maxFailedIndexes'), spec.maxFailedIndexes, 'must be less than or equal to completions'));
      }
    }
  }
  if (!indexed) {
    if (spec.backoffLimitPerIndex !== undefined) errs.push(invalidValue(path.child('backoffLimitPerIndex'), spec.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (spec.maxFailedIndexes !== undefined) errs.push(invalidValue(path.child('maxFailedIndexes'), spec.maxFailedIndexes, 'requires indexed completion mode'));
    if (spec.successPolicy) errs.push(invalidValue(path.child('successPolicy'), spec.successPolicy, 'requires indexed completion mode'));
  }
  if (indexed && spec.successPolicy) {
    const rules = spec.successPolicy.rules ?? [];
    const rp = path.child('successPolicy', 'rules');
    if (!rules.length) errs.push(required(rp, 'at least one rules must be specified when the successPolicy is specified'));
    if (rules.length > 20) errs.push(tooMany(rp, rules.length, 20));
    rules.forEach((rule, i) => {
      if (rule.succeededCount === undefined && rule.succeededIndexes === undefined) errs.push(required(rp.index(i), 'at least one of succeededCount or succeededIndexes must be specified'));
      if (rule.succeededCount !== undefined) {
        const cp = rp.index(i).child('succeededCount');
        errs.push(...validateNonnegativeField(rule.succeededCount, cp));
        if (spec.completions !== undefined && rule.succeededCount > spec.completions) {
          errs.push(invalidValue(cp, rule.succeededCount, `must be less than or equal to ${spec.completions} (the number of specified completions)`));
        }
      }
    });
  }
  // skiff's Job controller keeps no per-index failure counts: refused rather than half-honoured.
  if (spec.backoffLimitPerIndex !== undefined) errs.push(forbiddenField(path.child('backoffLimitPerIndex'), 'not supported by skiff'));
  if (spec.podFailurePolicy) errs.push(...validatePodFailurePolicy(spec, path.child('podFailurePolicy')));
  if (spec.podReplacementPolicy !== undefined) {
    const valid = spec.podFailurePolicy ? ['Failed'] : ['Failed', 'TerminatingOrFailed'];
    if (!valid.includes(spec.podReplacementPolicy)) errs.push(notSupported(path.child('podReplacementPolicy'), spec.podReplacementPolicy, valid));
  }
  errs.push(...validatePodTemplate(spec.template, path.child('template')));
  const restartPolicy = spec.template?.spec?.restartPolicy ?? '';
  const rpPath = path.child('template', 'spec', 'restartPolicy');
  if (restartPolicy === 'Always' || restartPolicy === '') errs.push(required(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') errs.push(notSupported(rpPath, restartPolicy, ['OnFailure', 'Never']));
  else if (spec.podFailurePolicy && restartPolicy !== 'Never') errs.push(invalidValue(rpPath, restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

/** validateJobSpec is ValidateJobSpec: the fields, a required valid selector, and a template it matches. */
export function validateJobSpec(spec: JobSpec, path: Path): FieldError[] {
  const errs = validateJobSpecFields(spec, path);
  if (!spec.selector) errs.push(required(path.child('selector'), ''));
  else errs.push(...validateLabelSelector(spec.selector, path.child('selector'), { allowInvalidLabelValueInSelector: false }));
  try {
    const sel = labelSelectorAsSelector(spec.selector);
    const labels = spec.template?.metadata?.labels;
    if (spec.selector && !matches(sel, labels)) errs.push(invalidValue(path.child('template', 'metadata', 'labels'), labels, '`selector` does not match template `labels`'));
  } catch {
    // Reported by validateLabelSelector.
  }
  return errs;
}

/** validateJob is the Job strategy's Validate: the selector is generated first (it needs the uid), then ValidateJob. */
export function validateJob(job: Job): FieldError[] {
  if (job.spec.manualSelector !== true) generateSelector(job);
  const errs = [...validateObjectMeta(job.metadata, true, nameIsDNSSubdomain), ...validateGeneratedSelector(job), ...validateJobSpec(job.spec, new Path('spec'))];
  if (job.spec.completionMode === CompletionMode.Indexed && (job.spec.completions ?? 0) > 0) {
    const hostname = `${job.metadata.name}-${job.spec.completions! - 1}`;
    if (isDNS1123Label(hostname).length) {
      errs.push(invalidValue(new Path('metadata').child('name'), job.metadata.name, `will not able to create pod with invalid DNS label: ${hostname}`));
    }
  }
  return errs;
}

/** validateJobUpdate is ValidateJobUpdate: the spec is valid, and selector, template (unless suspended), completions and the policies are immutable. */
export function validateJobUpdate(job: Job, old: Job): FieldError[] {
  const spec = new Path('spec');
  const errs = [...validateGeneratedSelector(job), ...validateJobSpec(job.spec, spec)];
  const indexed = job.spec.completionMode === CompletionMode.Indexed;
  if (!semanticEqual(job.spec.completions, old.spec.completions)) {
    if (!indexed) errs.push(...validateImmutable(job.spec.completions, old.spec.completions, spec.child('completions')));
    else if (job.spec.completions !== undefined && job.spec.completions !== job.spec.parallelism) {
      errs.push(invalidValue(spec.child('completions'), job.spec.completions, 'can only be modified in tandem with spec.parallelism'));
    }
  }
  if (!semanticEqual(job.spec.selector, old.spec.selector)) errs.push(invalidValue(spec.child('selector'), job.spec.selector, 'field is immutable'));
  // A suspended Job that never started may change its scheduling directives (kube's
  // AllowMutableSchedulingDirectives); compare the template without them then.
  const mutable = old.spec.suspend === true && !old.status?.startTime;
  const strip = (t: Job['spec']['template']) => {
    const c = structuredClone(t ?? {});
    if (mutable) {
      if (c.metadata) {
        delete c.metadata.labels;
        delete c.metadata.annotations;
      }
      if (c.spec) for (const k of ['nodeSelector', 'tolerations', 'schedulingGates', 'affinity']) delete c.spec[k];
    }
    return c;
  };
  if (!semanticEqual(strip(job.spec.template), strip(old.spec.template))) errs.push(invalidValue(spec.child('template'), job.spec.template, 'field is immutable'));
  for (const f of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy'] as const) {
    if (!semanticEqual(job.spec[f], old.spec[f])) errs.push(invalidValue(spec.child(f), job.spec[f], 'field is immutable'));
  }
  return errs;
}

/** jobStatusText is printJob's STATUS cell (1.32). */
export function jobStatusText(job: Job): string {
  const has = (t: string) => (job.status?.conditions ?? []).some((c) => c.type === t && c.status === 'True');
  if (has(JobConditionType.Complete)) return 'Complete';
  if (has(JobConditionType.Failed)) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (has(JobConditionType.Suspended)) return 'Suspended';
  if (has(JobConditionType.FailureTarget)) return 'FailureTarget';
  return 'Running';
}

/** jobCompletionsText is printJob's COMPLETIONS cell. */
export function jobCompletionsText(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec.completions !== undefined && job.spec.completions !== null) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** jobDurationText is printJob's DURATION cell: start to completion, or to now while running. */
export function jobDurationText(job: Job, now: Date): string {
  const start = job.status?.startTime;
  if (!start) return '';
  const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : now.getTime();
  return humanDuration(end - Date.parse(start));
}

const templateContainers = (job: Job) => layoutContainerCells(job.spec.template?.spec?.containers);

const jobColumns: PrinterColumn<Job>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (j) => j.metadata.name },
  { name: 'Status', type: 'string', description: 'Status of the job.', cell: jobStatusText },
  { name: 'Completions', type: 'string', cell: jobCompletionsText },
  { name: 'Duration', type: 'string', description: 'Time required to complete the job.', cell: jobDurationText },
  { name: 'Age', type: 'string', cell: (j, now) => age(j.metadata.creationTimestamp, now) },
  { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.', cell: (j) => templateContainers(j).names },
  { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.', cell: (j) => templateContainers(j).images },
  { name: 'Selector', type: 'string', priority: 1, cell: (j) => formatLabelSelector(j.spec.selector) },
];

export const jobs = defineResource<Job>({
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  hasGeneration: true,
  warningsOnCreate: (o) => podTemplateWarnings(o.spec),
  warningsOnUpdate: (o, old) => podTemplateWarnings(o.spec, old.spec, true),
  printerColumns: jobColumns,
  defaults: defaultJob,
  prepareForCreate(job) {
    delete job.status;
  },
  validate: validateJob,
  validateUpdate: validateJobUpdate,
  validateStatusUpdate: (job) => {
    const s = job.status ?? {};
    const p = new Path('status');
    const errs: FieldError[] = [];
    for (const f of ['active', 'succeeded', 'failed', 'ready', 'terminating'] as const) errs.push(...validateNonnegativeField(s[f], p.child(f)));
    return errs;
  },
});
