import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptsGzip } from './response.js';

test('acceptsGzip: a trimmed token that is exactly gzip, as kube-apiserver reads Accept-Encoding', () => {
  assert.equal(acceptsGzip('gzip'), true);
  assert.equal(acceptsGzip('deflate,  gzip '), true);
  assert.equal(acceptsGzip('gzip;q=1.0'), false);
  assert.equal(acceptsGzip('br, deflate'), false);
  assert.equal(acceptsGzip(undefined), false);
});
