import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from './options.js';
import { mergeSimArgs, parseSimArgs } from './sim.js';

test('skiff sim reads --nodes and the node flags', () => {
  const r = parseSimArgs(['--home', '/h', '--nodes', '50', '--node-cpu=16', '--node-labels', 'a=b', '--zones', '2'], {});
  assert.equal(r.home, '/h');
  assert.equal(r.nodes, 50);
  assert.deepEqual(r.flags, { 'node-cpu': '16', 'node-labels': 'a=b', zones: '2' });
  assert.equal(r.timeoutMs, 300_000);
  assert.equal(parseSimArgs([], { SKIFF_HOME: '/x' }).nodes, undefined, 'no --nodes keeps the current count');
  for (const bad of [['--nodes', '-3'], ['--nodes', 'lots'], ['--zones', '1000'], ['--timeout', 'soon'], ['--node-gpus', '1']]) {
    assert.throws(() => parseSimArgs(bad, {}), UsageError, bad.join(' '));
  }
});

test('flags given replace the recorded ones of the same name; the others stay unless --reset', () => {
  const recorded = ['--node-cpu=16', '--node-labels=a=b'];
  assert.deepEqual(mergeSimArgs(recorded, { 'node-memory': '64Gi', 'node-cpu': '4' }), ['--node-cpu=4', '--node-memory=64Gi', '--node-labels=a=b']);
  assert.deepEqual(mergeSimArgs(recorded, { zones: '0' }, true), ['--zones=0']);
  assert.deepEqual(mergeSimArgs([], {}), []);
});
