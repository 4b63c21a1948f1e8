import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseZones, splitLabFlags, upIsLabUp } from './lab.js';

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

test('skiff up is a lab up when it asks for nodes or zones, or its home has a lab', () => {
  assert.equal(upIsLabUp(['--nodes', '3'], { SKIFF_HOME: '/nonexistent' }), true);
  assert.equal(upIsLabUp(['--zones=a,b'], { SKIFF_HOME: '/nonexistent' }), true);
  assert.equal(upIsLabUp(['--secure-port', '7443'], { SKIFF_HOME: '/nonexistent' }), false);
  const home = mkdtempSync(join(tmpdir(), 'skiff-lab-cli-'));
  try {
    writeFileSync(join(home, 'lab.json'), JSON.stringify({ subnet: '172.31.9.0/24', nodes: [] }));
    assert.equal(upIsLabUp(['--home', home]), true);
    assert.equal(upIsLabUp([], { SKIFF_HOME: home }), true);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
