import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CronJob, Job } from '../../lib/api/batch/types.js';
import { parseSchedule } from '../../lib/api/batch/schedule.js';
import { CronJobs, Jobs } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { type Action, FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { CronJobSyncer, getJobName, mostRecentScheduleTime } from './sync.js';

const t = (s: string) => Date.parse(s);
const cjRef = { apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: 'cj-uid', controller: true, blockOwnerDeletion: true };

function cronJob(spec: Partial<CronJob['spec']> = {}, status?: CronJob['status'], created = '2024-05-01T11:58:30Z'): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'tick', namespace: 'ns', uid: 'cj-uid', resourceVersion: '7', creationTimestamp: created },
    spec: {
      schedule: '* * * * *',
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: { metadata: { labels: { app: 'tick' } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
      ...spec,
    },
    status,
  };
}

function child(name: string, finished?: 'Complete' | 'Failed', start = '2024-05-01T11:00:00Z'): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '3', ownerReferences: [cjRef], creationTimestamp: start },
    spec: {},
    status: finished ? { startTime: start, completionTime: finished === 'Complete' ? start : undefined, conditions: [{ type: finished, status: 'True' }] } : { startTime: start, active: 1 },
  };
}

function fixture(cj: CronJob, jobs: Job[], now: string) {
  const client = new FakeClient();
  client.add(CronJobs, cj);
  for (const j of jobs) client.add(Jobs, j);
  const recorder = new FakeRecorder();
  const syncer = new CronJobSyncer({ client, cronJobs: listerOf([cj]), jobs: listerOf(jobs), recorder, now: () => new Date(now) });
  return { client, recorder, syncer };
}

