import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatFieldErrors } from '../../machinery/field-errors.js';
import { type ControllerRevision, controllerOf, validateControllerRevision, validateControllerRevisionUpdate } from './controllerrevision.js';

const cr = (over: Partial<ControllerRevision> = {}): ControllerRevision => ({ apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'web-abc', namespace: 'ns' }, data: { spec: {} }, revision: 1, ...over });

describe('ControllerRevision', () => {
  test('refuses a revision without data or with a negative number, with kube messages', () => {
    assert.equal(formatFieldErrors(validateControllerRevision(cr({ data: undefined })), { withField: true }), 'data: Required value: data is mandatory');
    assert.equal(formatFieldErrors(validateControllerRevision(cr({ revision: -1 })), { withField: true }), 'revision: Invalid value: -1: must be greater than or equal to 0');
    assert.deepEqual(validateControllerRevision(cr()), []);
  });

  test('data is immutable, the revision number is not', () => {
    assert.deepEqual(validateControllerRevisionUpdate(cr({ revision: 5 }), cr()), []);
    assert.match(formatFieldErrors(validateControllerRevisionUpdate(cr({ data: { spec: { x: 1 } } }), cr()), { withField: true }), /^data: Invalid value: .*field is immutable$/);
  });

  test('prints its controller as kubectl does', () => {
    const owned = cr({ metadata: { name: 'a', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u', controller: true }] } });
    assert.equal(controllerOf(owned), 'statefulset.apps/db');
    assert.equal(controllerOf(cr()), '<none>');
  });
});
