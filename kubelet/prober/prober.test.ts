import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { test } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Container } from '../../lib/api/core/types.js';
import { Logger } from '../../lib/log.js';
import { Registry } from '../../lib/metrics.js';
import { FakeClock } from '../../lib/testing/fakeclock.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { CriError } from '../cri/client.js';
import type { ExecSyncResponse } from '../cri/types.js';
import { LifecycleHookError, ProbeManager, runLifecycleHook } from './prober.js';

/** flush lets the probes' promise chains run (the fake runtime answers at once). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/** FakeRuntime answers ExecSync per command (its first word): exit codes set by the test. */
class FakeRuntime {
  readonly calls: string[] = [];
  readonly exits = new Map<string, number | Error>();
  async execSync(_id: string, cmd: string[]): Promise<ExecSyncResponse> {
    const name = cmd[0] ?? '';
    this.calls.push(name);
    const exit = this.exits.get(name) ?? 0;
    if (exit instanceof Error) throw exit;
    return { exit_code: exit, stdout: Buffer.from(exit === 0 ? '' : `${name} says no`), stderr: Buffer.alloc(0) };
  }
  count(name: string): number {
    return this.calls.filter((c) => c === name).length;
  }
}

function setup(opts: { restartPolicy?: string } = {}) {
  const metrics = new Registry();
  const clock = new FakeClock(1_000_000);
  const runtime = new FakeRuntime();
  const recorder = new FakeRecorder();
  const changes: string[] = [];
  const failures: string[] = [];
  const manager = new ProbeManager({
    runtime,
    recorder,
    log: new Logger('test', 0, () => undefined),
    clock,
    metrics,
    random: () => 0.5,
    onChange: (uid) => changes.push(uid),
    onLivenessFailure: (uid, name, message) => failures.push(`${uid} ${name} ${message}`),
  });
  // The manager is old enough that no first run is jittered, unless a test says otherwise.
  clock.step(60_000);
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    spec: { containers: [], restartPolicy: opts.restartPolicy ?? 'Always' },
  };
  /** step advances fake time by s seconds and lets the probes that fell due finish. */
  const step = async (s: number) => {
    for (let i = 0; i < s; i++) {
      clock.step(1000);
      await flush();
    }
  };
  return { clock, runtime, recorder, changes, failures, manager, pod, step, metrics };
}

const exec = (name: string, extra: object = {}) => ({ exec: { command: [name] }, periodSeconds: 10, ...extra });

test('readiness is false until the first success, then follows the thresholds', async (t) => {
  const { runtime, recorder, changes, manager, pod, step, metrics } = setup();
  t.after(() => manager.stop());
  const c: Container = { name: 'app', readinessProbe: exec('ready', { failureThreshold: 2 }) };
  manager.addContainer(pod, c, 'c1', '10.0.0.1');
  assert.equal(manager.ready('u1', 'app'), false);
  await step(1);
  assert.equal(runtime.count('ready'), 1);
  assert.equal(manager.ready('u1', 'app'), true);
  assert.deepEqual(changes, ['u1']);

  runtime.exits.set('ready', 1);
  await step(10);
  // One failure is below failureThreshold 2: still ready, but the event is recorded.
  assert.equal(manager.ready('u1', 'app'), true);
  assert.deepEqual(recorder.events, ['Warning Unhealthy Readiness probe failed: ready says no']);
  await step(10);
  assert.equal(manager.ready('u1', 'app'), false);
  assert.deepEqual(changes, ['u1', 'u1']);
  const total = await metrics.getSingleMetricAsString('prober_probe_total');
  assert.match(total, /prober_probe_total\{probe_type="Readiness",container="app",pod="web",namespace="default",result="successful",pod_uid="u1"\} 1/);
  assert.match(total, /prober_probe_total\{probe_type="Readiness",container="app",pod="web",namespace="default",result="failed",pod_uid="u1"\} 2/);
});

test('a container found running by a restarted kubelet keeps its reported readiness until the probe fails failureThreshold times', async (t) => {
  const { runtime, changes, manager, pod, step } = setup();
  t.after(() => manager.stop());
  const c: Container = { name: 'app', readinessProbe: exec('ready', { failureThreshold: 2 }), startupProbe: exec('boot') };
  manager.addContainer(pod, c, 'c1', '10.0.0.1', undefined, { ready: true, started: true });
  // Ready at once, before any probe ran, and the startup probe is not run again.
  assert.equal(manager.ready('u1', 'app'), true);
  assert.equal(manager.started('u1', 'app'), true);
  runtime.exits.set('ready', 1);
  await step(5);
  assert.equal(runtime.count('boot'), 0);
  assert.equal(runtime.count('ready'), 1);
  assert.equal(manager.ready('u1', 'app'), true, 'one failure is below the threshold');
  await step(10);
  assert.equal(manager.ready('u1', 'app'), false);
  assert.deepEqual(changes, ['u1']);

  // A status that said not ready starts from not ready, as a new container does.
  const d: Container = { name: 'side', readinessProbe: exec('ready') };
  manager.addContainer(pod, d, 'c2', '10.0.0.1', undefined, { ready: false, started: true });
  assert.equal(manager.ready('u1', 'side'), false);
});

