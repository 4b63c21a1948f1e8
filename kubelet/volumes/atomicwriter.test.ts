import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type Payload, PayloadError, atomicWrite, currentVersion, validatePath } from './atomicwriter.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'skiff-atomic-'));
  dirs.push(d);
  return d;
}

const file = (text: string, mode = 0o644) => ({ data: Buffer.from(text), mode });

describe('atomicWrite', () => {
  it('lays files out as the kubelet does: a timestamped version, ..data, and one link per top-level name', async () => {
    const dir = tempDir();
    const wrote = await atomicWrite(dir, new Map([['a.conf', file('A')], ['sub/b.conf', file('B', 0o600)]]), () => new Date('2026-12-06T17:04:05Z'));
    assert.equal(wrote, true);
    const version = readlinkSync(join(dir, '..data'));
    assert.match(version, /^\.\.2026_12_06_17_04_05\.[A-Za-z0-9]+$/);
    assert.equal(statSync(join(dir, version)).mode & 0o777, 0o755);
    assert.equal(readlinkSync(join(dir, 'a.conf')), '..data/a.conf');
    assert.equal(readlinkSync(join(dir, 'sub')), '..data/sub');
    assert.equal(readFileSync(join(dir, 'sub/b.conf'), 'utf8'), 'B');
    assert.equal(statSync(join(dir, 'a.conf')).mode & 0o777, 0o644);
    assert.equal(statSync(join(dir, 'sub/b.conf')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).sort(), ['..data', version, 'a.conf', 'sub'].sort());
  });

  it('writes nothing when the payload is unchanged', async () => {
    const dir = tempDir();
    const payload: Payload = new Map([['k', file('v')]]);
    await atomicWrite(dir, payload);
    const v1 = await currentVersion(dir);
    assert.equal(await atomicWrite(dir, payload), false);
    assert.equal(await currentVersion(dir), v1);
  });

  it('swaps ..data to a new version on an update: new contents at once, removed keys gone, the old version deleted', async () => {
    const dir = tempDir();
    await atomicWrite(dir, new Map([['keep', file('1')], ['drop', file('x')]]));
    const v1 = (await currentVersion(dir))!;
    // A reader holding the old version's file keeps reading it; a new open sees the update.
    const before = readFileSync(join(dir, 'keep'), 'utf8');
    assert.equal(await atomicWrite(dir, new Map([['keep', file('2')], ['new', file('n')]])), true);
    const v2 = (await currentVersion(dir))!;
    assert.notEqual(v2, v1);
    assert.equal(before, '1');
    assert.equal(readFileSync(join(dir, 'keep'), 'utf8'), '2');
    assert.equal(readFileSync(join(dir, 'new'), 'utf8'), 'n');
    assert.throws(() => lstatSync(join(dir, 'drop')), /ENOENT/);
    assert.throws(() => lstatSync(join(dir, v1)), /ENOENT/);
    assert.deepEqual(readdirSync(dir).sort(), ['..data', v2, 'keep', 'new'].sort());
  });

  it('never shows a reader a missing or partial file while versions are swapped', async () => {
    const dir = tempDir();
    const version = (n: number): Payload => new Map([['a', file(`a${n}`.padEnd(4096, '.'))], ['b', file(`b${n}`)]]);
    await atomicWrite(dir, version(0));
    let done = false;
    const seen = new Set<string>();
    // The reader opens through the links at every turn of the event loop while the writer is
    // between its steps; each read must find a whole file of some version.
    const reader = (async () => {
      while (!done) {
        const a = (await readFile(join(dir, 'a'), 'utf8')).replace(/\.+$/, '');
        assert.match(a, /^a\d+$/);
        assert.equal((await readFile(join(dir, 'a'), 'utf8')).length, 4096);
        assert.match(await readFile(join(dir, 'b'), 'utf8'), /^b\d+$/);
        seen.add(a);
      }
    })();
    for (let n = 1; n <= 40; n++) await atomicWrite(dir, version(n));
    done = true;
    await reader;
    assert.ok(seen.size > 1, `the reader saw several versions: ${[...seen].join(' ')}`);
    assert.equal(readdirSync(dir).filter((n) => n.startsWith('..2')).length, 1, 'old versions are removed');
  });

  it('rewrites when only a mode changed', async () => {
    const dir = tempDir();
    await atomicWrite(dir, new Map([['k', file('v', 0o644)]]));
    assert.equal(await atomicWrite(dir, new Map([['k', file('v', 0o400)]])), true);
    assert.equal(statSync(join(dir, 'k')).mode & 0o777, 0o400);
  });

  it('refuses paths as the kubelet does', async () => {
    const cases: [string, string][] = [
      ['', 'invalid path: must not be empty: ""'],
      ['/etc/passwd', 'invalid path: must be relative path: /etc/passwd'],
      ['a/../../b', "invalid path: must not contain '..': a/../../b"],
      ['..data', "invalid path: must not start with '..': ..data"],
      ['x'.repeat(256), 'invalid path: filenames must be less than or equal to 255 characters'],
    ];
    for (const [p, message] of cases) assert.throws(() => validatePath(p), new PayloadError(message));
    const dir = tempDir();
    await assert.rejects(atomicWrite(dir, new Map([['ok', file('1')], ['../escape', file('2')]])), PayloadError);
    assert.deepEqual(readdirSync(dir), []);
  });
});
