import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../lib/machinery/status.js';
import { checkPathNames, decodeBody, exceedsDepth, negotiate, parseRequestInfo } from './request.js';
import { parseRequestPath } from './path.js';

const info = (method: string, target: string) => parseRequestInfo(method, parseRequestPath(target));

function status(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err;
  }
  assert.fail('no error');
}

describe('parseRequestInfo', () => {
  it('keeps dot segments as what they are: a name, never a step up', () => {
    const i = info('DELETE', '/api/v1/namespaces/ns/pods/%2e%2e');
    assert.equal(i.resource, 'pods');
    assert.equal(i.namespace, 'ns');
    assert.equal(i.name, '..');
    assert.equal(i.verb, 'delete');
  });
  it('reads ?watch= with the parameter codec', () => {
    assert.equal(info('GET', '/api/v1/pods?watch=True').verb, 'watch');
    assert.equal(info('GET', '/api/v1/pods?watch=0').verb, 'list');
    assert.equal(info('GET', '/api/v1/pods?watch=FALSE').verb, 'list');
  });
});

describe('checkPathNames', () => {
  it('refuses a name or namespace that cannot be a path segment, as the generic store does', () => {
    assert.equal(status(() => checkPathNames(info('DELETE', '/api/v1/namespaces/ns/pods/..'))).message, `Name parameter invalid: "..": may not be '..'`);
    assert.equal(status(() => checkPathNames(info('DELETE', '/api/v1/namespaces/..'))).message, `Name parameter invalid: "..": may not be '..'`);
    assert.equal(status(() => checkPathNames(info('GET', '/api/v1/namespaces/./pods'))).message, `Namespace parameter invalid: ".": may not be '.'`);
    assert.equal(status(() => checkPathNames(info('GET', '/api/v1/namespaces/ns/pods/a%2Fb'))).message, `Name parameter invalid: "a/b": may not contain '/'`);
    assert.equal(status(() => checkPathNames(info('PUT', '/api/v1/namespaces/ns/pods/x/status/..'))).code, 400);
    assert.equal(status(() => checkPathNames(info('GET', '/api/v1/namespaces/ns/pods/x/..'))).code, 400);
    checkPathNames(info('GET', '/api/v1/namespaces/ns/pods/x.y/status'));
    checkPathNames(info('GET', '/version'));
  });
});

describe('decodeBody', () => {
  it('refuses JSON nested deeper than the limit with a 400', () => {
    const deep = Buffer.from(`{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    const err = status(() => decodeBody(deep, 'application/json'));
    assert.equal(err.code, 400);
    assert.match(err.message, /exceeded max depth/);
    assert.deepEqual(decodeBody(Buffer.from('{"a":[[1]]}'), 'application/json'), { a: [[1]] });
  });
  it('refuses YAML alias bombs and unknown aliases with a 400', () => {
    const laughs = ['a: &a [x,x,x,x,x,x,x,x,x]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]', 'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]'].join('\n');
    assert.equal(status(() => decodeBody(Buffer.from(laughs), 'application/yaml')).code, 400);
    assert.equal(status(() => decodeBody(Buffer.from('a: *nope\n'), 'application/yaml')).code, 400);
    assert.equal(status(() => decodeBody(Buffer.from('['.repeat(10_000)), 'application/yaml')).code, 400);
    assert.deepEqual(decodeBody(Buffer.from('a: &x 1\nb: *x\n'), 'application/yaml'), { a: 1, b: 1 });
  });
  it('measures depth without recursion', () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = [v];
    assert.equal(exceedsDepth(v), true);
    assert.equal(exceedsDepth({ a: { b: [1, { c: 2 }] } }, 4), false);
    assert.equal(exceedsDepth({ a: { b: [1, { c: {} }] } }, 4), true);
  });
});

describe('negotiate', () => {
  const table = 'application/json;as=Table;v=v1;g=meta.k8s.io';
  it('skips Table clauses for a kind without tables, and refuses when nothing else is accepted', () => {
    assert.deepEqual(negotiate(`${table},application/json`, { tables: false }), { as: 'object' });
    assert.deepEqual(negotiate(`${table},application/vnd.kubernetes.protobuf`, { tables: false }), { as: 'object' });
    assert.throws(() => negotiate(table, { tables: false }), (e: StatusError) => e.status.code === 406 && e.status.reason === 'NotAcceptable');
    assert.deepEqual(negotiate(table), { as: 'Table', tableVersion: 'v1' });
  });
});
