// The pod workers end to end on a real containerd, runc and CNI: a containerd of the test's own in
// a temp dir (skiff's images imported), an apiserver from the harness, and a PodManager in the
// test process fed by a pod informer, as kubelet/main.ts feeds it. Everything is asserted through
// the API, as a user sees it: Running and Ready with a pod IP, exit codes and reasons, the
// crash-loop back-off, init containers in order, OOMKilled, image pull errors, admission,
// graceful deletion with SIGTERM, and adoption by a new PodManager without restarts. Afterwards
// nothing is left: no sandbox, container, cgroup, log directory, bridge or process.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { cgroupHierarchies, mountsUnder } from '../kubelet/containerd.js';
import { CriClient } from '../kubelet/cri/client.js';
import { PodManager, type PodManagerOptions } from '../kubelet/pods/manager.js';
import type { Pod } from '../lib/api/core/pod.js';
import { podRow } from '../lib/api/core/pod.js';
import { ApiError, isNotFound, RestClient } from '../lib/client/client.js';
import { EventRecorder } from '../lib/client/events.js';
import { CoreEvents, ConfigMaps, Pods, Secrets } from '../lib/client/resources.js';
import { wallClock } from '../lib/clock.js';
import { newSharedInformer, type SharedInformer } from '../lib/controller/informer.js';
import { newLogger } from '../lib/log.js';
import { newMetricsRegistry } from '../lib/metrics.js';
import { containerdFixture, missingNodeTools, waitFor as waitUntil } from './node-fixture.js';
import { startCluster, type Cluster } from './harness.js';

const skip = missingNodeTools();
// This test's own /24 and bridge prefix (skp…), so it runs beside other node tests.
const subnet = '10.244.230.0/24';
const fixture = containerdFixture({ skip, name: 'pods', bridgePrefix: 'skp', subnet });
const { dir, bridge, cgroupRoot, suffix } = fixture;
const nodeName = `skp-node-${suffix}`;

let cluster: Cluster | undefined;
let cri: CriClient;
let client: RestClient;
let informer: SharedInformer<Pod> | undefined;
let manager: PodManager | undefined;
let managerOpts: PodManagerOptions;
/** written are the statuses the manager wrote, by pod name (the last one last). */
const written = new Map<string, Pod['status'][]>();

after(async () => {
  await manager?.stop();
  await informer?.stop();
  cri?.close();
  await cluster?.stop();
  await fixture.cleanup();
});

/** waitFor is node-fixture's, with this file's 60 s default. */
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> => waitUntil(what, fn, timeoutMs);

const getPod = (name: string) => client.get<Pod>(Pods, 'default', name);

