// One served CRD version as the registry sees it: its printer columns and cells, its strategy
// hooks (pruning, defaulting, generation, validation, the terminating refusal), its unknown-field
// report, and the storage view that serves one stored object under every version.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../lib/api/meta.js';
import { fieldErrorMessage } from '../../lib/machinery/field-errors.js';
import { StatusError } from '../../lib/machinery/status.js';
import type { CustomResourceDefinition } from '../../lib/api/apiextensions/types.js';
import { toTable } from '../endpoints/table.js';
import { cellForJSONValue, customResourceDefinitionFor, versionViewFor } from './serving.js';
import { findResults, parseJSONPath } from './jsonpath.js';

const crd: CustomResourceDefinition = {
  metadata: { name: 'crontabs.stable.example.com', uid: 'u1' },
  spec: {
    group: 'stable.example.com',
    scope: 'Namespaced',
    names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  cronSpec: { type: 'string' },
                  replicas: { type: 'integer', default: 1 },
                  policy: { type: 'string', default: 'Allow' },
                },
              },
              status: { type: 'object', properties: { replicas: { type: 'integer', minimum: 0 }, selector: { type: 'string' } } },
            },
          },
        },
        subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } },
        selectableFields: [{ jsonPath: '.spec.cronSpec' }],
        additionalPrinterColumns: [
          { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' },
          { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas', description: 'Copies wanted.' },
          { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', priority: 1 },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
      },
      {
        name: 'v1beta1',
        served: true,
        storage: false,
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { cronSpec: { type: 'string' }, replicas: { type: 'integer' } } } } } },
      },
    ],
  },
  status: { acceptedNames: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'] } },
};

const ctx = { now: new Date('2024-05-01T12:00:00Z') };

function cronTab(spec: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'c', namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z' }, spec, ...extra };
}

