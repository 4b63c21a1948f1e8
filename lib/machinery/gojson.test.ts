import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJSONSyntaxError } from './gojson.js';

const check = (text: string) => goJSONSyntaxError(Buffer.from(text, 'utf8'));

test('goJSONSyntaxError words syntax errors as encoding/json does', () => {
  const cases: [string, string][] = [
    ['apiVersion: v1\nkind: Pod\n', `invalid character 'a' looking for beginning of value`],
    ['{"metadata": ', 'unexpected end of JSON input'],
    ['', 'unexpected end of JSON input'],
    ['{a: 1}', `invalid character 'a' looking for beginning of object key string`],
    ['{"a" 1}', `invalid character '1' after object key`],
    ['{"a": 1 "b": 2}', `invalid character '"' after object key:value pair`],
    ['[1 2]', `invalid character '2' after array element`],
    ['{"a": 1,}', `invalid character '}' looking for beginning of object key string`],
    ['[1,]', `invalid character ']' looking for beginning of value`],
    ['{"a": tru}', `invalid character '}' in literal true (expecting 'e')`],
    ['nul', 'unexpected end of JSON input'],
    ['{"a": -x}', `invalid character 'x' in numeric literal`],
    ['1.e5', `invalid character 'e' after decimal point in numeric literal`],
    ['1e+', 'unexpected end of JSON input'],
    ['1ex', `invalid character 'x' in exponent of numeric literal`],
    ['01', `invalid character '1' after top-level value`],
    ['{} {}', `invalid character '{' after top-level value`],
    ['"a\tb"', `invalid character '\\t' in string literal`],
    ['"\\x"', `invalid character 'x' in string escape code`],
    ['"\\u12g4"', `invalid character 'g' in \\u hexadecimal character escape`],
    ["'a'", `invalid character '\\'' looking for beginning of value`],
  ];
  for (const [text, want] of cases) assert.equal(check(text), want, JSON.stringify(text));
});

test('goJSONSyntaxError accepts what JSON.parse accepts', () => {
  for (const text of ['{}', '[]', ' {"a": [1, -2.5e+3, true, false, null, "x\\u00e9\\n"], "b": {"c": {}}} ', '0', '"s"', '[[[[]]]]']) {
    assert.equal(check(text), undefined, text);
  }
  assert.equal(check('['.repeat(100_000)), 'unexpected end of JSON input');
});
