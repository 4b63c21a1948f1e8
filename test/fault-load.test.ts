// The checks of the fault tests on hand-made histories (no cluster): they must find a lost
// acknowledged write, a resurrected delete, a counter that went back, a revision the watcher
// never saw and one it saw out of order, and forgive what a re-list after a 410 skipped.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lostWrites, missedRevisions, Watcher, Writer, type APIClient, type Stored } from './fault-load.js';
import type { Cluster } from './harness.js';

const client = {} as APIClient;
const cluster = {} as Cluster;

function history(): { writer: Writer; watcher: Watcher; stored: Map<string, Stored> } {
  const writer = new Writer(client, 'ns');
  writer.acks.push(
    { op: 'create', name: 'counter', rv: 10, value: '0' },
    { op: 'create', name: 'a', rv: 11, value: 'a' },
    { op: 'create', name: 'b', rv: 12, value: 'b' },
    { op: 'update', name: 'counter', rv: 13, value: '1' },
    { op: 'delete', name: 'b', rv: 14 },
  );
  writer.counterAttempted = 2;
  const watcher = new Watcher(client, cluster, 'ns');
  watcher.events.push(
    { type: 'ADDED', name: 'counter', rv: 10 },
    { type: 'ADDED', name: 'a', rv: 11 },
    { type: 'ADDED', name: 'b', rv: 12 },
    { type: 'MODIFIED', name: 'counter', rv: 13 },
    { type: 'DELETED', name: 'b', rv: 14 },
  );
  watcher.state.set('counter', 13).set('a', 11);
  const stored = new Map<string, Stored>([
    ['counter', { rv: 13, value: '1' }],
    ['a', { rv: 11, value: 'a' }],
  ]);
  return { writer, watcher, stored };
}

describe('fault checks', () => {
  test('a complete history passes', () => {
    const { writer, watcher, stored } = history();
    assert.deepEqual(lostWrites(writer, stored), []);
    assert.deepEqual(missedRevisions(writer, watcher, stored), []);
  });

  test('a lost create, a resurrected delete and a counter that went back are found', () => {
    const { writer, stored } = history();
    stored.delete('a');
    stored.set('b', { rv: 12, value: 'b' });
    stored.set('counter', { rv: 10, value: '0' });
    assert.deepEqual(lostWrites(writer, stored), [
      'create of a acknowledged at 11 is missing',
      'delete of b acknowledged at 14, but it is still there',
      'counter holds 0; last acknowledged update stored 1, highest attempted 2',
    ]);
  });

  test('a create whose answer was lost may be there or not', () => {
    const { writer, stored } = history();
    writer.acks.splice(1, 1);
    writer.uncertain.add('a');
    assert.deepEqual(lostWrites(writer, stored), []);
    stored.delete('a');
    assert.deepEqual(lostWrites(writer, stored), []);
  });

  test('a revision the watcher never saw is found, unless a re-list after a 410 jumped over it', () => {
    const { writer, watcher, stored } = history();
    watcher.events.splice(3, 1);
    assert.deepEqual(missedRevisions(writer, watcher, stored), ['update of counter at 13 never reached the watcher']);
    watcher.relists.push({ from: 12, rv: 14, items: new Map() });
    assert.deepEqual(missedRevisions(writer, watcher, stored), []);
  });

  test('events out of order and a final state that differs from the store are found', () => {
    const { writer, watcher, stored } = history();
    watcher.outOfOrder.push('MODIFIED counter at 12 after 13');
    watcher.state.set('a', 9).set('ghost', 20);
    assert.deepEqual(missedRevisions(writer, watcher, stored), [
      'out of order: MODIFIED counter at 12 after 13',
      'the watcher holds a at 9, the store at 11',
      'the watcher still holds ghost, which is gone',
    ]);
  });
});
