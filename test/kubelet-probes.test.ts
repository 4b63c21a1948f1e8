// Probes, hooks and log rotation end to end on a real containerd, runc and CNI bridge: a containerd
// of the test's own in a temp dir, a busybox pod serving HTTP and a container that logs a lot. An
// exec readiness probe runs through CRI ExecSync, an httpGet probe reaches the pod IP over the
// test's bridge, a failing exec liveness probe asks for a restart with the kubelet's texts, a
// probe past its timeout fails as on Kubernetes, an exec hook reports its output, and the chatty
// container's log is rotated with ReopenContainerLog while it goes on writing. The cleanup runs
// when the test fails too, and on process exit.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Pod } from '../lib/api/core/pod.js';
import type { Container } from '../lib/api/core/types.js';
import { Logger } from '../lib/log.js';
import { FakeRecorder } from '../lib/testing/fakerecorder.js';
import type { ContainerConfig, PodSandboxConfig } from '../kubelet/cri/types.js';
import { ContainerLogManager } from '../kubelet/logs/rotation.js';
import { execProbe } from '../kubelet/prober/exec.js';
import { httpProbe, newHTTPGetRequest } from '../kubelet/prober/http.js';
import { LifecycleHookError, ProbeManager, runLifecycleHook } from '../kubelet/prober/prober.js';
import { containerdFixture, missingNodeTools } from './node-fixture.js';

const skip = missingNodeTools();
// The probe work's own /24 and bridge prefix: no other test uses them.
const subnet = '10.244.200.0/24';
const fixture = containerdFixture({ skip, name: 'probes', bridgePrefix: 'skr', subnet });
const { dir, bridge, cgroupRoot, suffix } = fixture;

after(async () => {
  await fixture.cleanup();
});

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** routedHere reports whether this machine delivers to addr itself (no gateway hop). */
function routedHere(addr: string): boolean {
  const r = spawnSync('ip', ['route', 'get', addr], { encoding: 'utf8' });
  return r.status === 0 && !/\svia\s/.test(r.stdout);
}