test('the definition carries the accepted names, scope, subresources and Kubernetes verb order', () => {
  const def = customResourceDefinitionFor(crd, 'v1', { terminating: false });
  assert.equal(def.kind, 'CronTab');
  assert.equal(def.listKind, 'CronTabList');
  assert.deepEqual(def.shortNames, ['ct']);
  assert.equal(def.namespaced, true);
  assert.deepEqual(def.verbs, ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch']);
  assert.equal(def.subresources?.status, true);
  assert.deepEqual(def.subresources?.scale, { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' });
  assert.ok(!def.patchTypes?.includes('application/strategic-merge-patch+json'));
  // selectableFields become field selectors.
  assert.equal(def.fieldSelectors!['spec.cronSpec'](cronTab({ cronSpec: '0 * * * *' })), '0 * * * *');
  assert.equal(def.fieldSelectors!['spec.cronSpec'](cronTab({})), undefined);
});

test('printer columns: NAME first, declared columns with their types, dates as ages', () => {
  const def = customResourceDefinitionFor(crd, 'v1', { terminating: false });
  const obj = cronTab({ cronSpec: '* * * * */5', replicas: 3 }, { status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  const t = toTable(def, [obj], { tableVersion: 'v1', includeObject: 'None', now: ctx.now });
  assert.deepEqual(
    t.columnDefinitions.map((c) => [c.name, c.type, c.priority, c.description]),
    [
      ['Name', 'string', 0, t.columnDefinitions[0].description],
      ['Spec', 'string', 0, 'Custom resource definition column (in JSONPath format): .spec.cronSpec'],
      ['Replicas', 'integer', 0, 'Copies wanted.'],
      ['Ready', 'string', 1, 'Custom resource definition column (in JSONPath format): .status.conditions[?(@.type=="Ready")].status'],
      ['Age', 'date', 0, 'Custom resource definition column (in JSONPath format): .metadata.creationTimestamp'],
    ],
  );
  assert.deepEqual(t.rows[0].cells, ['c', '* * * * */5', 3, 'True', '60m']);
  const bare = toTable(def, [cronTab({})], { tableVersion: 'v1', includeObject: 'None', now: ctx.now });
  assert.deepEqual(bare.rows[0].cells, ['c', null, null, null, '60m']);
});

test('cells convert as the CR table convertor does', () => {
  assert.equal(cellForJSONValue('integer', 2.7, ctx.now), 2);
  assert.equal(cellForJSONValue('integer', 'x', ctx.now), null);
  assert.equal(cellForJSONValue('number', 3, ctx.now), 3);
  assert.equal(cellForJSONValue('boolean', 'true', ctx.now), null);
  assert.equal(cellForJSONValue('string', 5, ctx.now), '5');
  assert.equal(cellForJSONValue('string', { a: 1 }, ctx.now), '{"a":1}');
  assert.equal(cellForJSONValue('date', 'soon', ctx.now), '<invalid>');
  assert.equal(cellForJSONValue('date', '2024-04-29T12:00:00Z', ctx.now), '2d');
});

test('a version without columns gets an Age column', () => {
  const def = customResourceDefinitionFor(crd, 'v1beta1', { terminating: false });
  assert.deepEqual(def.printerColumns!.map((c) => [c.name, c.type]), [['Name', 'string'], ['Age', 'date']]);
});

test('jsonpath finds fields, indices, quoted keys and filters', () => {
  const obj = { a: { b: [{ n: 'x', v: 1 }, { n: 'y', v: 2 }], 'c.d': 3 } };
  assert.deepEqual(findResults(parseJSONPath('.a.b[1].n'), obj), ['y']);
  assert.deepEqual(findResults(parseJSONPath("{.a['c.d']}"), obj), [3]);
  assert.deepEqual(findResults(parseJSONPath('.a.b[*].v'), obj), [1, 2]);
  assert.deepEqual(findResults(parseJSONPath('.a.b[?(@.v>1)].n'), obj), ['y']);
  assert.deepEqual(findResults(parseJSONPath('.a.missing'), obj), []);
});

test('create: unknown fields pruned, defaults set, status dropped, generation 1', () => {
  const def = customResourceDefinitionFor(crd, 'v1', { terminating: false });
  const obj = cronTab({ cronSpec: 'x', extra: 1 }, { status: { replicas: 4 }, bogus: true });
  obj.metadata.foo = 'bar';
  assert.deepEqual(def.unknownFields!(obj), ['bogus', 'spec.extra', 'metadata.foo']);
  def.defaults!(obj);
  def.prepareForCreate!(obj, ctx);
  assert.deepEqual(obj.spec, { cronSpec: 'x', replicas: 1, policy: 'Allow' });
  assert.equal(obj.status, undefined);
  assert.equal(obj.bogus, undefined);
  assert.equal(obj.metadata.foo, undefined);
  assert.equal(obj.metadata.generation, 1);
});

test('a terminating CRD refuses creates with MethodNotAllowed', () => {
  const def = customResourceDefinitionFor(crd, 'v1', { terminating: true });
  assert.throws(
    () => def.prepareForCreate!(cronTab({}), ctx),
    (err: unknown) => err instanceof StatusError && err.code === 405 && err.message === 'create not allowed while custom resource definition is terminating',
  );
});

test('generation moves when anything but metadata changes', () => {
  const def = customResourceDefinitionFor(crd, 'v1', { terminating: false });
  const old = cronTab({ cronSpec: 'a' });
  old.metadata.generation = 4;
  const same = structuredClone(old);
  same.metadata.labels = { x: 'y' };
  def.prepareForUpdate!(same, old, ctx);
  assert.equal(same.metadata.generation, 4);
  const changed = cronTab({ cronSpec: 'b' });
  def.prepareForUpdate!(changed, old, ctx);
  assert.equal(changed.metadata.generation, 5);
});

test('validation adds the scale paths to the schema errors', () => {
  const def = customResourceDefinitionFor(crd, 'v1', { terminating: false });
  const errs = def.validate!(cronTab({ replicas: -1 }, { status: { replicas: 'two' } })).map((e) => fieldErrorMessage(e));
  assert.deepEqual(errs, [
    'status.replicas: Invalid value: "string": status.replicas in body must be of type integer: "string"',
    '.spec.replicas: Invalid value: -1: should be a non-negative integer',
    '.status.replicas: Invalid value: 0: .status.replicas accessor error: two is of the type string, expected int64',
  ]);
  const status = def.validateStatusUpdate!(cronTab({}, { status: { replicas: -2 } }), cronTab({})).map((e) => fieldErrorMessage(e));
  assert.deepEqual(status, ['status.replicas: Invalid value: -2: replicas in body should be greater than or equal to 0', '.status.replicas: Invalid value: -2: should be a non-negative integer']);
});

test('objects are stored in the storage version and served in every version', () => {
  const v1beta1 = versionViewFor(crd, 'v1beta1');
  const written = v1beta1.toStorage({ apiVersion: 'stable.example.com/v1beta1', kind: 'CronTab', metadata: { name: 'c' }, spec: { replicas: 2, cronSpec: 'x' } });
  assert.equal(written.apiVersion, 'stable.example.com/v1');
  // Read back through v1beta1: defaulted in v1 (the stored version), pruned to v1beta1's schema, keys sorted.
  const read = v1beta1.fromStorage(written);
  assert.equal(JSON.stringify(read), '{"apiVersion":"stable.example.com/v1beta1","kind":"CronTab","metadata":{"name":"c"},"spec":{"cronSpec":"x","replicas":2}}');
  const v1 = versionViewFor(crd, 'v1');
  assert.deepEqual(v1.fromStorage(written).spec, { cronSpec: 'x', policy: 'Allow', replicas: 2 });
  assert.equal(written.apiVersion, 'stable.example.com/v1', 'reading never mutates the stored object');
});
