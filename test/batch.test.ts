// Jobs and CronJobs end to end: real etcd, apiserver, controller manager, scheduler and simulated
// nodes (sim), driven with the real kubectl. Simulated pods finish as their labels and
// annotations say (skiff.dev/sim=succeed|fail, skiff.dev/sim-run-for, skiff.dev/sim-exit-code).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob, Job } from '../lib/api/batch/types.js';
import type { Pod } from '../lib/api/core/pod.js';
import { startCluster, type Cluster } from './harness.js';
import { header, kubectlHelpers, row, until } from './kubectl-helpers.js';

let cluster: Cluster;
const { ok, fails } = kubectlHelpers(() => cluster);
const ns = 'batch';

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager', 'scheduler', 'sim'],
    simulatedNodes: 2,
    extraArgs: { sim: ['--lease-renew-interval=2s', '--pod-cidr-wait=3s', '--max-termination-grace=1s'] },
  });
  await ok(['create', 'namespace', ns]);
});
after(async () => {
  await cluster?.stop();
});

async function getJob(name: string): Promise<Job> {
  return JSON.parse(await ok(['get', 'job', name, '-n', ns, '-o', 'json'])) as Job;
}

async function jobPods(name: string): Promise<Pod[]> {
  return (JSON.parse(await ok(['get', 'pods', '-n', ns, '-l', `batch.kubernetes.io/job-name=${name}`, '-o', 'json'])) as { items: Pod[] }).items;
}

const condition = (job: Job, type: string) => job.status?.conditions?.find((c) => c.type === type && c.status === 'True');

async function waitCondition(name: string, type: string, ms = 60_000): Promise<Job> {
  let job: Job | undefined;
  await until(async () => {
    job = await getJob(name);
    return !!condition(job, type);
  }, ms, `job ${name} ${type}`);
  return job!;
}

interface JobOpts {
  completions?: number;
  parallelism?: number;
  mode?: 'succeed' | 'fail' | 'run';
  runFor?: string;
  exitCode?: number;
  extra?: Record<string, unknown>;
}

function jobManifest(name: string, o: JobOpts = {}): string {
  const annotations: Record<string, string> = {};
  if (o.runFor) annotations['skiff.dev/sim-run-for'] = o.runFor;
  if (o.exitCode) annotations['skiff.dev/sim-exit-code'] = String(o.exitCode);
  return JSON.stringify({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: ns },
    spec: {
      ...(o.completions !== undefined ? { completions: o.completions } : {}),
      ...(o.parallelism !== undefined ? { parallelism: o.parallelism } : {}),
      ...o.extra,
      template: {
        metadata: { labels: { 'skiff.dev/sim': o.mode ?? 'succeed' }, annotations },
        spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
      },
    },
  });
}

