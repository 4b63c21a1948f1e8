import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../lib/machinery/status.js';
import { codecInt, isDryRun, parseGoDuration, parseRequestOptions, watchStart } from './options.js';
import { codecBool } from './request.js';

const q = (s: string) => new URLSearchParams(s);

describe('parameter codec', () => {
  it('reads booleans as anything but false/0 (any case)', () => {
    for (const v of ['true', 'True', 'TRUE', '1', '', 'yes']) assert.equal(codecBool(v), true, v);
    for (const v of ['false', 'False', 'FALSE', '0']) assert.equal(codecBool(v), false, v);
    assert.equal(codecBool(null), undefined);
  });
  it('reads integers strictly', () => {
    assert.equal(codecInt('limit', '10'), 10);
    assert.equal(codecInt('limit', '-3'), -3);
    assert.equal(codecInt('limit', null), undefined);
    for (const v of ['1.5', 'abc', '1e3', ' 1', '0x10']) assert.throws(() => codecInt('limit', v), (e: unknown) => e instanceof StatusError && e.code === 400, v);
    assert.throws(() => codecInt('limit', '99999999999999999999'), /value out of range/);
    assert.throws(() => codecInt('limit', '9223372036854775808'), /value out of range/);
    // Any int64 is a valid value: kube-apiserver takes limit=2^62, so must skiff.
    assert.equal(codecInt('limit', '9223372036854775807'), Number.MAX_SAFE_INTEGER);
    assert.equal(codecInt('limit', '+4611686018427387904'), Number.MAX_SAFE_INTEGER);
    assert.equal(codecInt('gracePeriodSeconds', '-9223372036854775808'), Number.MIN_SAFE_INTEGER);
  });
  it('reads Go durations', () => {
    assert.equal(parseGoDuration('60s'), 60_000);
    assert.equal(parseGoDuration('1m0s'), 60_000);
    assert.equal(parseGoDuration('1h2m3s'), 3_723_000);
    assert.equal(parseGoDuration('250ms'), 250);
    assert.equal(parseGoDuration('1.5s'), 1500);
    assert.equal(parseGoDuration('0'), 0);
    for (const v of ['', '10', 's', '1x', '1s ']) assert.equal(parseGoDuration(v), undefined, v);
  });
});

describe('parseRequestOptions', () => {
  it('parses a list request once into typed options', () => {
    const o = parseRequestOptions({ verb: 'list' }, q('labelSelector=a%3Db&fieldSelector=metadata.name%3Dx&limit=5&continue=tok&resourceVersion=7&resourceVersionMatch=NotOlderThan&includeObject=None&pretty=true'));
    assert.equal(o.labelSelector, 'a=b');
    assert.equal(o.fieldSelector, 'metadata.name=x');
    assert.equal(o.limit, 5);
    assert.equal(o.continue, 'tok');
    assert.equal(o.resourceVersion, '7');
    assert.equal(o.resourceVersionMatch, 'NotOlderThan');
    assert.equal(o.includeObject, 'None');
  });
  it('reads watch options the Python client way', () => {
    const o = parseRequestOptions({ verb: 'watch' }, q('watch=True&allowWatchBookmarks=True&sendInitialEvents=False&timeoutSeconds=30'));
    assert.equal(o.watch, true);
    assert.equal(o.allowWatchBookmarks, true);
    assert.equal(o.sendInitialEvents, false);
    assert.equal(o.timeoutSeconds, 30);
  });
  it('decodes only the options of the verb, and refuses bad values of those with a 400', () => {
    assert.equal(parseRequestOptions({ verb: 'create' }, q('limit=abc')).limit, undefined);
    assert.throws(() => parseRequestOptions({ verb: 'list' }, q('limit=abc')), /invalid value for limit/);
    assert.throws(() => parseRequestOptions({ verb: 'watch' }, q('timeoutSeconds=-1')), /timeoutSeconds/);
    assert.throws(() => parseRequestOptions({ verb: 'delete' }, q('gracePeriodSeconds=x')), /gracePeriodSeconds/);
    assert.throws(() => parseRequestOptions({ verb: 'get' }, q('includeObject=All')), /includeObject/);
    assert.throws(() => parseRequestOptions({ verb: 'get' }, q('timeout=soon')), /invalid timeout/);
    assert.equal(parseRequestOptions({ verb: 'get' }, q('timeout=2s')).timeoutMs, 2000);
    const del = parseRequestOptions({ verb: 'delete' }, q('gracePeriodSeconds=0&propagationPolicy=Foreground&orphanDependents=False'));
    assert.equal(del.gracePeriodSeconds, 0);
    assert.equal(del.propagationPolicy, 'Foreground');
    assert.equal(del.orphanDependents, false);
  });
  it('takes only dryRun=All', () => {
    assert.equal(isDryRun(parseRequestOptions({ verb: 'create' }, q(''))), false);
    assert.equal(isDryRun(parseRequestOptions({ verb: 'create' }, q('dryRun=All'))), true);
    assert.equal(isDryRun(parseRequestOptions({ verb: 'delete' }, q('')), ['All']), true);
    assert.throws(() => isDryRun(parseRequestOptions({ verb: 'create' }, q('dryRun=Some'))), /supported values: "All"/);
  });
});

describe('watchStart', () => {
  const now = () => 42;
  const start = (s: string) => watchStart(parseRequestOptions({ verb: 'watch' }, q(s)), now);
  it('gives resourceVersion "0" and none the same meaning: current state first', () => {
    assert.equal(start(''), undefined);
    assert.equal(start('resourceVersion=0'), undefined);
    assert.equal(start('resourceVersion='), undefined);
  });
  it('starts from now without state for sendInitialEvents=false', () => {
    assert.equal(start('sendInitialEvents=false'), '42');
    assert.equal(start('sendInitialEvents=false&resourceVersion=0'), '42');
    assert.equal(start('sendInitialEvents=false&resourceVersion=7'), '7');
  });
  it('resumes after a given resourceVersion', () => {
    assert.equal(start('resourceVersion=7'), '7');
  });
  it('asks for the current state for sendInitialEvents=true, with its required options', () => {
    assert.equal(start('sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&resourceVersion=7'), undefined);
    assert.throws(() => start('sendInitialEvents=true'), /requires setting allowWatchBookmarks=true/);
    assert.throws(() => start('sendInitialEvents=true&allowWatchBookmarks=true'), /requires setting resourceVersionMatch=NotOlderThan/);
  });
});
