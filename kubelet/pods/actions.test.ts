import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import type { PodSpec } from '../../lib/api/core/types.js';
import { computePodActions, type PodActions } from './actions.js';
import type { RuntimeContainer, RuntimePod, RuntimeSandbox } from './runtime.js';

// A fake runtime is plain data: sandboxes and containers as the runtime reports them.

const now = 1_800_000_000_000;

function pod(spec: Partial<PodSpec> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1', ...meta },
    spec: { containers: [{ name: 'app', image: 'busybox' }], ...spec } as PodSpec,
  } as Pod;
}

function sandbox(id: string, attempt = 0, state: RuntimeSandbox['state'] = 'SANDBOX_READY', ips = ['10.244.230.2']): RuntimeSandbox {
  return { id, attempt, state, createdAt: now - 60_000 + attempt, ips };
}

let seq = 0;
function ctr(name: string, state: RuntimeContainer['state'], opts: Partial<RuntimeContainer> = {}): RuntimeContainer {
  seq++;
  return {
    id: `c${seq}`,
    sandboxId: 's1',
    name,
    init: false,
    state,
    restartCount: 0,
    createdAt: now - 50_000 + seq,
    startedAt: now - 50_000 + seq,
    finishedAt: state === 'CONTAINER_EXITED' ? now - 1000 : 0,
    exitCode: 0,
    reason: '',
    message: '',
    image: 'docker.io/library/busybox:1.36',
    imageRef: 'sha256:abc',
    hash: '',
    ...opts,
  };
}

function runtime(sandboxes: RuntimeSandbox[], containers: RuntimeContainer[]): RuntimePod {
  return { uid: 'u1', name: 'p', namespace: 'ns', sandboxes, containers: [...containers].sort((a, b) => b.createdAt - a.createdAt) };
}

/** brief is the actions as one line, for table tests. */
function brief(a: PodActions): string {
  const parts: string[] = [];
  if (a.killPod) parts.push('killPod');
  if (a.createSandbox) parts.push(`createSandbox#${a.sandboxAttempt}`);
  for (const k of a.killContainers) parts.push(`kill:${k.name}`);
  if (a.startInit) parts.push(`init:${a.startInit}`);
  for (const s of a.startSidecars) parts.push(`sidecar:${s}`);
  for (const s of a.startContainers) parts.push(`start:${s}`);
  for (const b of a.backOff) parts.push(`backoff:${b.name}`);
  return parts.join(' ') || 'nothing';
}

