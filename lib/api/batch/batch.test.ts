import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Path, fieldErrorMessage } from '../../machinery/field-errors.js';
import { defaultCronJob, validateCronJob, validateCronJobSpec } from './cronjob.js';
import { defaultJob, jobCompletionsText, jobStatusText, validateJob, validateJobUpdate } from './job.js';
import { formatInZone } from './schedule.js';
import type { CronJob, Job } from './types.js';

function job(spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = { restartPolicy: 'Never' }): Job {
  const j = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'ns', uid: 'u-1' },
    spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], ...podSpec } }, ...spec },
  } as Job;
  defaultJob(j);
  return j;
}

const messages = (errs: ReturnType<typeof validateJob>) => errs.map((e) => fieldErrorMessage(e));

describe('Job', () => {
  it('defaults as SetDefaults_Job and generates the selector and labels from the uid', () => {
    const j = job();
    assert.deepEqual(messages(validateJob(j)), []);
    assert.equal(j.spec.completions, 1);
    assert.equal(j.spec.parallelism, 1);
    assert.equal(j.spec.backoffLimit, 6);
    assert.equal(j.spec.completionMode, 'NonIndexed');
    assert.equal(j.spec.suspend, false);
    assert.equal(j.spec.podReplacementPolicy, 'TerminatingOrFailed');
    assert.deepEqual(j.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u-1' } });
    assert.deepEqual(j.spec.template?.metadata?.labels, { 'job-name': 'pi', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': 'u-1', 'batch.kubernetes.io/controller-uid': 'u-1' });
    const perIndex = job({ backoffLimitPerIndex: 1, completionMode: 'Indexed', completions: 2 });
    assert.deepEqual(perIndex.spec.backoffLimit, 2147483647);
    assert.deepEqual(messages(validateJob(perIndex)), ['spec.backoffLimitPerIndex: Forbidden: not supported by skiff']);
  });

  it('refuses what kube refuses, with its messages', () => {
    assert.deepEqual(messages(validateJob(job({}, {}))), ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']);
    // The pod template's own check and the Job's both speak, as in kube.
    assert.deepEqual(messages(validateJob(job({}, { restartPolicy: 'Sometimes' }))), [
      'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "OnFailure", "Never"',
    ]);
    assert.deepEqual(messages(validateJob(job({ completionMode: 'Indexed', completions: undefined, parallelism: 2 }))), ['spec.completions: Required value: when completion mode is Indexed']);
    assert.deepEqual(messages(validateJob(job({ parallelism: -1 }))), ['spec.parallelism: Invalid value: -1: must be greater than or equal to 0']);
    assert.deepEqual(messages(validateJob(job({ selector: { matchLabels: { app: 'x' } } }))), ['spec.selector: Invalid value: {"matchLabels":{"app":"x","batch.kubernetes.io/controller-uid":"u-1"}}: `selector` not auto-generated', 'spec.template.metadata.labels: Invalid value: map[string]string{"job-name":"pi", "batch.kubernetes.io/job-name":"pi", "controller-uid":"u-1", "batch.kubernetes.io/controller-uid":"u-1"}: `selector` does not match template `labels`']);
    const policy = { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [0, 3, 2] }, onPodConditions: [{ type: 'DisruptionTarget' }] }] };
    assert.deepEqual(messages(validateJob(job({ podFailurePolicy: policy }, { restartPolicy: 'OnFailure' }))), [
      'spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator',
      'spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [0,3,2]: must be ordered',
      'spec.podFailurePolicy.rules[0]: Invalid value: specifying both OnExitCodes and OnPodConditions is not supported',
      'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
    ]);
  });

  it('keeps the selector, template, completions and completion mode immutable', () => {
    const old = job();
    validateJob(old);
    const changed = structuredClone(old);
    changed.spec.completions = 3;
    changed.spec.template!.spec!.containers![0]!.image = 'nginx';
    assert.deepEqual(validateJobUpdate(changed, old).map((e) => e.field), ['spec.completions', 'spec.template']);
    const suspended = structuredClone(old);
    suspended.spec.suspend = true;
    const moved = structuredClone(suspended);
    moved.spec.template!.spec!.nodeSelector = { disk: 'ssd' };
    assert.deepEqual(validateJobUpdate(moved, suspended), [], 'a suspended Job that never started may change its scheduling directives');
  });

  it('prints STATUS and COMPLETIONS as kubectl 1.32', () => {
    const j = job({ completions: undefined, parallelism: 3 });
    assert.equal(jobCompletionsText(j), '0/1 of 3');
    assert.equal(jobStatusText(j), 'Running');
    j.status = { conditions: [{ type: 'FailureTarget', status: 'True' }] };
    assert.equal(jobStatusText(j), 'FailureTarget');
    j.status.conditions!.push({ type: 'Failed', status: 'True' });
    assert.equal(jobStatusText(j), 'Failed');
  });
});

describe('CronJob', () => {
  function cronJob(spec: Record<string, unknown>): CronJob {
    const cj = { metadata: { name: 'tick', namespace: 'ns' }, spec: { jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }, ...spec } } as CronJob;
    defaultCronJob(cj);
    return cj;
  }

  it('defaults and validates schedules, time zones and the template as kube does', () => {
    const cj = cronJob({ schedule: '*/5 * * * *' });
    assert.deepEqual([cj.spec.concurrencyPolicy, cj.spec.suspend, cj.spec.successfulJobsHistoryLimit, cj.spec.failedJobsHistoryLimit], ['Allow', false, 3, 1]);
    assert.deepEqual(validateCronJob(cj), []);
    assert.deepEqual(messages(validateCronJob(cronJob({ schedule: 'every day' }))), ['spec.schedule: Invalid value: "every day": expected exactly 5 fields, found 2: [every day]']);
    assert.deepEqual(messages(validateCronJob(cronJob({ schedule: 'TZ=UTC 0 * * * *' }))), ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']);
    assert.deepEqual(messages(validateCronJob(cronJob({ schedule: '0 * * * *', timeZone: 'Local' }))), ['spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones']);
    assert.deepEqual(messages(validateCronJob(cronJob({ schedule: '0 * * * *', timeZone: 'Nowhere/Place' }))), ['spec.timeZone: Invalid value: "Nowhere/Place": unknown time zone Nowhere/Place']);
    assert.deepEqual(messages(validateCronJob(cronJob({ schedule: '0 * * * *', concurrencyPolicy: 'Sometimes' }))), ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"']);
    const withSelector = cronJob({ schedule: '0 * * * *' });
    withSelector.spec.jobTemplate.spec!.selector = { matchLabels: { a: 'b' } };
    assert.deepEqual(messages(validateCronJob(withSelector)), ['spec.jobTemplate.spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: `selector` will be auto-generated']);
    const long = cronJob({ schedule: '0 * * * *' });
    long.metadata.name = 'x'.repeat(53);
    assert.deepEqual(messages(validateCronJob(long)), [`metadata.name: Invalid value: "${'x'.repeat(53)}": must be no more than 52 characters`]);
    // A schedule that had TZ may keep it on update (without timeZone).
    const old = cronJob({ schedule: 'TZ=UTC 0 * * * *' });
    assert.deepEqual(validateCronJobSpec(old.spec, old.spec, new Path('spec')).length, 0);
  });

  it('formats the scheduled timestamp in the CronJob time zone', () => {
    const t = Date.parse('2024-05-01T07:30:00Z');
    assert.equal(formatInZone(t), '2024-05-01T07:30:00Z');
    assert.equal(formatInZone(t, 'Europe/Berlin'), '2024-05-01T09:30:00+02:00');
  });
});
