import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Container } from '../../lib/api/core/types.js';
import { CriError } from '../cri/client.js';
import type { ExecSyncResponse } from '../cri/types.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { execProbe } from './exec.js';
import { runLifecycleHook } from './lifecycle.js';
import { httpGet, httpProbe, newHTTPGetRequest } from './http.js';
import { resolveContainerPort } from './result.js';
import { tcpProbe } from './tcp.js';

/** listen starts an HTTP server on 127.0.0.1 and returns its port. */
async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** closedPort is a port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

const container: Container = { name: 'web', ports: [{ name: 'http', containerPort: 8080 }] };

describe('resolveContainerPort', () => {
  test('numbers, port names and numbers written as strings', () => {
    assert.equal(resolveContainerPort(80, container), 80);
    assert.equal(resolveContainerPort('http', container), 8080);
    assert.equal(resolveContainerPort('9090', container), 9090);
  });
  test('an unknown name and an out-of-range number fail with the kubelet texts', () => {
    assert.throws(() => resolveContainerPort('metrics', container), { message: 'strconv.Atoi: parsing "metrics": invalid syntax' });
    assert.throws(() => resolveContainerPort(0, container), { message: 'invalid port number: 0' });
    assert.throws(() => resolveContainerPort(70000, container), { message: 'invalid port number: 70000' });
  });
});

describe('httpGet probes against a real server', () => {
  let port = 0;
  let seen: IncomingHttpHeaders = {};
  const server = createServer((req, res) => {
    seen = req.headers;
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/ok':
        res.end('fine');
        return;
      case '/fail':
        res.statusCode = 500;
        res.end('broken');
        return;
      case '/hop':
        res.writeHead(302, { location: '/ok' }).end();
        return;
      case '/away':
        // Another host name for the same machine: a probe must not follow it.
        res.writeHead(301, { location: `http://localhost:${port}/ok` }).end('moved');
        return;
      case '/loop':
        res.writeHead(302, { location: '/loop' }).end();
        return;
      case '/big':
        res.end('x'.repeat(64 * 1024));
        return;
      case '/hang':
        return; // never answers
    }
    res.statusCode = 404;
    res.end();
  });
  before(async () => {
    port = await listen(server);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const probe = (path: string, extra: Partial<Parameters<typeof newHTTPGetRequest>[0]> = {}, timeoutSeconds = 5) =>
    httpProbe(newHTTPGetRequest({ path, port, ...extra }, container, '127.0.0.1', 'probe'), timeoutSeconds);

  test('a 200 is a success carrying the body; the kubelet headers are sent', async () => {
    assert.deepEqual(await probe('/ok', { httpHeaders: [{ name: 'x-custom', value: 'a' }] }), { result: 'success', output: 'fine' });
    assert.equal(seen['user-agent'], 'kube-probe/1.32');
    assert.equal(seen.accept, '*/*');
    assert.equal(seen['x-custom'], 'a');
  });

  test('headers from the spec replace the defaults; an empty Accept sends none', async () => {
    await probe('/ok', { httpHeaders: [{ name: 'User-Agent', value: 'mine' }, { name: 'Accept', value: '' }] });
    assert.equal(seen['user-agent'], 'mine');
    assert.equal(seen.accept, undefined);
  });

  test('a 500 fails with the status code', async () => {
    assert.deepEqual(await probe('/fail'), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
  });

  test('a redirect to the same host is followed', async () => {
    assert.deepEqual(await probe('/hop'), { result: 'success', output: 'fine' });
  });

  test('a redirect to another host is not followed and counts as a success with a warning', async () => {
    assert.deepEqual(await probe('/away'), { result: 'warning', output: 'Probe terminated redirects, Response body: moved' });
  });

  test('a redirect loop fails after 10 redirects', async () => {
    const out = await probe('/loop');
    assert.equal(out.result, 'failure');
    assert.equal(out.output, `Get "http://127.0.0.1:${port}/loop": stopped after 10 redirects`);
  });

  test('at most 10 KiB of the body is read', async () => {
    const out = await probe('/big');
    assert.equal(out.result, 'success');
    assert.equal(out.output.length, 10 * 1024);
  });

  test('no answer within the timeout is a failure with Go client wording', async () => {
    const out = await probe('/hang', {}, 1);
    assert.equal(out.result, 'failure');
    assert.equal(out.output, `Get "http://127.0.0.1:${port}/hang": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
  });

  test('a refused connection is a failure naming the dial', async () => {
    const closed = await closedPort();
    const out = await httpProbe(newHTTPGetRequest({ path: '/healthz', port: closed }, container, '127.0.0.1', 'probe'), 1);
    assert.deepEqual(out, { result: 'failure', output: `Get "http://127.0.0.1:${closed}/healthz": dial tcp 127.0.0.1:${closed}: connect: connection refused` });
  });

  test('an HTTPS probe answered over plain HTTP fails as Go words it', async () => {
    const out = await probe('/ok', { scheme: 'HTTPS' });
    assert.deepEqual(out, { result: 'failure', output: `Get "https://127.0.0.1:${port}/ok": http: server gave HTTP response to HTTPS client` });
  });

  test('an httpGet hook fails only without an answer; an HTTPS hook answered over HTTP falls back with an event', async () => {
    const pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' } };
    const recorder = new FakeRecorder();
    const ctx = { runtime: { execSync: async () => ({ exit_code: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }) }, containerId: 'c1', podIP: '127.0.0.1', timeoutSeconds: 5, pod, recorder };
    await runLifecycleHook({ httpGet: { path: '/fail', port } }, container, ctx);
    await runLifecycleHook({ httpGet: { path: '/ok', port, scheme: 'HTTPS' } }, container, ctx);
    assert.deepEqual(recorder.events, [`Warning LifecycleHTTPFallback request to HTTPS lifecycle hook 127.0.0.1:${port} got HTTP response, retry with HTTP succeeded`]);
    const closed = await closedPort();
    await assert.rejects(runLifecycleHook({ httpGet: { path: '/stop', port: closed } }, container, ctx), {
      message: `HTTP lifecycle hook (/stop) for Container "web" in Pod "web_default(u1)" failed - error: Get "http://127.0.0.1:${closed}/stop": dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    });
  });

  test('a hook follows a redirect to another host', async () => {
    const req = newHTTPGetRequest({ path: '/away', port }, container, '127.0.0.1', 'lifecycle');
    assert.deepEqual(await httpGet(req, { timeoutMs: 5000, followNonLocalRedirects: true }), { status: 200, body: 'fine' });
    assert.equal(seen['user-agent'], 'kube-lifecycle/1.32');
  });
});

describe('tcpSocket probes', () => {
  test('an open port succeeds, a closed one fails as Go words it', async () => {
    const server = createTcpServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      assert.deepEqual(await tcpProbe('127.0.0.1', port, 1), { result: 'success', output: '' });
    } finally {
      server.close();
    }
    const closed = await closedPort();
    assert.deepEqual(await tcpProbe('127.0.0.1', closed, 1), { result: 'failure', output: `dial tcp 127.0.0.1:${closed}: connect: connection refused` });
  });
});

