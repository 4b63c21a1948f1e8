import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeSelectorRequirement } from '../../lib/api/core/types.js';
import { newSnapshot } from '../framework/snapshot.js';
import { makeNode, makePod } from '../framework/testing.js';
import { filterResults, scoreResults } from './testing.js';

const MISMATCH = "UnschedulableAndUnresolvable: node(s) didn't match Pod's node affinity/selector";

const snap = newSnapshot([
  makeNode('a1', { labels: { zone: 'a', cores: '4' } }),
  makeNode('b1', { labels: { zone: 'b', cores: '16', disk: 'ssd' } }),
  makeNode('c1', { labels: { cores: 'many' } }),
]);

function required(...exprs: NodeSelectorRequirement[][]) {
  return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: exprs.map((e) => ({ matchExpressions: e })) } } };
}

describe('NodeAffinity filter', () => {
  const cases: { name: string; pod: ReturnType<typeof makePod>; fits: string[] }[] = [
    { name: 'no constraints (PreFilter skips)', pod: makePod('p'), fits: ['a1', 'b1', 'c1'] },
    { name: 'nodeSelector', pod: makePod('p', { nodeSelector: { zone: 'b' } }), fits: ['b1'] },
    { name: 'In', pod: makePod('p', { affinity: required([{ key: 'zone', operator: 'In', values: ['a', 'b'] }]) }), fits: ['a1', 'b1'] },
    { name: 'NotIn matches nodes without the label', pod: makePod('p', { affinity: required([{ key: 'zone', operator: 'NotIn', values: ['a'] }]) }), fits: ['b1', 'c1'] },
    { name: 'Exists', pod: makePod('p', { affinity: required([{ key: 'disk', operator: 'Exists' }]) }), fits: ['b1'] },
    { name: 'DoesNotExist', pod: makePod('p', { affinity: required([{ key: 'disk', operator: 'DoesNotExist' }]) }), fits: ['a1', 'c1'] },
    { name: 'Gt compares integers, non-integer labels never match', pod: makePod('p', { affinity: required([{ key: 'cores', operator: 'Gt', values: ['8'] }]) }), fits: ['b1'] },
    { name: 'Lt', pod: makePod('p', { affinity: required([{ key: 'cores', operator: 'Lt', values: ['8'] }]) }), fits: ['a1'] },
    {
      name: 'expressions in a term are ANDed, terms are ORed',
      pod: makePod('p', { affinity: required([{ key: 'zone', operator: 'In', values: ['b'] }, { key: 'disk', operator: 'Exists' }], [{ key: 'cores', operator: 'In', values: ['many'] }]) }),
      fits: ['b1', 'c1'],
    },
    { name: 'an invalid term (In without values) matches nothing', pod: makePod('p', { affinity: required([{ key: 'zone', operator: 'In', values: [] }]) }), fits: [] },
    {
      name: 'nodeSelector and affinity must both hold',
      pod: makePod('p', { nodeSelector: { zone: 'a' }, affinity: required([{ key: 'disk', operator: 'Exists' }]) }),
      fits: [],
    },
    {
      name: 'matchFields on metadata.name',
      pod: makePod('p', {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c1'] }] }] } } },
      }),
      fits: ['c1'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = filterResults('NodeAffinity', c.pod, snap);
      for (const n of ['a1', 'b1', 'c1']) assert.equal(r[n], c.fits.includes(n) ? 'Success' : MISMATCH, n);
    });
  }

  it("enforces the profile's addedAffinity with its own reason", () => {
    const args = { addedAffinity: required([{ key: 'zone', operator: 'In', values: ['a'] }]).nodeAffinity };
    assert.deepEqual(filterResults('NodeAffinity', makePod('p'), snap, args), {
      a1: 'Success',
      b1: "UnschedulableAndUnresolvable: node(s) didn't match scheduler-enforced node affinity",
      c1: "UnschedulableAndUnresolvable: node(s) didn't match scheduler-enforced node affinity",
    });
  });
});

describe('NodeAffinity score', () => {
  it('sums matching preferred weights, normalized so the best scores 100', () => {
    const pod = makePod('p', {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 2, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
            { weight: 5, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } },
            { weight: 1, preference: { matchExpressions: [{ key: 'cores', operator: 'In', values: ['many'] }] } },
          ],
        },
      },
    });
    // Raw 2, 5, 1 → 100*raw/5.
    assert.deepEqual(scoreResults('NodeAffinity', pod, snap), { a1: 40, b1: 100, c1: 20 });
  });
  it('a pod without preferences skips scoring', () => {
    assert.equal(scoreResults('NodeAffinity', makePod('p'), snap), 'skip');
  });
});
