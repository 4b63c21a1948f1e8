import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Logger } from '../lib/log.js';
import { badRequest, serviceUnavailable, timeout } from '../lib/machinery/status.js';
import { retryStartupStep } from './startup.js';

/** quietLog keeps the lines a logger would write. */
function quietLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: new Logger('apiserver', 0, (line) => lines.push(line)), lines };
}

test('a start-up step is tried again while etcd times out or is unavailable, and then succeeds', async () => {
  const { log, lines } = quietLog();
  const errors = [timeout('Timeout: request did not complete within requested timeout - context deadline exceeded'), serviceUnavailable('etcd is unavailable')];
  let calls = 0;
  await retryStartupStep('bootstrap', async () => {
    calls++;
    const err = errors.shift();
    if (err) throw err;
  }, log);
  assert.equal(calls, 3);
  assert.equal(lines.filter((l) => l.includes('Start-up step failed; trying again') && l.includes('"step":"bootstrap"')).length, 2);
});

test('any other error, or a transient one past the deadline, ends the start-up at once', async () => {
  const { log } = quietLog();
  let calls = 0;
  await assert.rejects(retryStartupStep('bootstrap', async () => {
    calls++;
    throw badRequest('the object is invalid');
  }, log), /the object is invalid/);
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(retryStartupStep('rbac/bootstrap-roles', async () => {
    calls++;
    throw timeout('Timeout: request did not complete within requested timeout - context deadline exceeded');
  }, log, 0), /context deadline exceeded/);
  assert.equal(calls, 1);
});
