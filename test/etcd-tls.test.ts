// End-to-end: etcd serves only clients with a certificate of its own CA. Before, any local user
// read every Secret out of etcd on loopback; now a client without a certificate (plain HTTP or
// TLS without one), or with a certificate of the cluster CA (every user's and kubelet's), is
// refused, while the apiserver's etcd client certificate works. Every private key and the
// encryption configuration the cluster writes are readable by their owner only.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { noop } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';
import { probe } from '../lib/process/supervisor.js';
import { startCluster, type Cluster } from './harness.js';

let cluster: Cluster;

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
});

after(async () => {
  await cluster?.stop();
});

/** readWith tries one etcd read with the given credentials; it resolves to the error, or undefined on success. */
async function readWith(credentials: IOptions): Promise<Error | undefined> {
  const client = new Etcd3({ ...credentials, dialTimeout: 2_000, faultHandling: { host: () => noop, global: noop } });
  try {
    await client.get('/registry/core/namespaces/default').options({ deadline: Date.now() + 3_000 }).string();
    return undefined;
  } catch (err) {
    return err as Error;
  } finally {
    client.close();
  }
}

describe('etcd client authentication', () => {
  it('serves the apiserver\'s client certificate', async () => {
    assert.equal(await readWith(cluster.etcdClientOptions), undefined);
    const etcd = new Etcd3(cluster.etcdClientOptions);
    try {
      assert.ok(await etcd.get('/registry/core/namespaces/default').string(), 'the default namespace is in etcd');
    } finally {
      etcd.close();
    }
  });

  it('refuses TLS without a client certificate', async () => {
    const err = await readWith({ hosts: cluster.etcdEndpoint, credentials: { rootCertificate: cluster.etcdTLS.ca } });
    assert.ok(err, 'a client without a certificate read etcd');
    const health = await probe({ url: `${cluster.etcdEndpoint}/health`, ca: cluster.etcdTLS.ca.toString() });
    assert.equal(health.ok, false, `GET /health without a client certificate: ${health.status} ${health.body}`);
  });

  it('refuses a certificate of the cluster CA (a user\'s), which etcd does not trust', async () => {
    const err = await readWith({
      hosts: cluster.etcdEndpoint,
      credentials: { rootCertificate: cluster.etcdTLS.ca, certChain: readFileSync(cluster.adminCert), privateKey: readFileSync(cluster.adminKey) },
    });
    assert.ok(err, 'a client with the admin certificate of the cluster CA read etcd');
  });

  it('refuses plain HTTP', async () => {
    const err = await readWith({ hosts: cluster.etcdEndpoint.replace('https:', 'http:') });
    assert.ok(err, 'a plain-text client read etcd');
    const answer = await new Promise<{ status: number; body: string }>((resolve) => {
      http
        .get(`${cluster.etcdEndpoint.replace('https:', 'http:')}/v3/kv/range`, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', (e) => resolve({ status: 0, body: e.message }));
    });
    assert.notEqual(answer.status, 200, answer.body);
  });
});

describe('files the cluster writes', () => {
  it('keeps every private key and the encryption configuration 0600', () => {
    const secrets: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.key') || e.name === 'encryption-config.yaml' || e.name === 'tokens.csv') secrets.push(p);
      }
    };
    walk(join(cluster.home, 'pki'));
    for (const want of ['etcd/ca.key', 'etcd/server.key', 'etcd/peer.key', 'etcd/apiserver-etcd-client.key', 'encryption-config.yaml', 'ca.key']) {
      assert.ok(secrets.includes(join(cluster.home, 'pki', want)), `${want} exists`);
    }
    for (const p of secrets) assert.equal(statSync(p).mode & 0o777, 0o600, `${p} is ${(statSync(p).mode & 0o777).toString(8)}`);
  });
});
