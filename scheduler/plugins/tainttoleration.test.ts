import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Taint } from '../../lib/api/core/types.js';
import { newSnapshot } from '../framework/snapshot.js';
import { makeNode, makePod } from '../framework/testing.js';
import { filterResults, scoreResults } from './testing.js';

describe('TaintToleration filter', () => {
  const snap = newSnapshot([
    makeNode('clean'),
    makeNode('gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
    makeNode('evict', { taints: [{ key: 'maint', effect: 'NoExecute' }] }),
    makeNode('soft', { taints: [{ key: 'spot', value: 'true', effect: 'PreferNoSchedule' }] }),
  ]);
  it('rejects NoSchedule and NoExecute taints the pod does not tolerate, naming the first one', () => {
    assert.deepEqual(filterResults('TaintToleration', makePod('p'), snap), {
      clean: 'Success',
      gpu: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}',
      evict: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {maint: }',
      soft: 'Success',
    });
  });
  it('tolerated taints pass', () => {
    const pod = makePod('p', { tolerations: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, { key: 'maint', operator: 'Exists' }] });
    assert.ok(Object.values(filterResults('TaintToleration', pod, snap)).every((v) => v === 'Success'));
  });
});

describe('TaintToleration score', () => {
  const soft = (key: string): Taint => ({ key, value: 'x', effect: 'PreferNoSchedule' });
  const snap = newSnapshot([
    makeNode('none'),
    makeNode('one', { taints: [soft('a')] }),
    makeNode('two', { taints: [soft('a'), soft('b'), { key: 'hard', effect: 'NoSchedule' }] }),
  ]);
  it('fewer untolerated PreferNoSchedule taints score higher (reverse-normalized)', () => {
    // Raw counts 0, 1, 2 → 100 - 100*count/2.
    assert.deepEqual(scoreResults('TaintToleration', makePod('p'), snap), { none: 100, one: 50, two: 0 });
  });
  it('tolerations without an effect count against PreferNoSchedule', () => {
    const pod = makePod('p', { tolerations: [{ key: 'b', operator: 'Exists' }] });
    // Raw 0, 1, 1 → 100, 0, 0.
    assert.deepEqual(scoreResults('TaintToleration', pod, snap), { none: 100, one: 0, two: 0 });
  });
  it('no soft taints anywhere: every node scores 100', () => {
    assert.deepEqual(scoreResults('TaintToleration', makePod('p'), newSnapshot([makeNode('a'), makeNode('b')])), { a: 100, b: 100 });
  });
});
