// Custom resource schemas at work: every validation message and path as kube-apiserver prints
// it, pruning with the unknown-field paths strict field validation reports, defaulting, nulls and
// list-type uniqueness.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../../machinery/field-errors.js';
import { invalid } from '../../machinery/status.js';
import {
  applyDefaults,
  compileSchema,
  prune,
  pruneNonNullableNullsWithoutDefaults,
  sortKeysDeep,
  validateListSetsAndMaps,
  validateValue,
} from './schema.js';
import type { JSONSchemaProps } from './types.js';

const cronTab: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['cronSpec', 'image'],
      properties: {
        cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
        image: { type: 'string', minLength: 3, maxLength: 20 },
        replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
        ratio: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 2.5, exclusiveMaximum: true },
        color: { type: 'string', enum: ['red', 'blue'] },
        size: { type: 'integer', enum: [1, 2] },
        port: { 'x-kubernetes-int-or-string': true },
        note: { type: 'string', nullable: true },
        count: { type: 'integer' },
        tags: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer', default: 80 } } },
        },
        id: { type: 'string', format: 'uuid' },
        when: { type: 'string', format: 'date-time' },
        unchecked: { type: 'string', format: 'not-a-k8s-format' },
        labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 3 } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'object', properties: { a: { type: 'string' } } } } },
      },
    },
    status: { type: 'object', properties: { replicas: { type: 'integer', minimum: 0 } } },
  },
};
const schema = compileSchema(cronTab);

function messages(errs: FieldError[]): string[] {
  return errs.map((e) => fieldErrorMessage(e));
}

function check(spec: Record<string, unknown>): string[] {
  return messages(validateValue(schema, { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'x' }, spec }));
}

const ok = { cronSpec: '* * * * */5', image: 'nginx' };

test('a valid object has no errors', () => {
  assert.deepEqual(check(ok), []);
});