/** waitPod waits until the named pod satisfies ok and returns it. */
async function waitPod(name: string, what: string, ok: (p: Pod) => boolean, timeoutMs = 60_000): Promise<Pod> {
  let last: Pod | undefined;
  try {
    return await waitFor(`${name}: ${what}`, async () => {
      last = await getPod(name);
      return ok(last) ? last : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last?.status)}; events: ${JSON.stringify(await eventsOf(name).catch(() => []))}`);
  }
}

const statusText = (p: Pod) => podRow(p, new Date()).status;

function busyboxPod(name: string, command: string[], extra: Partial<Pod['spec']> = {}, container: Record<string, unknown> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName,
      terminationGracePeriodSeconds: 5,
      containers: [{ name: 'main', image: 'busybox:1.36', command, ...container }],
      ...extra,
    },
  } as Pod;
}

async function eventsOf(name: string): Promise<string[]> {
  const list = await client.list<{ involvedObject: { name: string }; type: string; reason: string; message: string }>(CoreEvents, 'default');
  return list.items.filter((e) => e.involvedObject.name === name).map((e) => `${e.type} ${e.reason} ${e.message}`);
}

/** runtimeContainers lists the test containerd's containers of a pod by its uid label. */
async function runtimeContainers(uid: string) {
  return cri.listContainers({ label_selector: { 'io.kubernetes.pod.uid': uid } });
}

function newManager(): PodManager {
  return new PodManager(managerOpts);
}

function feed(m: PodManager): void {
  informer!.on('add', (p) => p.spec?.nodeName === nodeName && m.onPod(p));
  informer!.on('update', (p) => p.spec?.nodeName === nodeName && m.onPod(p));
  informer!.on('delete', (p) => p.spec?.nodeName === nodeName && m.onPodDelete(p));
}

before(async () => {
  if (skip) return;
  ({ cri } = await fixture.start());
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const baseClient = new RestClient(kc, { userAgent: 'kubelet-pods-test' });
  // The manager's client records each status it writes (the last status of a deleted pod).
  client = new Proxy(baseClient, {
    get(target, prop, receiver) {
      if (prop === 'update') {
        return async (r: unknown, obj: Pod, opts?: { subresource?: string }) => {
          if (opts?.subresource === 'status') {
            const list = written.get(obj.metadata.name ?? '') ?? [];
            list.push(structuredClone(obj.status));
            written.set(obj.metadata.name ?? '', list);
          }
          return target.update(r as never, obj, opts);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const log = newLogger('kubelet');
  const get = async <T>(r: typeof ConfigMaps, ns: string, name: string) => {
    try {
      return await baseClient.get<T>(r, ns, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  managerOpts = {
    nodeName,
    client,
    runtime: cri,
    recorder: new EventRecorder(baseClient, { component: 'kubelet', host: nodeName }),
    log,
    metrics: newMetricsRegistry('kubelet-test'),
    clock: wallClock,
    sources: { getConfigMap: (ns, name) => get(ConfigMaps, ns, name), getSecret: (ns, name) => get(Secrets, ns, name) },
    rootDir: join(dir, 'kubelet'),
    podLogsDir: join(dir, 'pods'),
    cgroupParent: cgroupRoot,
    clusterDNS: ['10.96.0.10'],
    clusterDomain: 'cluster.local',
    hostIP: '127.0.0.1',
    nodeAllocatable: () => ({ cpu: '2', memory: '4Gi', pods: '110', 'ephemeral-storage': '10Gi' }),
    // Small, so that the rotation test writes little.
    containerLogMaxSize: 1024 * 1024,
    containerLogMaxFiles: 3,
  };
  informer = newSharedInformer<Pod>(kc, '/api/v1/pods', () => baseClient.list<Pod>(Pods));
  manager = newManager();
  await manager.start();
  feed(manager);
  informer.start();
  await informer.waitForSync();
});

test('pods on a real node: run, fail, crash-loop, init, OOM, pull errors, admission, deletion, adoption', { skip: skip || false, timeout: 280_000 }, async (t) => {
  const create = (p: Pod) => client.create<Pod>(Pods, 'default', p);
  await Promise.all([
    create(busyboxPod('web', ['sh', '-c', 'echo up; sleep 3600'], {}, { ports: [{ containerPort: 80 }] })),
    create(busyboxPod('fail', ['sh', '-c', 'echo "bad thing" > /dev/termination-log; exit 3'], { restartPolicy: 'Never' })),
    create(busyboxPod('crash', ['sh', '-c', 'exit 1'])),
    create({
      ...busyboxPod('init', ['sleep', '3600']),
      spec: {
        nodeName,
        terminationGracePeriodSeconds: 2,
        initContainers: [
          { name: 'first', image: 'busybox:1.36', command: ['sleep', '2'] },
          { name: 'second', image: 'busybox:1.36', command: ['true'] },
        ],
        containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'] }],
      },
    } as Pod),
    create(busyboxPod('oom', ['sh', '-c', 'sleep 1; dd if=/dev/zero of=/dev/null bs=64M count=1'], { restartPolicy: 'Never' }, { resources: { limits: { memory: '16Mi', cpu: '500m' } } })),
    // Port 1 on loopback: the pull fails at once with the registry's own error, no traffic leaves.
    create(busyboxPod('nopull', ['true'], {}, { image: '127.0.0.1:1/skiff/nothere:1' })),
    create(busyboxPod('huge', ['true'], {}, { resources: { requests: { cpu: '64' } } })),
    create(
      busyboxPod('secure', ['sh', '-c'], { securityContext: { runAsUser: 500, runAsGroup: 2000 } }, {
        args: ['echo "$GREETING"; sleep 3600'],
        workingDir: '/tmp',
        env: [{ name: 'GREETING', value: 'hello from env' }],
        securityContext: { runAsUser: 1000, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
      }),
    ),
    create(busyboxPod('chatty', ['sh', '-c', "head -c 3000000 /dev/zero | tr '\\0' x | fold -w 1000; while true; do echo tick; sleep 1; done"])),
    create({
      ...busyboxPod('sidecar', ['sleep', '3600']),
      spec: {
        nodeName,
        terminationGracePeriodSeconds: 2,
        initContainers: [{ name: 'proxy', image: 'busybox:1.36', command: ['sleep', '3600'], restartPolicy: 'Always' }],
        containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'] }],
      },
    } as Pod),
    create(busyboxPod('fallback', ['sh', '-c', 'echo first >&2; echo oops >&2; exit 2'], { restartPolicy: 'Never' }, { terminationMessagePolicy: 'FallbackToLogsOnError' })),
    create(busyboxPod('hostnet', ['sleep', '3600'], { hostNetwork: true, terminationGracePeriodSeconds: 2 })),
    create(busyboxPod('orphan', ['sleep', '3600'], { terminationGracePeriodSeconds: 2 })),
    create(busyboxPod('forced', ['sleep', '3600'], { terminationGracePeriodSeconds: 2 })),
    create(busyboxPod('deadline', ['sleep', '3600'], { activeDeadlineSeconds: 3, terminationGracePeriodSeconds: 2 })),
  ]);

  await t.test('a busybox pod becomes Running and Ready with a pod IP from the node', async () => {
    const p = await waitPod('web', 'Ready', (p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
    assert.equal(p.status?.phase, 'Running');
    assert.match(p.status?.podIP ?? '', /^10\.244\.230\.\d+$/);
    assert.equal(p.status?.hostIP, '127.0.0.1');
    assert.equal(p.status?.qosClass, 'BestEffort');
    assert.ok(p.status?.startTime);
    const cs = p.status?.containerStatuses?.[0];
    assert.equal(cs?.ready, true);
    assert.equal(cs?.started, true);
    assert.equal(cs?.restartCount, 0);
    assert.match(cs?.containerID ?? '', /^containerd:\/\/[0-9a-f]{64}$/);
    assert.ok(cs?.state?.running?.startedAt);
    assert.equal(cs?.image, 'docker.io/library/busybox:1.36');
    assert.ok(cs?.imageID);
    assert.deepEqual(
      p.status?.conditions?.map((c) => `${c.type}=${c.status}`),
      ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'],
    );
    const table = await cluster!.kubectl(['get', 'pod', 'web', '--no-headers']);
    assert.match(table.stdout, /^web\s+1\/1\s+Running\s+0\s/);
    const events = await eventsOf('web');
    for (const want of ['Normal Pulled Container image "busybox:1.36" already present on machine', 'Normal Created Created container: main', 'Normal Started Started container main']) {
      assert.ok(events.includes(want), `event ${want} in ${JSON.stringify(events)}`);
    }
    // The pod's resolv.conf and hostname as the sandbox config says.
    const [c] = await runtimeContainers(p.metadata.uid!);
    const resolv = await cri.execSync(c!.id, ['cat', '/etc/resolv.conf'], 10);
    assert.match(resolv.stdout.toString(), /nameserver 10\.96\.0\.10/);
    assert.match(resolv.stdout.toString(), /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
    assert.match(resolv.stdout.toString(), /options ndots:5/);
    assert.equal((await cri.execSync(c!.id, ['hostname'], 10)).stdout.toString(), 'web\n');
  });

  await t.test("`sh -c 'exit 3'` with restartPolicy Never ends Failed with Error, exit 3 and the termination message", async () => {
    const p = await waitPod('fail', 'Failed', (p) => p.status?.phase === 'Failed');
    const term = p.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(term?.exitCode, 3);
    assert.equal(term?.reason, 'Error');
    assert.equal(term?.message, 'bad thing\n');
    assert.ok(term?.startedAt && term.finishedAt);
    assert.equal(statusText(p), 'Error');
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'PodFailed');
    // The sandbox is stopped, the container kept (for logs).
    await waitFor('the sandbox stopped', async () => (await cri.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': p.metadata.uid! } })).every((s) => s.state === 'SANDBOX_NOTREADY'));
  });

  await t.test('FallbackToLogsOnError: the end of the log is the termination message', async () => {
    const p = await waitPod('fallback', 'Failed', (p) => p.status?.phase === 'Failed');
    assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.message, 'first\noops\n');
  });

  await t.test("a hostNetwork pod runs in the node's network namespace with the host's address", async () => {
    const p = await waitPod('hostnet', 'Running', (p) => p.status?.phase === 'Running');
    assert.equal(p.status?.podIP, '127.0.0.1');
    const [c] = await runtimeContainers(p.metadata.uid!);
    const netns = (pid: string) => spawnSync('readlink', [`/proc/${pid}/ns/net`]).stdout.toString().trim();
    const inside = (await cri.execSync(c!.id, ['readlink', '/proc/self/ns/net'], 10)).stdout.toString().trim();
    assert.equal(inside, netns('self'));
  });

  await t.test('a container that keeps exiting under Always is restarted with the crash-loop back-off', async () => {
    const p = await waitPod('crash', 'CrashLoopBackOff', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff');
    const cs = p.status!.containerStatuses![0]!;
    assert.ok(cs.restartCount >= 1, `restartCount ${cs.restartCount}`);
    assert.match(cs.state!.waiting!.message!, /^back-off (10s|20s|40s) restarting failed container=main pod=crash_default\(/);
    assert.equal(cs.lastState?.terminated?.exitCode, 1);
    assert.equal(cs.lastState?.terminated?.reason, 'Error');
    assert.equal(p.status?.phase, 'Running');
    assert.equal(statusText(p), 'CrashLoopBackOff');
    const events = await eventsOf('crash');
    assert.ok(events.some((e) => e.startsWith('Warning BackOff Back-off restarting failed container main in pod crash_default(')), JSON.stringify(events));
  });

  await t.test('init containers run in order before the containers', async () => {
    const p = await waitPod('init', 'Running', (p) => p.status?.phase === 'Running');
    // While the first ran, the pod was Pending and `kubectl get pods` said Init:0/2.
    const during = (written.get('init') ?? []).find((s) => statusText({ ...p, status: s }) === 'Init:0/2');
    assert.ok(during, JSON.stringify((written.get('init') ?? []).map((s) => statusText({ ...p, status: s }))));
    assert.equal(during.phase, 'Pending');
    assert.equal(during.containerStatuses?.[0]?.state?.waiting?.reason, 'PodInitializing');
    const [first, second] = p.status!.initContainerStatuses!;
    assert.equal(first!.state?.terminated?.reason, 'Completed');
    assert.equal(second!.state?.terminated?.reason, 'Completed');
    assert.ok(Date.parse(first!.state!.terminated!.finishedAt!) <= Date.parse(second!.state!.terminated!.startedAt!), 'second starts after first ends');
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Initialized')?.status, 'True');
    // The runtime agrees: second was created after first exited.
    const cs = await runtimeContainers(p.metadata.uid!);
    const created = (name: string) => BigInt(cs.find((c) => c.metadata.name === name)!.created_at);
    assert.ok(created('first') < created('second') && created('second') < created('main'));
  });

  await t.test('command, args, workingDir, env, securityContext and resources reach the container', async () => {
    const p = await waitPod('secure', 'Running', (p) => p.status?.containerStatuses?.[0]?.state?.running !== undefined);
    assert.equal(p.status?.qosClass, 'Burstable');
    const [c] = await runtimeContainers(p.metadata.uid!);
    const exec = async (cmd: string) => (await cri.execSync(c!.id, ['sh', '-c', cmd], 10)).stdout.toString().trim();
    assert.equal(await exec('id -u; id -g'), '1000\n2000');
    assert.equal(await exec('pwd'), '/tmp');
    assert.equal(await exec('echo $GREETING'), 'hello from env');
    assert.equal(await exec('touch /x 2>/dev/null && echo writable || echo read-only'), 'read-only');
    assert.equal(await exec('grep CapEff /proc/self/status'), 'CapEff:\t0000000000000000');
    // The cgroup limits as the kubelet sets them: 64Mi memory, 200m as a 20 ms quota per 100 ms, 102 shares.
    assert.equal(await exec('cat /sys/fs/cgroup/memory/memory.limit_in_bytes'), String(64 * 1024 * 1024));
    assert.equal(await exec('cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.shares'), '20000\n102');
    const log = await waitFor('the log line', async () => {
      const dirs = readdirSync(join(dir, 'pods')).filter((d) => d.startsWith('default_secure_'));
      const file = join(dir, 'pods', dirs[0]!, 'main', '0.log');
      return existsSync(file) && readFileSync(file, 'utf8');
    });
    assert.match(log, / stdout F hello from env\n/);
  });

  await t.test('a log over containerLogMaxSize is rotated and the container keeps logging to a fresh file', async () => {
    const p = await waitPod('chatty', 'Running', (p) => p.status?.phase === 'Running');
    const logDir = join(dir, 'pods', `default_chatty_${p.metadata.uid}`, 'main');
    const files = await waitFor('a rotated log', () => {
      const names = existsSync(logDir) ? readdirSync(logDir) : [];
      return names.some((n) => /^0\.log\.\d{8}-\d{6}$/.test(n)) && names;
    }, 45_000);
    assert.ok(files.length <= 3, JSON.stringify(files));
    const live = await waitFor('ticks in the live log', () => {
      const text = existsSync(join(logDir, '0.log')) && readFileSync(join(logDir, '0.log'), 'utf8');
      return text && text.includes(' stdout F tick') && text;
    });
    assert.ok(live.length < 1024 * 1024, 'the live log starts afresh');
  });

  await t.test('a sidecar (init container with restartPolicy Always) runs beside the container', async () => {
    const p = await waitPod('sidecar', 'Ready', (p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
    const proxy = p.status!.initContainerStatuses![0]!;
    assert.ok(proxy.state?.running);
    assert.equal(proxy.started, true);
    assert.equal(podRow(p, new Date()).ready, '2/2');
    assert.equal(statusText(p), 'Running');
  });

  await t.test('a sandbox gone NOTREADY is replaced (attempt 1) and the pod starts over', async () => {
    const before = await getPod('init');
    const uid = before.metadata.uid!;
    const [old] = await cri.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': uid } });
    await cri.stopPodSandbox(old!.id);
    const p = await waitPod('init', 'restarted in a new sandbox', (p) => p.status?.containerStatuses?.[0]?.restartCount === 1 && p.status.containerStatuses[0].state?.running !== undefined);
    const sandboxes = await cri.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': uid } });
    const ready = sandboxes.filter((s) => s.state === 'SANDBOX_READY');
    assert.equal(ready.length, 1);
    assert.equal(ready[0]!.metadata.attempt, 1);
    assert.equal(p.status?.phase, 'Running');
    assert.match(p.status?.podIP ?? '', /^10\.244\.230\.\d+$/);
    // The init containers ran again in the new sandbox.
    const inits = (await runtimeContainers(uid)).filter((c) => c.pod_sandbox_id === ready[0]!.id && c.labels['skiff.dev/init-container'] === 'true');
    assert.deepEqual(inits.map((c) => c.metadata.name).sort(), ['first', 'second']);
    assert.ok((await eventsOf('init')).includes('Normal SandboxChanged Pod sandbox changed, it will be killed and re-created.'));
  });

  await t.test('spec.activeDeadlineSeconds fails the pod with DeadlineExceeded', async () => {
    const p = await waitPod('deadline', 'Failed', (p) => p.status?.phase === 'Failed');
    assert.equal(p.status?.reason, 'DeadlineExceeded');
    assert.equal(p.status?.message, 'Pod was active on the node longer than the specified deadline');
  });

  await t.test('a pod force-deleted from the API is killed and removed', async () => {
    const p = await waitPod('forced', 'Running', (p) => p.status?.phase === 'Running');
    await client.delete(Pods, 'default', 'forced', { gracePeriodSeconds: 0 });
    await waitFor('its containers gone', async () => (await runtimeContainers(p.metadata.uid!)).length === 0 && (await cri.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': p.metadata.uid! } })).length === 0);
  });

  await t.test('a container over its memory limit is OOMKilled', async () => {
    // containerd learns of an OOM kill through a cgroup event it registers once the task has
    // started: a process killed before that (dd at once) reads Error. The container sleeps first.
    const p = await waitPod('oom', 'Failed and OOMKilled', (p) => p.status?.phase === 'Failed' && p.status?.containerStatuses?.[0]?.state?.terminated?.reason === 'OOMKilled', 30_000);
    const term = p.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(term?.reason, 'OOMKilled');
    assert.equal(term?.exitCode, 137);
    assert.equal(statusText(p), 'OOMKilled');
    assert.equal(p.status?.qosClass, 'Guaranteed');
  });

  await t.test('an image that cannot be pulled gives ErrImagePull, then ImagePullBackOff', async () => {
    const p = await waitPod('nopull', 'ImagePullBackOff', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff');
    // ErrImagePull came first (it lasts until the next sync, so it is read from what was written).
    const waits = (written.get('nopull') ?? []).map((s) => s?.containerStatuses?.[0]?.state?.waiting).filter((w) => w !== undefined);
    const first = waits.findIndex((w) => w.reason !== 'ContainerCreating');
    assert.equal(waits[first]?.reason, 'ErrImagePull', JSON.stringify(waits));
    assert.match(waits[first]!.message!, /^rpc error: code = \w+ desc = .*127\.0\.0\.1:1/);
    assert.match(p.status!.containerStatuses![0]!.state!.waiting!.message!, /^Back-off pulling image "127\.0\.0\.1:1\/skiff\/nothere:1": ErrImagePull: rpc error/);
    assert.equal(p.status?.phase, 'Pending');
    const events = await eventsOf('nopull');
    for (const prefix of ['Normal Pulling Pulling image "127.0.0.1:1/skiff/nothere:1"', 'Warning Failed Failed to pull image "127.0.0.1:1/skiff/nothere:1": ', 'Warning Failed Error: ErrImagePull']) {
      assert.ok(events.some((e) => e.startsWith(prefix)), `${prefix} in ${JSON.stringify(events)}`);
    }
  });

  await t.test('a pod the node has no room for is rejected with OutOfcpu', async () => {
    const p = await waitPod('huge', 'Failed', (p) => p.status?.phase === 'Failed');
    assert.equal(p.status?.reason, 'OutOfcpu');
    assert.match(p.status?.message ?? '', /^Pod was rejected: Node didn't have enough resource: cpu, requested: 64000, used: \d+, capacity: 2000$/);
    assert.equal(statusText(p), 'OutOfcpu');
    assert.equal((await runtimeContainers(p.metadata.uid!)).length, 0);
  });

  await t.test('a new PodManager adopts the running containers without restarting them', async () => {
    const before = await getPod('web');
    const crashBefore = await getPod('crash');
    const orphan = await waitPod('orphan', 'Running', (p) => p.status?.phase === 'Running');
    await manager!.stop();
    // Deleted while the kubelet is down: the next one removes it at start.
    await client.delete(Pods, 'default', 'orphan', { gracePeriodSeconds: 0 });
    await waitFor('orphan gone from the API', async () => !informerPods().some((p) => p.metadata.name === 'orphan'));
    assert.equal((await runtimeContainers(orphan.metadata.uid!)).length, 1, 'still running while no kubelet runs');
    manager = newManager();
    await manager.start();
    feed(manager);
    for (const p of informerPods()) manager.onPod(p);
    // A few relists and syncs later nothing was restarted.
    await new Promise((r) => setTimeout(r, 4000));
    const after = await getPod('web');
    assert.equal(after.status?.containerStatuses?.[0]?.containerID, before.status?.containerStatuses?.[0]?.containerID);
    assert.equal(after.status?.containerStatuses?.[0]?.restartCount, 0);
    assert.equal(after.status?.containerStatuses?.[0]?.ready, true);
    assert.equal((await runtimeContainers(after.metadata.uid!)).length, 1);
    await waitFor('the orphan removed', async () => (await cri.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': orphan.metadata.uid! } })).length === 0);
    assert.equal((await runtimeContainers(orphan.metadata.uid!)).length, 0);
    const crashAfter = await getPod('crash');
    assert.ok(crashAfter.status!.containerStatuses![0]!.restartCount >= crashBefore.status!.containerStatuses![0]!.restartCount, 'restartCount carries on');
  });

  await t.test('a graceful delete sends SIGTERM, runs to the end and confirms the delete', async () => {
    await create(busyboxPod('term', ['sh', '-c', 'trap "echo got TERM > /dev/termination-log; exit 0" TERM; while true; do sleep 1; done'], { terminationGracePeriodSeconds: 30 }));
    const p = await waitPod('term', 'Running', (p) => p.status?.containerStatuses?.[0]?.state?.running !== undefined);
    await client.delete(Pods, 'default', 'term', { gracePeriodSeconds: 30 });
    const terminating = await getPod('term').catch(() => undefined);
    if (terminating) assert.equal(statusText(terminating), 'Terminating');
    await waitFor('the pod to be gone', async () => {
      try {
        await getPod('term');
        return false;
      } catch (err) {
        return err instanceof ApiError && err.code === 404;
      }
    });
    const last = written.get('term')!.at(-1)!;
    const term = last.containerStatuses?.[0]?.state?.terminated;
    assert.equal(term?.exitCode, 0, 'the trap ran: SIGTERM, not SIGKILL');
    assert.equal(term?.message, 'got TERM\n');
    assert.equal((await runtimeContainers(p.metadata.uid!)).length, 0);
    assert.deepEqual(await cri.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': p.metadata.uid! } }), []);
    const events = await eventsOf('term');
    assert.ok(events.includes('Normal Killing Stopping container main'), JSON.stringify(events));
  });

  await t.test('deleting every pod leaves nothing of them on the node', async () => {
    const pods = (await client.list<Pod>(Pods, 'default')).items;
    await Promise.all(pods.map((p) => client.delete(Pods, 'default', p.metadata.name!, { gracePeriodSeconds: 2 })));
    await waitFor('every pod gone', async () => (await client.list<Pod>(Pods, 'default')).items.length === 0, 90_000);
    await waitFor('no sandbox left', async () => (await cri.listPodSandbox()).length === 0, 30_000);
    assert.deepEqual(await cri.listContainers(), []);
    const logs = join(dir, 'pods');
    assert.deepEqual(existsSync(logs) ? readdirSync(logs) : [], [], 'no pod log directory left');
    const podDirs = join(dir, 'kubelet', 'pods');
    assert.deepEqual(existsSync(podDirs) ? readdirSync(podDirs) : [], [], 'no pod directory left');
    for (const h of cgroupHierarchies()) {
      const top = join(h, cgroupRoot);
      assert.deepEqual(existsSync(top) ? readdirSync(top, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : [], [], `no pod cgroup under ${top}`);
    }
    await manager!.stop();
    manager = undefined;
    cri.close();
    const report = (await fixture.cleanup({ removeDir: false }))!;
    assert.deepEqual(report.containers, [], 'no container was left for the cleanup');
    assert.deepEqual(mountsUnder(dir), []);
    rmSync(dir, { recursive: true, force: true });
  });
});

/** informerPods are the pods the test's informer holds that are bound to the node. */
function informerPods(): Pod[] {
  return informer!.lister().list().filter((p) => p.spec?.nodeName === nodeName);
}