describe('computePodActions', () => {
  const initSpec = { initContainers: [{ name: 'i1', image: 'busybox' }, { name: 'i2', image: 'busybox' }] };
  const cases: [string, Pod, RuntimePod | undefined, string][] = [
    ['a new pod: a sandbox and every container', pod({ containers: [{ name: 'a' }, { name: 'b' }] } as Partial<PodSpec>), undefined, 'createSandbox#0 start:a start:b'],
    ['a new pod with init containers: the first init container only', pod(initSpec), undefined, 'createSandbox#0 init:i1'],
    ['a running container: nothing to do', pod(), runtime([sandbox('s1')], [ctr('app', 'CONTAINER_RUNNING')]), 'nothing'],
    [
      'a sandbox gone NOTREADY (node restart): replaced with attempt+1, containers started again',
      pod(),
      runtime([sandbox('s1', 0, 'SANDBOX_NOTREADY')], [ctr('app', 'CONTAINER_EXITED', { exitCode: 137 })]),
      'killPod createSandbox#1 start:app',
    ],
    ['a ready sandbox without an address is replaced', pod(), runtime([sandbox('s1', 2, 'SANDBOX_READY', [])], []), 'killPod createSandbox#3 start:app'],
    ['a hostNetwork sandbox needs no address', pod({ hostNetwork: true }), runtime([sandbox('s1', 0, 'SANDBOX_READY', [])], [ctr('app', 'CONTAINER_RUNNING')]), 'nothing'],
    [
      'restartPolicy Never, sandbox lost after a run: the pod is done, no new sandbox',
      pod({ restartPolicy: 'Never' }),
      runtime([sandbox('s1', 0, 'SANDBOX_NOTREADY')], [ctr('app', 'CONTAINER_EXITED', { exitCode: 0 })]),
      'killPod',
    ],
    [
      'OnFailure, sandbox lost: a container that succeeded is not run again',
      pod({ restartPolicy: 'OnFailure', containers: [{ name: 'ok' }, { name: 'bad' }] } as Partial<PodSpec>),
      runtime([sandbox('s1', 0, 'SANDBOX_NOTREADY')], [ctr('ok', 'CONTAINER_EXITED', { exitCode: 0 }), ctr('bad', 'CONTAINER_EXITED', { exitCode: 2 })]),
      'killPod createSandbox#1 start:bad',
    ],
    ['first init container running: wait', pod(initSpec), runtime([sandbox('s1')], [ctr('i1', 'CONTAINER_RUNNING', { init: true })]), 'nothing'],
    ['first init container done: the second', pod(initSpec), runtime([sandbox('s1')], [ctr('i1', 'CONTAINER_EXITED', { init: true })]), 'init:i2'],
    [
      'every init container done: the containers',
      pod(initSpec),
      runtime([sandbox('s1')], [ctr('i1', 'CONTAINER_EXITED', { init: true }), ctr('i2', 'CONTAINER_EXITED', { init: true })]),
      'start:app',
    ],
    [
      'an init container failed under Never: the pod is stopped',
      pod({ ...initSpec, restartPolicy: 'Never' }),
      runtime([sandbox('s1')], [ctr('i1', 'CONTAINER_EXITED', { init: true, exitCode: 1 })]),
      'killPod',
    ],
    [
      'an init container failed under Always: restarted (first restart has no back-off)',
      pod(initSpec),
      runtime([sandbox('s1')], [ctr('i1', 'CONTAINER_EXITED', { init: true, exitCode: 1 })]),
      'init:i1',
    ],
    [
      'a regular container started: init containers are not looked at again',
      pod(initSpec),
      runtime([sandbox('s1')], [ctr('app', 'CONTAINER_RUNNING')]),
      'nothing',
    ],
    ['exit 3 under Never: stays exited, the sandbox is stopped', pod({ restartPolicy: 'Never' }), runtime([sandbox('s1')], [ctr('app', 'CONTAINER_EXITED', { exitCode: 3 })]), 'killPod'],
    ['exit 0 under OnFailure: stays exited', pod({ restartPolicy: 'OnFailure' }), runtime([sandbox('s1')], [ctr('app', 'CONTAINER_EXITED', { exitCode: 0 })]), 'killPod'],
    ['exit 1 under OnFailure, first exit: restarted at once', pod({ restartPolicy: 'OnFailure' }), runtime([sandbox('s1')], [ctr('app', 'CONTAINER_EXITED', { exitCode: 1 })]), 'start:app'],
    [
      'exit 1 under Always after one restart, 1 s ago: back-off 10 s',
      pod(),
      runtime([sandbox('s1')], [ctr('app', 'CONTAINER_EXITED', { exitCode: 1, restartCount: 1, finishedAt: now - 1000 })]),
      'backoff:app',
    ],
    [
      'exit 1 under Always after one restart, 11 s ago: restarted',
      pod(),
      runtime([sandbox('s1')], [ctr('app', 'CONTAINER_EXITED', { exitCode: 1, restartCount: 1, finishedAt: now - 11_000 })]),
      'start:app',
    ],
    [
      'after 3 restarts the back-off is 40 s: 30 s after the exit it still waits',
      pod(),
      runtime([sandbox('s1')], [ctr('app', 'CONTAINER_EXITED', { exitCode: 1, restartCount: 3, finishedAt: now - 30_000 })]),
      'backoff:app',
    ],
    ['a container created but never started: removed and started again', pod(), runtime([sandbox('s1')], [ctr('app', 'CONTAINER_CREATED')]), 'kill:app start:app'],
    [
      'a sidecar is started in its turn, then the next init container once it runs',
      pod({ initContainers: [{ name: 'proxy', image: 'b', restartPolicy: 'Always' }, { name: 'i1', image: 'b' }] }),
      runtime([sandbox('s1')], [ctr('proxy', 'CONTAINER_RUNNING', { init: true })]),
      'init:i1',
    ],
    [
      'a sidecar that exits after the pod started is restarted beside the containers',
      pod({ initContainers: [{ name: 'proxy', image: 'b', restartPolicy: 'Always' }] }),
      runtime([sandbox('s1')], [ctr('proxy', 'CONTAINER_EXITED', { init: true, exitCode: 1 }), ctr('app', 'CONTAINER_RUNNING')]),
      'sidecar:proxy',
    ],
    [
      'the containers done under Never: the pod stops, sidecars with it',
      pod({ restartPolicy: 'Never', initContainers: [{ name: 'proxy', image: 'b', restartPolicy: 'Always' }] }),
      runtime([sandbox('s1')], [ctr('proxy', 'CONTAINER_RUNNING', { init: true }), ctr('app', 'CONTAINER_EXITED', { exitCode: 0 })]),
      'killPod',
    ],
    ['a pod being deleted: stopped', pod({}, { deletionTimestamp: '2026-01-01T00:00:00Z' }), runtime([sandbox('s1')], [ctr('app', 'CONTAINER_RUNNING')]), 'killPod'],
  ];
  for (const [name, p, rt, want] of cases) {
    test(name, () => assert.equal(brief(computePodActions(p, rt, { now })), want));
  }

  test('a failed liveness probe kills and restarts the container (Never: kills only)', () => {
    const rt = runtime([sandbox('s1')], [ctr('app', 'CONTAINER_RUNNING')]);
    const failed = new Map([['app', 'Container app failed liveness probe, will be restarted']]);
    const a = computePodActions(pod(), rt, { now, livenessFailed: failed });
    assert.equal(brief(a), 'kill:app start:app');
    assert.equal(a.killContainers[0]!.message, 'Container app failed liveness probe, will be restarted');
    assert.equal(brief(computePodActions(pod({ restartPolicy: 'Never' }), rt, { now, livenessFailed: failed })), 'killPod kill:app');
  });

  test('the back-off says how long and when it ends, in the kubelet words', () => {
    const rt = runtime([sandbox('s1')], [ctr('app', 'CONTAINER_EXITED', { exitCode: 1, restartCount: 2, finishedAt: now - 5000 })]);
    const [b] = computePodActions(pod(), rt, { now }).backOff;
    assert.equal(b!.message, 'back-off 20s restarting failed container=app pod=p_ns(u1)');
    assert.equal(b!.until, now - 5000 + 20_000);
  });

  test('a container of the old sandbox does not count as started in the new one', () => {
    const rt = runtime([sandbox('s2', 1), sandbox('s1', 0, 'SANDBOX_NOTREADY')], [ctr('app', 'CONTAINER_EXITED', { exitCode: 137, sandboxId: 's1' })]);
    rt.sandboxes.sort((a, b) => b.attempt - a.attempt);
    assert.equal(brief(computePodActions(pod(), rt, { now })), 'start:app');
  });
});
