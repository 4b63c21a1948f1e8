// End-to-end: the audit log `skiff up` turns on. Requests made with the real kubectl and raw HTTPS
// come out of $SKIFF_HOME/logs/audit.log as audit.k8s.io/v1 Events: writes with their request and
// response bodies (managedFields left out), Secrets and ConfigMaps at Metadata with no body, reads
// at Metadata, watches with ResponseStarted and ResponseComplete, a refused credential (unknown,
// expired or wrong-audience token, foreign certificate) as a 401 record without a user, an
// impersonation without the right as a 403 of the requesting user; every event carries the Audit-Id the response had and the
// authorization decision. No Secret value and no bearer token reaches any log file.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { startCluster, type Cluster } from './harness.js';

let cluster: Cluster;
const secretValue = `audit-secret-${randomBytes(6).toString('hex')}`;
const bogusToken = `bogus-${randomBytes(12).toString('hex')}`;

interface AuditEvent {
  level: string;
  auditID: string;
  stage: string;
  requestURI: string;
  verb: string;
  user: { username?: string; groups?: string[] };
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; apiVersion?: string; apiGroup?: string };
  responseStatus?: { code?: number; message?: string; reason?: string };
  requestObject?: { metadata?: Record<string, unknown> };
  responseObject?: { metadata?: Record<string, unknown> };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

before(async () => {
  // -v 5: the apiserver logs every request, so the "no secret in any log" check covers those lines too.
  cluster = await startCluster({ components: ['etcd', 'apiserver'], verbosity: 5 });
});

after(async () => {
  await cluster?.stop();
});

