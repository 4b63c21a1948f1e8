import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { CriLogParseError, LogAssembler, LogOptionsError, parseCriLogLine, parseLogOptions, selectMessages, streamContainerLog, type LogMessage } from './logs.js';

const t0 = '2026-01-02T03:04:05.123456789Z';

test('parseCriLogLine reads time, stream, tag and text', () => {
  const full = parseCriLogLine(Buffer.from(`${t0} stdout F hello world`));
  assert.deepEqual({ ...full, content: full.content.toString() }, { time: t0, stream: 'stdout', partial: false, content: 'hello world' });
  const partial = parseCriLogLine(Buffer.from(`${t0} stderr P abc`));
  assert.equal(partial.partial, true);
  assert.equal(partial.stream, 'stderr');
  assert.equal(parseCriLogLine(Buffer.from(`${t0} stdout F `)).content.toString(), '');
  assert.throws(() => parseCriLogLine(Buffer.from('garbage')), CriLogParseError);
  assert.throws(() => parseCriLogLine(Buffer.from(`${t0} stdin F x`)), CriLogParseError);
});

test('LogAssembler joins P chunks per stream and waits for whole lines across pieces', () => {
  const a = new LogAssembler();
  const text = `${t0} stdout P aaa\n${t0} stderr F err\n${t0} stdout P bbb\n${t0} stdout F ccc\n${t0} stdout F next\n`;
  const out: LogMessage[] = [];
  // Fed byte by byte: no message may come out early or broken.
  for (const byte of Buffer.from(text)) out.push(...a.push(Buffer.from([byte])));
  assert.deepEqual(out.map((m) => [m.stream, m.content.toString()]), [
    ['stderr', 'err\n'],
    ['stdout', 'aaabbbccc\n'],
    ['stdout', 'next\n'],
  ]);
});

test('selectMessages applies --since then --tail', () => {
  const msg = (time: string, text: string): LogMessage => ({ time, stream: 'stdout', content: Buffer.from(`${text}\n`) });
  const all = [msg('2026-01-01T00:00:01Z', 'a'), msg('2026-01-01T00:00:02Z', 'b'), msg('2026-01-01T00:00:03Z', 'c')];
  assert.deepEqual(selectMessages(all, { tailLines: 2 }).map((m) => m.content.toString()), ['b\n', 'c\n']);
  assert.deepEqual(selectMessages(all, { tailLines: 0 }), []);
  assert.deepEqual(selectMessages(all, { sinceTime: new Date('2026-01-01T00:00:02Z') }).map((m) => m.content.toString()), ['b\n', 'c\n']);
  assert.deepEqual(selectMessages(all, { sinceTime: new Date('2026-01-01T00:00:02Z'), tailLines: 1 }).map((m) => m.content.toString()), ['c\n']);
});

test('parseLogOptions reads the kubelet query and refuses bad values', () => {
  const now = new Date('2026-01-01T00:01:00Z');
  const o = parseLogOptions(new URLSearchParams('follow=true&previous=false&timestamps=1&tailLines=5&limitBytes=10&sinceSeconds=60'), now);
  assert.deepEqual(o, { follow: true, previous: false, timestamps: true, tailLines: 5, limitBytes: 10, sinceTime: new Date('2026-01-01T00:00:00Z') });
  assert.throws(() => parseLogOptions(new URLSearchParams('tailLines=-1')), LogOptionsError);
  assert.throws(() => parseLogOptions(new URLSearchParams('sinceSeconds=1&sinceTime=2026-01-01T00:00:00Z')), LogOptionsError);
  assert.throws(() => parseLogOptions(new URLSearchParams('follow=maybe')), LogOptionsError);
});

function sink(): { out: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return { out: new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(Buffer.from(c)), cb()) }), text: () => Buffer.concat(chunks).toString() };
}

test('streamContainerLog writes timestamps, stops at limitBytes, and follows a file across rotation', async () => {
  const dir = mkdtempSync('/tmp/skiff-logs-test-');
  try {
    const file = join(dir, '0.log');
    writeFileSync(file, `${t0} stdout F one\n${t0} stdout F two\n`);
    const s1 = sink();
    await streamContainerLog(file, { follow: false, previous: false, timestamps: true }, s1.out);
    assert.equal(s1.text(), `${t0} one\n${t0} two\n`);
    const s2 = sink();
    await streamContainerLog(file, { follow: false, previous: false, timestamps: false, limitBytes: 5 }, s2.out);
    assert.equal(s2.text(), 'one\nt');

    const s3 = sink();
    const abort = new AbortController();
    let running = true;
    const following = streamContainerLog(file, { follow: true, previous: false, timestamps: false, tailLines: 1 }, s3.out, { running: async () => running, signal: abort.signal, pollMs: 20 });
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(file, `${t0} stdout F three\n`);
    await new Promise((r) => setTimeout(r, 100));
    // Rotation: the old file moves away with a last line, a new one takes its path.
    appendFileSync(file, `${t0} stdout F four\n`);
    renameSync(file, `${file}.20260101-000000`);
    writeFileSync(file, `${t0} stdout F five\n`);
    for (let i = 0; i < 500 && !s3.text().includes('five'); i++) await new Promise((r) => setTimeout(r, 20));
    running = false;
    await following;
    assert.equal(s3.text(), 'two\nthree\nfour\nfive\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
