// skiff/testing's promises beyond the example's (examples/widget-controller): storage 'etcd'
// starts an etcd process, options it does not know are refused before anything starts, and
// nothing is left running or on disk after stop(), after a failed start, or when a test process
// fails or is terminated without calling stop().

import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isAlive } from '../lib/process/supervisor.js';
import { startCluster } from '../kit/index.js';

const kitModule = fileURLToPath(new URL('../kit/index.js', import.meta.url));

// Each case gets a TMPDIR of its own, so "nothing left on disk" is checked on its dirs alone.
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
function freshTmp(): string {
  const root = mkdtempSync(join(tmpdir(), 'skiff-kit-test-'));
  roots.push(root);
  return root;
}

/** withTmpdir runs fn with os.tmpdir() answering root (it reads $TMPDIR on each call). */
async function withTmpdir<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = root;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

/** etcdPid reads the pid of the etcd a cluster dir's run/etcd.json records. */
function etcdPid(dir: string): number {
  return (JSON.parse(readFileSync(join(dir, 'run', 'etcd.json'), 'utf8')) as { pid: number }).pid;
}

/** etcdPidsUnder lists running processes whose command line names a path under root (etcd's --data-dir). */
function etcdPidsUnder(root: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.some((a) => a.startsWith(root)) && cmdline.some((a) => a.endsWith('etcd'))) out.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

async function waitGone(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

test("storage 'etcd' serves from an etcd process, and stop() ends it and removes the temp dir", async () => {
  const root = freshTmp();
  const cluster = await withTmpdir(root, () => startCluster({ storage: 'etcd', nodes: 1, controllers: { podgc: false } }));
  let pid: number | undefined;
  try {
    pid = etcdPid(cluster.dir);
    assert.ok(isAlive(pid), 'etcd runs');
    await cluster.apply('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\ndata:\n  color: blue\n');
    const cm = await cluster.kubeConfig.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: 'default', name: 'kept' });
    assert.equal(cm.data?.color, 'blue');
    const nodes = await cluster.kubeConfig.makeApiClient(CoreV1Api).listNode();
    assert.deepEqual(nodes.items.map((n) => n.metadata?.name), ['sim-0']);
  } finally {
    await cluster.stop();
  }
  await waitGone(pid!);
  assert.equal(isAlive(pid!), false, 'etcd stopped');
  assert.equal(existsSync(cluster.dir), false, 'temp dir removed');
  await cluster.stop(); // a second stop is harmless
});

test('options it does not know are refused before anything starts', async () => {
  const root = freshTmp();
  await withTmpdir(root, async () => {
    await assert.rejects(startCluster({ controllers: { deployments: false } }), /unknown controller "deployments" \(known: .*deployment,/);
    await assert.rejects(startCluster({ storage: 'sqlite' as 'memory' }), /storage must be 'memory' or 'etcd'/);
    await assert.rejects(startCluster({ nodes: -1 }), /nodes must be a whole number/);
    await assert.rejects(startCluster({ node: 3 } as never), /unknown option "node"/);
    // The simulator's process would exit on these; the kit must throw instead.
    await assert.rejects(startCluster({ simulatorArgs: ['--node-cpu=lots'] }), /--node-cpu/);
    await assert.rejects(startCluster({ podStartDelay: 'soon' }), /--pod-start-delay/);
    await assert.rejects(startCluster({ simulatorArgs: ['--no-such-flag=1'] }), /no-such-flag/);
  });
  assert.deepEqual(readdirSync(root), []);
});

test('a start that fails stops what it started and removes its dir', async () => {
  const root = freshTmp();
  const missing = join(root, 'no-such-crd.yaml');
  await withTmpdir(root, () => assert.rejects(startCluster({ storage: 'etcd', crds: [missing] }), /no-such-crd\.yaml/));
  assert.deepEqual(readdirSync(root), []);
  assert.deepEqual(etcdPidsUnder(root), []);
});

/** runChild runs a script that starts a cluster and prints its dir and etcd pid, then does `ending`. */
async function runChild(ending: string, killWith?: NodeJS.Signals): Promise<{ dir: string; pid: number; code: number | null; signal: NodeJS.Signals | null }> {
  const root = freshTmp();
  const script = join(root, 'child.mjs');
  writeFileSync(
    script,
    `import { startCluster } from ${JSON.stringify(kitModule)};\n` +
      `import { readFileSync } from 'node:fs';\n` +
      `const cluster = await startCluster({ storage: 'etcd', nodes: 1 });\n` +
      `const pid = JSON.parse(readFileSync(cluster.dir + '/run/etcd.json', 'utf8')).pid;\n` +
      `console.log(JSON.stringify({ dir: cluster.dir, pid }));\n` +
      ending,
  );
  const child = spawn(process.execPath, [script], { env: { ...process.env, TMPDIR: root, SKIFF_KIT_LOG: 'none' }, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  const first = new Promise<{ dir: string; pid: number }>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as { dir: string; pid: number });
    });
    child.on('exit', () => reject(new Error(`child exited before starting its cluster: ${out}`)));
  });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])));
  const started = await first;
  if (killWith) child.kill(killWith);
  const [code, signal] = await exited;
  return { ...started, code, signal };
}

test('a test process that fails without stop() leaves no etcd and no dir', async () => {
  const r = await runChild("throw new Error('the test failed');\n");
  assert.equal(r.code, 1);
  await waitGone(r.pid);
  assert.equal(isAlive(r.pid), false, 'etcd stopped');
  assert.equal(existsSync(r.dir), false, 'temp dir removed');
});

test('a test process terminated by a signal (a runner timeout) leaves no etcd and no dir', async () => {
  const r = await runChild('setInterval(() => {}, 1000);\n', 'SIGTERM');
  assert.equal(r.signal, 'SIGTERM');
  await waitGone(r.pid);
  assert.equal(isAlive(r.pid), false, 'etcd stopped');
  assert.equal(existsSync(r.dir), false, 'temp dir removed');
});
