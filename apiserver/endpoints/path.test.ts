import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../lib/machinery/status.js';
import { decodeSegment, isValidPathSegmentName, parseRequestPath } from './path.js';

function badRequestOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, `not a StatusError: ${String(err)}`);
    assert.equal(err.code, 400);
    return err.message;
  }
  assert.fail('no error');
}

describe('decodeSegment', () => {
  it('decodes escapes, multi-byte UTF-8 included', () => {
    assert.equal(decodeSegment('a%2Fb'), 'a/b');
    assert.equal(decodeSegment('%2e%2E'), '..');
    assert.equal(decodeSegment('caf%C3%A9'), 'café');
    assert.equal(decodeSegment('café'), 'café');
    assert.equal(decodeSegment('plain'), 'plain');
  });
  it('refuses escapes Go refuses, and bytes that are not UTF-8, with a 400', () => {
    assert.equal(badRequestOf(() => decodeSegment('%zz')), 'invalid URL escape "%zz"');
    assert.equal(badRequestOf(() => decodeSegment('%u002e')), 'invalid URL escape "%u0"');
    assert.equal(badRequestOf(() => decodeSegment('ab%')), 'invalid URL escape "%"');
    assert.match(badRequestOf(() => decodeSegment('%c0%ae')), /not UTF-8/);
  });
});

describe('parseRequestPath', () => {
  it('splits before decoding and never resolves dot segments', () => {
    const p = parseRequestPath('/api/v1/namespaces/ns/pods/%2e%2e/../x%2Fy?watch=1&a=%zz');
    assert.deepEqual(p.segments, ['api', 'v1', 'namespaces', 'ns', 'pods', '..', '..', 'x/y']);
    assert.equal(p.query.get('watch'), '1');
    assert.equal(p.query.get('a'), '%zz');
  });
  it('drops empty segments', () => {
    assert.deepEqual(parseRequestPath('//api//v1/').segments, ['api', 'v1']);
  });
});

describe('isValidPathSegmentName', () => {
  it('says what apimachinery says', () => {
    assert.deepEqual(isValidPathSegmentName('.'), ["may not be '.'"]);
    assert.deepEqual(isValidPathSegmentName('..'), ["may not be '..'"]);
    assert.deepEqual(isValidPathSegmentName('a/b%c'), ["may not contain '/'", "may not contain '%'"]);
    assert.deepEqual(isValidPathSegmentName('...'), []);
    assert.deepEqual(isValidPathSegmentName('ok.name'), []);
  });
});
