import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseZones, splitLabFlags } from './lab.js';

test('--zones: label values, at least one', () => {
  assert.throws(() => parseZones(','), /at least one zone/);
  assert.throws(() => parseZones('a,b c'), /invalid zone "b c"/);
  assert.deepEqual(parseZones(' a, b '), ['a', 'b']);
});

test('lab up takes its own flags out of the command line and leaves skiff up\'s', () => {
  assert.deepEqual(splitLabFlags(['--nodes', '3', '--zones=a,b', '--secure-port', '7443', '-v', '2']), {
    lab: { nodes: '3', zones: 'a,b' },
    rest: ['--secure-port', '7443', '-v', '2'],
  });
  assert.throws(() => splitLabFlags(['--nodes']), /needs a value/);
});
