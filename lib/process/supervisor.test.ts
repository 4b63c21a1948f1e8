import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, freePorts } from './ports.js';
import {
  HealthTimeoutError,
  isAlive,
  ProcessExitedError,
  readState,
  removeState,
  spawnDetached,
  stopProcess,
  tailLines,
  waitForHealthy,
  type ProcessState,
} from './supervisor.js';

describe('supervisor', () => {
  let dir: string;
  const started: ProcessState[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-supervisor-'));
  });
  after(async () => {
    for (const p of started) await stopProcess(p, { graceMs: 100 });
    rmSync(dir, { recursive: true, force: true });
  });

  const spawnSh = (name: string, script: string): ProcessState => {
    const s = spawnDetached({
      name,
      command: 'sh',
      args: ['-c', script],
      logFile: join(dir, `${name}.log`),
      stateFile: join(dir, `${name}.json`),
    });
    started.push(s);
    return s;
  };

  test('spawnDetached records the process, sends its output to the log, and stopProcess ends it with SIGTERM', async () => {
    const s = spawnSh('sleeper', 'echo hello from sleeper; exec sleep 30');
    assert.ok(isAlive(s));
    assert.deepEqual(readState(join(dir, 'sleeper.json')), s);
    assert.equal(readFileSync(join(dir, 'sleeper.pid'), 'utf8').trim(), String(s.pid));
    await waitForLine(join(dir, 'sleeper.log'), 'hello from sleeper');
    assert.equal(await stopProcess(s), 'terminated');
    assert.equal(isAlive(s), false);
    assert.equal(await stopProcess(s), 'not-running');
    removeState(join(dir, 'sleeper.json'));
    assert.equal(existsSync(join(dir, 'sleeper.pid')), false);
  });

  test('stopProcess SIGKILLs a process that ignores SIGTERM after the grace period', async () => {
    const s = spawnSh('stubborn', 'trap "" TERM; exec sleep 30');
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    assert.equal(await stopProcess(s, { graceMs: 300 }), 'killed');
    assert.ok(Date.now() - t0 >= 300);
    assert.equal(isAlive(s), false);
  });

  test('isAlive is false for a recorded pid now held by another process', () => {
    const s = spawnSh('reused', 'exec sleep 30');
    assert.ok(isAlive(s));
    assert.equal(isAlive({ ...s, startTicks: s.startTicks + 1 }), false);
  });

  test('waitForHealthy fails fast with the log of a process that exits, not its earlier runs', async () => {
    const log = join(dir, 'crasher.log');
    writeFileSync(log, 'old run: all good\n');
    const port = await freePort();
    const s = spawnSh('crasher', 'echo "fatal: --secure-port is already in use" >&2; exit 3');
    const t0 = Date.now();
    await assert.rejects(waitForHealthy({ url: `http://127.0.0.1:${port}/healthz` }, { timeoutMs: 20_000, process: s }), (err: Error) => {
      assert.ok(err instanceof ProcessExitedError);
      assert.match(err.message, /crasher \(pid \d+\) exited before it became healthy/);
      assert.match(err.message, /fatal: --secure-port is already in use/);
      assert.doesNotMatch(err.message, /old run/);
      return true;
    });
    assert.ok(Date.now() - t0 < 10_000);
  });

  test('waitForHealthy times out with what the health URL answered', async () => {
    const server = http.createServer((_req, res) => {
      res.statusCode = 503;
      res.end('[-]etcd failed: not ready');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as { port: number };
    try {
      await assert.rejects(waitForHealthy({ url: `http://127.0.0.1:${port}/readyz` }, { timeoutMs: 500 }), (err: Error) => {
        assert.ok(err instanceof HealthTimeoutError);
        assert.match(err.message, /HTTP 503 \[-\]etcd failed: not ready/);
        return true;
      });
    } finally {
      server.close();
    }
  });

  test('waitForHealthy resolves once the URL answers 200', async () => {
    let calls = 0;
    const server = http.createServer((_req, res) => {
      res.statusCode = ++calls >= 3 ? 200 : 500;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as { port: number };
    try {
      await waitForHealthy({ url: `http://127.0.0.1:${port}/healthz` }, { timeoutMs: 5_000, intervalMs: 10 });
      assert.equal(calls, 3);
    } finally {
      server.close();
    }
  });

  test('spawnDetached throws for a missing binary', () => {
    assert.throws(
      () => spawnDetached({ name: 'ghost', command: '/nonexistent/ghost', args: [], logFile: join(dir, 'ghost.log') }),
      ProcessExitedError,
    );
  });

  test('tailLines returns the last lines after an offset', () => {
    const f = join(dir, 'tail.txt');
    writeFileSync(f, 'a\nb\n');
    appendFileSync(f, 'c\nd\ne\n');
    assert.deepEqual(tailLines(f, 2), ['d', 'e']);
    assert.deepEqual(tailLines(f, 10, 4), ['c', 'd', 'e']);
    assert.deepEqual(tailLines(join(dir, 'missing'), 3), []);
  });

  test('freePorts returns distinct bindable ports', async () => {
    const ports = await freePorts(5);
    assert.equal(new Set(ports).size, 5);
    assert.ok(ports.every((p) => p > 0 && p < 65536));
  });

  test('freePorts stays below the ephemeral range and never hands a port out twice', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) for (const p of await freePorts(10)) {
      assert.ok(p < low! && p < 30000, `${p} is in the ephemeral or NodePort range`);
      assert.ok(!seen.has(p), `${p} handed out twice`);
      seen.add(p);
    }
  });
});

async function waitForLine(file: string, text: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (existsSync(file) && readFileSync(file, 'utf8').includes(text)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`${text} never appeared in ${file}`);
}
