import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { LabelSelector } from '../api/meta.js';
import { Path, formatFieldErrors } from './field-errors.js';
import {
  InvalidLabelSelectorError,
  formatLabelSelector,
  goQuote,
  isEverything,
  labelSelectorAsSelector,
  labelSelectorHasInvalidLabelValue,
  matches,
  nothing,
  parseLabelSelector,
  requiresExactMatch,
  selectorFromSet,
  selectorToString,
  validateLabelSelector,
} from './labels.js';
import { StatusError } from './status.js';

// The texts validation.ts produces for a bad label value and a bad key name part.
const valueMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const nameMsg =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

test('parseLabelSelector: valid selectors and their canonical String() form', () => {
  const cases: [input: string, canonical: string][] = [
    ['', ''],
    ['   ', ''],
    ['x=a', 'x=a'],
    ['x==a', 'x==a'],
    ['x!=a', 'x!=a'],
    ['x=a,y=b,z=c', 'x=a,y=b,z=c'],
    ['z=c,x=a,y=b', 'x=a,y=b,z=c'],
    ['  x = a ,\ty\nin ( b , c ) ', 'x=a,y in (b,c)'],
    ['x in (c,b,a,b)', 'x in (a,b,c)'],
    ['x notin (b,a)', 'x notin (a,b)'],
    ['x in ()', 'x in ()'],
    ['x in (,)', 'x in ()'],
    ['x in (a,,b)', 'x in (,a,b)'],
    ['x notin (,a)', 'x notin (,a)'],
    ['x', 'x'],
    ['!x', '!x'],
    ['! x', '!x'],
    ['x,!y,z=', 'x,!y,z='],
    ['x>1', 'x>1'],
    ['x < 10', 'x<10'],
    ['x=', 'x='],
    ['x=,y', 'x=,y'],
    ['in in (in)', 'in in (in)'],
    ['notin notin (notin,in)', 'notin notin (in,notin)'],
    ['example.com/app=web,app.kubernetes.io/name in (nginx)', 'app.kubernetes.io/name in (nginx),example.com/app=web'],
    ['x=a,x=b', 'x=a,x=b'],
    ['x=A_b.c-9', 'x=A_b.c-9'],
  ];
  for (const [input, canonical] of cases) {
    const sel = parseLabelSelector(input);
    assert.equal(selectorToString(sel), canonical, `String() of ${JSON.stringify(input)}`);
    // The canonical form parses back to itself.
    assert.equal(selectorToString(parseLabelSelector(canonical)), canonical, `round trip of ${JSON.stringify(canonical)}`);
  }
});

test('parseLabelSelector: requirements are sorted by key with operator and values', () => {
  const sel = parseLabelSelector('tier notin (b,a), app=web, !canary, version>2, env');
  assert.deepEqual(sel.requirements, [
    { key: 'app', operator: '=', values: ['web'] },
    { key: 'canary', operator: '!', values: [] },
    { key: 'env', operator: 'exists', values: [] },
    { key: 'tier', operator: 'notin', values: ['a', 'b'] },
    { key: 'version', operator: 'gt', values: ['2'] },
  ]);
  assert.equal(sel.nothing, false);
});

