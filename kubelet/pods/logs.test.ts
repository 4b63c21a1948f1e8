import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { rotateLog, rotationTimestamp } from './logs.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('rotationTimestamp is Go\'s 20060102-150405', () => {
  assert.equal(rotationTimestamp(Date.parse('2026-12-06T07:08:09Z')), '20261206-070809');
});

test('a log over the limit is renamed and reopened; older ones are compressed, the oldest removed', async () => {
  const log = join(dir, '0.log');
  const reopened: string[] = [];
  const opts = (now: number) => ({ maxSize: 100, maxFiles: 3, now, reopen: async (id: string) => void reopened.push(id) });
  writeFileSync(log, 'x'.repeat(50));
  assert.equal(await rotateLog(log, 'c1', opts(Date.parse('2026-12-06T00:00:00Z'))), false, 'under the limit');
  const t0 = Date.parse('2026-12-06T00:00:01Z');
  for (let i = 0; i < 4; i++) {
    writeFileSync(log, `run ${i} `.repeat(40));
    assert.equal(await rotateLog(log, 'c1', opts(t0 + i * 1000)), true);
  }
  assert.deepEqual(reopened, ['c1', 'c1', 'c1', 'c1']);
  // maxFiles 3: the live log (made again by the runtime) plus two rotated, the older gzipped.
  assert.equal(existsSync(log), false, 'the runtime reopens the live file');
  assert.deepEqual(readdirSync(dir).sort(), ['0.log.20261206-000003.gz', '0.log.20261206-000004']);
  assert.match(gunzipSync(readFileSync(join(dir, '0.log.20261206-000003.gz'))).toString(), /^run 2 /);
  assert.match(readFileSync(join(dir, '0.log.20261206-000004'), 'utf8'), /^run 3 /);
});

test('a failed reopen gives the live file its name back', async () => {
  const log = join(dir, 'x.log');
  writeFileSync(log, 'y'.repeat(200));
  await assert.rejects(rotateLog(log, 'c2', { maxSize: 100, maxFiles: 5, now: Date.now(), reopen: async () => { throw new Error('no'); } }));
  assert.equal(readFileSync(log, 'utf8').length, 200);
});
