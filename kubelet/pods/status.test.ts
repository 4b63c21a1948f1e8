import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import { podRow } from '../../lib/api/core/pod.js';
import type { PodSpec } from '../../lib/api/core/types.js';
import { computePodStatus, type StatusContext, type WaitingReason } from './status.js';
import type { RuntimeContainer, RuntimePod } from './runtime.js';

const t0 = Date.parse('2026-12-06T12:00:00Z');
const now = t0 + 60_000;

function pod(spec: Partial<PodSpec> = {}, status: Pod['status'] = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1', creationTimestamp: '2026-12-06T11:59:00Z' },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox:1.36' }], ...spec } as PodSpec,
    status: { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-12-06T11:59:00Z' }], ...status },
  } as Pod;
}

let seq = 0;
function ctr(name: string, state: RuntimeContainer['state'], opts: Partial<RuntimeContainer> = {}): RuntimeContainer {
  seq++;
  return {
    id: `${'0'.repeat(60)}${String(seq).padStart(4, '0')}`,
    sandboxId: 's1',
    name,
    init: false,
    state,
    restartCount: 0,
    createdAt: t0 + seq * 1000,
    startedAt: t0 + seq * 1000,
    finishedAt: state === 'CONTAINER_EXITED' ? t0 + seq * 1000 + 500 : 0,
    exitCode: 0,
    reason: state === 'CONTAINER_EXITED' ? 'Completed' : '',
    message: '',
    image: 'docker.io/library/busybox:1.36',
    imageRef: 'sha256:abc',
    hash: '',
    ...opts,
  };
}

