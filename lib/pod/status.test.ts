import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerStatus, PodCondition } from '../api/core/pod.js';
import type { PodSpec } from '../api/core/types.js';
import { kubeletPodConditions, podPhase, shouldRestartContainer, statusEqual } from './status.js';

const t0 = '2024-05-01T12:00:00Z';
const t1 = '2024-05-01T12:05:00Z';

const running = (name: string, ready = true): ContainerStatus => ({ name, ready, restartCount: 0, started: true, state: { running: { startedAt: t0 } } });
const exited = (name: string, exitCode: number): ContainerStatus => ({ name, ready: false, restartCount: 0, started: false, state: { terminated: { exitCode, startedAt: t0, finishedAt: t0 } } });
const backingOff = (name: string, exitCode: number): ContainerStatus => ({
  name,
  ready: false,
  restartCount: 1,
  started: false,
  state: { waiting: { reason: 'CrashLoopBackOff' } },
  lastState: { terminated: { exitCode, startedAt: t0, finishedAt: t0 } },
});
const creating = (name: string): ContainerStatus => ({ name, ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } });

function spec(restartPolicy: string, init: { name: string; sidecar?: boolean }[] = [], readinessGates?: string[]): PodSpec {
  return {
    containers: [{ name: 'app', image: 'x' }],
    initContainers: init.map((c) => ({ name: c.name, image: 'x', ...(c.sidecar ? { restartPolicy: 'Always' } : {}) })),
    restartPolicy,
    ...(readinessGates ? { readinessGates: readinessGates.map((conditionType) => ({ conditionType })) } : {}),
  } as PodSpec;
}

describe('podPhase', () => {
  const cases: [string, PodSpec, ContainerStatus[], ContainerStatus[], string][] = [
    ['no statuses yet: Pending', spec('Always'), [], [], 'Pending'],
    ['a container being created: Pending', spec('Always'), [], [creating('app')], 'Pending'],
    ['running: Running', spec('Always'), [], [running('app', false)], 'Running'],
    ['an init container still running: Pending', spec('Always', [{ name: 'init' }]), [running('init')], [creating('app')], 'Pending'],
    ['a failed init container under Never: Failed', spec('Never', [{ name: 'init' }]), [exited('init', 1)], [creating('app')], 'Failed'],
    ['a sidecar running beside the app: Running', spec('Always', [{ name: 'proxy', sidecar: true }]), [running('proxy')], [running('app')], 'Running'],
    ['exited 1 under Always, backing off: Running', spec('Always'), [], [backingOff('app', 1)], 'Running'],
    ['exited 1 under OnFailure, backing off: Running', spec('OnFailure'), [], [backingOff('app', 1)], 'Running'],
    ['exited 0 under OnFailure: Succeeded', spec('OnFailure'), [], [exited('app', 0)], 'Succeeded'],
    ['exited 1 under Never: Failed', spec('Never'), [], [exited('app', 1)], 'Failed'],
    ['exited 0 under Never: Succeeded', spec('Never'), [], [exited('app', 0)], 'Succeeded'],
  ];
  for (const [name, s, init, main, want] of cases) test(name, () => assert.equal(podPhase(s, init, main), want));

  test('a terminal pod is Succeeded or Failed whatever the restart policy', () => {
    assert.equal(podPhase(spec('Always'), [], [exited('app', 0)], true), 'Succeeded');
    assert.equal(podPhase(spec('Always'), [], [exited('app', 137)], true), 'Failed');
  });
});

