import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { goDuration } from '../machinery/duration.js';
import { crashLoopBackOffMessage, crashLoopBackOffMs } from './backoff.js';

describe('crashLoopBackOffMs', () => {
  const cases: [number, number][] = [
    [0, 0],
    [1, 10_000],
    [2, 20_000],
    [3, 40_000],
    [5, 160_000],
    [6, 300_000],
    [50, 300_000],
  ];
  for (const [restarts, want] of cases) test(`after ${restarts} restarts`, () => assert.equal(crashLoopBackOffMs(restarts), want));
});

test('crashLoopBackOffMessage says it as the kubelet does', () => {
  const pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' } };
  assert.equal(crashLoopBackOffMessage(40_000, 'app', pod), 'back-off 40s restarting failed container=app pod=web_default(u1)');
  assert.equal(crashLoopBackOffMessage(300_000, 'app', pod), 'back-off 5m0s restarting failed container=app pod=web_default(u1)');
});

test('goDuration prints as Go does', () => {
  assert.deepEqual([0, 10_000, 80_000, 300_000, 3_600_000, 3_725_000].map(goDuration), ['0s', '10s', '1m20s', '5m0s', '1h0m0s', '1h2m5s']);
});
