import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Logger } from './log.js';

function capture(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { log: new Logger('test', 0, (l) => lines.push(JSON.parse(l) as Record<string, unknown>)), lines };
}

test('secret-looking fields are redacted, work-queue keys are not', () => {
  const { log, lines } = capture();
  log.info('Reconcile failed', { key: 'default/web', token: 'abc', privateKey: 'pem', apiKey: 'k', password: 'p', clientSecret: 's' });
  assert.equal(lines[0]!.key, 'default/web');
  for (const k of ['token', 'privateKey', 'apiKey', 'password', 'clientSecret']) assert.equal(lines[0]![k], '[redacted]', k);
});

test('v(n) logs only at verbosity n or more', () => {
  const { log, lines } = capture();
  log.v(2).info('detail');
  log.setVerbosity(2);
  log.v(2).info('detail');
  assert.equal(lines.length, 1);
});
