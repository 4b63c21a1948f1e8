// `skiff up` and `skiff down` with a real node, in a temporary home whose cluster.json gives every
// port, CIDR and device name of the test's own: up starts containerd and the kubelet with
// progress lines and imports the images, status/logs/image work, down stops the sandboxes and
// leaves nothing on the machine, and the next up finds the stopped sandbox in containerd.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Node } from '../lib/api/core/node.js';
import { cgroupHierarchies, containerdPaths, mountsUnder } from '../kubelet/containerd.js';
import { CriClient } from '../kubelet/cri/client.js';
import type { PodSandboxConfig } from '../kubelet/cri/types.js';
import { imagesDir } from '../kubelet/images/build.js';
import { cleanupNode } from '../kubelet/lifecycle.js';
import { contextFor, defaultConfig, saveConfig } from '../lib/process/cluster.js';
import { type ClusterConfig, nodeEntry, nodeLayout, nodeName } from '../lib/process/components.js';
import { freePorts } from '../lib/process/ports.js';
import { kubectlBinary, acquireHostProxy, reserveNodeRanges, run } from './harness.js';

function missingTools(): string {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const bin of ['containerd', 'ctr', 'runc', 'gcc', 'iptables', 'etcd']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `needs ${bin} (scripts/setup.sh installs it)`;
  }
  if (!existsSync(nodeEntry('apiserver/main.js'))) return 'needs a build';
  return '';
}

const skip = missingTools();
const cli = nodeEntry('cli/main.js');
const home = skip ? '' : mkdtempSync(join(tmpdir(), 'skiff-node-up-'));
const skiff = (args: string[]) => run(process.execPath, [cli, ...args, '--home', home], { timeoutMs: 180_000 });
let config: ClusterConfig | undefined;
let cleaned = false;

