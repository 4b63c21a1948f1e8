// End-to-end: Secrets are encrypted at rest. A Secret made with the real kubectl is stored in etcd
// under kube's `k8s:enc:aescbc:v1:key1:` prefix with no trace of its value, and reads back through
// the API; ConfigMaps stay plain. Rotating (a new key first, the old one second) still reads what
// the old key wrote and writes with the new one; a Secret stored before encryption reads through
// identity; and a configuration that cannot read a value answers kube's InternalError for that
// Secret while everything else is served.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { startCluster, type Cluster } from './harness.js';

let cluster: Cluster;
let etcd: Etcd3;
const value = `s3cr3t-${randomBytes(6).toString('hex')}`;
const configPath = () => join(cluster.home, 'pki', 'encryption-config.yaml');

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
  etcd = new Etcd3(cluster.etcdClientOptions);
});

after(async () => {
  etcd?.close();
  await cluster?.stop();
});

async function kubectl(args: string[]): Promise<string> {
  const r = await cluster.kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function raw(key: string): Promise<Buffer> {
  const b = await etcd.get(key).buffer();
  assert.ok(b, `${key} is in etcd`);
  return b;
}

function aescbcConfig(keys: { name: string; secret: string }[]): string {
  return [
    'apiVersion: apiserver.config.k8s.io/v1',
    'kind: EncryptionConfiguration',
    'resources:',
    '  - resources: [secrets]',
    '    providers:',
    '      - aescbc:',
    '          keys:',
    ...keys.flatMap((k) => [`            - name: ${k.name}`, `              secret: ${k.secret}`]),
    '      - identity: {}',
    '',
  ].join('\n');
}

/** key1 reads key1's secret out of the configuration the cluster wrote. */
function key1(): string {
  const m = /name: key1\n\s+secret: (\S+)/.exec(readFileSync(configPath(), 'utf8'));
  assert.ok(m, 'the default configuration has key1');
  return m[1]!;
}

describe('encryption at rest', () => {
  it('stores a Secret encrypted with aescbc and serves it decrypted', async () => {
    await kubectl(['create', 'secret', 'generic', 'db', `--from-literal=password=${value}`]);
    const stored = await raw('/registry/core/secrets/default/db');
    assert.ok(stored.subarray(0, 23).equals(Buffer.from('k8s:enc:aescbc:v1:key1:')), `stored as ${stored.subarray(0, 30).toString()}`);
    assert.ok(!stored.includes(value), 'the value is in etcd in clear text');
    assert.ok(!stored.includes(Buffer.from(value).toString('base64')), 'the value is in etcd in base64');
    assert.ok(!stored.includes('"kind"'), 'the object is in etcd as JSON');
    const got = await kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']);
    assert.equal(Buffer.from(got, 'base64').toString(), value);

    await kubectl(['create', 'configmap', 'plain', '--from-literal=k=visible']);
    assert.match((await raw('/registry/core/configmaps/default/plain')).toString(), /^\{.*visible/);
  });

  it('reads a Secret stored before encryption through identity', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'legacy', namespace: 'default', uid: 'c0ffee00-0000-4000-8000-000000000001', creationTimestamp: '2026-01-01T00:00:00Z' }, type: 'Opaque', data: { k: Buffer.from('old').toString('base64') } };
    await etcd.put('/registry/core/secrets/default/legacy').value(JSON.stringify(secret));
    assert.equal(Buffer.from(await kubectl(['get', 'secret', 'legacy', '-o', 'jsonpath={.data.k}']), 'base64').toString(), 'old');
  });

  it('rotates: a new key first writes, the old key second still reads', async () => {
    const newKey = randomBytes(32).toString('base64');
    writeFileSync(configPath(), aescbcConfig([{ name: 'key2', secret: newKey }, { name: 'key1', secret: key1() }]), { mode: 0o600 });
    await cluster.restart('apiserver');
    assert.equal(Buffer.from(await kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']), 'base64').toString(), value);
    await kubectl(['create', 'secret', 'generic', 'db2', '--from-literal=password=two']);
    assert.ok((await raw('/registry/core/secrets/default/db2')).toString('latin1').startsWith('k8s:enc:aescbc:v1:key2:'));
    // An update rewrites with the first key.
    await kubectl(['label', 'secret', 'db', 'rotated=yes']);
    assert.ok((await raw('/registry/core/secrets/default/db')).toString('latin1').startsWith('k8s:enc:aescbc:v1:key2:'));
  });

  it('answers InternalError for a Secret no configured key reads, and serves everything else', async () => {
    writeFileSync(configPath(), aescbcConfig([{ name: 'key3', secret: randomBytes(32).toString('base64') }]), { mode: 0o600 });
    await cluster.restart('apiserver');
    const r = await cluster.kubectl(['get', 'secret', 'db2']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error from server \(InternalError\): Internal error occurred: no matching prefix found/);
    const status = await cluster.request('/api/v1/namespaces/default/secrets/db2');
    assert.equal(status.status, 500);
    assert.equal(JSON.parse(status.body).reason, 'InternalError');
    // The apiserver is up and serves the rest; the undecryptable Secrets are left out of lists.
    assert.match(await kubectl(['get', 'configmap', 'plain', '-o', 'name']), /configmap\/plain/);
    const list = await kubectl(['get', 'secrets', '-o', 'name']);
    assert.doesNotMatch(list, /secret\/db2/);
    assert.match(list, /secret\/legacy/);
  });
});
