import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptsGzip, isPrettyPrint } from './response.js';

const req = (url: string, ua?: string) => ({ url, headers: ua ? { 'user-agent': ua } : {} });

test('isPrettyPrint reads ?pretty= as strconv.ParseBool, else the user agent', () => {
  for (const v of ['1', 't', 'T', 'true', 'True', 'TRUE']) assert.equal(isPrettyPrint(req(`/api/v1/pods?pretty=${v}`)), true, v);
  for (const v of ['0', 'false', 'yes', 'tRuE']) assert.equal(isPrettyPrint(req(`/api/v1/pods?pretty=${v}`, 'curl/8.0')), false, v);
  assert.equal(isPrettyPrint(req('/api/v1/pods')), false);
  assert.equal(isPrettyPrint(req('/api/v1/pods', 'curl/8.5.0')), true);
  assert.equal(isPrettyPrint(req('/api/v1/pods?pretty=', 'Mozilla/5.0 (X11)')), true);
  assert.equal(isPrettyPrint(req('/api/v1/pods', 'kubectl/v1.32.4')), false);
});

test('acceptsGzip: a trimmed token that is exactly gzip, as kube-apiserver reads Accept-Encoding', () => {
  assert.equal(acceptsGzip('gzip'), true);
  assert.equal(acceptsGzip('deflate,  gzip '), true);
  assert.equal(acceptsGzip('gzip;q=1.0'), false);
  assert.equal(acceptsGzip('br, deflate'), false);
  assert.equal(acceptsGzip(undefined), false);
});
