import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { newLogger } from '../log.js';
import { contextFor, defaultConfig, saveConfig, stateFile } from './cluster.js';
import type { Component } from './components.js';
import {
  consecutiveExitsAfter,
  defaultRestartPolicy,
  describeExit,
  restartDelayMs,
  ServiceManager,
  UnknownComponentError,
  type RestartPolicy,
} from './servicemanager.js';
import { isAlive, killNow, readState, sleep, spawnDetached, type ProcessState } from './supervisor.js';

test('restartDelayMs doubles from the initial delay up to the cap', () => {
  const table: [number, number][] = [[1, 1_000], [2, 2_000], [3, 4_000], [6, 32_000], [7, 60_000], [50, 60_000], [5_000, 60_000]];
  for (const [n, want] of table) assert.equal(restartDelayMs(n), want, `exit ${n}`);
  assert.equal(restartDelayMs(0), 1_000, 'a count below 1 is the first exit');
});

test('consecutiveExitsAfter starts again after a run that lasted', () => {
  assert.equal(consecutiveExitsAfter(0, 500), 1);
  assert.equal(consecutiveExitsAfter(4, 500), 5);
  assert.equal(consecutiveExitsAfter(4, defaultRestartPolicy.resetAfterMs), 1);
});

test('describeExit says how a run ended', () => {
  assert.equal(describeExit(undefined), '-');
  assert.equal(describeExit({ code: 1, signal: null, at: 0 }), 'code 1');
  assert.equal(describeExit({ code: null, signal: 'SIGKILL', at: 0 }), 'signal SIGKILL');
  assert.equal(describeExit({ code: null, signal: null, at: 0 }), 'unknown');
});

describe('ServiceManager', () => {
  let home: string;
  let manager: ServiceManager;
  const policy: RestartPolicy = { initialDelayMs: 100, maxDelayMs: 400, resetAfterMs: 60_000 };
  // A component that runs until killed, and one that exits 3 at once.
  const sleeper: Component = {
    name: 'sleeper',
    command: () => ({ command: 'sh', args: ['-c', 'exec sleep 600'] }),
    health: () => ({ url: 'http://127.0.0.1:1/' }),
    startTimeoutMs: 1_000,
    stopGraceMs: 1_000,
  };
  const crasher: Component = { ...sleeper, name: 'crasher', command: () => ({ command: 'sh', args: ['-c', 'exit 3'] }) };
  const file = (name: string) => stateFile(contextFor(defaultConfig(home)), name);
  const until = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 600 && !cond(); i++) await sleep(50);
    assert.ok(cond(), `timed out waiting for ${what}`);
  };

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'skiff-servicemanager-'));
    saveConfig(defaultConfig(home));
    manager = new ServiceManager(home, [sleeper, crasher], newLogger('supervisor-test', 0), policy, 50);
  });
  after(async () => {
    manager.close();
    for (const name of ['sleeper', 'crasher']) {
      const s = readState(file(name));
      if (s) killNow(s);
    }
    rmSync(home, { recursive: true, force: true });
  });

  test('a killed component is started again, and its state file records the restart and the signal', async () => {
    const first = manager.start('sleeper');
    assert.ok(isAlive(first));
    assert.equal(manager.start('sleeper').pid, first.pid, 'start of a running component returns it');
    killNow(first);
    await until(() => {
      const s = readState(file('sleeper'));
      return !!s && s.pid !== first.pid && isAlive(s);
    }, 'the restart');
    const second = readState(file('sleeper'))!;
    assert.equal(second.restarts, 1);
    assert.equal(describeExit(second.lastExit), 'signal SIGKILL');
    assert.ok(second.lastRestartAt! >= second.lastExit!.at);
    assert.equal(second.nextRestartAt, undefined);
  });

  test('stop stops for good: no restart, no state file', async () => {
    const running = readState(file('sleeper'))!;
    assert.equal(await manager.stop('sleeper'), 'terminated');
    assert.equal(isAlive(running), false);
    await sleep(policy.maxDelayMs + 200);
    assert.equal(readState(file('sleeper')), undefined);
  });

  test('a component that keeps exiting is restarted with a growing back-off and its exit code', async () => {
    manager.start('crasher');
    await until(() => (readState(file('crasher'))?.restarts ?? 0) >= 3, 'three restarts');
    const s = readState(file('crasher'))!;
    assert.equal(describeExit(s.lastExit), 'code 3');
    await manager.stop('crasher');
    const restarts = s.restarts!;
    await sleep(policy.maxDelayMs + 200);
    assert.equal(readState(file('crasher')), undefined, 'no restart after stop');
    assert.ok(restarts >= 3);
  });

  test('a running process the manager did not start is adopted and restarted when it goes', async () => {
    const ctx = contextFor(defaultConfig(home));
    const orphan: ProcessState = spawnDetached({ name: 'sleeper', command: 'sh', args: ['-c', 'exec sleep 600'], logFile: join(ctx.paths.logs, 'sleeper.log'), stateFile: file('sleeper') });
    assert.equal(manager.start('sleeper').pid, orphan.pid);
    killNow(orphan);
    await until(() => {
      const s = readState(file('sleeper'));
      return !!s && s.pid !== orphan.pid && isAlive(s);
    }, 'the adopted process to be replaced');
    const s = readState(file('sleeper'))!;
    assert.equal(s.restarts, 1);
    assert.equal(describeExit(s.lastExit), 'unknown', 'the exit status of a process that is not our child is unknown');
    await manager.stop('sleeper');
  });

  test('an unknown component is refused', () => {
    assert.throws(() => manager.start('nope'), UnknownComponentError);
  });
});
