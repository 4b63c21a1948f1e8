import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expand, mappingFuncFor } from './expansion.js';

describe('expand', () => {
  const mapping = mappingFuncFor(new Map([['VAR_A', 'A'], ['VAR_B', 'B'], ['VAR_REF', '$(VAR_A)'], ['VAR_EMPTY', '']]), new Map([['SVC', 'svc']]));
  const cases: [string, string][] = [
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_B)', 'A-B'],
    ['$(SVC)', 'svc'],
    ['$(VAR_EMPTY)x', 'x'],
    ['$(VAR_REF)', '$(VAR_A)'], // one pass: a value is not expanded again
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(VAR_A)', '$(VAR_A)'], // escaped
    ['$$$(VAR_A)', '$A'],
    ['$$$$(VAR_A)', '$$(VAR_A)'],
    ['$(VAR_A', '$(VAR_A'], // unterminated
    ['$VAR_A', '$VAR_A'],
    ['cost: 5$', 'cost: 5$'],
    ['$', '$'],
    ['$()', '$()'],
    ['$(VAR_A)$(VAR_B', 'A$(VAR_B'],
    ['ünïcödé $(VAR_A) ✓', 'ünïcödé A ✓'],
  ];
  for (const [input, want] of cases) {
    it(`expands ${JSON.stringify(input)}`, () => assert.equal(expand(input, mapping), want));
  }
});
