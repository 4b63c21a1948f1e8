import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Pod, podRow, pods } from '../lib/api/core/pod.js';
import { parseLabelSelector } from '../lib/machinery/labels.js';
import { goDuration } from '../lib/machinery/duration.js';
import { crashLoopBackOffMs } from '../lib/pod/backoff.js';
import { statusEqual } from '../lib/pod/status.js';
import { SimMode, computePodStatus, imageID, imageRef, simModeOf } from './pod.js';

const t0 = Date.parse('2025-03-01T10:00:00Z');
const sec = 1000;

function pod(over: { labels?: Record<string, string>; restartPolicy?: string; spec?: Partial<Pod['spec']> } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u-1', labels: over.labels, resourceVersion: '5', creationTimestamp: '2025-03-01T09:59:59Z' },
    spec: { nodeName: 'sim-0', restartPolicy: over.restartPolicy ?? 'Always', containers: [{ name: 'app', image: 'nginx:1.27' }], ...over.spec } as Pod['spec'],
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  };
}

/** step applies computePodStatus at t and returns the pod with the new status (as the API would store it). */
function step(p: Pod, t: number, mode: SimMode = SimMode.Run) {
  const r = computePodStatus(p, { now: t, mode, hostIP: '172.30.0.1', podIP: '10.244.0.2' });
  return { pod: { ...p, status: r.status }, nextAt: r.nextAt, changed: !statusEqual(r.status, p.status) };
}

const row = (p: Pod, t: number) => podRow(p, new Date(t));