const summary = (actions: Action[]) => actions.map((a) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.name ? ` ${a.name}` : ''}`);
const lastStatus = (client: FakeClient) => (client.writes().filter((a) => a.subresource === 'status').at(-1)?.object as CronJob | undefined)?.status;

describe('syncCronJob', () => {
  it('creates the Job of the most recent schedule time, named after its minute, and requeues for the next', async () => {
    const f = fixture(cronJob(), [], '2024-05-01T12:00:20Z');
    const result = await f.syncer.syncCronJob('ns/tick');
    const minutes = t('2024-05-01T12:00:00Z') / 60_000;
    assert.deepEqual(summary(f.client.writes()), [`create jobs tick-${minutes}`, 'update cronjobs/status tick']);
    assert.deepEqual(f.client.writes()[0]!.object, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: `tick-${minutes}`,
        labels: { app: 'tick' },
        annotations: { 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2024-05-01T12:00:00Z' },
        ownerReferences: [cjRef],
      },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const status = lastStatus(f.client)!;
    assert.equal(status.lastScheduleTime, '2024-05-01T12:00:00Z');
    assert.deepEqual(status.active?.map((a) => [a.kind, a.name]), [['Job', `tick-${minutes}`]]);
    assert.deepEqual(f.recorder.events, [`Normal SuccessfulCreate Created job tick-${minutes}`]);
    // 12:01:00 plus kube's 100 ms.
    assert.deepEqual(result, { requeueAfter: 40_100 });
  });

  it('does nothing before the first schedule time, suspended, or for a time already scheduled', async () => {
    const early = fixture(cronJob({}, undefined, '2024-05-01T12:00:05Z'), [], '2024-05-01T12:00:30Z');
    assert.deepEqual(await early.syncer.syncCronJob('ns/tick'), { requeueAfter: 30_100 });
    const suspended = fixture(cronJob({ suspend: true }), [], '2024-05-01T12:00:20Z');
    await suspended.syncer.syncCronJob('ns/tick');
    const done = fixture(cronJob({}, { lastScheduleTime: '2024-05-01T12:00:00Z' }), [], '2024-05-01T12:00:20Z');
    await done.syncer.syncCronJob('ns/tick');
    assert.deepEqual([...early.client.writes(), ...suspended.client.writes(), ...done.client.writes()], []);
  });

  it('Forbid skips a run while one is active; Replace deletes the active one first', async () => {
    const active = child('tick-1');
    const status = { active: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'tick-1', namespace: 'ns', uid: 'uid-tick-1' }], lastScheduleTime: '2024-05-01T11:59:00Z' };
    const forbid = fixture(cronJob({ concurrencyPolicy: 'Forbid' }, status), [active], '2024-05-01T12:00:20Z');
    await forbid.syncer.syncCronJob('ns/tick');
    assert.deepEqual(forbid.client.writes(), []);
    assert.deepEqual(forbid.recorder.events, ['Normal JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid']);

    const replace = fixture(cronJob({ concurrencyPolicy: 'Replace' }, status), [active], '2024-05-01T12:00:20Z');
    await replace.syncer.syncCronJob('ns/tick');
    const minutes = t('2024-05-01T12:00:00Z') / 60_000;
    assert.deepEqual(summary(replace.client.writes()), ['delete jobs tick-1', `create jobs tick-${minutes}`, 'update cronjobs/status tick']);
    assert.deepEqual(replace.client.writes()[0]!.options, { propagationPolicy: 'Background' });
    assert.deepEqual(lastStatus(replace.client)!.active?.map((a) => a.name), [`tick-${minutes}`]);
  });

  it('a start missed by more than startingDeadlineSeconds is not run', async () => {
    const f = fixture(cronJob({ startingDeadlineSeconds: 10 }, { lastScheduleTime: '2024-05-01T11:59:00Z' }), [], '2024-05-01T12:00:20Z');
    await f.syncer.syncCronJob('ns/tick');
    assert.deepEqual(f.client.writes(), []);
  });

  it('reports too many missed start times, then runs only the latest', async () => {
    const f = fixture(cronJob({}, undefined, '2024-04-01T00:00:30Z'), [], '2024-05-01T12:00:20Z');
    await f.syncer.syncCronJob('ns/tick');
    assert.equal(f.recorder.events[0], 'Warning TooManyMissedTimes too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    assert.deepEqual(summary(f.client.writes()), [`create jobs tick-${t('2024-05-01T12:00:00Z') / 60_000}`, 'update cronjobs/status tick']);
  });

  it('drops finished Jobs from active, records lastSuccessfulTime and keeps the history limits', async () => {
    const jobs = [child('tick-1', 'Complete', '2024-05-01T11:50:00Z'), child('tick-2', 'Complete', '2024-05-01T11:51:00Z'), child('tick-3', 'Failed', '2024-05-01T11:52:00Z'), child('tick-4', 'Failed', '2024-05-01T11:53:00Z')];
    const status = { active: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'tick-4', namespace: 'ns', uid: 'uid-tick-4' }], lastScheduleTime: '2024-05-01T12:00:00Z' };
    const f = fixture(cronJob({ successfulJobsHistoryLimit: 1 }, status), jobs, '2024-05-01T12:00:20Z');
    await f.syncer.syncCronJob('ns/tick');
    assert.deepEqual(summary(f.client.writes()), ['delete jobs tick-1', 'delete jobs tick-3', 'update cronjobs/status tick']);
    assert.deepEqual(lastStatus(f.client), { lastScheduleTime: '2024-05-01T12:00:00Z', lastSuccessfulTime: '2024-05-01T11:51:00Z' });
    assert.ok(f.recorder.events.includes('Normal SawCompletedJob Saw completed job: tick-4, condition: Failed'));
  });
});

describe('schedules', () => {
  it('parse as robfig/cron ParseStandard, with its messages', () => {
    assert.throws(() => parseSchedule('* * *'), { message: 'expected exactly 5 fields, found 3: [* * *]' });
    assert.throws(() => parseSchedule('61 * * * *'), { message: 'end of range (61) above maximum (59): 61' });
    assert.throws(() => parseSchedule('* * 0 * *'), { message: 'beginning of range (0) below minimum (1): 0' });
    assert.throws(() => parseSchedule('x * * * *'), { message: 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax' });
    assert.throws(() => parseSchedule('@fortnightly'), { message: 'unrecognized descriptor: @fortnightly' });
    assert.doesNotThrow(() => parseSchedule('*/15 9-17 * JAN-mar mon-fri'));
    assert.doesNotThrow(() => parseSchedule('@hourly'));
  });

  it('finds the most recent time in the CronJob time zone', () => {
    const cj = cronJob({ schedule: '30 9 * * *', timeZone: 'Europe/Berlin' }, undefined, '2024-04-30T00:00:00Z');
    const r = mostRecentScheduleTime(cj, t('2024-05-01T12:00:00Z'), parseSchedule(cj.spec.schedule), true);
    // 09:30 in Berlin (summer time) is 07:30 UTC.
    assert.equal(new Date(r.mostRecent!).toISOString(), '2024-05-01T07:30:00.000Z');
    assert.equal(getJobName(cj, r.mostRecent!), `tick-${t('2024-05-01T07:30:00Z') / 60_000}`);
  });
});
