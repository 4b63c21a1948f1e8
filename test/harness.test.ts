import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeEntry } from '../lib/process/components.js';
import { isAlive, probe, sleep, type ProcessState } from '../lib/process/supervisor.js';
import { startCluster, startEtcd } from './harness.js';

const apiserverBuilt = existsSync(nodeEntry('apiserver/main.js'));

describe('harness', () => {
  test('startEtcd runs a healthy etcd, and stop() ends it and removes its data', async () => {
    const etcd = await startEtcd();
    let stopped = false;
    try {
      assert.match(etcd.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
      const health = await probe({ url: `${etcd.endpoint}/health`, ca: etcd.tls.ca.toString(), cert: etcd.tls.cert.toString(), key: etcd.tls.key.toString() });
      assert.equal(health.status, 200);
      assert.equal(JSON.parse(health.body).health, 'true');
      assert.ok(isAlive(etcd.process));
      await etcd.stop();
      stopped = true;
      assert.equal(isAlive(etcd.process), false);
      assert.equal(existsSync(etcd.home), false);
      assert.equal((await probe({ url: `${etcd.endpoint}/health` })).ok, false);
    } finally {
      if (!stopped) await etcd.stop();
    }
  });

  test('a test process that crashes or is terminated takes its etcd with it', async () => {
    for (const ending of ['crash', 'SIGTERM'] as const) {
      const child = await runHarnessChild(ending);
      assert.ok(child.started, `the child never started etcd (${ending}): ${child.stderr}`);
      const { pid, startTicks, home } = child.started;
      const state = { pid, startTicks } as ProcessState;
      for (let i = 0; i < 50 && isAlive(state); i++) await sleep(100);
      assert.equal(isAlive(state), false, `etcd ${pid} outlived its test process (${ending})`);
      assert.equal(existsSync(home), false, `${home} left behind (${ending})`);
    }
  });

  test('a test process killed with SIGKILL takes its etcd with it (the kernel kills it, no handler runs)', async () => {
    const child = await runHarnessChild('SIGKILL');
    assert.ok(child.started, `the child never started etcd: ${child.stderr}`);
    const { pid, startTicks, home } = child.started;
    const state = { pid, startTicks } as ProcessState;
    for (let i = 0; i < 50 && isAlive(state); i++) await sleep(100);
    const alive = isAlive(state);
    if (alive) process.kill(pid, 'SIGKILL');
    // Nothing in the killed process could remove its temporary home: this test does.
    rmSync(home, { recursive: true, force: true });
    assert.equal(alive, false, `etcd ${pid} outlived its SIGKILLed test process`);
  });

  test('startCluster serves the API to kubectl and answers /readyz', { skip: !apiserverBuilt && 'dist/apiserver/main.js is not built' }, async () => {
    const cluster = await startCluster();
    try {
      const ready = await cluster.request('/readyz', { auth: 'none' });
      assert.equal(ready.status, 200, ready.body);
      const version = await cluster.kubectl(['version', '-o', 'json']);
      assert.equal(version.code, 0, version.stderr + cluster.logs('apiserver').slice(-2000));
      const v = JSON.parse(version.stdout);
      assert.ok(v.serverVersion?.gitVersion, `no serverVersion in ${version.stdout}`);
      const ns = await cluster.kubectl(['get', 'namespace', 'default', '-o', 'name']);
      assert.equal(ns.code, 0, ns.stderr);
      assert.equal(ns.stdout.trim(), 'namespace/default');
    } finally {
      await cluster.stop();
    }
    assert.equal((await probe({ url: `${cluster.etcdEndpoint}/health` })).ok, false);
    assert.equal(existsSync(cluster.home), false);
  });
});

interface ChildOutcome {
  started?: { pid: number; startTicks: number; home: string };
  stderr: string;
}

/**
 * runHarnessChild starts a Node process that starts etcd through the harness and then either
 * throws (an uncaught error, as a failing test file would) or is sent SIGTERM (as a runner's
 * timeout does) or SIGKILL, and reports the etcd it started.
 */
function runHarnessChild(ending: 'crash' | 'SIGTERM' | 'SIGKILL'): Promise<ChildOutcome> {
  const harness = fileURLToPath(new URL('./harness.js', import.meta.url));
  const script = `
    const h = await import(${JSON.stringify(harness)});
    const e = await h.startEtcd();
    console.log(JSON.stringify({ pid: e.process.pid, startTicks: e.process.startTicks, home: e.home }));
    if (${JSON.stringify(ending)} === 'crash') throw new Error('test failed on purpose');
    setInterval(() => {}, 1000);
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let started: ChildOutcome['started'];
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line && !started) {
        started = JSON.parse(line);
        if (ending !== 'crash') child.kill(ending);
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ started, stderr });
    });
  });
}