describe('batch/v1 with kubectl', () => {
  it('api-resources lists jobs and cronjobs with their short name and category', async () => {
    const out = await ok(['api-resources', '--api-group=batch', '-o', 'wide']);
    assert.match(out, /^cronjobs\s+cj\s+batch\/v1\s+true\s+CronJob\s+create,delete,deletecollection,get,list,patch,update,watch\s+all$/m);
    assert.match(out, /^jobs\s+batch\/v1\s+true\s+Job\s+create,delete,deletecollection,get,list,patch,update,watch\s+all$/m);
  });

  it('kubectl create job runs a pod with the generated selector and wait --for=condition=complete returns', async () => {
    await ok(['create', 'job', 'hello', '-n', ns, '--image=busybox', '--', 'sh', '-c', 'exit 0']);
    let pods: Pod[] = [];
    await until(async () => (pods = await jobPods('hello')).length === 1, 30_000, 'the pod of job hello');
    const job = await getJob('hello');
    const uid = job.metadata.uid!;
    assert.deepEqual(job.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    assert.deepEqual(job.metadata.labels, {
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'hello',
      'controller-uid': uid,
      'job-name': 'hello',
    });
    const pod = pods[0]!;
    assert.equal(pod.metadata.labels?.['job-name'], 'hello');
    assert.deepEqual(pod.metadata.finalizers, ['batch.kubernetes.io/job-tracking']);
    assert.deepEqual(pod.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'hello', uid, controller: true, blockOwnerDeletion: true }]);
    const table = await ok(['get', 'jobs', '-n', ns]);
    assert.deepEqual(header(table), ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
    assert.deepEqual(row(table, 'hello').slice(0, 3), ['hello', 'Running', '0/1']);
    // Simulated pods of `kubectl create job` run on; one whose template says so succeeds.
    await ok(['delete', 'job', 'hello', '-n', ns]);
    const quick = JSON.parse(jobManifest('hello'));
    quick.spec.template.spec.containers[0].command = ['sh', '-c', 'exit 0'];
    await ok(['create', '-f', '-'], JSON.stringify(quick));
    await ok(['wait', '--for=condition=complete', 'job/hello', '-n', ns, '--timeout=60s']);
    const done = await getJob('hello');
    assert.equal(done.status?.succeeded, 1);
    assert.equal(done.status?.active ?? 0, 0);
    assert.deepEqual(done.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]), [
      ['SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
      ['Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
    ]);
    assert.ok(done.status?.completionTime);
    assert.deepEqual(row(await ok(['get', 'jobs', '-n', ns]), 'hello').slice(0, 3), ['hello', 'Complete', '1/1']);
    // Counted, the pod lost its finalizer.
    await until(async () => (await jobPods('hello')).every((p) => !p.metadata.finalizers?.length), 90_000, 'finalizer removed');
  });

  it('refuses invalid Jobs and CronJobs with Kubernetes messages', async () => {
    const always = JSON.parse(jobManifest('always'));
    always.spec.template.spec.restartPolicy = 'Always';
    assert.match(await fails(['create', '-f', '-'], JSON.stringify(always)), /The Job "always" is invalid: spec\.template\.spec\.restartPolicy: Required value: valid values: "OnFailure", "Never"/);
    assert.match(
      await fails(['create', 'cronjob', 'bad', '-n', ns, '--image=busybox', '--schedule=61 * * * *']),
      /spec\.schedule: Invalid value: "61 \* \* \* \*": end of range \(61\) above maximum \(59\): 61/,
    );
    const tz = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'tz', namespace: ns }, spec: { schedule: '* * * * *', timeZone: 'Mars/Olympus', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } } };
    assert.match(await fails(['create', '-f', '-'], JSON.stringify(tz)), /spec\.timeZone: Invalid value: "Mars\/Olympus": unknown time zone Mars\/Olympus/);
    tz.spec.schedule = 'CRON_TZ=UTC * * * * *';
    delete (tz.spec as { timeZone?: string }).timeZone;
    assert.match(await fails(['create', '-f', '-'], JSON.stringify(tz)), /cannot use TZ or CRON_TZ in schedule, use timeZone field instead/);
    await ok(['create', '-f', '-'], jobManifest('immutable', { mode: 'run' }));
    const err = await fails(['patch', 'job', 'immutable', '-n', ns, '--type=merge', '-p', '{"spec":{"completions":3}}']);
    assert.match(err, /spec\.completions: Invalid value: 3: field is immutable/);
    await ok(['delete', 'job', 'immutable', '-n', ns]);
  });

  it('an Indexed Job gives each pod its index, hostname and JOB_COMPLETION_INDEX and records completedIndexes', async () => {
    await ok(['create', '-f', '-'], jobManifest('indexed', { completions: 3, parallelism: 2, runFor: '1s', extra: { completionMode: 'Indexed' } }));
    const job = await waitCondition('indexed', 'Complete');
    assert.equal(job.status?.completedIndexes, '0-2');
    assert.equal(job.status?.succeeded, 3);
    const pods = await jobPods('indexed');
    assert.equal(pods.length, 3);
    const byIndex = new Map(pods.map((p) => [p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'], p]));
    for (const ix of ['0', '1', '2']) {
      const p = byIndex.get(ix);
      assert.ok(p, `a pod for index ${ix}`);
      assert.equal(p.metadata.labels?.['batch.kubernetes.io/job-completion-index'], ix);
      assert.equal(p.spec.hostname, `indexed-${ix}`);
      assert.match(p.metadata.name!, new RegExp(`^indexed-${ix}-[a-z0-9]{5}$`));
      assert.deepEqual(p.spec.containers[0]!.env, [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }]);
    }
  });

  it('fails a Job past its backoffLimit, and a pod failure policy FailJob rule fails it at once', async () => {
    await ok(['create', '-f', '-'], jobManifest('backoff', { mode: 'fail', extra: { backoffLimit: 1 } }));
    const failed = await waitCondition('backoff', 'Failed', 90_000);
    assert.equal(failed.status?.failed, 2);
    assert.deepEqual(failed.status?.conditions?.map((c) => [c.type, c.reason, c.message]), [
      ['FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
      ['Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
    ]);
    assert.equal(row(await ok(['get', 'job', 'backoff', '-n', ns]), 'backoff')[1], 'Failed');

    await ok(['create', '-f', '-'], jobManifest('policy', {
      mode: 'fail',
      exitCode: 42,
      extra: { backoffLimit: 6, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] } },
    }));
    const byPolicy = await waitCondition('policy', 'Failed');
    const pod = (await jobPods('policy'))[0]!;
    assert.equal(byPolicy.status?.failed, 1);
    assert.deepEqual(condition(byPolicy, 'Failed')?.reason, 'PodFailurePolicy');
    assert.equal(condition(byPolicy, 'Failed')?.message, `Container c for pod ${ns}/${pod.metadata.name} failed with exit code 42 matching FailJob rule at index 0`);
  });

  it('a suspended Job makes no pods until resumed; activeDeadlineSeconds fails a Job; ttlSecondsAfterFinished deletes one', async () => {
    await ok(['create', '-f', '-'], jobManifest('later', { runFor: '1s', extra: { suspend: true } }));
    const suspended = await waitCondition('later', 'Suspended');
    assert.deepEqual([condition(suspended, 'Suspended')?.reason, condition(suspended, 'Suspended')?.message], ['JobSuspended', 'Job suspended']);
    assert.equal(suspended.status?.startTime, undefined);
    assert.equal((await jobPods('later')).length, 0);
    assert.equal(row(await ok(['get', 'job', 'later', '-n', ns]), 'later')[1], 'Suspended');
    await ok(['patch', 'job', 'later', '-n', ns, '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    const resumed = await waitCondition('later', 'Complete');
    assert.deepEqual(resumed.status?.conditions?.find((c) => c.type === 'Suspended')?.reason, 'JobResumed');

    await ok(['create', '-f', '-'], jobManifest('deadline', { mode: 'run', extra: { activeDeadlineSeconds: 2 } }));
    const late = await waitCondition('deadline', 'Failed');
    assert.deepEqual([condition(late, 'Failed')?.reason, condition(late, 'Failed')?.message], ['DeadlineExceeded', 'Job was active longer than specified deadline']);

    await ok(['create', '-f', '-'], jobManifest('ttl', { extra: { ttlSecondsAfterFinished: 0 } }));
    await until(async () => !(await ok(['get', 'jobs', '-n', ns, '-o', 'name'])).includes('job.batch/ttl'), 60_000, 'job ttl deleted after it finished');
    await until(async () => (await jobPods('ttl')).length === 0, 30_000, 'the pods of job ttl deleted with it');
  });

  it('a controller manager killed while a Job runs converges to exactly completions pods and counts', async () => {
    await ok(['create', '-f', '-'], jobManifest('restart', { completions: 6, parallelism: 2, runFor: '2s' }));
    await until(async () => (await jobPods('restart')).length >= 2, 30_000, 'the first pods');
    await cluster.killHard('controller-manager');
    // Pods finish while nobody counts them: their finalizers keep them until the controller is back.
    await new Promise((r) => setTimeout(r, 4000));
    await cluster.restart('controller-manager');
    const job = await waitCondition('restart', 'Complete', 90_000);
    assert.equal(job.status?.succeeded, 6);
    assert.equal(job.status?.failed ?? 0, 0);
    const pods = await jobPods('restart');
    assert.equal(pods.length, 6, `pods: ${pods.map((p) => p.metadata.name).join(', ')}`);
    assert.ok(pods.every((p) => p.status?.phase === 'Succeeded'));
    assert.deepEqual(job.status?.uncountedTerminatedPods ?? {}, {});
  });

  it('kubectl create cronjob prints as kubectl does and create job --from=cronjob makes its Job', async () => {
    await ok(['create', 'cronjob', 'tick', '-n', ns, '--image=busybox', '--schedule=*/5 * * * *', '--', 'true']);
    const cj = JSON.parse(await ok(['get', 'cj', 'tick', '-n', ns, '-o', 'json'])) as CronJob;
    assert.equal(cj.spec.concurrencyPolicy, 'Allow');
    assert.equal(cj.spec.successfulJobsHistoryLimit, 3);
    assert.equal(cj.spec.failedJobsHistoryLimit, 1);
    const table = await ok(['get', 'cronjobs', '-n', ns]);
    assert.deepEqual(header(table), ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
    assert.deepEqual(row(table, 'tick').slice(0, 6), ['tick', '*/5 * * * *', '<none>', 'False', '0', '<none>']);
    await ok(['create', 'job', 'tick-now', '-n', ns, '--from=cronjob/tick']);
    const job = await getJob('tick-now');
    assert.equal(job.metadata.annotations?.['cronjob.kubernetes.io/instantiate'], 'manual');
    assert.equal(job.metadata.ownerReferences?.[0]?.kind, 'CronJob');
    assert.equal(job.metadata.ownerReferences?.[0]?.uid, cj.metadata.uid);
    assert.match(await ok(['get', 'jobs,cronjobs', '-n', ns]), /cronjob\.batch\/tick/);
  });
});
