import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeClient } from '../lib/testing/fakeclient.js';
import { QueuedEventRecorder } from './events.js';

const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', uid: `uid-${name}` } });

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(5);
}

test('events are written one at a time after the call returns; a full queue drops the rest', async () => {
  const client = new FakeClient();
  const r = new QueuedEventRecorder(client, { component: 'default-scheduler', maxQueued: 3 });
  for (let i = 0; i < 10; i++) r.event(pod(`p${i}`), 'Normal', 'Scheduled', `Successfully assigned ns/p${i} to n1`);
  // The first went to the writer at once; three wait; six did not fit.
  assert.equal(r.dropped, 6);
  await until(() => r.written === 4);
  const created = client.writes().filter((a) => a.verb === 'create' && a.resource === 'events');
  assert.deepEqual(
    created.map((a) => (a.object as { involvedObject: { name: string } }).involvedObject.name),
    ['p0', 'p1', 'p2', 'p3'],
  );
  const ev = created[0]!.object as { metadata: { name: string }; reason: string; message: string; source: { component: string }; count: number };
  assert.match(ev.metadata.name, /^p0\.[0-9a-f]+$/, 'named after the object and the time in hex, as kube names events');
  assert.deepEqual([ev.reason, ev.message, ev.source.component, ev.count], ['Scheduled', 'Successfully assigned ns/p0 to n1', 'default-scheduler', 1]);
});

test('beyond the burst, events wait for the rate limit instead of being sent at once', async () => {
  const client = new FakeClient();
  // One token per 1,000 s: after the burst of 2, nothing more goes out during this test.
  const r = new QueuedEventRecorder(client, { component: 's', qps: 0.001, burst: 2 });
  for (let i = 0; i < 4; i++) r.event(pod(`p${i}`), 'Normal', 'Scheduled', 'm');
  await until(() => r.written >= 2);
  await sleep(20);
  assert.equal(r.written, 2, 'the burst is written, the rest waits for tokens');
  assert.equal(r.pending, 2);
  assert.equal(r.dropped, 0);
});

test('a repeated event bumps the count of the first instead of creating another', async () => {
  const client = new FakeClient();
  const r = new QueuedEventRecorder(client, { component: 's' });
  r.event(pod('p'), 'Warning', 'FailedScheduling', '0/3 nodes are available: 3 Insufficient cpu.');
  r.event(pod('p'), 'Warning', 'FailedScheduling', '0/3 nodes are available: 3 Insufficient cpu.');
  await until(() => r.written === 2);
  const writes = client.writes();
  assert.deepEqual(
    writes.map((a) => a.verb),
    ['create', 'patch'],
  );
  assert.equal((writes[1]!.patch as { count: number }).count, 2);
  assert.equal(writes[1]!.name, (writes[0]!.object as { metadata: { name: string } }).metadata.name);
});
