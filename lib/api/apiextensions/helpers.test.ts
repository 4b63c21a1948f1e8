// Version ordering (which version discovery prefers) and condition bookkeeping.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareKubeAwareVersion, setCRDCondition } from './helpers.js';
import type { CustomResourceDefinition } from './types.js';

test('versions sort GA first, then beta, then alpha, newest first, then the rest by name', () => {
  const sorted = ['v1alpha1', 'foo', 'v1beta1', 'v2', 'v1', 'v11alpha2', 'v1beta2', 'bar', 'v10'].sort(compareKubeAwareVersion);
  assert.deepEqual(sorted, ['v10', 'v2', 'v1', 'v1beta2', 'v1beta1', 'v11alpha2', 'v1alpha1', 'bar', 'foo']);
});

test('a condition keeps its transition time until its status changes', () => {
  const crd = { metadata: {}, spec: {} } as CustomResourceDefinition;
  setCRDCondition(crd, { type: 'Established', status: 'False', reason: 'Installing' }, new Date('2024-01-01T00:00:00Z'));
  setCRDCondition(crd, { type: 'Established', status: 'False', reason: 'NotAccepted' }, new Date('2024-01-02T00:00:00Z'));
  assert.deepEqual(crd.status!.conditions, [{ type: 'Established', status: 'False', reason: 'NotAccepted', message: undefined, lastTransitionTime: '2024-01-01T00:00:00Z' }]);
  setCRDCondition(crd, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'ok' }, new Date('2024-01-03T00:00:00Z'));
  assert.equal(crd.status!.conditions![0].lastTransitionTime, '2024-01-03T00:00:00Z');
});