/** cleanupSync stops what the home runs and removes the node's traces, synchronously, for 'exit'. */
function cleanupSync(): void {
  if (cleaned || !config) return;
  cleaned = true;
  spawnSync(process.execPath, [cli, 'down', '--home', home], { stdio: 'inherit', timeout: 120_000 });
  const mod = nodeEntry('kubelet/lifecycle.js');
  const layout = nodeLayout(contextFor(config));
  spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(mod)}); await m.cleanupNode(${JSON.stringify(layout)});`], { stdio: 'inherit', timeout: 60_000 });
  rmSync(home, { recursive: true, force: true });
}
if (home) {
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanupSync();
      process.kill(process.pid, sig);
    });
  }
}
after(async () => {
  if (cleaned || !config) return;
  cleaned = true;
  await skiff(['down']);
  await cleanupNode(nodeLayout(contextFor(config)));
  rmSync(home, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function kubectl(args: string[]) {
  return run(kubectlBinary(), args, { env: { ...process.env, KUBECONFIG: join(home, 'admin.kubeconfig'), KUBECACHEDIR: join(home, 'kubecache') } });
}

async function waitReady(name: string): Promise<Node> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const r = await kubectl(['get', 'node', name, '-o', 'json']);
    if (r.code === 0) {
      const n = JSON.parse(r.stdout) as Node;
      if (n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True') return n;
    }
    if (Date.now() > deadline) throw new Error(`node ${name} not Ready: ${r.stdout.slice(0, 2000)} ${r.stderr}`);
    await sleep(500);
  }
}

function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' }).status === 0;
}

/** leftovers lists what of the node is still on the machine. */
function leftovers(c: ClusterConfig, netns: string): string[] {
  const out: string[] = [];
  for (const link of [c.cniBridge, c.sinkDevice]) if (linkExists(link)) out.push(`link ${link}`);
  const nat = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout;
  for (const line of nat.split('\n')) if (line.includes(c.cniNetworkName)) out.push(`rule ${line}`);
  // The proxy's chains (this is the only test that runs skiff-proxy in the host's namespace).
  for (const save of ['iptables-save', 'iptables-legacy-save']) {
    const text = spawnSync(save, [], { encoding: 'utf8' }).stdout ?? '';
    for (const line of text.split('\n')) if (/^:KUBE-/.test(line)) out.push(`${save} chain ${line}`);
  }
  for (const h of cgroupHierarchies()) if (existsSync(join(h, c.cgroupRoot))) out.push(`cgroup ${join(h, c.cgroupRoot)}`);
  for (const m of mountsUnder(home)) out.push(`mount ${m}`);
  if (netns && existsSync(netns)) out.push(`netns ${netns}`);
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(home)) out.push(`process ${p}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test('skiff up/down with a real node: progress, status, logs, images, no leftovers, sandboxes kept for the next up', { skip: skip || false, timeout: 600_000 }, async (t) => {
  const ports = await freePorts(12);
  const ranges = reserveNodeRanges(home);
  t.after(() => ranges.release());
  // skiff up runs skiff-proxy in the host's namespace: one such test at a time.
  const releaseProxy = await acquireHostProxy(home);
  t.after(releaseProxy);
  const suffix = randomBytes(3).toString('hex');
  config = {
    ...defaultConfig(home),
    etcdClientPort: ports[0]!,
    etcdPeerPort: ports[1]!,
    apiserverPort: ports[2]!,
    controllerManagerPort: ports[3]!,
    schedulerPort: ports[4]!,
    simPort: ports[5]!,
    kubeletPort: ports[6]!,
    kubeletHealthPort: ports[7]!,
    containerdStreamPort: ports[8]!,
    containerdMetricsPort: ports[9]!,
    dnsPort: ports[10]!,
    clusterDNSPort: 0,
    proxyPort: ports[11]!,
    bindAddress: '127.0.0.1',
    realNode: true,
    clusterCIDR: ranges.clusterCIDR,
    serviceCIDR: ranges.serviceCIDR,
    cniBridge: `sknb${suffix}`,
    sinkDevice: `skns${suffix}`,
    cniNetworkName: `skn-${suffix}`,
    cgroupRoot: `/skn-${suffix}`,
  };
  saveConfig(config);
  const name = nodeName(config);

  const up = await skiff(['up']);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stdout, /\[\d+\/\d+\] containerd … ready \(\d+\.\ds, pid \d+\)/);
  assert.match(up.stdout, /\[\d+\/\d+\] kubelet … ready/);
  assert.match(up.stdout, /imported image localhost\/skiff\/pause:1\.0/);
  assert.match(up.stdout, /imported image docker\.io\/library\/busybox:1\.36/);
  await waitReady(name);

  const status = await skiff(['status']);
  assert.match(status.stdout, /^containerd\s+\d+\s+Running\s+healthy/m, status.stdout);
  assert.match(status.stdout, /^kubelet\s+\d+\s+Running\s+healthy/m, status.stdout);
  const logs = await skiff(['logs', 'kubelet']);
  assert.equal(logs.code, 0);
  assert.match(logs.stdout, /Successfully registered node/);
  assert.equal((await skiff(['logs', 'containerd', '--tail', '1'])).code, 0);

  const ls = await skiff(['image', 'ls']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/m);
  assert.match(ls.stdout, /^docker\.io\/library\/busybox\s+1\.36\s+[0-9a-f]{13}\s+\S+B$/m);
  assert.match(ls.stdout, /^localhost\/skiff\/pause\s+1\.0\s/m);
  const imp = await skiff(['image', 'import', join(imagesDir, 'busybox.oci.tar')]);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, new RegExp(`into node ${name} … done`));
  const bad = await skiff(['image', 'import', join(home, 'nope.tar')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no such file/);

  // A sandbox through CRI (the pod workers are not part of this test): down stops it, containerd keeps it.
  const cri = new CriClient(containerdPaths(join(home, 'containerd')).socket);
  const uid = `node-up-${suffix}`;
  const sandboxConfig: PodSandboxConfig = {
    metadata: { name: 'kept', uid, namespace: 'default', attempt: 0 },
    hostname: 'kept',
    log_directory: join(home, 'pod-logs', `default_kept_${uid}`),
    linux: { cgroup_parent: `${config.cgroupRoot}/pod${uid}` },
  };
  const sandboxId = await cri.runPodSandbox(sandboxConfig);
  const info = JSON.parse((await cri.podSandboxStatus(sandboxId, true)).info.info ?? '{}') as { runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } } };
  const netns = info.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path ?? '';
  assert.ok(netns && existsSync(netns));
  cri.close();

  const down = await skiff(['down']);
  assert.equal(down.code, 0, down.stdout + down.stderr);
  assert.match(down.stdout, /^kubelet \(pid \d+\) stopped$/m);
  assert.match(down.stdout, /^containerd \(pid \d+\) stopped$/m);
  assert.ok(down.stdout.indexOf('kubelet (pid') < down.stdout.indexOf('containerd (pid'), 'the kubelet stops before containerd');
  assert.deepEqual(leftovers(config, netns), []);

  const again = await skiff(['up']);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.doesNotMatch(again.stdout, /imported image/, 'images already held are not imported again');
  await waitReady(name);
  const cri2 = new CriClient(containerdPaths(join(home, 'containerd')).socket);
  const kept = (await cri2.listPodSandbox()).find((s) => s.id === sandboxId);
  cri2.close();
  assert.equal(kept?.state, 'SANDBOX_NOTREADY', 'containerd still knows the stopped sandbox');

  const purge = await skiff(['down', '--purge']);
  assert.equal(purge.code, 0, purge.stdout + purge.stderr);
  assert.equal(existsSync(home), false);
  const left = leftovers(config, netns);
  cleaned = true;
  assert.deepEqual(left, []);
  t.diagnostic(`cluster CIDR ${config.clusterCIDR}, service CIDR ${config.serviceCIDR}`);
});
