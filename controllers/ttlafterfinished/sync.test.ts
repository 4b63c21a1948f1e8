import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from '../../lib/api/batch/types.js';
import { Jobs } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { TTLAfterFinishedSyncer } from './sync.js';

const now = Date.parse('2024-05-01T12:00:00Z');

function job(ttl: number | undefined, finishedAt?: string): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'ns', uid: 'u', resourceVersion: '9' },
    spec: { ttlSecondsAfterFinished: ttl },
    status: finishedAt ? { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: finishedAt }] } : {},
  };
}

function fixture(j: Job) {
  const client = new FakeClient();
  client.add(Jobs, j);
  return { client, syncer: new TTLAfterFinishedSyncer({ client, jobs: listerOf([j]), now: () => now }) };
}

describe('ttl-after-finished', () => {
  it('deletes an expired Job in the foreground, after reading it fresh, with its resourceVersion as precondition', async () => {
    const f = fixture(job(10, '2024-05-01T11:59:50Z'));
    await f.syncer.processJob('ns/pi');
    assert.deepEqual(f.client.actions.map((a) => `${a.verb} ${a.name}`), ['get pi', 'delete pi']);
    assert.deepEqual(f.client.actions[1]!.options, { propagationPolicy: 'Foreground', preconditions: { resourceVersion: '9' } });
  });

  it('waits for a Job that has not expired yet and ignores unfinished Jobs or Jobs without a TTL', async () => {
    const waiting = fixture(job(60, '2024-05-01T11:59:30Z'));
    assert.deepEqual(await waiting.syncer.processJob('ns/pi'), { requeueAfter: 30_000 });
    const running = fixture(job(0));
    await running.syncer.processJob('ns/pi');
    const noTTL = fixture(job(undefined, '2024-05-01T11:00:00Z'));
    await noTTL.syncer.processJob('ns/pi');
    assert.deepEqual([...waiting.client.actions, ...running.client.actions, ...noTTL.client.actions], []);
  });
});