function events(): AuditEvent[] {
  let text = '';
  try {
    text = readFileSync(join(cluster.home, 'logs', 'audit.log'), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);
}

/** waitFor polls the audit log (it is written in batches) until an event matches. */
async function waitFor(what: string, pred: (e: AuditEvent) => boolean): Promise<AuditEvent> {
  for (let i = 0; i < 100; i++) {
    const e = events().find(pred);
    if (e) return e;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no audit event ${what}; the log has:\n${events().map((e) => `${e.stage} ${e.verb} ${e.requestURI} ${e.responseStatus?.code}`).join('\n')}`);
}

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('audit log', () => {
  it('records a create at RequestResponse with both bodies, without managedFields', async () => {
    await kubectl(['create', 'namespace', 'audited']);
    const e = await waitFor('for the namespace create', (x) => x.verb === 'create' && x.objectRef?.resource === 'namespaces' && x.stage === 'ResponseComplete');
    assert.equal(e.level, 'RequestResponse');
    assert.equal(e.responseStatus?.code, 201);
    assert.equal(e.user.username, 'admin');
    assert.ok(e.user.groups?.includes('system:masters'));
    assert.ok(e.userAgent?.startsWith('kubectl'), e.userAgent);
    assert.deepEqual(e.sourceIPs, ['127.0.0.1']);
    assert.equal(e.objectRef?.name, 'audited');
    assert.equal(e.objectRef?.apiVersion, 'v1');
    assert.equal((e.requestObject?.metadata as { name?: string }).name, 'audited');
    assert.equal((e.responseObject?.metadata as { name?: string }).name, 'audited');
    assert.ok(e.responseObject?.metadata?.uid, 'the response carries the stored object');
    assert.equal(e.responseObject?.metadata?.managedFields, undefined);
    assert.equal(e.annotations?.['authorization.k8s.io/decision'], 'allow');
    assert.match(e.requestReceivedTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.ok(e.stageTimestamp >= e.requestReceivedTimestamp);
    // The default policy leaves RequestReceived out.
    assert.equal(events().filter((x) => x.auditID === e.auditID).length, 1);
  });

  it('records Secrets and ConfigMaps at Metadata: no body, no value', async () => {
    await kubectl(['-n', 'audited', 'create', 'secret', 'generic', 'creds', `--from-literal=password=${secretValue}`]);
    await kubectl(['-n', 'audited', 'create', 'configmap', 'settings', `--from-literal=token=${secretValue}`]);
    await kubectl(['-n', 'audited', 'get', 'secret', 'creds', '-o', 'yaml']);
    const created = await waitFor('for the secret create', (x) => x.verb === 'create' && x.objectRef?.resource === 'secrets' && x.stage === 'ResponseComplete');
    assert.equal(created.level, 'Metadata');
    assert.equal(created.requestObject, undefined);
    assert.equal(created.responseObject, undefined);
    assert.equal(created.objectRef?.namespace, 'audited');
    const got = await waitFor('for the secret get', (x) => x.verb === 'get' && x.objectRef?.name === 'creds');
    assert.equal(got.level, 'Metadata');
    assert.equal(got.responseObject, undefined);
    const cm = await waitFor('for the configmap create', (x) => x.verb === 'create' && x.objectRef?.resource === 'configmaps');
    assert.equal(cm.level, 'Metadata');
    assert.ok(!readFileSync(join(cluster.home, 'logs', 'audit.log'), 'utf8').includes(Buffer.from(secretValue).toString('base64')));
  });

  it('records errors with their Status, and the Audit-Id the response carried', async () => {
    const r = await cluster.request('/api/v1/namespaces/audited/pods/missing');
    assert.equal(r.status, 404);
    const id = r.headers['audit-id'];
    assert.ok(typeof id === 'string' && id.length > 0, 'the response has an Audit-Id');
    const e = await waitFor('for the 404', (x) => x.auditID === id);
    assert.equal(e.stage, 'ResponseComplete');
    assert.equal(e.responseStatus?.code, 404);
    assert.equal(e.responseStatus?.reason, 'NotFound');
    assert.equal(e.responseStatus?.message, 'pods "missing" not found');
  });

  it('records a watch at ResponseStarted and ResponseComplete', async () => {
    const r = await cluster.request('/api/v1/namespaces/audited/configmaps?watch=1&timeoutSeconds=1');
    assert.equal(r.status, 200);
    const id = r.headers['audit-id'] as string;
    await waitFor('for the watch to complete', (x) => x.auditID === id && x.stage === 'ResponseComplete');
    const stages = events().filter((x) => x.auditID === id).map((x) => x.stage);
    assert.deepEqual(stages, ['ResponseStarted', 'ResponseComplete']);
  });

  it('records a refused bearer token or foreign certificate as a 401 without a user, and never the token', async () => {
    const r = await cluster.request('/api/v1/namespaces', { auth: 'none', headers: { Authorization: `Bearer ${bogusToken}` } });
    assert.equal(r.status, 401);
    const e = await waitFor('for the 401', (x) => x.auditID === r.headers['audit-id']);
    assert.equal(e.stage, 'ResponseStarted');
    assert.deepEqual(e.user, {});
    assert.equal(e.responseStatus?.code, 401);
    assert.equal(e.responseStatus?.message, 'Authentication failed, attempted: bearer');
    const none = await cluster.request('/api/v1/namespaces', { auth: 'none' });
    const e2 = await waitFor('for the anonymous 401', (x) => x.auditID === none.headers['audit-id']);
    assert.equal(e2.responseStatus?.message, 'Authentication failed, no credentials provided');
    // A client certificate of another CA (etcd's) is refused and recorded the same way.
    const foreign = await new Promise<{ status: number; id: string }>((resolve, reject) => {
      https
        .get(new URL('/api/v1/namespaces', cluster.server), { ca: readFileSync(cluster.caFile), cert: cluster.etcdTLS.cert, key: cluster.etcdTLS.key, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, id: String(res.headers['audit-id']) }));
        })
        .on('error', reject);
    });
    assert.equal(foreign.status, 401);
    const e3 = await waitFor('for the foreign certificate', (x) => x.auditID === foreign.id);
    assert.equal(e3.responseStatus?.message, 'Authentication failed, attempted: x509');
    // An accepted token is no more logged than a refused one.
    assert.equal((await cluster.request('/api/v1/namespaces/audited', { auth: 'token' })).status, 200);
  });

  it('records an expired or wrong-audience token as a 401 and an impersonation without the right as a 403', async () => {
    await kubectl(['-n', 'audited', 'create', 'serviceaccount', 'robot']);
    const uid = (await kubectl(['-n', 'audited', 'get', 'sa', 'robot', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const issuer = 'https://kubernetes.default.svc.cluster.local';
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ iss: issuer, sub: 'system:serviceaccount:audited:robot', aud: [issuer], iat: now - 7200, exp: now - 3600, 'kubernetes.io': { namespace: 'audited', serviceaccount: { name: 'robot', uid } } })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(createPrivateKey(readFileSync(join(cluster.home, 'pki', 'sa.key'))));
    const vault = (await kubectl(['-n', 'audited', 'create', 'token', 'robot', '--audience=vault'])).trim();
    for (const [what, token] of [['expired', expired], ['wrong audience', vault]]) {
      const r = await cluster.request('/api/v1/namespaces/audited/pods', { auth: 'none', headers: { Authorization: `Bearer ${token}` } });
      assert.equal(r.status, 401, `${what}: ${r.body}`);
      const e = await waitFor(`for the ${what} token`, (x) => x.auditID === r.headers['audit-id']);
      assert.deepEqual(e.user, {}, what);
      assert.equal(e.responseStatus?.code, 401, what);
      assert.equal(e.responseStatus?.message, 'Authentication failed, attempted: bearer', what);
    }
    // The service account may not impersonate anyone.
    const token = (await kubectl(['-n', 'audited', 'create', 'token', 'robot'])).trim();
    const r = await cluster.request('/api/v1/namespaces/audited/pods', { auth: 'none', headers: { Authorization: `Bearer ${token}`, 'Impersonate-User': 'admin' } });
    assert.equal(r.status, 403, r.body);
    const e = await waitFor('for the refused impersonation', (x) => x.auditID === r.headers['audit-id'] && x.stage === 'ResponseComplete');
    assert.equal(e.user.username, 'system:serviceaccount:audited:robot');
    assert.equal(e.responseStatus?.code, 403);
    assert.equal(e.responseStatus?.reason, 'Forbidden');
    assert.equal(e.responseStatus?.message, 'users "admin" is forbidden: User "system:serviceaccount:audited:robot" cannot impersonate resource "users" in API group "" at the cluster scope');
    for (const t of [expired, vault, token]) assert.ok(!readFileSync(join(cluster.home, 'logs', 'audit.log'), 'utf8').includes(t), 'a token reached the audit log');
  });

  it('lets no Secret value and no bearer token reach any log', async () => {
    await waitFor('for the token request', (x) => x.verb === 'get' && x.objectRef?.name === 'audited' && x.objectRef.resource === 'namespaces');
    const logs = join(cluster.home, 'logs');
    const files = readdirSync(logs);
    assert.ok(files.includes('audit.log') && files.includes('apiserver.log'), files.join(' '));
    for (const f of files) {
      const text = readFileSync(join(logs, f), 'utf8');
      for (const [what, s] of [['the secret value', secretValue], ['its base64', Buffer.from(secretValue).toString('base64')], ['the admin token', cluster.token], ['a refused token', bogusToken]] as const) {
        assert.ok(!text.includes(s), `${f} holds ${what}`);
      }
    }
  });
});
