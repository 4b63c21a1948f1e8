// AuditLogWriter: lines arrive whole and in order, batched rather than written one by one,
// the file is the owner's only, and it rotates by size keeping --audit-log-maxbackup files.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLogWriter } from './writer.js';

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-audit-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

describe('AuditLogWriter', () => {
  it('writes every line, in order, after a short wait and at stop', withDir(async (dir) => {
    const path = join(dir, 'logs', 'audit.log');
    const w = new AuditLogWriter({ path, maxSizeMB: 0, maxBackups: 0, flushIntervalMs: 20 });
    for (let i = 0; i < 1000; i++) w.write(JSON.stringify({ i }));
    // Batched: nothing is written synchronously.
    assert.equal(readFileSync(path, 'utf8'), '');
    await new Promise((r) => setTimeout(r, 200));
    w.write(JSON.stringify({ i: 1000 }));
    w.stop();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => JSON.parse(l).i), Array.from({ length: 1001 }, (_, i) => i));
    assert.equal(statSync(path).mode & 0o777, 0o600);
  }));

  it('rotates past --audit-log-maxsize and keeps --audit-log-maxbackup old files', withDir(async (dir) => {
    const path = join(dir, 'audit.log');
    const w = new AuditLogWriter({ path, maxSizeMB: 1, maxBackups: 2, flushIntervalMs: 1 });
    const line = 'x'.repeat(100 * 1024);
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 6; i++) w.write(`${round}:${line}`);
      // Let each batch land so the next one finds the file full.
      await new Promise((r) => setTimeout(r, 100));
    }
    w.stop();
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 3, files.join(' '));
    assert.ok(files.includes('audit.log'));
    for (const f of files.filter((x) => x !== 'audit.log')) assert.match(f, /^audit-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.log$/);
    for (const f of files) assert.ok(statSync(join(dir, f)).size <= 1024 * 1024, `${f} stays within 1 MiB`);
    // The newest lines are in the current file.
    assert.match(readFileSync(path, 'utf8'), /^3:/);
  }));
});
