import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Taint, Toleration } from '../api/core/types.js';
import { findMatchingUntoleratedTaint, isDoNotScheduleTaint, taintExists, toleratesTaint } from './taints.js';

describe('toleratesTaint', () => {
  const taint: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
  const cases: [string, Toleration, boolean][] = [
    ['Equal with the same value', { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, true],
    ['empty operator means Equal', { key: 'dedicated', value: 'gpu' }, true],
    ['Equal with another value', { key: 'dedicated', value: 'cpu' }, false],
    ['Exists on the key', { key: 'dedicated', operator: 'Exists' }, true],
    ['Exists without key tolerates everything', { operator: 'Exists' }, true],
    ['other effect', { key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, false],
    ['other key', { key: 'zone', operator: 'Exists' }, false],
    ['unknown operator', { key: 'dedicated', operator: 'Gt', value: 'gpu' }, false],
  ];
  for (const [name, t, want] of cases) it(name, () => assert.equal(toleratesTaint(t, taint), want));
});

describe('findMatchingUntoleratedTaint', () => {
  const taints: Taint[] = [
    { key: 'soft', effect: 'PreferNoSchedule' },
    { key: 'a', value: '1', effect: 'NoSchedule' },
    { key: 'b', effect: 'NoExecute' },
  ];
  const cases: [string, Toleration[] | undefined, string | undefined][] = [
    ['no tolerations: the first hard taint, PreferNoSchedule skipped', undefined, 'a'],
    ['a tolerated: the next one', [{ key: 'a', value: '1' }], 'b'],
    ['all tolerated', [{ key: 'a', operator: 'Exists' }, { key: 'b', operator: 'Exists', effect: 'NoExecute' }], undefined],
    ['wildcard tolerates all', [{ operator: 'Exists' }], undefined],
  ];
  for (const [name, tols, want] of cases) it(name, () => assert.equal(findMatchingUntoleratedTaint(taints, tols, isDoNotScheduleTaint)?.key, want));
});

describe('taintExists', () => {
  it('matches on key and effect, not value', () => {
    assert.equal(taintExists([{ key: 'k', value: 'x', effect: 'NoExecute' }], { key: 'k', effect: 'NoExecute' }), true);
    assert.equal(taintExists([{ key: 'k', effect: 'NoSchedule' }], { key: 'k', effect: 'NoExecute' }), false);
    assert.equal(taintExists(undefined, { key: 'k', effect: 'NoExecute' }), false);
  });
});
