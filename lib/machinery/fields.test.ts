import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  checkFieldSelectorSupported,
  defaultFieldLabels,
  escapeValue,
  fieldLabelNotSupportedFor,
  fieldRequirements,
  fieldSelectorFromSet,
  fieldSelectorToString,
  isEverything,
  matchesFields,
  nothing,
  notAKnownFieldSelector,
  oneTermEqualSelector,
  parseFieldSelector,
  requiresExactMatch,
  transformFieldSelector,
  type FieldRequirement,
} from './fields.js';
import { StatusError } from './status.js';

function assertBadRequest(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StatusError, 'a StatusError');
    assert.equal(err.code, 400);
    assert.equal(err.reason, 'BadRequest');
    assert.equal(err.message, message);
    assert.equal(err.status.details, undefined);
    return true;
  });
}

test('parseFieldSelector: terms, operators, escaping and canonical String()', () => {
  const cases: [input: string, reqs: FieldRequirement[], canonical: string][] = [
    ['', [], ''],
    [',,,', [], ''],
    ['metadata.name=foo', [{ field: 'metadata.name', operator: '=', value: 'foo' }], 'metadata.name=foo'],
    ['metadata.name==foo', [{ field: 'metadata.name', operator: '=', value: 'foo' }], 'metadata.name=foo'],
    ['status.phase!=Running', [{ field: 'status.phase', operator: '!=', value: 'Running' }], 'status.phase!=Running'],
    [
      'spec.nodeName=n1,metadata.namespace=default',
      [
        { field: 'metadata.namespace', operator: '=', value: 'default' },
        { field: 'spec.nodeName', operator: '=', value: 'n1' },
      ],
      'metadata.namespace=default,spec.nodeName=n1',
    ],
    [
      'a=1,,b=2,',
      [
        { field: 'a', operator: '=', value: '1' },
        { field: 'b', operator: '=', value: '2' },
      ],
      'a=1,b=2',
    ],
    ['spec.nodeName=', [{ field: 'spec.nodeName', operator: '=', value: '' }], 'spec.nodeName='],
    ['a!=', [{ field: 'a', operator: '!=', value: '' }], 'a!='],
    ['a=x\\,y', [{ field: 'a', operator: '=', value: 'x,y' }], 'a=x\\,y'],
    ['a=x\\=y', [{ field: 'a', operator: '=', value: 'x=y' }], 'a=x\\=y'],
    ['a=x\\\\y', [{ field: 'a', operator: '=', value: 'x\\y' }], 'a=x\\\\y'],
    ['a=x\\\\,b=y', [{ field: 'a', operator: '=', value: 'x\\' }, { field: 'b', operator: '=', value: 'y' }], 'a=x\\\\,b=y'],
    // No whitespace trimming: spaces belong to the field and the value.
    [' a = b', [{ field: ' a ', operator: '=', value: ' b' }], ' a = b'],
  ];
  for (const [input, reqs, canonical] of cases) {
    const sel = parseFieldSelector(input);
    assert.deepEqual(fieldRequirements(sel), reqs, `requirements of ${JSON.stringify(input)}`);
    assert.equal(fieldSelectorToString(sel), canonical, `String() of ${JSON.stringify(input)}`);
    assert.equal(isEverything(sel), reqs.length === 0);
    assert.deepEqual(fieldRequirements(parseFieldSelector(canonical)), reqs, `round trip of ${JSON.stringify(canonical)}`);
  }
});

