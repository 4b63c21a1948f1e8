import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, test } from 'node:test';
import { grpcProbe, healthService } from './grpc.js';

// A health server on 127.0.0.1: "" and "web" serve, "db" does not, anything else is unknown.
const server = new grpc.Server();
let port = 0;
let userAgent = '';
const statuses: Record<string, string> = { '': 'SERVING', web: 'SERVING', db: 'NOT_SERVING' };

before(async () => {
  server.addService(healthService().service, {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      userAgent = String(call.metadata.get('user-agent')[0] ?? '');
      const status = statuses[call.request.service];
      if (!status) cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      else cb(null, { status });
    },
  });
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
});
after(() => server.forceShutdown());

test('a serving service is healthy; the kubelet user agent is sent', async () => {
  assert.deepEqual(await grpcProbe('127.0.0.1', 'web', port, 5), { result: 'success', output: 'service healthy' });
  assert.match(userAgent, /^kube-probe\/1\.32/);
});

test('a service not serving fails with its status', async () => {
  assert.deepEqual(await grpcProbe('127.0.0.1', 'db', port, 5), { result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
});

test('an RPC error fails with grpc-go wording', async () => {
  assert.deepEqual(await grpcProbe('127.0.0.1', 'cache', port, 5), { result: 'failure', output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service' });
});

test('a server without the health service fails as not implementing the protocol', async () => {
  const bare = new grpc.Server();
  const barePort = await new Promise<number>((resolve, reject) =>
    bare.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  try {
    const out = await grpcProbe('127.0.0.1', '', barePort, 5);
    assert.equal(out.result, 'failure');
    assert.match(out.output, /^error: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\): /);
  } finally {
    bare.forceShutdown();
  }
});

test('nothing listening fails once the timeout passed', async () => {
  const closed = new grpc.Server();
  const closedPort = await new Promise<number>((resolve, reject) =>
    closed.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  closed.forceShutdown();
  assert.deepEqual(await grpcProbe('127.0.0.1', '', closedPort, 1), {
    result: 'failure',
    output: `timeout: failed to connect service "127.0.0.1:${closedPort}" within 1s: context deadline exceeded`,
  });
});
