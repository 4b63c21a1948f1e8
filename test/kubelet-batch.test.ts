// A Job and a CronJob on a real node, as `skiff up` runs them: the kubelet runs busybox pods with
// restartPolicy Never to the Succeeded phase, the Job controller counts them through the
// job-tracking finalizer and marks the Job Complete, and a CronJob scheduled every minute fires
// its first Job (this waits for the next minute: up to 60 s).

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { CronJob, Job } from '../lib/api/batch/types.js';
import type { Pod } from '../lib/api/core/pod.js';
import { type Cluster, startCluster } from './harness.js';
import { missingNodeTools, waitFor } from './node-fixture.js';

const skip = missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'iptables', 'iptables-restore', 'kubectl']);
let cluster: Cluster | undefined;
after(async () => {
  await cluster?.stop();
});

test('a Job runs to Complete and a CronJob fires on a real node', { skip: skip || false, timeout: 600_000 }, async () => {
  cluster = await startCluster({ realNode: true });
  const c = cluster;
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'twice', namespace: 'default' },
    spec: {
      completions: 2,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'exit 0'] }] } },
    },
  };
  await kubectl(['create', '-f', '-'], JSON.stringify(job));
  const cron = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'every-minute', namespace: 'default' },
    spec: {
      schedule: '* * * * *',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'echo tick'] }] } } } },
    },
  };
  await kubectl(['create', '-f', '-'], JSON.stringify(cron));

  await kubectl(['wait', '--for=condition=complete', 'job/twice', '--timeout=180s']);
  const done = JSON.parse(await kubectl(['get', 'job', 'twice', '-o', 'json'])) as Job;
  assert.equal(done.status?.succeeded, 2);
  assert.equal(done.status?.failed ?? 0, 0);
  const pods = (JSON.parse(await kubectl(['get', 'pods', '-l', 'job-name=twice', '-o', 'json'])) as { items: Pod[] }).items;
  assert.equal(pods.length, 2);
  for (const p of pods) {
    assert.equal(p.status?.phase, 'Succeeded', JSON.stringify(p.status));
    assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
  }

  // The CronJob's first Job, named after its scheduled minute, runs to Complete too.
  const fired = await waitFor('the CronJob fires', async () => {
    const cj = JSON.parse(await kubectl(['get', 'cronjob', 'every-minute', '-o', 'json'])) as CronJob;
    return cj.status?.lastScheduleTime ? cj : undefined;
  }, 150_000);
  const minutes = Math.floor(Date.parse(fired.status!.lastScheduleTime!) / 60_000);
  const name = `every-minute-${minutes}`;
  await kubectl(['wait', '--for=condition=complete', `job/${name}`, '--timeout=180s']);
  const child = JSON.parse(await kubectl(['get', 'job', name, '-o', 'json'])) as Job;
  assert.equal(child.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], fired.status!.lastScheduleTime);
  assert.equal(child.metadata.ownerReferences?.[0]?.uid, fired.metadata.uid);
  await waitFor('lastSuccessfulTime', async () => {
    const cj = JSON.parse(await kubectl(['get', 'cronjob', 'every-minute', '-o', 'json'])) as CronJob;
    return cj.status?.lastSuccessfulTime ? true : undefined;
  }, 60_000);
});