test('parseFieldSelector: invalid selectors answer 400 BadRequest with fields.ParseSelector text', () => {
  const cases: [input: string, message: string][] = [
    ['a', "invalid selector: 'a'; can't understand 'a'"],
    ['x=1,a', "invalid selector: 'x=1,a'; can't understand 'a'"],
    ['metadata.name', "invalid selector: 'metadata.name'; can't understand 'metadata.name'"],
    ['a=b=c', 'invalid field selector: unescaped character in value: 61'],
    ['a!==b', 'invalid field selector: unescaped character in value: 61'],
    ['a=\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
    // Terms are checked in sorted order, so 'a' fails before 'z=\q' does.
    ['z=\\q,a', "invalid selector: 'z=\\q,a'; can't understand 'a'"],
  ];
  for (const [input, message] of cases) assertBadRequest(() => parseFieldSelector(input), message);
});

test('escapeValue escapes backslash, comma and equals', () => {
  assert.equal(escapeValue('a\\b,c=d'), 'a\\\\b\\,c\\=d');
  assert.equal(escapeValue('plain'), 'plain');
  const value = 'x=1,y\\2';
  const sel = parseFieldSelector(`f=${escapeValue(value)}`);
  assert.equal(requiresExactMatch(sel, 'f'), value);
});

test('matchesFields: truth table; absent fields read as ""', () => {
  const fields = { 'metadata.name': 'foo', 'status.phase': 'Running', 'spec.nodeName': '', 'spec.other': undefined };
  const cases: [selector: string, want: boolean][] = [
    ['', true],
    ['metadata.name=foo', true],
    ['metadata.name==foo', true],
    ['metadata.name=bar', false],
    ['metadata.name!=bar', true],
    ['metadata.name!=foo', false],
    ['spec.nodeName=', true],
    ['spec.nodeName!=', false],
    ['spec.other=', true],
    ['spec.missing=', true],
    ['spec.missing!=x', true],
    ['spec.missing=x', false],
    ['metadata.name=foo,status.phase=Running', true],
    ['metadata.name=foo,status.phase!=Running', false],
    ['constructor=', true],
    ['toString!=', false],
  ];
  for (const [selector, want] of cases) assert.equal(matchesFields(parseFieldSelector(selector), fields), want, selector);
  assert.equal(matchesFields(nothing(), fields), false);
  assert.equal(isEverything(nothing()), false);
});

test('requiresExactMatch, oneTermEqualSelector and fieldSelectorFromSet', () => {
  const sel = parseFieldSelector('metadata.name=foo,spec.nodeName!=n1');
  assert.equal(requiresExactMatch(sel, 'metadata.name'), 'foo');
  assert.equal(requiresExactMatch(sel, 'spec.nodeName'), undefined);
  assert.equal(requiresExactMatch(sel, 'status.phase'), undefined);

  const one = oneTermEqualSelector('metadata.name', 'a,b');
  assert.equal(fieldSelectorToString(one), 'metadata.name=a\\,b');
  assert.equal(matchesFields(one, { 'metadata.name': 'a,b' }), true);

  const set = fieldSelectorFromSet({ 'metadata.name': 'x', 'metadata.namespace': 'ns' });
  assert.equal(matchesFields(set, { 'metadata.name': 'x', 'metadata.namespace': 'ns' }), true);
  assert.equal(matchesFields(set, { 'metadata.name': 'x', 'metadata.namespace': 'other' }), false);
  assert.equal(isEverything(fieldSelectorFromSet(undefined)), true);
});

test('transformFieldSelector renames, drops and rejects terms', () => {
  const sel = parseFieldSelector('spec.host=n1,status.phase=Running');
  const renamed = transformFieldSelector(sel, (f, v) => (f === 'spec.host' ? ['spec.nodeName', v] : [f, v]));
  assert.equal(fieldSelectorToString(renamed), 'spec.nodeName=n1,status.phase=Running');
  const dropped = transformFieldSelector(sel, () => ['', '']);
  assert.equal(isEverything(dropped), true);
  assert.throws(() =>
    transformFieldSelector(sel, (f) => {
      throw new Error(`no ${f}`);
    }),
  /no spec.host/);
});

test('checkFieldSelectorSupported: kube-apiserver messages for unsupported field labels', () => {
  const podFields = ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase'];
  // Supported labels pass, as does an empty selector.
  checkFieldSelectorSupported(parseFieldSelector('spec.nodeName=n1,status.phase!=Failed'), podFields);
  checkFieldSelectorSupported(parseFieldSelector(''), []);

  assertBadRequest(() => checkFieldSelectorSupported(parseFieldSelector('spec.foo=bar'), podFields), 'field label not supported: spec.foo');
  // The first unsupported term in sorted order is the one reported.
  assertBadRequest(() => checkFieldSelectorSupported(parseFieldSelector('z.b=1,a.b=2'), podFields), 'field label not supported: a.b');
  assertBadRequest(
    () => checkFieldSelectorSupported(parseFieldSelector('spec.color=red'), ['metadata.name', 'metadata.namespace'], 'stable.example.com/v1, Kind=CronTab'),
    'field label not supported for stable.example.com/v1, Kind=CronTab: spec.color',
  );
  assertBadRequest(
    () => checkFieldSelectorSupported(parseFieldSelector('status.replicas=1'), defaultFieldLabels, notAKnownFieldSelector),
    '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
  );
  assertBadRequest(
    () => checkFieldSelectorSupported(parseFieldSelector('x=1'), [], fieldLabelNotSupportedFor('appsv1.StatefulSet')),
    'field label not supported for appsv1.StatefulSet: x',
  );
  assertBadRequest(() => checkFieldSelectorSupported(parseFieldSelector('x=1'), [], (l) => `field label ${JSON.stringify(l)} not supported for batchv1.Job`), 'field label "x" not supported for batchv1.Job');
});