describe('a running pod', () => {
  test('becomes Running and Ready with addresses, start time, conditions and a started container', () => {
    const { pod: p, nextAt } = step(pod(), t0);
    const st = p.status!;
    assert.equal(st.phase, 'Running');
    assert.equal(st.startTime, '2025-03-01T10:00:00Z');
    assert.deepEqual([st.hostIP, st.hostIPs, st.podIP, st.podIPs], ['172.30.0.1', [{ ip: '172.30.0.1' }], '10.244.0.2', [{ ip: '10.244.0.2' }]]);
    assert.deepEqual(
      st.conditions!.map((c) => [c.type, c.status]),
      [
        ['PodReadyToStartContainers', 'True'],
        ['Initialized', 'True'],
        ['Ready', 'True'],
        ['ContainersReady', 'True'],
        ['PodScheduled', 'True'],
      ],
    );
    const c = st.containerStatuses![0]!;
    assert.equal(c.ready, true);
    assert.equal(c.started, true);
    assert.equal(c.restartCount, 0);
    assert.deepEqual(c.state, { running: { startedAt: '2025-03-01T10:00:00Z' } });
    assert.match(c.containerID!, /^sim:\/\/[0-9a-f]{64}$/);
    assert.equal(c.image, 'docker.io/library/nginx:1.27');
    assert.equal(st.qosClass, 'BestEffort', 'the QoS class stays');
    assert.equal(nextAt, undefined);
    assert.deepEqual(row(p, t0 + 5 * sec), { ready: '1/1', status: 'Running', restarts: '0', age: '6s', ip: '10.244.0.2', node: 'sim-0', nominatedNode: '<none>', readinessGates: '<none>' });
  });

  test('computing again later changes nothing (no write), timestamps included', () => {
    const first = step(pod(), t0).pod;
    const again = step(first, t0 + 3600 * sec);
    assert.equal(again.changed, false);
  });

  test('the scheduler\'s PodScheduled condition and other conditions are kept', () => {
    const p = pod();
    p.status!.conditions = [
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-03-01T09:59:58Z' },
      { type: 'example.com/gate', status: 'True', lastTransitionTime: '2025-03-01T09:59:58Z' },
    ];
    p.spec.readinessGates = [{ conditionType: 'example.com/gate' }];
    const st = step(p, t0).pod.status!;
    assert.equal(st.conditions!.find((c) => c.type === 'PodScheduled')!.lastTransitionTime, '2025-03-01T09:59:58Z');
    assert.ok(st.conditions!.some((c) => c.type === 'example.com/gate'));
    assert.equal(st.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
  });

  test('an unmet readiness gate keeps it not Ready with the kubelet\'s message', () => {
    const p = pod({ spec: { readinessGates: [{ conditionType: 'example.com/lb' }] } });
    const ready = step(p, t0).pod.status!.conditions!.find((c) => c.type === 'Ready')!;
    assert.deepEqual([ready.status, ready.reason, ready.message], ['False', 'ReadinessGatesNotReady', 'corresponding condition of pod readiness gate "example.com/lb" does not exist.']);
  });

  test('init containers have completed; sidecars run and count in READY', () => {
    const p = pod({
      spec: {
        initContainers: [
          { name: 'setup', image: 'busybox' },
          { name: 'proxy', image: 'envoy', restartPolicy: 'Always' },
        ],
      },
    });
    const st = step(p, t0).pod;
    const [setup, proxy] = st.status!.initContainerStatuses!;
    assert.deepEqual(setup!.state, { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2025-03-01T10:00:00Z', finishedAt: '2025-03-01T10:00:00Z', containerID: setup!.containerID } });
    assert.equal(setup!.ready, true);
    assert.ok(proxy!.state?.running);
    assert.equal(row(st, t0).ready, '2/2');
    assert.equal(row(st, t0).status, 'Running');
  });

  test('unready: Running, never Ready, with ContainersNotReady', () => {
    const st = step(pod({ labels: { 'skiff.dev/sim': 'unready' } }), t0, SimMode.Unready).pod;
    const ready = st.status!.conditions!.find((c) => c.type === 'Ready')!;
    assert.deepEqual([st.status!.phase, ready.status, ready.reason, ready.message], ['Running', 'False', 'ContainersNotReady', 'containers with unready status: [app]']);
    assert.equal(row(st, t0).ready, '0/1');
  });
});

describe('failures', () => {
  test('fail with restartPolicy Never: Failed, exit code 1, reason Error, address kept in status', () => {
    const st = step(pod({ restartPolicy: 'Never' }), t0, SimMode.Fail).pod;
    assert.equal(st.status!.phase, 'Failed');
    const c = st.status!.containerStatuses![0]!;
    assert.deepEqual([c.state?.terminated?.exitCode, c.state?.terminated?.reason, c.ready, c.started], [1, 'Error', false, false]);
    const ready = st.status!.conditions!.find((x) => x.type === 'Ready')!;
    assert.deepEqual([ready.status, ready.reason], ['False', 'PodFailed']);
    assert.equal(row(st, t0).status, 'Error');
  });

  test('fail with restartPolicy Always or OnFailure: the container is restarted, so it crash-loops', () => {
    for (const policy of ['Always', 'OnFailure']) {
      const st = step(pod({ restartPolicy: policy }), t0, SimMode.Fail).pod;
      assert.equal(st.status!.phase, 'Running', policy);
      assert.equal(st.status!.containerStatuses![0]!.state?.waiting?.reason, 'CrashLoopBackOff', policy);
    }
  });

  test('succeed: Succeeded with OnFailure or Never (reason Completed); restarted with Always', () => {
    const done = step(pod({ restartPolicy: 'OnFailure' }), t0, SimMode.Succeed).pod;
    assert.equal(done.status!.phase, 'Succeeded');
    assert.equal(done.status!.containerStatuses![0]!.state?.terminated?.reason, 'Completed');
    assert.equal(done.status!.conditions!.find((c) => c.type === 'Initialized')!.reason, 'PodCompleted');
    assert.equal(row(done, t0).status, 'Completed');
    const loop = step(pod({ restartPolicy: 'Always' }), t0, SimMode.Succeed).pod;
    assert.equal(loop.status!.containerStatuses![0]!.lastState?.terminated?.reason, 'Completed');
  });

  test('crashloop: restarts after 10s, 20s, 40s … at most 5m, RESTARTS counting up', () => {
    let p = pod({ labels: { 'skiff.dev/sim': 'crashloop' } });
    let r = step(p, t0, SimMode.CrashLoop);
    p = r.pod;
    let c = p.status!.containerStatuses![0]!;
    assert.equal(c.restartCount, 1);
    assert.equal(c.state?.waiting?.message, 'back-off 10s restarting failed container=app pod=web_default(u-1)');
    assert.deepEqual([c.lastState?.terminated?.exitCode, c.lastState?.terminated?.reason], [1, 'Error']);
    assert.equal(r.nextAt, t0 + 10 * sec);
    assert.equal(row(p, t0 + 4 * sec).status, 'CrashLoopBackOff');
    assert.equal(row(p, t0 + 4 * sec).restarts, '1 (4s ago)');
    assert.equal(p.status!.conditions!.find((x) => x.type === 'Ready')!.status, 'False');

    // Before the back-off is over nothing changes.
    assert.equal(step(p, t0 + 9 * sec, SimMode.CrashLoop).changed, false);
    assert.equal(step(p, t0 + 9 * sec, SimMode.CrashLoop).nextAt, t0 + 10 * sec);

    r = step(p, t0 + 10 * sec, SimMode.CrashLoop);
    p = r.pod;
    c = p.status!.containerStatuses![0]!;
    assert.equal(c.restartCount, 2);
    assert.match(c.state!.waiting!.message!, /^back-off 20s /);
    assert.equal(r.nextAt, t0 + 30 * sec);
    assert.equal(p.status!.startTime, '2025-03-01T10:00:00Z', 'the pod keeps its start time');

    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 9].map(crashLoopBackOffMs).map(goDuration), ['10s', '20s', '40s', '1m20s', '2m40s', '5m0s', '5m0s', '5m0s']);
  });

  test('a label added to a running pod makes it crash; removed again, the container runs with one more restart', () => {
    let p = step(pod(), t0).pod;
    p = step(p, t0 + 60 * sec, SimMode.CrashLoop).pod;
    let c = p.status!.containerStatuses![0]!;
    assert.equal(c.restartCount, 1);
    assert.equal(c.lastState?.terminated?.startedAt, '2025-03-01T10:00:00Z', 'the run that crashed started with the pod');
    p = step(p, t0 + 120 * sec, SimMode.Run).pod;
    c = p.status!.containerStatuses![0]!;
    assert.equal(c.restartCount, 2);
    assert.deepEqual(c.state, { running: { startedAt: '2025-03-01T10:02:00Z' } });
    assert.equal(c.ready, true);
  });

  test('activeDeadlineSeconds: Failed with reason DeadlineExceeded once the deadline passes', () => {
    let r = step(pod({ spec: { activeDeadlineSeconds: 30 } }), t0);
    assert.equal(r.nextAt, t0 + 30 * sec);
    r = step(r.pod, t0 + 30 * sec);
    const st = r.pod.status!;
    assert.deepEqual([st.phase, st.reason, st.message], ['Failed', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline']);
    assert.equal(st.containerStatuses![0]!.state?.terminated?.exitCode, 137);
    // kubectl prints the killed container's reason, as for a real kubelet's kill.
    assert.equal(row(r.pod, t0 + 31 * sec).status, 'Error');
    assert.equal(r.nextAt, undefined);
  });

  test('every status passes the apiserver\'s pod status validation', () => {
    const base = pod({ restartPolicy: 'Never' });
    for (const mode of Object.values(SimMode)) {
      const next = step(base, t0, mode).pod;
      assert.deepEqual(pods.validateStatusUpdate!(next, base), [], mode);
    }
  });
});

test('modes: the label first, then --crashloop-selector and --fail-selector', () => {
  const sel = { failSelector: parseLabelSelector('tier=batch'), crashLoopSelector: parseLabelSelector('flaky') };
  assert.equal(simModeOf(pod({ labels: { 'skiff.dev/sim': 'fail' } }), sel), 'fail');
  assert.equal(simModeOf(pod({ labels: { 'skiff.dev/sim': 'succeed', flaky: '1' } }), sel), 'succeed');
  assert.equal(simModeOf(pod({ labels: { tier: 'batch' } }), sel), 'fail');
  assert.equal(simModeOf(pod({ labels: { flaky: 'yes', tier: 'batch' } }), sel), 'crashloop');
  assert.equal(simModeOf(pod({ labels: { 'skiff.dev/sim': 'what' } }), sel), 'run');
});

test('image references are reported fully qualified, with a stable digest', () => {
  assert.equal(imageRef('nginx'), 'docker.io/library/nginx:latest');
  assert.equal(imageRef('bitnami/redis:7'), 'docker.io/bitnami/redis:7');
  assert.equal(imageRef('registry.k8s.io/pause:3.10'), 'registry.k8s.io/pause:3.10');
  assert.equal(imageRef('localhost:5000/app'), 'localhost:5000/app:latest');
  assert.match(imageID('nginx'), /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
  assert.equal(imageID('nginx'), imageID('nginx'));
});

test('skiff.dev/sim-run-for keeps a batch pod running that long, then it exits with skiff.dev/sim-exit-code', () => {
  const p = pod({ restartPolicy: 'Never' });
  p.metadata.annotations = { 'skiff.dev/sim-run-for': '3s', 'skiff.dev/sim-exit-code': '42' };
  const first = step(p, t0, SimMode.Fail);
  assert.equal(first.pod.status!.phase, 'Running');
  assert.equal(first.pod.status!.containerStatuses![0]!.ready, true);
  assert.equal(first.nextAt, t0 + 3 * sec);
  const still = step(first.pod, t0 + 2 * sec, SimMode.Fail);
  assert.equal(still.changed, false);
  const done = step(first.pod, t0 + 3 * sec, SimMode.Fail).pod;
  assert.equal(done.status!.phase, 'Failed');
  const term = done.status!.containerStatuses![0]!.state?.terminated;
  assert.deepEqual([term?.exitCode, term?.reason, term?.startedAt, term?.finishedAt], [42, 'Error', '2025-03-01T10:00:00Z', '2025-03-01T10:00:03Z']);
});