describe('kubeletPodConditions', () => {
  const byType = (cs: PodCondition[]) => Object.fromEntries(cs.map((c) => [c.type, [c.status, c.reason ?? '', c.message ?? '']]));

  test('a ready pod: every condition True, in the kubelet order, the scheduler\'s kept', () => {
    const scheduled: PodCondition = { type: 'PodScheduled', status: 'True', lastTransitionTime: t0 };
    const got = kubeletPodConditions({ spec: spec('Always'), current: [scheduled], phase: 'Running', containerStatuses: [running('app')], sandboxReady: true, nowText: t1 });
    assert.deepEqual(
      got.map((c) => `${c.type}=${c.status}`),
      ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'],
    );
    assert.equal(got[4], scheduled);
  });

  test('unready containers and sidecars are named, and Ready follows ContainersReady', () => {
    const got = byType(
      kubeletPodConditions({
        spec: spec('Always', [{ name: 'proxy', sidecar: true }]),
        phase: 'Running',
        initContainerStatuses: [running('proxy', false)],
        containerStatuses: [running('app', false)],
        sandboxReady: true,
        nowText: t1,
      }),
    );
    assert.deepEqual(got.ContainersReady, ['False', 'ContainersNotReady', 'containers with unready status: [proxy app]']);
    assert.deepEqual(got.Ready, got.ContainersReady);
  });

  test('readiness gates keep a pod with ready containers not Ready', () => {
    const got = byType(
      kubeletPodConditions({
        spec: spec('Always', [], ['example.com/lb', 'example.com/dns']),
        current: [{ type: 'example.com/dns', status: 'False' }],
        phase: 'Running',
        containerStatuses: [running('app')],
        sandboxReady: true,
        nowText: t1,
      }),
    );
    assert.deepEqual(got.Ready, [
      'False',
      'ReadinessGatesNotReady',
      'corresponding condition of pod readiness gate "example.com/lb" does not exist., the status of pod readiness gate "example.com/dns" is not "True", but False',
    ]);
    assert.deepEqual(got['example.com/dns'], ['False', '', ''], 'other conditions are kept');
  });

  test('an unfinished init container: not Initialized; a Succeeded pod: PodCompleted', () => {
    const init = byType(
      kubeletPodConditions({ spec: spec('Always', [{ name: 'migrate' }]), phase: 'Pending', initContainerStatuses: [running('migrate')], containerStatuses: [creating('app')], sandboxReady: true, nowText: t1 }),
    );
    assert.deepEqual(init.Initialized, ['False', 'ContainersNotInitialized', 'containers with incomplete status: [migrate]']);
    const done = byType(kubeletPodConditions({ spec: spec('Never'), phase: 'Succeeded', containerStatuses: [exited('app', 0)], sandboxReady: false, nowText: t1 }));
    assert.deepEqual(done.Initialized, ['True', 'PodCompleted', '']);
    assert.deepEqual(done.Ready, ['False', 'PodCompleted', '']);
    assert.deepEqual(done.ContainersReady, ['False', 'PodCompleted', '']);
    assert.deepEqual(done.PodReadyToStartContainers, ['False', '', '']);
  });

  test('a condition keeps its transition time while its status holds', () => {
    const current: PodCondition[] = [{ type: 'Ready', status: 'True', lastTransitionTime: t0 }];
    const again = kubeletPodConditions({ spec: spec('Always'), current, phase: 'Running', containerStatuses: [running('app')], sandboxReady: true, nowText: t1 });
    assert.equal(again.find((c) => c.type === 'Ready')!.lastTransitionTime, t0);
    const flipped = kubeletPodConditions({ spec: spec('Always'), current, phase: 'Running', containerStatuses: [running('app', false)], sandboxReady: true, nowText: t1 });
    assert.equal(flipped.find((c) => c.type === 'Ready')!.lastTransitionTime, t1);
  });
});

test('shouldRestartContainer follows the restart policy', () => {
  assert.deepEqual(
    [[undefined, 0], ['Always', 1], ['OnFailure', 0], ['OnFailure', 1], ['Never', 1]].map(([p, code]) => shouldRestartContainer(p as string | undefined, code as number)),
    [true, true, false, true, false],
  );
});

test('statusEqual treats missing, null and empty alike and ignores key order', () => {
  assert.equal(statusEqual({ a: 1, b: [], c: null }, { a: 1 }), true);
  assert.equal(statusEqual({ x: { y: 1, z: 2 } }, { x: { z: 2, y: 1 } }), true);
  assert.equal(statusEqual({ a: 1 }, { a: 2 }), false);
  assert.equal(statusEqual([1, 2], [2, 1]), false);
});
