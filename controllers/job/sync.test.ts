import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from '../../lib/api/batch/types.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { Jobs, Pods } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { type Action, FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { ControllerExpectations } from '../common/expectations.js';
import { formatIndexes, parseIndexes } from './indexes.js';
import { matchPodFailurePolicy, newBackoffRecord, remainingBackoffMs } from './podfailurepolicy.js';
import { FinalizerExpectations, JobSyncer } from './sync.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const finalizer = 'batch.kubernetes.io/job-tracking';
const ownerRef = { apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'job-uid', controller: true, blockOwnerDeletion: true };

function job(spec: Partial<Job['spec']> = {}, status?: Job['status']): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'ns', uid: 'job-uid', resourceVersion: '10', generation: 1 },
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      podReplacementPolicy: 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'job-uid' } },
      template: {
        metadata: { labels: { 'batch.kubernetes.io/controller-uid': 'job-uid', 'batch.kubernetes.io/job-name': 'pi' } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
      },
      ...spec,
    },
    status,
  };
}

function pod(name: string, phase: string, o: { finalizer?: boolean; index?: number; exitCode?: number; finishedAgo?: number } = {}): Pod {
  const annotations = o.index === undefined ? undefined : { 'batch.kubernetes.io/job-completion-index': String(o.index) };
  const terminated = phase === 'Succeeded' || phase === 'Failed' ? { exitCode: o.exitCode ?? (phase === 'Succeeded' ? 0 : 1), finishedAt: ago(o.finishedAgo ?? 5) } : undefined;
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      resourceVersion: '5',
      labels: { 'batch.kubernetes.io/controller-uid': 'job-uid', 'batch.kubernetes.io/job-name': 'pi' },
      annotations,
      ownerReferences: [ownerRef],
      finalizers: o.finalizer === false ? undefined : [finalizer],
      creationTimestamp: ago(60),
    },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase, containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: terminated ? { terminated } : { running: {} } }] },
  };
}

function fixture(j: Job, pods: Pod[]) {
  const client = new FakeClient();
  client.add(Jobs, j);
  for (const p of pods) client.add(Pods, p);
  const recorder = new FakeRecorder();
  const expectations = new ControllerExpectations(() => now.getTime());
  const finalizerExpectations = new FinalizerExpectations();
  const syncer = new JobSyncer({ client, jobs: listerOf([j]), pods: listerOf(pods), recorder, expectations, finalizerExpectations, now: () => now });
  return { client, recorder, expectations, finalizerExpectations, syncer };
}

