import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Logger } from '../../lib/log.js';
import { FakeClock } from '../../lib/testing/fakeclock.js';
import type { Container, ContainerState, ContainerStatus } from '../cri/types.js';
import { ContainerLogManager, rotationTimestamp } from './rotation.js';

// Rotated files are named in local time, as the kubelet names them; the test pins the zone.
process.env.TZ = 'UTC';

const dir = mkdtempSync(join(tmpdir(), 'skiff-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** FakeRuntime holds containers with a state and a log path; ReopenContainerLog makes a fresh
 * empty file, as containerd does (or fails, when told to). */
class FakeRuntime {
  readonly containers = new Map<string, { state: ContainerState; logPath: string }>();
  readonly reopened: string[] = [];
  failReopen = false;
  async listContainers(): Promise<Container[]> {
    return [...this.containers].map(([id, c]) => ({ id, state: c.state }) as Container);
  }
  async containerStatus(id: string): Promise<{ status: ContainerStatus; info: Record<string, string> }> {
    const c = this.containers.get(id)!;
    return { status: { id, state: c.state, log_path: c.logPath } as ContainerStatus, info: {} };
  }
  async reopenContainerLog(id: string): Promise<void> {
    if (this.failReopen) throw new Error('reopen failed');
    this.reopened.push(id);
    writeFileSync(this.containers.get(id)!.logPath, '');
  }
}

/** containerLog makes a log file of size bytes for a container of the fake runtime. */
function containerLog(rt: FakeRuntime, id: string, state: ContainerState, size: number): string {
  const d = join(dir, id);
  rmSync(d, { recursive: true, force: true });
  const p = join(d, '0.log');
  mkdirSync(d, { recursive: true });
  writeFileSync(p, 'x'.repeat(size));
  rt.containers.set(id, { state, logPath: p });
  return p;
}

const quiet = new Logger('test', 0, () => undefined);
const t0 = Date.UTC(2026, 11, 6, 17, 30, 5);

test('rotationTimestamp uses the kubelet layout', () => {
  assert.equal(rotationTimestamp(t0), '20261206-173005');
});

test('a running container over the size is rotated and reopened; small, exited ones are left alone', async () => {
  const rt = new FakeRuntime();
  const big = containerLog(rt, 'big', 'CONTAINER_RUNNING', 2000);
  const small = containerLog(rt, 'small', 'CONTAINER_RUNNING', 100);
  const exited = containerLog(rt, 'exited', 'CONTAINER_EXITED', 5000);
  const clock = new FakeClock(t0);
  const m = new ContainerLogManager({ runtime: rt, log: quiet, maxSize: 1000, clock });
  await m.rotateLogs();
  assert.deepEqual(rt.reopened, ['big']);
  assert.equal(statSync(big).size, 0);
  assert.equal(statSync(`${big}.20261206-173005`).size, 2000);
  assert.equal(statSync(small).size, 100);
  assert.deepEqual(readdirSync(join(dir, 'exited')), ['0.log']);
  assert.equal(statSync(exited).size, 5000);
});

test('at most maxFiles files are kept, older rotated ones compressed, on the manager own timer', async () => {
  const rt = new FakeRuntime();
  const log = containerLog(rt, 'chatty', 'CONTAINER_RUNNING', 0);
  const clock = new FakeClock(t0);
  const m = new ContainerLogManager({ runtime: rt, log: quiet, maxSize: '1Ki', maxFiles: 4, clock });
  m.start();
  try {
    for (let i = 0; i < 6; i++) {
      writeFileSync(log, `round ${i} `.padEnd(2048, '.'));
      clock.step(10_000);
      // Let the pass run its file operations.
      for (let k = 0; k < 50 && rt.reopened.length <= i; k++) await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await m.stop();
  }
  assert.equal(rt.reopened.length, 6);
  const files = readdirSync(join(dir, 'chatty')).sort();
  // The live file, the newest rotated one as is, and maxFiles-2 older ones compressed.
  assert.deepEqual(files, ['0.log', '0.log.20261206-173045.gz', '0.log.20261206-173055.gz', '0.log.20261206-173105']);
  assert.match(gunzipSync(readFileSync(join(dir, 'chatty', '0.log.20261206-173055.gz'))).toString(), /^round 4 /);
  assert.match(readFileSync(join(dir, 'chatty', '0.log.20261206-173105'), 'utf8'), /^round 5 /);
});

test('when the runtime cannot reopen the log, the file is put back for the next pass', async () => {
  const rt = new FakeRuntime();
  const log = containerLog(rt, 'stuck', 'CONTAINER_RUNNING', 4096);
  rt.failReopen = true;
  const m = new ContainerLogManager({ runtime: rt, log: quiet, maxSize: 1024, clock: new FakeClock(t0) });
  await m.rotateLogs();
  assert.deepEqual(readdirSync(join(dir, 'stuck')), ['0.log']);
  assert.equal(statSync(log).size, 4096);
});

test('a missing live file is reopened; leftovers of an interrupted compression are cleared', async () => {
  const rt = new FakeRuntime();
  const log = containerLog(rt, 'gone', 'CONTAINER_RUNNING', 0);
  rmSync(log);
  writeFileSync(`${log}.20261206-170000`, 'old');
  writeFileSync(`${log}.20261206-170000.gz`, 'old, compressed');
  writeFileSync(`${log}.20261206-171000.tmp`, 'half');
  const m = new ContainerLogManager({ runtime: rt, log: quiet, maxSize: 10, clock: new FakeClock(t0) });
  await m.rotateLogs();
  assert.ok(existsSync(log), 'the runtime made the file again');
  writeFileSync(log, 'now it is long enough');
  await m.rotateLogs();
  assert.deepEqual(readdirSync(join(dir, 'gone')).sort(), ['0.log', '0.log.20261206-170000.gz', '0.log.20261206-173005']);
});

test('bad settings are refused', () => {
  const rt = new FakeRuntime();
  assert.throws(() => new ContainerLogManager({ runtime: rt, log: quiet, maxFiles: 1 }), /containerLogMaxFiles 1: must be greater than 1/);
  assert.throws(() => new ContainerLogManager({ runtime: rt, log: quiet, maxSize: 'lots' }), /containerLogMaxSize/);
  assert.equal(new ContainerLogManager({ runtime: rt, log: quiet }).maxSize, 10 * 1024 * 1024);
});

test('clean deletes a container log and its rotated files, and nothing of the next attempt', async () => {
  const rt = new FakeRuntime();
  const log = containerLog(rt, 'removed', 'CONTAINER_EXITED', 10);
  writeFileSync(`${log}.20261206-170000.gz`, 'old');
  writeFileSync(join(dir, 'removed', '1.log'), 'next attempt');
  const m = new ContainerLogManager({ runtime: rt, log: quiet });
  await m.clean(log);
  assert.deepEqual(readdirSync(join(dir, 'removed')), ['1.log']);
  await m.clean(join(dir, 'nowhere', '0.log'));
});
