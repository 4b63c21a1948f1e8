import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import http, { type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { StatusError } from '../../lib/machinery/status.js';
import { InflightLimiter, isLongRunning, RequestDeadline, requestKind, requestTimeoutError, requestTimeoutMessage, tooManyRequestsMessage } from './filters.js';
import { writeStatus } from './response.js';

/** fakeResponse is only what the limiter uses of a response: its close event. */
function fakeResponse(): ServerResponse & { close(): void } {
  const e = new EventEmitter() as EventEmitter & { close(): void };
  e.close = () => e.emit('close');
  return e as unknown as ServerResponse & { close(): void };
}

describe('isLongRunning', () => {
  it('is kube-apiserver\'s basic check: watch and proxy verbs, attach/exec/log/portforward/proxy subresources', () => {
    assert.equal(isLongRunning({ isResourceRequest: true, verb: 'watch' }), true);
    assert.equal(isLongRunning({ isResourceRequest: true, verb: 'get', subresource: 'log' }), true);
    assert.equal(isLongRunning({ isResourceRequest: true, verb: 'create', subresource: 'exec' }), true);
    assert.equal(isLongRunning({ isResourceRequest: true, verb: 'list' }), false);
    assert.equal(isLongRunning({ isResourceRequest: true, verb: 'update', subresource: 'status' }), false);
    assert.equal(isLongRunning({ isResourceRequest: false, verb: 'get' }), false);
  });
  it('classes get/list/watch as read-only and everything else as mutating', () => {
    assert.deepEqual(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'].map(requestKind), ['readOnly', 'readOnly', 'readOnly', 'mutating', 'mutating', 'mutating', 'mutating', 'mutating']);
  });
});

describe('InflightLimiter', () => {
  it('refuses beyond each kind\'s limit with 429 and Retry-After 1, and frees a slot when a response closes', () => {
    const dropped: string[] = [];
    const limiter = new InflightLimiter({ maxRequestsInflight: 2, maxMutatingRequestsInflight: 1 }, { set: () => undefined, dropped: (k) => dropped.push(k) });
    const a = fakeResponse();
    limiter.admit('mutating', [], a);
    assert.throws(
      () => limiter.admit('mutating', ['system:authenticated'], fakeResponse()),
      (e: unknown) => e instanceof StatusError && e.code === 429 && e.reason === 'TooManyRequests' && e.status.details?.retryAfterSeconds === 1 && e.message === tooManyRequestsMessage,
    );
    // Reads have their own budget.
    limiter.admit('readOnly', [], fakeResponse());
    limiter.admit('readOnly', [], fakeResponse());
    assert.throws(() => limiter.admit('readOnly', [], fakeResponse()), StatusError);
    assert.deepEqual(dropped, ['mutating', 'readOnly']);
    a.close();
    assert.equal(limiter.inflight('mutating'), 0);
    limiter.admit('mutating', [], fakeResponse());
  });
  it('serves system:masters beyond the limit, and no limit at 0', () => {
    const limiter = new InflightLimiter({ maxRequestsInflight: 0, maxMutatingRequestsInflight: 1 });
    limiter.admit('mutating', [], fakeResponse());
    limiter.admit('mutating', ['system:masters'], fakeResponse());
    for (let i = 0; i < 1000; i++) limiter.admit('readOnly', [], fakeResponse());
    assert.equal(limiter.inflight('readOnly'), 1000);
  });
});

describe('RequestDeadline', () => {
  /** serve starts a loopback HTTP server whose handler never answers, under a 100 ms deadline. */
  async function serve(longRunning: boolean): Promise<{ port: number; close(): void }> {
    const server = http.createServer((req, res) => {
      const d = new RequestDeadline(req, res, 100, (answered) => {
        if (!answered) writeStatus(res, requestTimeoutError(), { Connection: 'close' });
      });
      if (longRunning) {
        d.exempt();
        res.writeHead(200);
        res.write('streaming\n');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, close: () => server.close() };
  }

  /** send writes raw bytes and resolves with everything the server sent once it closes the connection, or after `waitMs`. */
  function send(port: number, text: string, waitMs: number): Promise<{ data: string; closed: boolean }> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (data += d));
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ data, closed: false });
      }, waitMs);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ data, closed: true });
      });
    });
  }

  it('answers a half-sent request with 504 Timeout and closes its connection', async () => {
    const s = await serve(false);
    try {
      const r = await send(s.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":', 5_000);
      assert.equal(r.closed, true);
      assert.match(r.data, /^HTTP\/1\.1 504 /);
      assert.match(r.data, /"reason":"Timeout"/);
      assert.ok(r.data.includes(requestTimeoutMessage));
    } finally {
      s.close();
    }
  });

  it('leaves a long-running request whose body is in alone', async () => {
    const s = await serve(true);
    try {
      const r = await send(s.port, 'GET /?watch=1 HTTP/1.1\r\nHost: x\r\n\r\n', 600);
      assert.equal(r.closed, false);
      assert.match(r.data, /^HTTP\/1\.1 200 /);
    } finally {
      s.close();
    }
  });
});
