import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ControllerExpectations, ExpectationsTimeoutMs, UIDTrackingControllerExpectations } from './expectations.js';

describe('ControllerExpectations', () => {
  it('a key without expectations is satisfied; one waiting on creates is not until all are observed', () => {
    const e = new ControllerExpectations(() => 0);
    assert.equal(e.satisfiedExpectations('ns/rs'), true);
    e.expectCreations('ns/rs', 2);
    assert.equal(e.satisfiedExpectations('ns/rs'), false);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfiedExpectations('ns/rs'), false);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfiedExpectations('ns/rs'), true);
    // More observations than expected (an adopted pod) keep it satisfied.
    e.creationObserved('ns/rs');
    assert.equal(e.satisfiedExpectations('ns/rs'), true);
    assert.deepEqual(e.getExpectations('ns/rs'), { add: -1, del: 0, timestamp: 0 });
  });

  it('unmet expectations expire after five minutes', () => {
    let t = 1_000;
    const e = new ControllerExpectations(() => t);
    e.expectCreations('k', 3);
    t += ExpectationsTimeoutMs;
    assert.equal(e.satisfiedExpectations('k'), false);
    t += 1;
    assert.equal(e.satisfiedExpectations('k'), true);
    // Setting again restarts the timeout.
    e.expectDeletions('k', 1);
    assert.equal(e.satisfiedExpectations('k'), false);
  });

  it('lower, raise and delete', () => {
    const e = new ControllerExpectations(() => 0);
    e.setExpectations('k', 1, 1);
    e.lowerExpectations('k', 1, 0);
    assert.equal(e.satisfiedExpectations('k'), false);
    e.raiseExpectations('k', 1, 0);
    e.lowerExpectations('k', 1, 1);
    assert.equal(e.satisfiedExpectations('k'), true);
    e.setExpectations('k', 5, 0);
    e.deleteExpectations('k');
    assert.equal(e.getExpectations('k'), undefined);
    assert.equal(e.satisfiedExpectations('k'), true);
    // Observations for a key without expectations create none.
    e.creationObserved('k');
    assert.equal(e.getExpectations('k'), undefined);
  });
});

describe('UIDTrackingControllerExpectations', () => {
  it('counts each expected deletion once, however many events announce it', () => {
    const e = new UIDTrackingControllerExpectations(() => 0);
    e.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
    assert.equal(e.satisfiedExpectations('ns/rs'), false);
    // Graceful deletion: an update with deletionTimestamp, then the delete event.
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/a');
    assert.equal(e.getExpectations('ns/rs')?.del, 1);
    // A pod we did not delete does not count.
    e.deletionObserved('ns/rs', 'ns/other');
    assert.equal(e.satisfiedExpectations('ns/rs'), false);
    assert.deepEqual(e.getDeleteKeys('ns/rs'), ['ns/b']);
    e.deletionObserved('ns/rs', 'ns/b');
    assert.equal(e.satisfiedExpectations('ns/rs'), true);
  });

  it('deleteExpectations forgets counts and tracked keys', () => {
    const e = new UIDTrackingControllerExpectations(() => 0);
    e.expectDeletions('k', ['ns/a']);
    e.deleteExpectations('k');
    assert.deepEqual(e.getDeleteKeys('k'), []);
    assert.equal(e.satisfiedExpectations('k'), true);
    e.expectCreations('k', 1);
    assert.equal(e.satisfiedExpectations('k'), false);
    e.creationObserved('k');
    assert.equal(e.satisfiedExpectations('k'), true);
  });
});
