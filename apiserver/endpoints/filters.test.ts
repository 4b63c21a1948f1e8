import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { StatusError } from '../../lib/machinery/status.js';
import { InflightLimiter, isLongRunning, requestKind, tooManyRequestsMessage } from './filters.js';

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
