import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { kubeconfigYAML, writeKubeconfig } from './kubeconfig.js';
import { ensureCA, ensureClientCert } from './pki.js';

const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

describe('kubeconfig', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-kubeconfig-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('writeKubeconfig embeds the CA and client credentials as base64 data, mode 0600', async () => {
    const ca = await ensureCA(dir);
    const admin = await ensureClientCert(dir, { name: 'admin', commonName: 'admin', organizations: ['system:masters'] });
    const path = writeKubeconfig(join(dir, 'admin.kubeconfig'), {
      server: 'https://127.0.0.1:6443',
      caFile: ca.cert,
      clientCert: admin.cert,
      clientKey: admin.key,
      user: 'admin',
    });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const doc = parse(readFileSync(path, 'utf8'));
    assert.equal(doc.apiVersion, 'v1');
    assert.equal(doc.kind, 'Config');
    assert.equal(doc['current-context'], 'skiff');
    assert.equal(doc.clusters[0].name, 'skiff');
    assert.equal(doc.clusters[0].cluster.server, 'https://127.0.0.1:6443');
    assert.equal(b64(doc.clusters[0].cluster['certificate-authority-data']), readFileSync(ca.cert, 'utf8'));
    assert.equal(b64(doc.users[0].user['client-certificate-data']), readFileSync(admin.cert, 'utf8'));
    assert.equal(b64(doc.users[0].user['client-key-data']), readFileSync(admin.key, 'utf8'));
    assert.deepEqual(doc.contexts[0], { name: 'skiff', context: { cluster: 'skiff', user: 'admin' } });
  });

  test('client-node loads the file as the current cluster and user', async () => {
    const ca = await ensureCA(dir);
    const path = writeKubeconfig(join(dir, 'token.kubeconfig'), {
      server: 'https://10.0.0.1:6443',
      caData: readFileSync(ca.cert, 'utf8'),
      token: 'abc.def',
      user: 'robot',
      namespace: 'team-a',
    });
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    assert.equal(kc.getCurrentCluster()?.server, 'https://10.0.0.1:6443');
    assert.equal(kc.getCurrentUser()?.name, 'robot');
    assert.equal(kc.getCurrentUser()?.token, 'abc.def');
    assert.equal(kc.getContextObject(kc.getCurrentContext())?.namespace, 'team-a');
  });

  test('kubeconfigYAML refuses a config without a CA or without credentials', () => {
    assert.throws(() => kubeconfigYAML({ server: 'https://x', user: 'u', token: 't' }), /caFile or caData/);
    assert.throws(() => kubeconfigYAML({ server: 'https://x', user: 'u', caData: 'pem' }), /client certificate or a token/);
    assert.throws(() => kubeconfigYAML({ server: 'https://x', user: 'u', caData: 'pem', clientCert: 'c' }), /go together/);
  });
});
