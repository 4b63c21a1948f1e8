// batch/v1 CronJob: defaults (SetDefaults_CronJob), validation with Kubernetes' messages
// (validateCronJobSpec: the schedule as robfig/cron parses it, the time zone, the job template)
// and the table kubectl prints (printers.go printCronJob).

import { type FieldError, Path, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { formatLabelSelector } from '../../machinery/labels.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import { podTemplateWarnings } from '../apps/podtemplate.js';
import { layoutContainerCells } from '../apps/types.js';
import { validateNonnegativeField } from '../apps/validation.js';
import { defaultJobSpec, validateJobSpecFields } from './job.js';
import { ScheduleError, isValidTimeZone, parseSchedule } from './schedule.js';
import { ConcurrencyPolicy, type CronJob, type CronJobSpec, type JobTemplateSpec } from './types.js';

/** defaultCronJob is SetDefaults_CronJob plus the job template's defaults. */
export function defaultCronJob(cj: CronJob): void {
  const spec = (cj.spec ??= { schedule: '', jobTemplate: {} });
  spec.concurrencyPolicy ??= ConcurrencyPolicy.Allow;
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  defaultJobSpec(((spec.jobTemplate ??= {}).spec ??= {}));
}

const validTimeZoneCharacters = /^[A-Za-z.\-_0-9+]{1,14}$/;

/** validateTimeZone is validateTimeZone: IANA naming rules, no `Local`, and a zone this process knows. */
export function validateTimeZone(tz: string | undefined, path: Path): FieldError[] {
  if (tz === undefined || tz === null) return [];
  if (tz.length === 0) return [invalidValue(path, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !validTimeZoneCharacters.test(part)) return [invalidValue(path, tz, `unknown time zone ${tz}`)];
  }
  if (tz.toLowerCase() === 'local') return [invalidValue(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  if (!isValidTimeZone(tz)) return [invalidValue(path, tz, `unknown time zone ${tz}`)];
  return [];
}

/** validateScheduleFormat is validateScheduleFormat: it parses, and carries no TZ unless the old one did. */
export function validateScheduleFormat(schedule: string, allowTZInSchedule: boolean, timeZone: string | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  try {
    parseSchedule(schedule);
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    errs.push(invalidValue(path, schedule, err.message));
  }
  if (allowTZInSchedule && schedule.includes('TZ') && timeZone !== undefined) errs.push(invalidValue(path, schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
  else if (!allowTZInSchedule && schedule.includes('TZ')) errs.push(invalidValue(path, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  return errs;
}

/** validateJobTemplateSpec is ValidateJobTemplateSpec: a job spec whose selector is left to be generated. */
export function validateJobTemplateSpec(t: JobTemplateSpec | undefined, path: Path): FieldError[] {
  const spec = t?.spec ?? {};
  const errs = validateJobSpecFields(spec, path.child('spec'));
  if (spec.selector) errs.push(invalidValue(path.child('spec', 'selector'), spec.selector, '`selector` will be auto-generated'));
  if (spec.manualSelector === true) errs.push(notSupported(path.child('spec', 'manualSelector'), spec.manualSelector, ['nil', 'false']));
  return errs;
}

/** validateCronJobSpec is validateCronJobSpec; old is the spec being updated, if any. */
export function validateCronJobSpec(spec: CronJobSpec, old: CronJobSpec | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec.schedule) errs.push(required(path.child('schedule'), ''));
  else errs.push(...validateScheduleFormat(spec.schedule, old ? old.schedule.includes('TZ') : false, spec.timeZone, path.child('schedule')));
  errs.push(...validateNonnegativeField(spec.startingDeadlineSeconds, path.child('startingDeadlineSeconds')));
  if (!old || old.timeZone !== spec.timeZone) errs.push(...validateTimeZone(spec.timeZone, path.child('timeZone')));
  const cp = spec.concurrencyPolicy ?? '';
  if (cp === '') errs.push(required(path.child('concurrencyPolicy'), ''));
  else if (!Object.values(ConcurrencyPolicy).includes(cp as never)) errs.push(notSupported(path.child('concurrencyPolicy'), cp, Object.values(ConcurrencyPolicy)));
  errs.push(...validateJobTemplateSpec(spec.jobTemplate, path.child('jobTemplate')));
  errs.push(...validateNonnegativeField(spec.successfulJobsHistoryLimit, path.child('successfulJobsHistoryLimit')));
  errs.push(...validateNonnegativeField(spec.failedJobsHistoryLimit, path.child('failedJobsHistoryLimit')));
  return errs;
}

/** validateCronJob is ValidateCronJobCreate: names up to 52 characters leave room for the Job's `-<minutes>` suffix. */
export function validateCronJob(cj: CronJob): FieldError[] {
  const errs = [...validateObjectMeta(cj.metadata, true, nameIsDNSSubdomain), ...validateCronJobSpec(cj.spec, undefined, new Path('spec'))];
  if ((cj.metadata.name ?? '').length > 52) errs.push(invalidValue(new Path('metadata').child('name'), cj.metadata.name, 'must be no more than 52 characters'));
  return errs;
}

const templateContainers = (cj: CronJob) => layoutContainerCells(cj.spec.jobTemplate?.spec?.template?.spec?.containers);

const cronJobColumns: PrinterColumn<CronJob>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (cj) => cj.metadata.name },
  { name: 'Schedule', type: 'string', cell: (cj) => cj.spec.schedule },
  { name: 'Timezone', type: 'string', cell: (cj) => cj.spec.timeZone ?? '<none>' },
  { name: 'Suspend', type: 'boolean', cell: (cj) => (cj.spec.suspend === undefined || cj.spec.suspend === null ? '<unset>' : cj.spec.suspend ? 'True' : 'False') },
  { name: 'Active', type: 'integer', cell: (cj) => (cj.status?.active ?? []).length },
  { name: 'Last Schedule', type: 'string', cell: (cj, now) => (cj.status?.lastScheduleTime ? age(cj.status.lastScheduleTime, now) : '<none>') },
  { name: 'Age', type: 'string', cell: (cj, now) => age(cj.metadata.creationTimestamp, now) },
  { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.', cell: (cj) => templateContainers(cj).names },
  { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.', cell: (cj) => templateContainers(cj).images },
  { name: 'Selector', type: 'string', priority: 1, cell: (cj) => formatLabelSelector(cj.spec.jobTemplate?.spec?.selector) },
];

export const cronJobs = defineResource<CronJob>({
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  shortNames: ['cj'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  hasGeneration: true,
  warningsOnCreate: (o) => podTemplateWarnings(o.spec?.jobTemplate?.spec),
  warningsOnUpdate: (o, old) => podTemplateWarnings(o.spec?.jobTemplate?.spec, old.spec?.jobTemplate?.spec, true),
  printerColumns: cronJobColumns,
  defaults: defaultCronJob,
  prepareForCreate(cj) {
    delete cj.status;
  },
  validate: validateCronJob,
  validateUpdate: (cj, old) => validateCronJobSpec(cj.spec, old.spec, new Path('spec')),
});