test('a liveness probe failing failureThreshold times asks for a restart once, then holds until a new container', async (t) => {
  const { runtime, recorder, failures, manager, pod, step } = setup();
  t.after(() => manager.stop());
  const c: Container = { name: 'web', livenessProbe: exec('alive') };
  runtime.exits.set('alive', 1);
  manager.addContainer(pod, c, 'c1', '10.0.0.1');
  await step(1);
  await step(20);
  assert.equal(runtime.count('alive'), 3);
  assert.deepEqual(failures, ['u1 web Container web failed liveness probe, will be restarted']);
  assert.deepEqual(recorder.events, Array(3).fill('Warning Unhealthy Liveness probe failed: alive says no'));
  await step(30);
  assert.equal(runtime.count('alive'), 3, 'no probes while the container is being killed');

  // The pod worker restarts it: a new container ID starts afresh.
  runtime.exits.set('alive', 0);
  manager.addContainer(pod, c, 'c2', '10.0.0.1');
  await step(1);
  assert.equal(runtime.count('alive'), 4);
  assert.equal(failures.length, 1);
});

test('with restartPolicy Never the liveness message does not promise a restart', async (t) => {
  const { runtime, failures, manager, pod, step } = setup({ restartPolicy: 'Never' });
  t.after(() => manager.stop());
  runtime.exits.set('alive', 1);
  manager.addContainer(pod, { name: 'job', livenessProbe: exec('alive', { failureThreshold: 1 }) }, 'c1', '10.0.0.1');
  await step(1);
  assert.deepEqual(failures, ['u1 job Container job failed liveness probe']);
});

test('the startup probe gates readiness and liveness, and triggers them once it passes', async (t) => {
  const { runtime, changes, failures, manager, pod, step } = setup();
  t.after(() => manager.stop());
  const c: Container = {
    name: 'slow',
    startupProbe: exec('startup', { failureThreshold: 30 }),
    readinessProbe: exec('ready', { periodSeconds: 60 }),
    livenessProbe: exec('alive', { periodSeconds: 60 }),
  };
  runtime.exits.set('startup', 1);
  manager.addContainer(pod, c, 'c1', '10.0.0.1');
  await step(1);
  await step(30);
  assert.equal(runtime.count('startup'), 4);
  assert.equal(runtime.count('ready'), 0);
  assert.equal(runtime.count('alive'), 0);
  assert.equal(manager.started('u1', 'slow'), false);
  assert.equal(manager.ready('u1', 'slow'), false);

  runtime.exits.set('startup', 0);
  await step(10);
  assert.equal(manager.started('u1', 'slow'), true);
  // Readiness ran right away instead of at its next 60 s tick.
  assert.equal(runtime.count('ready'), 1);
  assert.equal(manager.ready('u1', 'slow'), true);
  await step(60);
  assert.equal(runtime.count('startup'), 5, 'the startup probe stops once it passed');
  assert.deepEqual(failures, []);
  assert.ok(changes.length >= 2);
});

test('a startup probe that never passes restarts the container', async (t) => {
  const { runtime, failures, manager, pod, step } = setup();
  t.after(() => manager.stop());
  runtime.exits.set('startup', 1);
  manager.addContainer(pod, { name: 'web', startupProbe: exec('startup', { failureThreshold: 2 }) }, 'c1', '10.0.0.1');
  await step(1);
  await step(10);
  assert.deepEqual(failures, ['u1 web Container web failed startup probe, will be restarted']);
});

test('initialDelaySeconds counts from the container start; nothing probes before', async (t) => {
  const { clock, runtime, manager, pod, step } = setup();
  t.after(() => manager.stop());
  manager.addContainer(pod, { name: 'web', readinessProbe: exec('ready', { initialDelaySeconds: 25 }) }, 'c1', '10.0.0.1', clock.now());
  await step(29);
  assert.equal(runtime.count('ready'), 0);
  await step(1);
  assert.equal(runtime.count('ready'), 1);
});

test('a probe that cannot be run is retried, reported as errored and not counted', async (t) => {
  const { runtime, recorder, changes, failures, manager, pod, step } = setup();
  t.after(() => manager.stop());
  runtime.exits.set('alive', new CriError('ExecSync', grpc.status.NOT_FOUND, 'container c1 not found'));
  manager.addContainer(pod, { name: 'web', livenessProbe: exec('alive', { failureThreshold: 1 }) }, 'c1', '10.0.0.1');
  await step(1);
  await step(20);
  assert.equal(runtime.count('alive'), 9, 'three tries per period');
  assert.deepEqual(failures, []);
  assert.deepEqual(changes, []);
  assert.equal(recorder.events[0], 'Warning Unhealthy Liveness probe errored and resulted in unknown state: rpc error: code = NotFound desc = container c1 not found');
});

