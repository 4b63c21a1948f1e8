import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FieldError, fieldErrorMessage } from '../../machinery/field-errors.js';
import { type PodDisruptionBudget, podDisruptionBudgets } from './poddisruptionbudget.js';
import { conditionsAreUpToDate, pdbGuardsPod, updateDisruptionAllowedCondition } from './helpers.js';

const msgs = (errs: FieldError[]) => errs.map((e) => fieldErrorMessage(e));
const now = new Date('2024-05-01T12:00:00Z');

function pdb(spec: PodDisruptionBudget['spec']): PodDisruptionBudget {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'ns', creationTimestamp: '2024-05-01T11:00:00Z' }, spec };
}

test('PodDisruptionBudget validation: exclusive fields, percentages, the unhealthy pod policy', () => {
  assert.deepEqual(msgs(podDisruptionBudgets.validate!(pdb({ minAvailable: '30%', selector: { matchLabels: { app: 'web' } }, unhealthyPodEvictionPolicy: 'AlwaysAllow' }))), []);
  const both = podDisruptionBudgets.validate!(pdb({ minAvailable: 1, maxUnavailable: 1 }));
  assert.deepEqual(both.map((e) => [e.field, e.detail]), [['spec', 'minAvailable and maxUnavailable cannot be both set']]);
  assert.deepEqual(msgs(podDisruptionBudgets.validate!(pdb({ minAvailable: -1 }))), ['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']);
  assert.deepEqual(msgs(podDisruptionBudgets.validate!(pdb({ maxUnavailable: '101%' }))), ['spec.maxUnavailable: Invalid value: "101%": must not be greater than 100%']);
  assert.match(msgs(podDisruptionBudgets.validate!(pdb({ maxUnavailable: 'half' })))[0]!, /^spec.maxUnavailable: Invalid value: "half": a valid percent string must be/);
  assert.deepEqual(msgs(podDisruptionBudgets.validate!(pdb({ unhealthyPodEvictionPolicy: 'Never' }))), [
    'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"',
  ]);
});

test('PodDisruptionBudget strategy: status starts at zero counts, status validation, printer cells', () => {
  const p = pdb({ maxUnavailable: '25%' });
  podDisruptionBudgets.prepareForCreate!(p, { now });
  assert.deepEqual(p.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
  p.status = { disruptionsAllowed: -1, conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: '' }] };
  assert.deepEqual(msgs(podDisruptionBudgets.validateStatusUpdate!(p, p)), [
    'status.conditions[0].lastTransitionTime: Required value: must be set',
    'status.conditions[0].reason: Required value: must be set',
    'status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0',
  ]);
  const cells = podDisruptionBudgets.printerColumns!.map((c) => c.cell({ ...p, status: { disruptionsAllowed: 2 } }, now));
  assert.deepEqual(cells, ['web', 'N/A', '25%', 2, '60m']);
});

test('the DisruptionAllowed condition follows disruptionsAllowed; budgets match pods by namespace and selector', () => {
  const p: PodDisruptionBudget = { ...pdb({ selector: { matchLabels: { app: 'web' } } }), metadata: { name: 'web', namespace: 'ns', generation: 1 }, status: { disruptionsAllowed: 1, observedGeneration: 1 } };
  updateDisruptionAllowedCondition(p, now);
  assert.deepEqual(p.status?.conditions, [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 1, lastTransitionTime: '2024-05-01T12:00:00Z' }]);
  assert.equal(conditionsAreUpToDate(p), true);
  p.status!.disruptionsAllowed = 0;
  assert.equal(conditionsAreUpToDate(p), false);
  const web = { metadata: { namespace: 'ns', labels: { app: 'web' } } };
  assert.equal(pdbGuardsPod(p, web), true);
  assert.equal(pdbGuardsPod(p, { metadata: { namespace: 'other', labels: { app: 'web' } } }), false);
  const empty = { ...p, spec: { selector: {} } };
  assert.equal(pdbGuardsPod(empty, web), true, 'policy/v1: an empty selector matches every pod');
  assert.equal(pdbGuardsPod(empty, web, { emptyMatchesAll: false }), false);
  assert.equal(pdbGuardsPod({ ...p, spec: {} }, web), false, 'no selector matches nothing');
});
