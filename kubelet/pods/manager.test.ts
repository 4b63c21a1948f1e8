import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import { ApiError } from '../../lib/client/client.js';
import { Pods } from '../../lib/client/resources.js';
import { newLogger } from '../../lib/log.js';
import { Registry } from '../../lib/metrics.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeClock } from '../../lib/testing/fakeclock.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { CriError, type CriClient } from '../cri/client.js';
import type { Container, ContainerConfig, ContainerStatus, PodSandbox, PodSandboxConfig } from '../cri/types.js';
import { PodManager } from './manager.js';

// A fake CRI runtime: sandboxes and containers in memory; a container started runs, or exits at
// once with exitOnStart's code. Every call is counted, so a test can tell a back-off from a hot
// loop.

const ns = (ms: number) => String(BigInt(ms) * 1_000_000n);

class FakeRuntime {
  readonly calls = new Map<string, number>();
  readonly sandboxes = new Map<string, PodSandbox>();
  readonly containers = new Map<string, Container & { status: ContainerStatus }>();
  images = new Set(['busybox:1.36']);
  exitOnStart?: number;
  private seq = 0;

  constructor(private readonly clock: FakeClock) {}

  private count(m: string): void {
    this.calls.set(m, (this.calls.get(m) ?? 0) + 1);
  }

  async listPodSandbox(filter?: { label_selector?: Record<string, string> }): Promise<PodSandbox[]> {
    this.count('ListPodSandbox');
    return [...this.sandboxes.values()].filter((s) => Object.entries(filter?.label_selector ?? {}).every(([k, v]) => s.labels[k] === v));
  }
  async listContainers(filter?: { label_selector?: Record<string, string> }): Promise<Container[]> {
    this.count('ListContainers');
    return [...this.containers.values()].filter((c) => Object.entries(filter?.label_selector ?? {}).every(([k, v]) => c.labels[k] === v));
  }
  async containerStatus(id: string) {
    this.count('ContainerStatus');
    const c = this.containers.get(id);
    if (!c) throw new CriError('ContainerStatus', 5, 'not found');
    return { status: structuredClone(c.status), info: {} };
  }
  async podSandboxStatus(id: string) {
    this.count('PodSandboxStatus');
    const s = this.sandboxes.get(id)!;
    return { status: { ...s, network: { ip: '10.244.230.9', additional_ips: [] }, linux: null }, info: {}, containers_statuses: [], timestamp: '0' };
  }
  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    this.count('RunPodSandbox');
    const id = `sb${++this.seq}`;
    this.sandboxes.set(id, { id, metadata: config.metadata, state: 'SANDBOX_READY', created_at: ns(this.clock.now()), labels: config.labels ?? {}, annotations: config.annotations ?? {}, runtime_handler: '' });
    return id;
  }
  async stopPodSandbox(id: string): Promise<void> {
    this.count('StopPodSandbox');
    const s = this.sandboxes.get(id);
    if (s) s.state = 'SANDBOX_NOTREADY';
  }
  async removePodSandbox(id: string): Promise<void> {
    this.count('RemovePodSandbox');
    this.sandboxes.delete(id);
    for (const [cid, c] of this.containers) if (c.pod_sandbox_id === id) this.containers.delete(cid);
  }
  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    this.count('CreateContainer');
    const id = `c${++this.seq}`;
    const now = ns(this.clock.now() + this.seq);
    const base = { id, metadata: config.metadata, image: { image: 'docker.io/library/busybox:1.36' }, image_ref: 'sha256:b0x', state: 'CONTAINER_CREATED' as const, created_at: now, labels: config.labels ?? {}, annotations: config.annotations ?? {} };
    this.containers.set(id, {
      ...base,
      pod_sandbox_id: sandboxId,
      image_id: 'sha256:b0x',
      status: { ...base, started_at: '0', finished_at: '0', exit_code: 0, reason: '', message: '', mounts: [], log_path: '', image_id: 'sha256:b0x' },
    });
    return id;
  }
  async startContainer(id: string): Promise<void> {
    this.count('StartContainer');
    const c = this.containers.get(id)!;
    const now = ns(this.clock.now());
    c.status.started_at = now;
    if (this.exitOnStart !== undefined) {
      c.state = c.status.state = 'CONTAINER_EXITED';
      c.status.exit_code = this.exitOnStart;
      c.status.reason = this.exitOnStart === 0 ? 'Completed' : 'Error';
      c.status.finished_at = now;
    } else c.state = c.status.state = 'CONTAINER_RUNNING';
  }
  async stopContainer(id: string): Promise<void> {
    this.count('StopContainer');
    const c = this.containers.get(id);
    if (c && c.state === 'CONTAINER_RUNNING') {
      c.state = c.status.state = 'CONTAINER_EXITED';
      c.status.exit_code = 137;
      c.status.reason = 'Error';
      c.status.finished_at = ns(this.clock.now());
    }
  }
  async removeContainer(id: string): Promise<void> {
    this.count('RemoveContainer');
    this.containers.delete(id);
  }
  async imageStatus(image: string | { image: string }) {
    this.count('ImageStatus');
    const name = typeof image === 'string' ? image : image.image;
    return this.images.has(name) ? { id: 'sha256:b0x', repo_tags: [name], repo_digests: [], size: '1000', uid: null, username: '', spec: null, pinned: false } : undefined;
  }
  async pullImage(image: string): Promise<string> {
    this.count('PullImage');
    throw new CriError('PullImage', 2, `failed to pull and unpack image "${image}": failed to resolve reference`);
  }
  async execSync() {
    return { stdout: Buffer.from(''), stderr: Buffer.from(''), exit_code: 0 };
  }
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** activeManager is the manager the current test runs; settle waits for its workers. */
let activeManager: PodManager | undefined;