describe('exec probes through ExecSync', () => {
  const runtime = (answer: () => Promise<ExecSyncResponse>) => ({ execSync: (_id: string, _cmd: string[], _t?: number) => answer() });
  const reply = (exit: number, stdout = '', stderr = '') => async () => ({ exit_code: exit, stdout: Buffer.from(stdout), stderr: Buffer.from(stderr) });

  test('exit 0 is a success, another exit code a failure with stdout and stderr as output', async () => {
    assert.deepEqual(await execProbe(runtime(reply(0, 'ok\n')), 'c1', ['true'], 1), { result: 'success', output: 'ok\n' });
    assert.deepEqual(await execProbe(runtime(reply(1, 'out ', "cat: can't open 'healthy'")), 'c1', ['cat', 'healthy'], 1), {
      result: 'failure',
      output: "out cat: can't open 'healthy'",
    });
  });

  test('a deadline is a failure with the kubelet timeout text, not an error', async () => {
    const rt = runtime(async () => {
      throw new CriError('ExecSync', grpc.status.DEADLINE_EXCEEDED, 'timeout 1s exceeded');
    });
    assert.deepEqual(await execProbe(rt, 'c1', ['sh', '-c', 'sleep 10'], 1), { result: 'failure', output: 'command timed out: "sh -c sleep 10" timed out after 1s' });
  });

  test('another runtime error means the probe could not be run', async () => {
    const rt = runtime(async () => {
      throw new CriError('ExecSync', grpc.status.NOT_FOUND, 'container not found');
    });
    const out = await execProbe(rt, 'c1', ['true'], 1);
    assert.equal(out.result, 'unknown');
    assert.equal(out.error?.message, 'rpc error: code = NotFound desc = container not found');
  });
});
