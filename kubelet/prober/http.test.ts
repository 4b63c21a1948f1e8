import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { httpProbe } from './http.js';

test('an answer whose header lines end in a bare newline (busybox httpd CGI) passes, as with Go\'s client', async () => {
  const server = createServer((sock) => {
    sock.once('data', () => sock.end('HTTP/1.0 200 OK\nContent-Type: text/plain\n\nok\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as { port: number }).port;
    const out = await httpProbe({ url: `http://127.0.0.1:${port}/cgi-bin/ready`, headers: [['User-Agent', 'kube-probe/1.32']] }, 2);
    assert.equal(out.result, 'success', JSON.stringify(out));
    assert.equal(out.output, 'ok\n');
  } finally {
    server.close();
  }
});