test('a port name the container lacks errors with the kubelet text and leaves the container unready', async (t) => {
  const { recorder, manager, pod, step } = setup();
  t.after(() => manager.stop());
  manager.addContainer(pod, { name: 'web', readinessProbe: { tcpSocket: { port: 'http' } } }, 'c1', '10.0.0.1');
  await step(1);
  assert.equal(manager.ready('u1', 'web'), false);
  assert.equal(recorder.events[0], 'Warning Unhealthy Readiness probe errored and resulted in unknown state: strconv.Atoi: parsing "http": invalid syntax');
});

test('a pod being deleted is not restarted by its liveness probe', async (t) => {
  const { runtime, failures, manager, pod, step } = setup();
  t.after(() => manager.stop());
  runtime.exits.set('alive', 1);
  manager.addContainer(pod, { name: 'web', livenessProbe: exec('alive', { failureThreshold: 1 }) }, 'c1', '10.0.0.1');
  manager.updatePod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-12-06T17:00:00Z' } });
  await step(30);
  assert.equal(runtime.count('alive'), 0);
  assert.deepEqual(failures, []);
  assert.equal(manager.workerCount, 0);
});

test('a young kubelet spreads first runs over a period; removeContainer and removePod stop probing', async () => {
  const clock = new FakeClock(0);
  const runtime = new FakeRuntime();
  const manager = new ProbeManager({
    runtime,
    recorder: new FakeRecorder(),
    log: new Logger('test', 0, () => undefined),
    clock,
    random: () => 0.5,
    onChange: () => undefined,
    onLivenessFailure: () => undefined,
  });
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [] } };
  manager.addContainer(pod, { name: 'a', readinessProbe: exec('a') }, 'c1', '10.0.0.1');
  manager.addContainer(pod, { name: 'b', readinessProbe: exec('b') }, 'c2', '10.0.0.1');
  clock.step(4_999);
  await flush();
  assert.equal(runtime.calls.length, 0);
  clock.step(1);
  await flush();
  assert.deepEqual(runtime.calls.sort(), ['a', 'b']);
  manager.removeContainer('u1', 'a');
  clock.step(10_000);
  await flush();
  assert.deepEqual(runtime.calls.sort(), ['a', 'b', 'b']);
  manager.removePod('u1');
  assert.equal(manager.workerCount, 0);
  clock.step(60_000);
  await flush();
  assert.equal(runtime.calls.length, 3);
});

test('lifecycle hooks: exec output and exit code in the failure message, as the kubelet words it', async () => {
  const runtime = new FakeRuntime();
  runtime.exits.set('sh', 3);
  const ctx = { runtime, containerId: 'c1', podIP: '10.0.0.1', timeoutSeconds: 30, pod: { metadata: { name: 'web', namespace: 'default', uid: 'u1' } } };
  await runLifecycleHook({ exec: { command: ['true'] } }, { name: 'app' }, ctx);
  await assert.rejects(runLifecycleHook({ exec: { command: ['sh', '-c', 'exit 3'] } }, { name: 'app' }, ctx), (err: unknown) => {
    assert.ok(err instanceof LifecycleHookError);
    assert.equal(
      err.message,
      'Exec lifecycle hook ([sh -c exit 3]) for Container "app" in Pod "web_default(u1)" failed - error: command \'sh -c exit 3\' exited with 3: , message: "sh says no"',
    );
    assert.equal(err.timedOut, false);
    return true;
  });
  await assert.rejects(runLifecycleHook({ tcpSocket: { port: 8080 } }, { name: 'app' }, ctx), {
    message: 'Cannot run handler: invalid handler: &LifecycleHandler{Exec:nil,HTTPGet:nil,TCPSocket:&TCPSocketAction{Port:{0 8080 },Host:,},Sleep:nil,}',
  });
});

test('a sleep hook longer than its bound ends at the bound as a timed-out failure', async () => {
  const clock = new FakeClock(0);
  const ctx = { runtime: new FakeRuntime(), containerId: 'c1', podIP: undefined, timeoutSeconds: 5, clock, pod: { metadata: { name: 'web', namespace: 'default', uid: 'u1' } } };
  const short = runLifecycleHook({ sleep: { seconds: 2 } }, { name: 'app' }, ctx);
  clock.step(2_000);
  await short;
  const long = runLifecycleHook({ sleep: { seconds: 60 } }, { name: 'app' }, ctx);
  clock.step(5_000);
  await assert.rejects(long, (err: unknown) => {
    assert.ok(err instanceof LifecycleHookError && err.timedOut);
    assert.equal(err.message, 'Sleep lifecycle hook (60) for Container "app" in Pod "web_default(u1)" failed - error: container terminated before sleep hook finished');
    return true;
  });
});