/** settle lets the workers' promise chains (all on resolved fakes) run to their end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  // Volume set-up writes real files (libuv's pool, not the fake clock): wait for the workers.
  for (let i = 0; i < 5000 && activeManager?.busy; i++) await new Promise((r) => setTimeout(r, 1));
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

function setup(image = 'busybox:1.36', restartPolicy = 'Always') {
  const clock = new FakeClock(Date.parse('2026-12-06T12:00:00Z'));
  const runtime = new FakeRuntime(clock);
  const client = new FakeClient();
  const recorder = new FakeRecorder();
  const dir = mkdtempSync(join(tmpdir(), 'skiff-podmanager-'));
  dirs.push(dir);
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'uid-p', resourceVersion: '1' },
    spec: { nodeName: 'n1', restartPolicy, containers: [{ name: 'app', image, imagePullPolicy: 'IfNotPresent' }] },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  } as Pod;
  client.add(Pods, pod);
  const metrics = new Registry();
  const manager = new PodManager({
    nodeName: 'n1',
    client,
    runtime: runtime as unknown as CriClient,
    recorder,
    log: newLogger('kubelet-test', -1),
    metrics,
    clock,
    sources: { getConfigMap: async () => undefined, getSecret: async () => undefined },
    rootDir: join(dir, 'root'),
    podLogsDir: join(dir, 'logs'),
    cgroupParent: `/skiff-unit-test-nonexistent-${process.pid}`,
    clusterDNS: ['10.96.0.10'],
    clusterDomain: 'cluster.local',
    hostIP: '192.0.2.1',
    nodeAllocatable: () => ({ cpu: '2', memory: '4Gi', pods: '110' }),
  });
  activeManager = manager;
  const current = () => client.stored<Pod>(Pods, 'default', 'p')!;
  /** advance moves the fake time on in one-second steps, letting the workers run after each. */
  const advance = async (seconds: number) => {
    for (let i = 0; i < seconds; i++) {
      clock.step(1000);
      await settle();
    }
  };
  return { clock, runtime, client, recorder, manager, pod, current, advance, metrics };
}