test('parseLabelSelector: invalid selectors answer 400 BadRequest with labels.Parse error text', () => {
  const long = 'a'.repeat(64);
  const cases: [input: string, message: string][] = [
    ['x in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['x in (a,b', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['x in a', "unable to parse requirement: found 'a' expected: '('"],
    ['x in', "unable to parse requirement: found '' expected: '('"],
    ['x in (a b)', "unable to parse requirement: found 'b', expected: ',' or ')'"],
    ['x in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['x in (a,=)', "unable to parse requirement: found '=', expected: ',', or identifier"],
    ['x y', "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"],
    ['x!', "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['!=a', "found '!=', expected: !, identifier, or 'end of string'"],
    ['x=(a)', "unable to parse requirement: found '(', expected: identifier"],
    [',x', "found ',', expected: !, identifier, or 'end of string'"],
    ['x,', "found '', expected: identifier after ','"],
    ['x,,y', "found ',', expected: identifier after ','"],
    ['x=a y', "found 'y', expected: ',' or 'end of string'"],
    ['x=a=b', "found '=', expected: ',' or 'end of string'"],
    ['!x=a', "found '=', expected: ',' or 'end of string'"],
    ['x>a', `unable to parse requirement: values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer`],
    ['x>', `unable to parse requirement: values[0]: Invalid value: "": for 'Gt', 'Lt' operators, the value must be an integer`],
    ['x<1.5', `unable to parse requirement: values[0]: Invalid value: "1.5": for 'Gt', 'Lt' operators, the value must be an integer`],
    ['x>-1', `unable to parse requirement: values[0][x]: Invalid value: "-1": ${valueMsg}`],
    ['x=a_', `unable to parse requirement: values[0][x]: Invalid value: "a_": ${valueMsg}`],
    ['x in (b_,a_)', `unable to parse requirement: [values[0][x]: Invalid value: "a_": ${valueMsg}, values[1][x]: Invalid value: "b_": ${valueMsg}]`],
    [`x=${long}`, `unable to parse requirement: values[0][x]: Invalid value: "${long}": must be no more than 63 characters`],
    ['-x=a', `unable to parse requirement: <nil>: Invalid value: "-x": ${nameMsg}`],
    [`${long}`, `unable to parse requirement: <nil>: Invalid value: "${long}": name part must be no more than 63 characters`],
    ['a/', `unable to parse requirement: <nil>: Invalid value: "a/": name part must be non-empty; ${nameMsg}`],
    ['/a=b', 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'],
    ['x=1,y in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseLabelSelector(input),
      (err: unknown) => {
        assert.ok(err instanceof StatusError, `${input}: a StatusError`);
        assert.equal(err.code, 400);
        assert.equal(err.reason, 'BadRequest');
        assert.equal(err.message, message, `message for ${JSON.stringify(input)}`);
        assert.equal(err.status.message, message);
        assert.equal(err.status.details, undefined);
        return true;
      },
    );
  }
});

test('matches: truth table per operator', () => {
  const labels = { a: '1', b: 'x', n: '5', big: '9223372036854775807', huge: '9223372036854775808', e: '' };
  const cases: [selector: string, want: boolean][] = [
    ['', true],
    ['a', true],
    ['c', false],
    ['!a', false],
    ['!c', true],
    ['a=1', true],
    ['a==1', true],
    ['a=2', false],
    ['e=', true],
    ['c=', false],
    ['a!=2', true],
    ['a!=1', false],
    ['c!=1', true],
    ['a in (1,2)', true],
    ['a in (2,3)', false],
    ['c in (1)', false],
    ['e in ()', true],
    ['a notin (1)', false],
    ['a notin (2,3)', true],
    ['c notin (1)', true],
    ['n>4', true],
    ['n>5', false],
    ['n<6', true],
    ['n<5', false],
    ['b>1', false],
    ['c>1', false],
    ['c<1', false],
    ['big>9223372036854775806', true],
    ['big<9223372036854775807', false],
    ['huge>1', false],
    ['huge<1', false],
    ['a=1,b=x', true],
    ['a=1,b=y', false],
    ['a in (1),!c,n>1', true],
  ];
  for (const [selector, want] of cases) {
    assert.equal(matches(parseLabelSelector(selector), labels), want, selector);
  }
});

test('matches: objects without labels, and keys that are Object.prototype members', () => {
  assert.equal(matches(parseLabelSelector(''), undefined), true);
  assert.equal(matches(parseLabelSelector('!a'), undefined), true);
  assert.equal(matches(parseLabelSelector('a'), undefined), false);
  assert.equal(matches(parseLabelSelector('a!=b'), undefined), true);
  assert.equal(matches(parseLabelSelector('constructor'), {}), false);
  assert.equal(matches(parseLabelSelector('toString!=x'), {}), true);
  assert.equal(matches(parseLabelSelector('hasOwnProperty in (x)'), { hasOwnProperty: 'x' }), true);
});

test('isEverything, nothing and requiresExactMatch', () => {
  assert.equal(isEverything(parseLabelSelector('')), true);
  assert.equal(isEverything(parseLabelSelector('a')), false);
  assert.equal(isEverything(nothing()), false);
  assert.equal(matches(nothing(), {}), false);
  assert.equal(selectorToString(nothing()), '');

  const sel = parseLabelSelector('a=1,b in (2),c in (3,4),d!=5,f==6');
  assert.equal(requiresExactMatch(sel, 'a'), '1');
  assert.equal(requiresExactMatch(sel, 'b'), '2');
  assert.equal(requiresExactMatch(sel, 'c'), undefined);
  assert.equal(requiresExactMatch(sel, 'd'), undefined);
  assert.equal(requiresExactMatch(sel, 'e'), undefined);
  assert.equal(requiresExactMatch(sel, 'f'), '6');
});

test('selectorFromSet selects exactly the set, in key order', () => {
  const sel = selectorFromSet({ tier: 'web', app: 'nginx' });
  assert.equal(selectorToString(sel), 'app=nginx,tier=web');
  assert.equal(matches(sel, { app: 'nginx', tier: 'web', extra: 'x' }), true);
  assert.equal(matches(sel, { app: 'nginx' }), false);
  assert.equal(isEverything(selectorFromSet({})), true);
  assert.equal(isEverything(selectorFromSet(undefined)), true);
});

test('labelSelectorAsSelector: nil selects nothing, empty selects everything', () => {
  for (const ls of [undefined, null]) {
    const sel = labelSelectorAsSelector(ls);
    assert.equal(matches(sel, {}), false);
    assert.equal(matches(sel, { app: 'x' }), false);
    assert.equal(isEverything(sel), false);
  }
  for (const ls of [{}, { matchLabels: {}, matchExpressions: [] }]) {
    const sel = labelSelectorAsSelector(ls);
    assert.equal(matches(sel, {}), true);
    assert.equal(isEverything(sel), true);
  }
});

test('labelSelectorAsSelector: matchLabels and matchExpressions become sorted requirements', () => {
  const ls: LabelSelector = {
    matchLabels: { tier: 'web', app: 'nginx' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod', 'dev'] },
      { key: 'track', operator: 'NotIn', values: ['canary'] },
      { key: 'owner', operator: 'Exists' },
      { key: 'legacy', operator: 'DoesNotExist', values: [] },
    ],
  };
  const sel = labelSelectorAsSelector(ls);
  assert.equal(selectorToString(sel), 'app=nginx,env in (dev,prod),!legacy,owner,tier=web,track notin (canary)');
  // Values keep the order given; only String() sorts them.
  assert.deepEqual(sel.requirements.find((r) => r.key === 'env')?.values, ['prod', 'dev']);
  assert.equal(matches(sel, { app: 'nginx', tier: 'web', env: 'dev', owner: 'me' }), true);
  assert.equal(matches(sel, { app: 'nginx', tier: 'web', env: 'dev', owner: 'me', track: 'canary' }), false);
  assert.equal(matches(sel, { app: 'nginx', tier: 'web', env: 'dev', owner: 'me', legacy: '' }), false);
  assert.equal(matches(sel, { app: 'nginx', tier: 'web', env: 'qa', owner: 'me' }), false);
  assert.equal(matches(sel, { app: 'nginx', tier: 'web', env: 'prod' }), false);
});

test('labelSelectorAsSelector: invalid selectors throw with Kubernetes error text', () => {
  const cases: [ls: LabelSelector, message: string][] = [
    [{ matchExpressions: [{ key: 'a', operator: 'Foo' as 'In', values: ['x'] }] }, '"Foo" is not a valid label selector operator'],
    [{ matchExpressions: [{ key: 'a', operator: 'In' }] }, "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] }, "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x', 'y'] }] }, 'values: Invalid value: []string{"x", "y"}: values set must be empty for exists and does not exist'],
    [{ matchLabels: { 'a/': 'x' } }, `key: Invalid value: "a/": name part must be non-empty; ${nameMsg}`],
    [{ matchLabels: { app: 'x_' } }, `values[0][app]: Invalid value: "x_": ${valueMsg}`],
    [
      { matchExpressions: [{ key: '-k', operator: 'In', values: ['ok', 'b_'] }] },
      `[key: Invalid value: "-k": ${nameMsg}, values[1][-k]: Invalid value: "b_": ${valueMsg}]`,
    ],
  ];
  for (const [ls, message] of cases) {
    assert.throws(() => labelSelectorAsSelector(ls), (err: unknown) => err instanceof InvalidLabelSelectorError && err.message === message, message);
  }
});

test('formatLabelSelector: kubectl describe / Scale status.selector text', () => {
  const cases: [ls: LabelSelector | null | undefined, text: string][] = [
    [undefined, '<none>'],
    [null, '<none>'],
    [{}, '<none>'],
    [{ matchLabels: { app: 'nginx' } }, 'app=nginx'],
    [{ matchLabels: { app: 'nginx' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] }, 'app=nginx,tier in (a,b)'],
    [{ matchExpressions: [{ key: 'x', operator: 'Exists' }, { key: 'y', operator: 'DoesNotExist' }] }, 'x,!y'],
    [{ matchExpressions: [{ key: 'x', operator: 'In' }] }, '<error>'],
    [{ matchExpressions: [{ key: 'x', operator: 'Gt' as 'In', values: ['1'] }] }, '<error>'],
  ];
  for (const [ls, text] of cases) assert.equal(formatLabelSelector(ls), text, JSON.stringify(ls));
});

test('validateLabelSelector: metav1validation errors with their paths and messages', () => {
  const path = new Path('spec').child('selector');
  const cases: [ls: LabelSelector | null, message: string | null][] = [
    [null, null],
    [{}, null],
    [{ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }, { key: 'x', operator: 'Exists' }] }, null],
    [{ matchExpressions: [{ key: 'env', operator: 'In' }] }, "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn', values: [] }] }, "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"],
    [{ matchExpressions: [{ key: 'env', operator: 'DoesNotExist', values: ['a'] }] }, "spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"],
    [{ matchExpressions: [{ key: 'env', operator: 'Foo' as 'In', values: ['a'] }] }, 'spec.selector.matchExpressions[0].operator: Invalid value: "Foo": not a valid selector operator'],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: ['a', 'b_'] }] }, `spec.selector.matchExpressions[0].values[1]: Invalid value: "b_": ${valueMsg}`],
    [{ matchExpressions: [{ key: 'x', operator: 'In', values: ['a'] }, { key: '-env', operator: 'Exists' }] }, `spec.selector.matchExpressions[1].key: Invalid value: "-env": ${nameMsg}`],
    [{ matchLabels: { '-app': 'web' } }, `spec.selector.matchLabels: Invalid value: "-app": ${nameMsg}`],
    [{ matchLabels: { app: 'web_' } }, `spec.selector.matchLabels: Invalid value: "web_": ${valueMsg}`],
    [
      { matchExpressions: [{ key: 'env', operator: 'Exists', values: ['a_'] }] },
      `[spec.selector.matchExpressions[0].values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist', spec.selector.matchExpressions[0].values[0]: Invalid value: "a_": ${valueMsg}]`,
    ],
  ];
  for (const [ls, message] of cases) {
    const errs = validateLabelSelector(ls, path);
    if (message === null) assert.deepEqual(errs, [], JSON.stringify(ls));
    else assert.equal(formatFieldErrors(errs, { withField: true }), message, JSON.stringify(ls));
  }
});

test('validateLabelSelector: options relax operator and value checks; error types are Kubernetes cause reasons', () => {
  const path = new Path('spec').child('selector');
  const unknownOp: LabelSelector = { matchExpressions: [{ key: 'env', operator: 'Foo' as 'In', values: ['a'] }] };
  assert.deepEqual(validateLabelSelector(unknownOp, path, { allowUnknownOperatorInRequirement: true }), []);
  const badValue: LabelSelector = { matchExpressions: [{ key: 'env', operator: 'In', values: ['a_'] }] };
  assert.deepEqual(validateLabelSelector(badValue, path, { allowInvalidLabelValueInSelector: true }), []);
  assert.equal(labelSelectorHasInvalidLabelValue(badValue), true);
  assert.equal(labelSelectorHasInvalidLabelValue({ matchExpressions: [{ key: 'env', operator: 'In', values: ['a'] }] }), false);
  assert.equal(labelSelectorHasInvalidLabelValue(null), false);

  const [e] = validateLabelSelector({ matchExpressions: [{ key: 'env', operator: 'In' }] }, path);
  assert.equal(e.type, 'FieldValueRequired');
  assert.equal(e.field, 'spec.selector.matchExpressions[0].values');
});

test('goQuote follows Go %q escaping', () => {
  assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goQuote('\t\n\x01'), '"\\t\\n\\x01"');
  assert.equal(goQuote('héllo'), '"héllo"');
});
