import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { test } from 'node:test';
import { Channel, frameMessage, parseChannelMessage, RemoteCommandV4, RemoteCommandV5 } from './streams.js';
import { ControlType, controlFrame, dataFrame, decodeHeaderBlock, encodeHeaderBlock, FlagFin, FrameReader, StoredZlibWriter } from './spdy.js';
import { parseRoute, portsOf, remoteCommandOptions } from './server.js';

test('channel messages: a channel byte then data; v5 CLOSE names a channel, v4 has no CLOSE', () => {
  assert.deepEqual(frameMessage(Channel.Stdout, Buffer.from('hi')), Buffer.from([1, 0x68, 0x69]));
  assert.deepEqual(parseChannelMessage(Buffer.from([0, 0x61]), RemoteCommandV5), { channel: 0, data: Buffer.from('a') });
  assert.deepEqual(parseChannelMessage(Buffer.from([255, 0]), RemoteCommandV5), { close: 0 });
  assert.deepEqual(parseChannelMessage(Buffer.from([255, 0]), RemoteCommandV4), { channel: 255, data: Buffer.from([0]) });
  assert.equal(parseChannelMessage(Buffer.alloc(0), RemoteCommandV5), undefined);
});

test('SPDY frames: control and data frames round-trip through FrameReader, split anywhere', () => {
  const frames = Buffer.concat([controlFrame(ControlType.Ping, 0, Buffer.from([0, 0, 0, 7])), dataFrame(3, FlagFin, Buffer.from('hello'))]);
  const reader = new FrameReader();
  const got = [...reader.push(frames.subarray(0, 5)), ...reader.push(frames.subarray(5, 13)), ...reader.push(frames.subarray(13))];
  assert.equal(got.length, 2);
  assert.deepEqual(got[0], { control: true, type: ControlType.Ping, flags: 0, payload: Buffer.from([0, 0, 0, 7]) });
  assert.deepEqual(got[1], { control: false, streamId: 3, flags: FlagFin, data: Buffer.from('hello') });
  // The wire form of SPDY/3: control bit and version 3 first.
  assert.deepEqual(frames.subarray(0, 4), Buffer.from([0x80, 0x03, 0x00, 0x06]));
});

test('SPDY header blocks: stored zlib pieces that a zlib reader inflates back, each ending in a sync flush', () => {
  const z = new StoredZlibWriter();
  const a = encodeHeaderBlock({ streamType: 'error' });
  const b = encodeHeaderBlock({ streamType: 'stdin', port: '8080' });
  const stream = Buffer.concat([z.block(a), z.block(b)]);
  const inflated = inflateSync(stream, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
  assert.deepEqual(inflated, Buffer.concat([a, b]));
  assert.deepEqual(decodeHeaderBlock(a), { streamtype: 'error' });
  assert.deepEqual(z.block(a).subarray(-5), Buffer.from([0, 0, 0, 0xff, 0xff]));
});

test('kubelet routes and stream flags', () => {
  assert.deepEqual(parseRoute('/containerLogs/ns/p/c'), { kind: 'containerLogs', pod: { namespace: 'ns', name: 'p' }, container: 'c' });
  assert.deepEqual(parseRoute('/exec/ns/p/uid-1/c'), { kind: 'exec', pod: { namespace: 'ns', name: 'p', uid: 'uid-1' }, container: 'c' });
  assert.deepEqual(parseRoute('/portForward/ns/p'), { kind: 'portForward', pod: { namespace: 'ns', name: 'p' } });
  assert.equal(parseRoute('/exec/ns'), undefined);
  assert.equal(parseRoute('/nothing'), undefined);
  assert.deepEqual(remoteCommandOptions(new URLSearchParams('stdin=true&stdout=1&stderr=false&tty=true')), { stdin: true, stdout: true, stderr: false, tty: true });
  assert.deepEqual(remoteCommandOptions(new URLSearchParams('input=1&output=1&error=1')), { stdin: true, stdout: true, stderr: true, tty: false });
});

test('port-forward ports from the query: repeated or comma-separated, each 1-65535', () => {
  assert.deepEqual(portsOf(new URLSearchParams('ports=8080&ports=80,443')), [8080, 80, 443]);
  assert.throws(() => portsOf(new URLSearchParams('')), /"ports" is required/);
  assert.throws(() => portsOf(new URLSearchParams('ports=0')), /unable to parse/);
  assert.throws(() => portsOf(new URLSearchParams('ports=http')), /unable to parse/);
});