describe('PodManager with a fake runtime', () => {
  test('a pod is started once and reported Running; later syncs change nothing', async () => {
    const { runtime, manager, pod, current, advance, client, recorder, metrics } = setup();
    await manager.start();
    manager.onPod(pod);
    await settle();
    assert.equal(current().status?.phase, 'Running');
    assert.equal(current().status?.podIP, '10.244.230.9');
    assert.deepEqual(recorder.events, ['Normal Pulled Container image "busybox:1.36" already present on machine', 'Normal Created Created container: app', 'Normal Started Started container app']);
    client.clearActions();
    await advance(120);
    assert.equal(runtime.calls.get('RunPodSandbox'), 1);
    assert.equal(runtime.calls.get('CreateContainer'), 1);
    assert.deepEqual(client.writes(), [], 'no status write when nothing changed');
    assert.equal(manager.runningPods, 1);
    assert.match(await metrics.getSingleMetricAsString('kubelet_pod_start_duration_seconds'), /kubelet_pod_start_duration_seconds_count 1$/m);
    await manager.stop();
  });

  test('a missing image: ErrImagePull, then ImagePullBackOff, pulls spaced 10 s, 20 s, 40 s… (no hot loop)', async () => {
    const { runtime, manager, pod, current, advance, recorder } = setup('nothere:1');
    await manager.start();
    manager.onPod(pod);
    await settle();
    const waiting = () => current().status?.containerStatuses?.[0]?.state?.waiting;
    assert.equal(waiting()?.reason, 'ErrImagePull');
    assert.equal(waiting()?.message, 'rpc error: code = Unknown desc = failed to pull and unpack image "nothere:1": failed to resolve reference');
    await advance(2);
    assert.equal(waiting()?.reason, 'ImagePullBackOff');
    assert.equal(waiting()?.message, 'Back-off pulling image "nothere:1": ErrImagePull: rpc error: code = Unknown desc = failed to pull and unpack image "nothere:1": failed to resolve reference');
    await advance(150);
    // Pulls at 0, 10, 30, 70 and 150 s: five in 152 s.
    assert.equal(runtime.calls.get('PullImage'), 5);
    assert.ok(recorder.events.includes('Warning Failed Error: ErrImagePull'));
    assert.ok(recorder.events.includes('Normal BackOff Back-off pulling image "nothere:1"'));
    assert.ok(recorder.events.includes('Warning Failed Error: ImagePullBackOff'));
    await manager.stop();
  });

  test('a crashing container restarts with the back-off: at 0, 10, 30, 70 s', async () => {
    const { runtime, manager, pod, current, advance, recorder } = setup();
    runtime.exitOnStart = 1;
    await manager.start();
    manager.onPod(pod);
    await settle();
    await advance(75);
    // First run, then restarts at once (1), after 10 s (2), 20 s (3), 40 s (4).
    assert.equal(runtime.calls.get('CreateContainer'), 5);
    const cs = current().status!.containerStatuses![0]!;
    assert.equal(cs.restartCount, 4);
    assert.equal(cs.state?.waiting?.reason, 'CrashLoopBackOff');
    assert.equal(cs.state?.waiting?.message, 'back-off 1m20s restarting failed container=app pod=p_default(uid-p)');
    assert.equal(cs.lastState?.terminated?.exitCode, 1);
    assert.ok(recorder.events.includes('Warning BackOff Back-off restarting failed container app in pod p_default(uid-p)'));
    // Two instances kept (current and previous), older ones collected.
    assert.ok(runtime.containers.size <= 2, `${runtime.containers.size} containers kept`);
    await manager.stop();
  });

  test('a status write that conflicts is retried on a fresh copy; one the API refuses is tried again later', async () => {
    const { manager, pod, current, client, advance } = setup();
    let conflicts = 1;
    client.reactors.push((a) => {
      if (a.verb === 'update' && a.subresource === 'status' && conflicts-- > 0) return new ApiError({ code: 409, reason: 'Conflict', message: 'the object has been modified' });
      return undefined;
    });
    await manager.start();
    manager.onPod(pod);
    await settle();
    assert.equal(current().status?.phase, 'Running');
    let down = true;
    client.reactors.push((a) => (down && a.verb === 'update' ? new ApiError({ code: 503, reason: 'ServiceUnavailable', message: 'down' }) : undefined));
    // The container exits: the status cannot be written while the API refuses it…
    const rt = (manager as unknown as { opts: { runtime: FakeRuntime } }).opts.runtime;
    for (const c of rt.containers.values()) await rt.stopContainer(c.id);
    await advance(2);
    assert.equal(current().status?.containerStatuses?.[0]?.state?.running !== undefined, true);
    // …and catches up once it is back.
    down = false;
    await advance(12);
    const cs = current().status?.containerStatuses?.[0];
    assert.equal(cs?.restartCount, 1, 'restarted meanwhile, and now reported');
    assert.equal(cs?.lastState?.terminated?.exitCode, 137);
    await manager.stop();
  });

  test('pods fed before start() wait for it, then run', async () => {
    const { runtime, manager, pod, current } = setup();
    manager.onPod(pod);
    await settle();
    assert.equal(runtime.calls.get('RunPodSandbox'), undefined);
    await manager.start();
    await settle();
    assert.equal(current().status?.phase, 'Running');
    await manager.stop();
  });

  test('restartPolicy Never, exit 0: Succeeded, sandbox stopped, nothing restarted', async () => {
    const { runtime, manager, pod, current, advance } = setup('busybox:1.36', 'Never');
    runtime.exitOnStart = 0;
    await manager.start();
    manager.onPod(pod);
    await settle();
    await advance(5);
    assert.equal(current().status?.phase, 'Succeeded');
    assert.equal(runtime.calls.get('CreateContainer'), 1);
    assert.equal(runtime.calls.get('RunPodSandbox'), 1);
    assert.ok([...runtime.sandboxes.values()].every((s) => s.state === 'SANDBOX_NOTREADY'));
    assert.equal(manager.runningPods, 0);
    await manager.stop();
  });

  test('a graceful deletion stops the containers, removes the sandbox and confirms the delete on the uid', async () => {
    const { runtime, manager, pod, current, client } = setup();
    await manager.start();
    manager.onPod(pod);
    await settle();
    // The API marks the pod for deletion (a new resourceVersion), as a graceful DELETE does.
    const deleting = await client.update<Pod>(Pods, { ...current(), metadata: { ...current().metadata, deletionTimestamp: '2026-12-06T12:00:30Z', deletionGracePeriodSeconds: 30 } });
    client.clearActions();
    manager.onPod(deleting);
    await settle();
    assert.equal(runtime.calls.get('StopContainer'), 1);
    assert.equal(runtime.sandboxes.size, 0);
    const del = client.actions.find((a) => a.verb === 'delete');
    assert.deepEqual(del?.options, { gracePeriodSeconds: 0, preconditions: { uid: 'uid-p' } });
    await manager.stop();
  });
});
