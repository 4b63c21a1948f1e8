// CRI end to end on a real containerd, runc and CNI plugins: a containerd of the test's own in a
// temp dir with skiff's images imported, a pod with a bridge network of its own run through the
// CRI client, and afterwards nothing left on the machine: no containerd or shim process, no mount
// under its dir, no network namespace, veth, bridge or pod cgroup. The cleanup runs when the test
// fails too, and on process exit.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { join } from 'node:path';
import { cgroupHierarchies, containerdPaths, containerdPid, mountsUnder } from '../kubelet/containerd.js';
import { isNotFound } from '../kubelet/cri/client.js';
import type { ContainerConfig, PodSandboxConfig } from '../kubelet/cri/types.js';
import { busyboxImage } from '../kubelet/images/build.js';
import { containerdFixture, missingNodeTools } from './node-fixture.js';

const skip = missingNodeTools();
// A /24 of the test's own, and names no other test uses: the bridge name fits IFNAMSIZ (15).
const subnet = '10.244.250.0/24';
const fixture = containerdFixture({ skip, name: 'cri', bridgePrefix: 'skcri', subnet });
const { dir, bridge, cgroupRoot, suffix } = fixture;

after(async () => {
  await fixture.cleanup();
});

/** linkExists reports whether a network interface exists on the host. */
function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' }).status === 0;
}

/** cgroupsLeft lists the hierarchies that still hold the test's pod cgroup root. */
function cgroupsLeft(): string[] {
  return cgroupHierarchies().filter((h) => existsSync(join(h, cgroupRoot)));
}

/** processesOf lists the pids whose command line names the test's containerd socket or config. */
function processesOf(): number[] {
  const p = containerdPaths(dir);
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv.includes(p.socket) || argv.includes(p.config)) pids.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a pod through CRI on a containerd of our own, and nothing left afterwards', { skip: skip || false, timeout: 180_000 }, async (t) => {
  const { cri } = await fixture.start();
  t.after(() => cri.close());

  const version = await cri.version();
  assert.equal(version.runtime_name, 'containerd');
  assert.equal(version.runtime_api_version, 'v1');

  // The short name resolves to the imported image, as the kubelet asks before any pull.
  const image = await cri.imageStatus('busybox:1.36');
  assert.ok(image, 'busybox:1.36 is present');
  assert.ok(image.repo_tags.includes(busyboxImage));
  assert.equal(await cri.imageStatus('docker.io/library/nothere:0'), undefined);

  const uid = `0000-cri-${suffix}`;
  const logDir = join(dir, 'pods', `default_cri-test_${uid}`);
  const sandboxConfig: PodSandboxConfig = {
    metadata: { name: 'cri-test', uid, namespace: 'default', attempt: 0 },
    hostname: 'cri-test-pod',
    log_directory: logDir,
    dns_config: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
    labels: { 'io.kubernetes.pod.name': 'cri-test' },
    linux: { cgroup_parent: `${cgroupRoot}/pod${uid}` },
  };
  const t0 = performance.now();
  const sandboxId = await cri.runPodSandbox(sandboxConfig);
  const t1 = performance.now();
  const status = await cri.podSandboxStatus(sandboxId, true);
  assert.equal(status.status.state, 'SANDBOX_READY');
  const ip = status.status.network?.ip ?? '';
  assert.match(ip, /^10\.244\.250\.\d+$/);
  const info = JSON.parse(status.info.info ?? '{}') as {
    runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } };
    cniResult?: { Interfaces?: Record<string, unknown> };
  };
  const netns = info.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path ?? '';
  assert.ok(netns && existsSync(netns), `the sandbox's network namespace ${netns} exists`);
  const veths = Object.keys(info.cniResult?.Interfaces ?? {}).filter((n) => n.startsWith('veth'));
  assert.equal(veths.length, 1, `one veth in the CNI result: ${JSON.stringify(Object.keys(info.cniResult?.Interfaces ?? {}))}`);
  assert.ok(linkExists(veths[0]) && linkExists(bridge));

  const containerConfig: ContainerConfig = {
    metadata: { name: 'main', attempt: 0 },
    image: { image: 'busybox:1.36' },
    command: ['sh', '-c', 'echo hello; sleep 30'],
    log_path: 'main/0.log',
  };
  const t2 = performance.now();
  const containerId = await cri.createContainer(sandboxId, containerConfig, sandboxConfig);
  const t3 = performance.now();
  await cri.startContainer(containerId);
  const t4 = performance.now();
  t.diagnostic(`RunPodSandbox ${(t1 - t0).toFixed(0)} ms, CreateContainer ${(t3 - t2).toFixed(0)} ms, StartContainer ${(t4 - t3).toFixed(0)} ms`);

  const running = await cri.containerStatus(containerId);
  assert.equal(running.status.state, 'CONTAINER_RUNNING');
  assert.equal(running.status.log_path, join(logDir, 'main/0.log'));
  const line = await waitFor('the log line', () => {
    const file = join(logDir, 'main/0.log');
    return existsSync(file) && readFileSync(file, 'utf8').split('\n').find((l) => l.endsWith(' stdout F hello'));
  });
  assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d) stdout F hello$/);

  const exec = await cri.execSync(containerId, ['cat', '/etc/hostname'], 10);
  assert.equal(exec.exit_code, 0);
  assert.equal(exec.stdout.toString(), 'cri-test-pod\n');
  const resolv = await cri.execSync(containerId, ['cat', '/etc/resolv.conf'], 10);
  assert.match(resolv.stdout.toString(), /nameserver 10\.96\.0\.10/);
  const failing = await cri.execSync(containerId, ['sh', '-c', 'echo oops >&2; exit 3'], 10);
  assert.equal(failing.exit_code, 3);
  assert.equal(failing.stderr.toString(), 'oops\n');

  const listed = await cri.listContainers({ pod_sandbox_id: sandboxId });
  assert.deepEqual(listed.map((c) => c.id), [containerId]);

  const t5 = performance.now();
  await cri.stopPodSandbox(sandboxId);
  const t6 = performance.now();
  await cri.removePodSandbox(sandboxId);
  const t7 = performance.now();
  t.diagnostic(`StopPodSandbox ${(t6 - t5).toFixed(0)} ms, RemovePodSandbox ${(t7 - t6).toFixed(0)} ms`);
  await cri.removePodSandbox(sandboxId); // idempotent
  await assert.rejects(cri.stopPodSandbox(sandboxId), isNotFound);
  assert.deepEqual(await cri.listPodSandbox(), []);

  // The orderly way down removed the pod's network: its namespace and veth are gone already.
  assert.equal(existsSync(netns), false, `network namespace ${netns} is gone`);
  assert.equal(linkExists(veths[0]), false, `veth ${veths[0]} is gone`);
  // The shim of the pod ends once its last container is deleted.
  await waitFor('the shim to exit', () => processesOf().every((pid) => pid === containerdPid(dir)));

  cri.close();
  const report = (await fixture.cleanup({ removeDir: false }))!;
  assert.deepEqual(report.containers, [], 'no container was left for the cleanup');
  assert.deepEqual(report.shims, [], 'no shim was left for the cleanup');
  assert.deepEqual(processesOf(), [], 'no containerd or shim process of the test');
  assert.deepEqual(mountsUnder(dir), [], 'no mount under the test dir');
  assert.equal(linkExists(bridge), false, 'the bridge is gone');
  assert.deepEqual(cgroupsLeft(), [], 'no pod cgroup is left');
  t.diagnostic(`cleanup removed ${report.cgroups.length} pod cgroup directories`);
  rmSync(dir, { recursive: true, force: true });
});
