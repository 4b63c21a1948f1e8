// AuditContext over a real loopback HTTP server: the stages it writes for a denied request, a
// failure that is not a Status (Panic), a request at Request level (the body it read), and an
// impersonated user; with a sink in memory.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { forbidden } from '../../lib/machinery/status.js';
import { writeStatus } from '../endpoints/response.js';
import { readBody } from '../endpoints/request.js';
import { Auditor, type AuditContext, type Event } from './audit.js';
import type { Policy } from './policy.js';

const lines: string[] = [];
const policy: Policy = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  rules: [
    { level: 'Request', resources: [{ group: '', resources: ['configmaps'] }] },
    { level: 'Metadata', omitStages: ['RequestReceived'] },
  ],
};
const auditor = new Auditor(policy, { write: (l) => lines.push(l) });
const jane = { name: 'jane', uid: 'u-1', groups: ['dev', 'system:authenticated'], via: 'x509' as const };

/** handlers, by path, act out what the front door does. */
const handlers: Record<string, (req: http.IncomingMessage, res: http.ServerResponse, audit: AuditContext) => Promise<void>> = {
  '/api/v1/namespaces/a/pods': async (_req, res, audit) => {
    audit.authenticated(jane);
    audit.authorized({ allowed: false, reason: 'no RBAC policy matched' });
    writeStatus(res, forbidden({ group: '', resource: 'pods' }, '', 'User "jane" cannot list resource "pods" in API group "" in the namespace "a"'));
  },
  '/api/v1/namespaces/a/secrets': async (_req, res, audit) => {
    audit.authenticated(jane);
    audit.authorized({ allowed: true, reason: '' });
    audit.panicked(new Error('boom'));
    res.writeHead(500).end('{}');
  },
  '/api/v1/namespaces/a/configmaps': async (req, res, audit) => {
    audit.authenticated({ name: 'admin', groups: ['system:masters'], via: 'x509' });
    audit.impersonated(jane);
    audit.authorized({ allowed: true, reason: 'RBAC: allowed' });
    await readBody(req);
    res.writeHead(201, { 'Content-Type': 'application/json' }).end('{"kind":"ConfigMap"}');
  },
};

let server: http.Server;
let base: string;

before(async () => {
  server = http.createServer((req, res) => {
    const audit = auditor.begin(req, res);
    void handlers[req.url!.split('?')[0]!]!(req, res, audit);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.close();
});

async function send(path: string, method = 'GET', body?: string): Promise<{ status: number; id: string; events: Event[] }> {
  lines.length = 0;
  const res = await fetch(base + path, { method, body, headers: body ? { 'Content-Type': 'application/json' } : {} });
  await res.text();
  // 'close' of the response runs after the client has its answer: wait for it.
  for (let i = 0; i < 50 && !lines.some((l) => /"stage":"(ResponseComplete|Panic)"/.test(l)); i++) await new Promise((r) => setTimeout(r, 10));
  return { status: res.status, id: res.headers.get('audit-id') ?? '', events: lines.map((l) => JSON.parse(l) as Event) };
}

describe('AuditContext', () => {
  it('records a denied request with the forbid decision and its Status', async () => {
    const { status, id, events } = await send('/api/v1/namespaces/a/pods');
    assert.equal(status, 403);
    assert.deepEqual(events.map((e) => e.stage), ['ResponseComplete']);
    const e = events[0]!;
    assert.equal(e.auditID, id);
    assert.equal(e.level, 'Metadata');
    assert.equal(e.verb, 'list');
    assert.deepEqual(e.user, { username: 'jane', uid: 'u-1', groups: ['dev', 'system:authenticated'] });
    assert.deepEqual(e.annotations, { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': 'no RBAC policy matched' });
    assert.equal(e.responseStatus?.code, 403);
    assert.equal(e.responseStatus?.reason, 'Forbidden');
    assert.equal(e.responseStatus?.message, 'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "a"');
  });

  it('records an unexpected failure as Panic, once', async () => {
    const { events } = await send('/api/v1/namespaces/a/secrets');
    assert.deepEqual(events.map((e) => e.stage), ['Panic']);
    assert.equal(events[0]!.responseStatus?.message, "APIServer panic'd: boom");
    assert.equal(events[0]!.responseStatus?.code, 500);
  });

  it('at Request level, writes RequestReceived and the request body, with the impersonated user', async () => {
    const { events } = await send('/api/v1/namespaces/a/configmaps', 'POST', '{"kind":"ConfigMap","metadata":{"name":"c1"},"data":{"k":"v"}}');
    assert.deepEqual(events.map((e) => e.stage), ['RequestReceived', 'ResponseComplete']);
    const done = events[1]!;
    assert.equal(done.level, 'Request');
    assert.equal(done.user.username, 'admin');
    assert.equal(done.impersonatedUser?.username, 'jane');
    assert.deepEqual(done.requestObject, { kind: 'ConfigMap', metadata: { name: 'c1' }, data: { k: 'v' } });
    assert.equal(done.objectRef?.name, 'c1');
    assert.equal(done.responseObject, undefined, 'Request level keeps no response body');
    assert.equal(events[0]!.stageTimestamp, events[0]!.requestReceivedTimestamp);
  });
});