test('probes, hooks and log rotation against a real containerd', { skip: skip || false, timeout: 240_000 }, async (t) => {
  const { cri } = await fixture.start({ portmap: false });
  t.after(() => cri.close());

  const uid = `0000-probes-${suffix}`;
  const logDir = join(dir, 'pods', `default_probes_${uid}`);
  const sandboxConfig: PodSandboxConfig = {
    metadata: { name: 'probes', uid, namespace: 'default', attempt: 0 },
    hostname: 'probes',
    log_directory: logDir,
    linux: { cgroup_parent: `${cgroupRoot}/pod${uid}` },
  };
  const sandboxId = await cri.runPodSandbox(sandboxConfig);
  t.after(async () => {
    await cri.stopPodSandbox(sandboxId).catch(() => undefined);
    await cri.removePodSandbox(sandboxId).catch(() => undefined);
  });
  const podIP = (await cri.podSandboxStatus(sandboxId)).status.network?.ip ?? '';
  assert.match(podIP, /^10\.244\.200\.\d+$/);
  assert.ok(routedHere(podIP), `${podIP} is routed on this machine (the test bridge)`);

  const start = async (name: string, script: string) => {
    const config: ContainerConfig = { metadata: { name, attempt: 0 }, image: { image: 'busybox:1.36' }, command: ['sh', '-c', script], log_path: `${name}/0.log` };
    const id = await cri.createContainer(sandboxId, config, sandboxConfig);
    await cri.startContainer(id);
    return id;
  };
  const webId = await start('web', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www');
  // About 45 KB a second, forever: enough to need rotation at a small size.
  const chattyId = await start('chatty', 'while true; do seq 1 2000; sleep 0.2; done');

  const web: Container = {
    name: 'web',
    ports: [{ name: 'http', containerPort: 8080 }],
    readinessProbe: { exec: { command: ['cat', '/www/index.html'] }, periodSeconds: 1 },
    startupProbe: { httpGet: { path: '/index.html', port: 'http' }, periodSeconds: 1, failureThreshold: 30 },
    livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 2 },
  };
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probes', namespace: 'default', uid }, spec: { containers: [web] } };
  const recorder = new FakeRecorder();
  const failures: string[] = [];
  const manager = new ProbeManager({
    runtime: cri,
    recorder,
    log: new Logger('test', 0, () => undefined),
    random: () => 0,
    onChange: () => undefined,
    onLivenessFailure: (_uid, name, message) => failures.push(`${name}: ${message}`),
  });
  t.after(() => manager.stop());
  manager.addContainer(pod, web, webId, podIP);

  // httpGet over the bridge passes the startup probe; then the exec readiness probe runs in the container.
  await waitFor('the startup probe', () => manager.started(uid, 'web'));
  await waitFor('readiness', () => manager.ready(uid, 'web'));
  // What one probe costs here (diagnostics only): an exec through ExecSync, a GET over the bridge.
  const timeIt = async (n: number, fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fn();
    return ((performance.now() - t0) / n).toFixed(1);
  };
  const execMs = await timeIt(10, () => execProbe(cri, webId, ['cat', '/www/index.html'], 5));
  const httpMs = await timeIt(10, () => httpProbe(newHTTPGetRequest({ path: '/index.html', port: 8080 }, web, podIP, 'probe'), 5));
  t.diagnostic(`exec probe ${execMs} ms, httpGet probe ${httpMs} ms (mean of 10)`);

  // /tmp/healthy does not exist: the liveness probe fails twice and asks for a restart.
  await waitFor('the liveness failure', () => failures.length > 0);
  assert.deepEqual(failures, ['web: Container web failed liveness probe, will be restarted']);
  assert.ok(
    recorder.events.includes("Warning Unhealthy Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory\n"),
    recorder.events.join('\n'),
  );

  // A probe past its timeout fails with the kubelet's text (ExecSync's deadline, not an exit code).
  const slow: Container = { name: 'chatty', readinessProbe: { exec: { command: ['sleep', '5'] }, timeoutSeconds: 1, periodSeconds: 30 } };
  manager.addContainer(pod, slow, chattyId, podIP);
  await waitFor('the timed-out probe event', () => recorder.events.some((e) => e.includes('Readiness probe failed: command timed out')), 20_000);
  assert.ok(recorder.events.includes('Warning Unhealthy Readiness probe failed: command timed out: "sleep 5" timed out after 1s'), recorder.events.join('\n'));
  assert.equal(manager.ready(uid, 'chatty'), false);
  manager.removePod(uid);

  // An exec hook that fails carries its output in the kubelet's message.
  await assert.rejects(
    runLifecycleHook({ exec: { command: ['sh', '-c', 'echo no good; exit 2'] } }, web, { runtime: cri, containerId: webId, podIP, timeoutSeconds: 10, pod }),
    (err: unknown) => {
      assert.ok(err instanceof LifecycleHookError);
      assert.equal(err.message, `Exec lifecycle hook ([sh -c echo no good; exit 2]) for Container "web" in Pod "probes_default(${uid})" failed - error: command 'sh -c echo no good; exit 2' exited with 2: , message: "no good\\n"`);
      return true;
    },
  );
  await runLifecycleHook({ httpGet: { path: '/index.html', port: 8080 } }, web, { runtime: cri, containerId: webId, podIP, timeoutSeconds: 10, pod });

  // Log rotation: the chatty container's log is rotated and the runtime writes on into a fresh file.
  const rotation = new ContainerLogManager({ runtime: cri, log: new Logger('test', 0, () => undefined), maxSize: '16Ki', maxFiles: 3, intervalMs: 300 });
  rotation.start();
  t.after(() => rotation.stop());
  const chattyDir = join(logDir, 'chatty');
  await waitFor('three rotations', () => readdirSync(chattyDir).some((f) => f.endsWith('.gz')) && readdirSync(chattyDir).length === 3, 60_000);
  await rotation.stop();
  // The live file, the newest rotated one, and an older one compressed (two rotations within one
  // second share a name, as on Kubernetes, so the order of the names proves nothing).
  const files = readdirSync(chattyDir);
  assert.equal(files.filter((f) => f === '0.log').length, 1, files.join(' '));
  assert.equal(files.filter((f) => /^0\.log\.\d{8}-\d{6}\.gz$/.test(f)).length, 1, files.join(' '));
  assert.equal(files.filter((f) => /^0\.log\.\d{8}-\d{6}$/.test(f)).length, 1, files.join(' '));
  const live = join(chattyDir, '0.log');
  const before = statSync(live).size;
  await waitFor('the container to write into the reopened file', () => statSync(live).size > before, 10_000);
  // The web container logs nothing and was never rotated.
  assert.deepEqual(readdirSync(join(logDir, 'web')), ['0.log']);

  manager.stop();
  await cri.stopPodSandbox(sandboxId);
  await cri.removePodSandbox(sandboxId);
  cri.close();
  await fixture.cleanup();
  assert.equal(existsSync(dir), false);
  rmSync(dir, { recursive: true, force: true });
});
