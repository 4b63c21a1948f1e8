// The naming controller's decisions: names held by another CRD of the group are refused with
// NamesAccepted=False and Kubernetes' reason and message; the CRD keeps what it had.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomResourceDefinition, CustomResourceDefinitionNames } from '../../lib/api/apiextensions/types.js';
import { calculateNames } from './naming.js';

function crd(name: string, group: string, names: CustomResourceDefinitionNames, accepted?: CustomResourceDefinitionNames): CustomResourceDefinition {
  return {
    metadata: { name },
    spec: { group, scope: 'Namespaced', names, versions: [] },
    status: accepted ? { acceptedNames: accepted } : {},
  };
}

const cronNames = { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'] };
const existing = crd('crontabs.stable.example.com', 'stable.example.com', cronNames, cronNames);

test('fresh names are accepted; Established waits for the establishing step', () => {
  const c = crd('widgets.stable.example.com', 'stable.example.com', { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' });
  const r = calculateNames(c, [existing, c]);
  assert.deepEqual(r.acceptedNames, { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' });
  assert.deepEqual(r.namesAccepted, { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' });
  assert.deepEqual(r.established, { type: 'Established', status: 'False', reason: 'Installing', message: 'the initial names have been accepted' });
});

test('a kind another CRD of the group holds is refused, the rest accepted', () => {
  const c = crd('crons.stable.example.com', 'stable.example.com', { plural: 'crons', singular: 'cron', kind: 'CronTab', listKind: 'CronList' });
  const r = calculateNames(c, [existing, c]);
  assert.deepEqual(r.namesAccepted, { type: 'NamesAccepted', status: 'False', reason: 'KindConflict', message: '"CronTab" is already in use' });
  assert.deepEqual(r.acceptedNames, { plural: 'crons', singular: 'cron', kind: '', listKind: 'CronList' });
  assert.deepEqual(r.established, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' });
});

test('short names and singulars clash with plurals, singulars and short names', () => {
  const c = crd('crons.stable.example.com', 'stable.example.com', { plural: 'crons', singular: 'crontab', kind: 'Cron', listKind: 'CronList', shortNames: ['ct', 'crontabs'] });
  const r = calculateNames(c, [existing, c]);
  // The last conflict found decides the condition, as in Kubernetes.
  assert.deepEqual(r.namesAccepted, { type: 'NamesAccepted', status: 'False', reason: 'ShortNamesConflict', message: '["ct" is already in use, "crontabs" is already in use]' });
  assert.equal(r.acceptedNames.singular, undefined);
  assert.equal(r.acceptedNames.shortNames, undefined);
});

test('other groups do not conflict, and a CRD keeps its own accepted names', () => {
  const c = crd('crontabs.other.example.com', 'other.example.com', cronNames);
  assert.equal(calculateNames(c, [existing, c]).namesAccepted.status, 'True');
  const again = calculateNames(existing, [existing]);
  assert.equal(again.namesAccepted.status, 'True');
  assert.deepEqual(again.acceptedNames, cronNames);
});