test('type errors name the expected type and the JSON type found', () => {
  assert.deepEqual(check({ ...ok, replicas: 'string' }), ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"']);
  assert.deepEqual(check({ ...ok, replicas: 1.5 }), ['spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"']);
  assert.deepEqual(check({ ...ok, image: 7 }), ['spec.image: Invalid value: "integer": spec.image in body must be of type string: "integer"']);
  assert.deepEqual(check({ ...ok, tags: 'x' }), ['spec.tags: Invalid value: "string": spec.tags in body must be of type array: "string"']);
  // An integer is a number too.
  assert.deepEqual(check({ ...ok, ratio: 1 }), []);
});

test('required, pattern, length, enum and bounds read as kube-apiserver prints them', () => {
  assert.deepEqual(check({ image: 'nginx' }), ['spec.cronSpec: Required value']);
  assert.deepEqual(check({ ...ok, cronSpec: 'x' }), [
    `spec.cronSpec: Invalid value: "x": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'`,
  ]);
  assert.deepEqual(check({ ...ok, image: 'ab' }), ['spec.image: Invalid value: "ab": spec.image in body should be at least 3 chars long']);
  assert.deepEqual(check({ ...ok, image: 'x'.repeat(21) }), ['spec.image: Too long: may not be more than 20 bytes']);
  assert.deepEqual(check({ ...ok, color: 'purple' }), ['spec.color: Unsupported value: "purple": supported values: "red", "blue"']);
  assert.deepEqual(check({ ...ok, size: 3 }), ['spec.size: Unsupported value: 3: supported values: "1", "2"']);
  assert.deepEqual(check({ ...ok, replicas: 0 }), ['spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1']);
  assert.deepEqual(check({ ...ok, replicas: 11 }), ['spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10']);
  assert.deepEqual(check({ ...ok, ratio: 0 }), ['spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0']);
  assert.deepEqual(check({ ...ok, ratio: 2.5 }), ['spec.ratio: Invalid value: 2.5: spec.ratio in body should be less than 2.5']);
  // Integers are compared with the bound truncated to an integer, as kube-openapi's native-type check does.
  assert.deepEqual(check({ ...ok, ratio: 2 }), ['spec.ratio: Invalid value: 2: spec.ratio in body should be less than 2']);
  assert.deepEqual(check({ ...ok, tags: [] }), ['spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items']);
  assert.deepEqual(check({ ...ok, tags: ['a', 'b', 'c'] }), ['spec.tags: Too many: 3: must have at most 2 items']);
});

test('integers beyond 2^53 (BigInts) are int64s while they fit, float64s past it, and compare exactly', () => {
  const max = 2n ** 63n - 1n;
  assert.deepEqual(check({ ...ok, count: max }), []);
  assert.deepEqual(check({ ...ok, count: -max - 1n }), []);
  assert.deepEqual(check({ ...ok, count: max + 1n }), ['spec.count: Invalid value: "number": spec.count in body must be of type integer: "number"']);
  assert.deepEqual(check({ ...ok, replicas: max }), ['spec.replicas: Invalid value: 9223372036854775807: spec.replicas in body should be less than or equal to 10']);
  assert.deepEqual(check({ ...ok, size: max }), ['spec.size: Unsupported value: 9223372036854775807: supported values: "1", "2"']);
  const sets = compileSchema({ type: 'object', properties: { set: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-list-type': 'set' } } });
  assert.deepEqual(messages(validateListSetsAndMaps(sets, { set: [max, max - 1n, max] })), ['set[2]: Duplicate value: 9223372036854775807']);
});

test('every failing field is listed, in one Invalid error', () => {
  const errs = validateValue(schema, { metadata: { name: 'x' }, spec: { cronSpec: 'bad', replicas: 'two', color: 'green' } });
  assert.equal(
    invalid({ group: 'stable.example.com', kind: 'CronTab' }, 'x', errs).message,
    `CronTab.stable.example.com "x" is invalid: [spec.cronSpec: Invalid value: "bad": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$', ` +
      'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string", ' +
      'spec.color: Unsupported value: "green": supported values: "red", "blue", spec.image: Required value]',
  );
});

test('nullable, int-or-string, formats and maps of values', () => {
  assert.deepEqual(check({ ...ok, note: null }), []);
  assert.deepEqual(check({ ...ok, count: null }), ['spec.count: Invalid value: "null": spec.count in body must be of type integer: "null"']);
  assert.deepEqual(check({ ...ok, port: 80 }), []);
  assert.deepEqual(check({ ...ok, port: 'http' }), []);
  assert.deepEqual(check({ ...ok, port: true }), ['spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"']);
  assert.deepEqual(check({ ...ok, id: 'nope' }), ['spec.id: Invalid value: "nope": spec.id in body must be of type uuid: "nope"']);
  assert.deepEqual(check({ ...ok, id: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' }), []);
  assert.deepEqual(check({ ...ok, when: 'yesterday' }), ['spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"']);
  assert.deepEqual(check({ ...ok, when: '2024-05-01T10:00:00Z' }), []);
  // Formats Kubernetes does not know are stripped: nothing is checked.
  assert.deepEqual(check({ ...ok, unchecked: 'anything' }), []);
  assert.deepEqual(check({ ...ok, labels: { a: 'long' } }), ['spec.labels.a: Too long: may not be more than 3 bytes']);
});

test('status validates under its own path', () => {
  const status = schema.properties!.get('status')!;
  assert.deepEqual(messages(validateValue(status, { replicas: -1 }, 'status')), ['status.replicas: Invalid value: -1: replicas in body should be greater than or equal to 0']);
});

test('pruning drops unknown fields and reports their sorted paths; metadata, apiVersion and kind stay', () => {
  const obj = {
    apiVersion: 'stable.example.com/v1',
    kind: 'CronTab',
    metadata: { name: 'x' },
    spec: { ...ok, zeta: 1, alpha: { b: 2 }, ports: [{ name: 'a', extra: true }], free: { anything: 1, known: { a: 'x', b: 'y' } } },
    extra: 1,
  };
  assert.deepEqual(prune(obj, schema, true), ['extra', 'spec.alpha', 'spec.free.known.b', 'spec.ports[0].extra', 'spec.zeta']);
  assert.deepEqual(obj, {
    apiVersion: 'stable.example.com/v1',
    kind: 'CronTab',
    metadata: { name: 'x' },
    spec: { ...ok, ports: [{ name: 'a' }], free: { anything: 1, known: { a: 'x' } } },
  });
});

test('defaults fill missing and null fields, in lists too; nulls without defaults are dropped', () => {
  const obj: Record<string, unknown> = { spec: { ...ok, replicas: null, count: null, note: null, ports: [{ name: 'a' }, { name: 'b', port: 8080 }] } };
  pruneNonNullableNullsWithoutDefaults(obj, schema);
  applyDefaults(obj, schema);
  assert.deepEqual(obj.spec, { ...ok, replicas: 1, note: null, ports: [{ name: 'a', port: 80 }, { name: 'b', port: 8080 }] });
  const empty: Record<string, unknown> = { spec: { ...ok } };
  applyDefaults(empty, schema);
  assert.equal((empty.spec as { replicas: number }).replicas, 1);
});

test('set and map lists must hold unique items and keys', () => {
  assert.deepEqual(messages(validateListSetsAndMaps(schema, { spec: { tags: ['a', 'b', 'a', 'a'] } })), ['spec.tags[2]: Duplicate value: "a"']);
  const dup = validateListSetsAndMaps(schema, { spec: { ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] } });
  assert.equal(dup.length, 1);
  assert.equal(dup[0].field, 'spec.ports[1]');
  assert.equal(dup[0].type, 'FieldValueDuplicate');
  assert.deepEqual(dup[0].value, { name: 'http' });
});

test('sortKeysDeep orders keys as Go serializes maps', () => {
  assert.equal(JSON.stringify(sortKeysDeep({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 2 } })), '{"a":{"c":2,"d":[{"y":2,"z":1}]},"b":1}');
});

test('keys that name a prototype are ordinary fields to pruning, defaulting and key sorting', () => {
  const schema = compileSchema(
    JSON.parse('{"type":"object","properties":{"spec":{"type":"object","properties":{"__proto__":{"type":"object","default":{"polluted":"yes"}},"free":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}') as JSONSchemaProps,
  );
  const obj = JSON.parse('{"spec":{"constructor":{"prototype":{"polluted":"yes"}},"free":{"__proto__":{"polluted":"yes"}}},"__proto__":{"polluted":"yes"}}');
  assert.deepEqual(prune(obj, schema, true), ['__proto__', 'spec.constructor']);
  applyDefaults(obj, schema);
  const sorted = sortKeysDeep(obj);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(sorted.spec), Object.prototype);
  assert.equal(JSON.stringify(sorted), '{"spec":{"__proto__":{"polluted":"yes"},"free":{"__proto__":{"polluted":"yes"}}}}');
});
