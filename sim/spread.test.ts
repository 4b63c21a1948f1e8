import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextAfterWrite, nextPhaseTime, phaseOf, stretchPeriod } from './spread.js';

test('5,000 Nodes renewing every 10s spread evenly: no second carries much more than its share', () => {
  const period = 10_000;
  const perSecond = new Array(10).fill(0);
  for (let i = 0; i < 5000; i++) {
    const p = phaseOf(`sim-${i}`, period);
    assert.ok(p >= 0 && p < period);
    perSecond[Math.floor(p / 1000)]++;
  }
  // An even spread is 500 a second; all at once would be 5,000 in one.
  assert.ok(Math.max(...perSecond) < 600, `renewals per second: ${perSecond.join(' ')}`);
  assert.ok(Math.min(...perSecond) > 400, `renewals per second: ${perSecond.join(' ')}`);
});

test('nextPhaseTime keeps a Node on its phase, a full period after the last renewal', () => {
  const period = 10_000;
  const phase = phaseOf('sim-7', period);
  const t = 1_700_000_000_000;
  const next = nextPhaseTime('sim-7', period, t);
  assert.ok(next >= t && next < t + period);
  assert.equal(((next - phase) % period + period) % period, 0);
});

test('nextAfterWrite: on phase, never sooner than a tenth of a period nor later than 1.1 periods', () => {
  const period = 22_223;
  for (let i = 0; i < 1000; i++) {
    const name = `sim-${i}`;
    const now = 1_700_000_000_000 + i * 7919;
    const next = nextAfterWrite(name, period, now);
    assert.ok(next - now >= period / 10 && next - now <= period * 1.1, `${name}: ${next - now}ms`);
    assert.equal(((next - phaseOf(name, period)) % period + period) % period, 0);
  }
  // A renewal 3s late is followed by the next on-phase one, 7s later for a 10s period.
  const t = nextPhaseTime('sim-7', 10_000, 1_700_000_000_000);
  assert.equal(nextAfterWrite('sim-7', 10_000, t + 3000), t + 10_000);
});

test('stretchPeriod: the configured period while the budget allows, longer when not, capped', () => {
  assert.deepEqual(stretchPeriod(100, 10_000, 300, 0.75, 30_000), { periodMs: 10_000, stretched: false, overBudget: false });
  // 5,000 renewals at 225 writes/s take 22.3s.
  assert.deepEqual(stretchPeriod(5000, 10_000, 300, 0.75, 30_000), { periodMs: 22_223, stretched: true, overBudget: false });
  assert.deepEqual(stretchPeriod(20_000, 10_000, 300, 0.75, 30_000), { periodMs: 30_000, stretched: true, overBudget: true });
  assert.equal(stretchPeriod(0, 10_000, 300, 0.75).periodMs, 10_000);
});