const summary = (actions: Action[]) => actions.map((a) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.name ? ` ${a.name}` : ''}`);
const statuses = (client: FakeClient) => client.writes().filter((a) => a.subresource === 'status').map((a) => (a.object as Job).status);
const removeFinalizerPatch = { metadata: { '$deleteFromPrimitiveList/finalizers': [finalizer] } };

describe('syncJob', () => {
  it('creates parallelism pods with the tracking finalizer and records the start', async () => {
    const f = fixture(job({ completions: 3, parallelism: 2 }), []);
    await f.syncer.syncJob('ns/pi');
    const creates = f.client.writes().filter((a) => a.verb === 'create');
    assert.equal(creates.length, 2);
    assert.deepEqual(creates[0]!.object, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: 'pi-',
        labels: { 'batch.kubernetes.io/controller-uid': 'job-uid', 'batch.kubernetes.io/job-name': 'pi' },
        ownerReferences: [ownerRef],
        finalizers: [finalizer],
      },
      spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
    });
    assert.deepEqual(f.expectations.getExpectations('ns/pi'), { add: 2, del: 0, timestamp: now.getTime() });
    assert.deepEqual(statuses(f.client), [{ startTime: ago(0), active: 2, ready: 0, terminating: 0, uncountedTerminatedPods: {} }]);
    assert.ok(f.recorder.events.every((e) => /^Normal SuccessfulCreate Created pod: pi-[a-z0-9]{5}$/.test(e)));
  });

  it('counts a succeeded pod through uncountedTerminatedPods before removing its finalizer, then completes', async () => {
    const f = fixture(job({}, { startTime: ago(30), active: 1, ready: 0, terminating: 0 }), [pod('pi-a', 'Succeeded')]);
    await f.syncer.syncJob('ns/pi');
    assert.deepEqual(summary(f.client.writes()), ['update jobs/status pi', 'patch pods pi-a', 'update jobs/status pi']);
    const [first, second] = statuses(f.client);
    // 1. The pod is recorded as uncounted, with the interim SuccessCriteriaMet condition.
    assert.deepEqual(first!.uncountedTerminatedPods, { succeeded: ['uid-pi-a'] });
    assert.equal(first!.succeeded, undefined);
    assert.deepEqual(first!.conditions?.map((c) => [c.type, c.reason]), [['SuccessCriteriaMet', 'CompletionsReached']]);
    // 2. Its finalizer goes. 3. It moves into the counter and the Job is Complete.
    assert.deepEqual(f.client.writes()[1]!.patch, removeFinalizerPatch);
    assert.equal(second!.succeeded, 1);
    assert.deepEqual(second!.uncountedTerminatedPods, {});
    assert.deepEqual(second!.conditions?.map((c) => [c.type, c.status, c.reason, c.message]), [
      ['SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
      ['Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
    ]);
    assert.equal(second!.completionTime, ago(0));
    assert.equal(second!.active, 0);
    assert.deepEqual(f.recorder.events, ['Normal Completed Job completed']);
  });

  it('never counts a pod twice: a pod already in uncountedTerminatedPods is only moved once its finalizer is gone', async () => {
    const counted = pod('pi-a', 'Succeeded', { finalizer: false });
    const f = fixture(job({ completions: 2 }, { startTime: ago(30), active: 0, ready: 0, terminating: 0, succeeded: 0, uncountedTerminatedPods: { succeeded: ['uid-pi-a'] } }), [counted]);
    await f.syncer.syncJob('ns/pi');
    const [first] = statuses(f.client);
    assert.equal(first!.succeeded, 1);
    assert.deepEqual(first!.uncountedTerminatedPods, {});
    // One more pod for the second completion, none for the counted one.
    assert.equal(f.client.writes().filter((a) => a.verb === 'create').length, 1);
  });

  it('fails the Job past its backoffLimit: FailureTarget first, Failed once no pod is left', async () => {
    const f = fixture(job({ backoffLimit: 1 }, { startTime: ago(60), failed: 1, active: 0, ready: 0, terminating: 0 }), [pod('pi-b', 'Failed', { exitCode: 2 })]);
    await f.syncer.syncJob('ns/pi');
    assert.deepEqual(summary(f.client.writes()), ['update jobs/status pi', 'patch pods pi-b', 'update jobs/status pi']);
    const [first, second] = statuses(f.client);
    assert.deepEqual(first!.uncountedTerminatedPods, { failed: ['uid-pi-b'] });
    assert.deepEqual(first!.conditions?.map((c) => [c.type, c.reason, c.message]), [['FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit']]);
    assert.equal(second!.failed, 2);
    assert.deepEqual(second!.conditions?.map((c) => c.type), ['FailureTarget', 'Failed']);
    assert.deepEqual(f.recorder.events, ['Warning BackoffLimitExceeded Job has reached the specified backoff limit']);
  });

  it('waits out the pod failure back-off before replacing a failed pod', async () => {
    const f = fixture(job({}, { startTime: ago(60), active: 0, ready: 0, terminating: 0 }), [pod('pi-b', 'Failed', { finishedAgo: 3 })]);
    const result = await f.syncer.syncJob('ns/pi');
    assert.equal(f.client.writes().filter((a) => a.verb === 'create').length, 0);
    assert.deepEqual(result, { requeueAfter: 7000 });
    assert.equal(statuses(f.client).at(-1)!.failed, 1);
  });

  it('a FailJob rule of the pod failure policy fails the Job with its message', async () => {
    const policy = { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] };
    const f = fixture(job({ podFailurePolicy: policy, podReplacementPolicy: 'Failed' }, { startTime: ago(60), active: 0, ready: 0, terminating: 0 }), [pod('pi-b', 'Failed', { exitCode: 42 })]);
    await f.syncer.syncJob('ns/pi');
    const last = statuses(f.client).at(-1)!;
    assert.deepEqual(last.conditions?.map((c) => [c.type, c.reason, c.message]), [
      ['FailureTarget', 'PodFailurePolicy', 'Container c for pod ns/pi-b failed with exit code 42 matching FailJob rule at index 0'],
      ['Failed', 'PodFailurePolicy', 'Container c for pod ns/pi-b failed with exit code 42 matching FailJob rule at index 0'],
    ]);
  });

  it('activeDeadlineSeconds deletes the active pods and fails the Job with DeadlineExceeded', async () => {
    const running = pod('pi-r', 'Running');
    const f = fixture(job({ activeDeadlineSeconds: 10 }, { startTime: ago(11), active: 1, ready: 0, terminating: 0 }), [running]);
    await f.syncer.syncJob('ns/pi');
    assert.deepEqual(summary(f.client.writes()), ['delete pods pi-r', 'update jobs/status pi', 'patch pods pi-r', 'update jobs/status pi']);
    const [first, second] = statuses(f.client);
    assert.deepEqual(first!.conditions?.map((c) => [c.type, c.reason, c.message]), [['FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline']]);
    // The pod it stopped counts as failed; it is still terminating, so Failed waits for it to be gone.
    assert.deepEqual(first!.uncountedTerminatedPods, { failed: ['uid-pi-r'] });
    assert.equal(second!.failed, 1);
    assert.equal(second!.terminating, 1);
    assert.deepEqual(second!.conditions?.map((c) => c.type), ['FailureTarget']);
  });

  it('suspending deletes the active pods (finalizer first) and sets Suspended', async () => {
    const running = pod('pi-r', 'Running');
    const f = fixture(job({ suspend: true }, { startTime: ago(30), active: 1, ready: 0, terminating: 0 }), [running]);
    await f.syncer.syncJob('ns/pi');
    assert.deepEqual(summary(f.client.writes()), ['patch pods pi-r', 'delete pods pi-r', 'update jobs/status pi']);
    const [first] = statuses(f.client);
    assert.deepEqual(first!.conditions?.map((c) => [c.type, c.status, c.reason, c.message]), [['Suspended', 'True', 'JobSuspended', 'Job suspended']]);
    assert.equal(first!.active, 0);
    assert.equal(first!.terminating, 1);
    assert.deepEqual(f.recorder.events, ['Normal SuccessfulDelete Deleted pod: pi-r', 'Normal Suspended Job suspended']);
  });

  it('creates the pending indexes of an Indexed Job with their annotation, label, hostname and env', async () => {
    const f = fixture(job({ completionMode: 'Indexed', completions: 3, parallelism: 2 }, { startTime: ago(30), active: 1, ready: 0, terminating: 0, completedIndexes: '0' }), [pod('pi-1-aaaaa', 'Running', { index: 1 })]);
    await f.syncer.syncJob('ns/pi');
    const creates = f.client.writes().filter((a) => a.verb === 'create');
    assert.equal(creates.length, 1);
    const created = creates[0]!.object as Pod;
    assert.equal(created.metadata.generateName, 'pi-2-');
    assert.equal(created.metadata.annotations?.['batch.kubernetes.io/job-completion-index'], '2');
    assert.equal(created.metadata.labels?.['batch.kubernetes.io/job-completion-index'], '2');
    assert.equal(created.spec.hostname, 'pi-2');
    assert.deepEqual(created.spec.containers[0]!.env, [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }]);
  });

  it('a met successPolicy ends an Indexed Job early: the remaining pods are deleted and not counted as failed', async () => {
    const running = pod('pi-2-bbbbb', 'Running', { index: 2 });
    const f = fixture(job({ completionMode: 'Indexed', completions: 3, parallelism: 3, successPolicy: { rules: [{ succeededIndexes: '0-1' }] } }, { startTime: ago(30), active: 1, ready: 0, terminating: 0, succeeded: 2, completedIndexes: '0,1' }), [running]);
    await f.syncer.syncJob('ns/pi');
    assert.deepEqual(summary(f.client.writes()), ['delete pods pi-2-bbbbb', 'update jobs/status pi', 'patch pods pi-2-bbbbb']);
    const [first] = statuses(f.client);
    assert.deepEqual(first!.conditions?.map((c) => [c.type, c.reason, c.message]), [['SuccessCriteriaMet', 'SuccessPolicy', 'Matched rules at index 0']]);
    assert.deepEqual(first!.uncountedTerminatedPods, {});
    assert.equal(first!.failed, undefined);
  });

  it('does nothing for a finished Job or one managed by another controller', async () => {
    const done = fixture(job({}, { conditions: [{ type: 'Complete', status: 'True' }] }), []);
    await done.syncer.syncJob('ns/pi');
    const other = fixture(job({ managedBy: 'example.com/queue' }), []);
    await other.syncer.syncJob('ns/pi');
    assert.deepEqual([...done.client.writes(), ...other.client.writes()], []);
  });
});

describe('job helpers', () => {
  it('formats completed indexes as kube does', () => {
    assert.equal(formatIndexes([5, 0, 1, 2, 7, 8]), '0-2,5,7,8');
    assert.deepEqual([...parseIndexes('0-2,5,9', 6)].sort(), [0, 1, 2, 5]);
  });

  it('doubles the back-off from 10 s up to 10 minutes, and a later success resets it', () => {
    const t = now.getTime();
    const three = newBackoffRecord(undefined, [], [pod('a', 'Failed', { finishedAgo: 30 }), pod('b', 'Failed', { finishedAgo: 20 }), pod('c', 'Failed', { finishedAgo: 0 })], t);
    assert.equal(remainingBackoffMs(three, t), 40_000);
    assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 20, lastFailureTime: t }, t), 600_000);
    const reset = newBackoffRecord(three, [pod('d', 'Succeeded', { finishedAgo: 0 })], [], t + 1000);
    assert.equal(remainingBackoffMs(reset, t), 0);
  });

  it('matches pod failure policy rules on conditions and ignores the failure for Ignore', () => {
    const p = pod('x', 'Failed');
    p.status!.conditions = [{ type: 'DisruptionTarget', status: 'True' }];
    const m = matchPodFailurePolicy({ rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] }, p);
    assert.deepEqual(m, { countFailed: false, action: 'Ignore' });
  });
});
