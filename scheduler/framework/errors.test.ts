import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FitError, newDiagnosis } from './errors.js';
import { unresolvable, unschedulable } from './status.js';
import { makePod } from './testing.js';

describe('FitError', () => {
  it("counts reasons across nodes and sorts them as kube's sort.Strings does", () => {
    const d = newDiagnosis();
    d.nodeToStatus.set('n1', unresolvable('node(s) had untolerated taint {dedicated: gpu}'));
    d.nodeToStatus.set('n2', unschedulable('Insufficient cpu'));
    d.nodeToStatus.set('n3', unschedulable('Insufficient cpu', 'Insufficient memory'));
    const err = new FitError(makePod('p'), 3, d);
    assert.equal(err.message, '0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu.');
    d.postFilterMsg = 'preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod';
    assert.equal(
      err.message,
      '0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    );
  });

  it('a PreFilter rejection replaces the per-node histogram', () => {
    const d = newDiagnosis();
    d.preFilterMsg = 'pod affinity terms conflict';
    d.nodeToStatus.set('n1', unschedulable('ignored'));
    assert.equal(new FitError(makePod('p'), 2, d).message, '0/2 nodes are available: pod affinity terms conflict.');
  });
});