function rt(containers: RuntimeContainer[], ready = true): RuntimePod {
  return {
    uid: 'u1',
    name: 'p',
    namespace: 'ns',
    sandboxes: [{ id: 's1', attempt: 0, state: ready ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY', createdAt: t0, ips: ready ? ['10.244.230.7'] : [] }],
    containers: [...containers].sort((a, b) => b.createdAt - a.createdAt),
  };
}

function ctx(waiting: [string, WaitingReason][] = [], ready = true): StatusContext {
  return { now, hostIP: '192.0.2.10', waiting: new Map(waiting), ready: () => ready, started: () => true };
}

const table = (p: Pod, s: Pod['status']) => podRow({ ...p, status: s }, new Date(now)).status;

describe('computePodStatus', () => {
  test('a new pod waits in ContainerCreating; its sandbox not up yet', () => {
    const p = pod();
    const s = computePodStatus(p, undefined, ctx());
    assert.equal(s.phase, 'Pending');
    assert.deepEqual(s.containerStatuses![0], { name: 'app', state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0, image: 'busybox:1.36', imageID: '', started: false });
    assert.equal(s.conditions!.find((c) => c.type === 'PodReadyToStartContainers')!.status, 'False');
    assert.equal(s.startTime, '2026-12-06T12:01:00Z');
    assert.equal(s.hostIP, '192.0.2.10');
    assert.equal(s.podIP, undefined);
    assert.equal(table(p, s), 'ContainerCreating');
  });

  test('a running, ready container: Running, every condition True, the runtime\'s ids', () => {
    const c = ctr('app', 'CONTAINER_RUNNING');
    const s = computePodStatus(pod(), rt([c]), ctx());
    assert.equal(s.phase, 'Running');
    assert.equal(s.podIP, '10.244.230.7');
    assert.deepEqual(s.podIPs, [{ ip: '10.244.230.7' }]);
    assert.deepEqual(s.containerStatuses![0], {
      name: 'app',
      state: { running: { startedAt: new Date(c.startedAt).toISOString().replace(/\.\d+Z$/, 'Z') } },
      lastState: {},
      ready: true,
      restartCount: 0,
      image: 'docker.io/library/busybox:1.36',
      imageID: 'sha256:abc',
      containerID: `containerd://${c.id}`,
      started: true,
    });
    assert.deepEqual(s.conditions!.map((x) => `${x.type}=${x.status}`), ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True']);
    assert.equal(s.conditions!.find((x) => x.type === 'PodScheduled')!.lastTransitionTime, '2026-12-06T11:59:00Z', 'the scheduler\'s condition is kept');
  });

  test('not ready by its readiness probe: Running but not Ready', () => {
    const s = computePodStatus(pod(), rt([ctr('app', 'CONTAINER_RUNNING')]), ctx([], false));
    assert.equal(s.containerStatuses![0]!.ready, false);
    const ready = s.conditions!.find((x) => x.type === 'Ready')!;
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'ContainersNotReady');
    assert.equal(ready.message, 'containers with unready status: [app]');
  });

  test('exit 3 under Never: Failed, Error, the termination message', () => {
    const p = pod({ restartPolicy: 'Never' });
    const s = computePodStatus(p, rt([ctr('app', 'CONTAINER_EXITED', { exitCode: 3, reason: 'Error', message: 'bad\n' })]), ctx());
    assert.equal(s.phase, 'Failed');
    const term = s.containerStatuses![0]!.state!.terminated!;
    assert.equal(term.exitCode, 3);
    assert.equal(term.reason, 'Error');
    assert.equal(term.message, 'bad\n');
    assert.ok(term.containerID?.startsWith('containerd://'));
    assert.equal(s.conditions!.find((x) => x.type === 'PodReadyToStartContainers')!.status, 'False');
    assert.equal(table(p, s), 'Error');
  });

  test('OOMKilled comes from the runtime', () => {
    const p = pod({ restartPolicy: 'Never' });
    const s = computePodStatus(p, rt([ctr('app', 'CONTAINER_EXITED', { exitCode: 137, reason: 'OOMKilled' })]), ctx());
    assert.equal(table(p, s), 'OOMKilled');
  });

  test('all done under OnFailure: Succeeded, Completed', () => {
    const p = pod({ restartPolicy: 'OnFailure' });
    const s = computePodStatus(p, rt([ctr('app', 'CONTAINER_EXITED')]), ctx());
    assert.equal(s.phase, 'Succeeded');
    assert.equal(table(p, s), 'Completed');
  });

  test('crash loop: Waiting CrashLoopBackOff with the last exit as lastState and the restart count', () => {
    const old = ctr('app', 'CONTAINER_EXITED', { exitCode: 1, reason: 'Error', restartCount: 1 });
    const older = ctr('app', 'CONTAINER_EXITED', { exitCode: 1, reason: 'Error', restartCount: 0, createdAt: t0 });
    const p = pod();
    const s = computePodStatus(p, rt([older, old]), ctx([['app', { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=p_ns(u1)' }]]));
    const cs = s.containerStatuses![0]!;
    assert.deepEqual(cs.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=p_ns(u1)' } });
    assert.equal(cs.lastState!.terminated!.exitCode, 1);
    assert.equal(cs.lastState!.terminated!.containerID, `containerd://${old.id}`);
    assert.equal(cs.restartCount, 1);
    assert.equal(cs.containerID, `containerd://${old.id}`);
    assert.equal(s.phase, 'Running');
    assert.equal(table(p, s), 'CrashLoopBackOff');
  });

  test('image pull errors and config errors show as Waiting with their reason', () => {
    for (const reason of ['ErrImagePull', 'ImagePullBackOff', 'CreateContainerConfigError', 'ErrImageNeverPull']) {
      const p = pod();
      const s = computePodStatus(p, rt([]), ctx([['app', { reason, message: 'm' }]]));
      assert.deepEqual(s.containerStatuses![0]!.state, { waiting: { reason, message: 'm' } });
      assert.equal(s.phase, 'Pending');
      assert.equal(table(p, s), reason);
    }
  });

  test('init containers: PodInitializing while they run, Init:N/M in the table', () => {
    const p = pod({ initContainers: [{ name: 'i1', image: 'busybox' }, { name: 'i2', image: 'busybox' }] });
    const s1 = computePodStatus(p, rt([ctr('i1', 'CONTAINER_RUNNING', { init: true })]), ctx());
    assert.equal(s1.phase, 'Pending');
    assert.equal(s1.containerStatuses![0]!.state!.waiting!.reason, 'PodInitializing');
    assert.equal(s1.initContainerStatuses![1]!.state!.waiting!.reason, 'PodInitializing');
    assert.equal(table(p, s1), 'Init:0/2');
    const s2 = computePodStatus(p, rt([ctr('i1', 'CONTAINER_EXITED', { init: true }), ctr('i2', 'CONTAINER_RUNNING', { init: true })]), ctx());
    assert.equal(table(p, s2), 'Init:1/2');
    const s3 = computePodStatus(p, rt([ctr('i1', 'CONTAINER_EXITED', { init: true }), ctr('i2', 'CONTAINER_EXITED', { init: true })]), ctx());
    assert.equal(table(p, s3), 'PodInitializing');
    assert.equal(s3.conditions!.find((x) => x.type === 'Initialized')!.status, 'True');
    const s4 = computePodStatus(p, rt([ctr('i1', 'CONTAINER_EXITED', { init: true, exitCode: 2, reason: 'Error' })]), ctx([['i1', { reason: 'CrashLoopBackOff', message: 'x' }]]));
    assert.equal(table(p, s4), 'Init:CrashLoopBackOff');
  });

  test('a hostNetwork pod has the host\'s address', () => {
    const s = computePodStatus(pod({ hostNetwork: true }), rt([ctr('app', 'CONTAINER_RUNNING')]), ctx());
    assert.equal(s.podIP, '192.0.2.10');
  });

  test('a status computed again from itself is equal (nothing to write)', () => {
    const p = pod();
    const r = rt([ctr('app', 'CONTAINER_RUNNING')]);
    const s1 = computePodStatus(p, r, ctx());
    const s2 = computePodStatus({ ...p, status: s1 }, r, { ...ctx(), now: now + 30_000 });
    assert.deepEqual(s2, s1);
  });

  test('a pod the API has as Failed keeps its phase and reason', () => {
    const p = pod({}, { phase: 'Failed', reason: 'OutOfcpu', message: 'Pod was rejected: …' });
    const s = computePodStatus(p, undefined, ctx());
    assert.equal(s.phase, 'Failed');
    assert.equal(s.reason, 'OutOfcpu');
  });
});
