import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { apiserverHosts, ensureCA, ensureClientCert, ensureServingCert, hostAddresses, subjectIdentity } from './pki.js';

const read = (p: string) => readFileSync(p, 'utf8');
const cert = (p: string) => new X509Certificate(readFileSync(p));

describe('pki', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-pki-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('ensureCA makes a self-signed CA, keeps it on the next call, and keys are 0600', async () => {
    const ca = await ensureCA(dir);
    const c = cert(ca.cert);
    assert.equal(c.ca, true);
    assert.equal(subjectIdentity(c.subject).commonName, 'kubernetes');
    assert.ok(c.checkIssued(c));
    assert.equal(statSync(ca.key).mode & 0o777, 0o600);
    const before = read(ca.cert);
    await ensureCA(dir);
    assert.equal(read(ca.cert), before);
  });

  test('apiserverHosts covers loopback, the host addresses and the kubernetes Service names', () => {
    const hosts = apiserverHosts(['skiff.example']);
    for (const h of [
      '127.0.0.1',
      'localhost',
      '10.96.0.1',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
      'skiff.example',
      ...hostAddresses(),
    ]) {
      assert.ok(hosts.includes(h), `missing ${h}`);
    }
    assert.ok(hostAddresses().every((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith('127.')));
  });

  test('ensureServingCert issues a CA-signed server certificate whose SANs cover every host', async () => {
    const ca = cert((await ensureCA(dir)).cert);
    const files = await ensureServingCert(dir, { name: 'apiserver', hosts: apiserverHosts() });
    const c = cert(files.cert);
    assert.ok(c.checkIssued(ca));
    assert.ok(c.verify(ca.publicKey));
    assert.equal(c.ca, false);
    assert.deepEqual(c.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(c.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(c.checkIP('10.96.0.1'), '10.96.0.1');
    for (const a of hostAddresses()) assert.equal(c.checkIP(a), a);
    assert.equal(c.checkHost('kubernetes.default.svc.cluster.local'), 'kubernetes.default.svc.cluster.local');
    assert.equal(c.checkHost('localhost'), 'localhost');
    assert.equal(c.checkHost('evil.example'), undefined);
    assert.equal(c.checkIP('10.96.0.2'), undefined);
    assert.equal(statSync(files.key).mode & 0o777, 0o600);
  });

  test('ensureServingCert keeps a certificate that still fits and reissues one that does not', async () => {
    const first = await ensureServingCert(dir, { name: 'web', hosts: ['127.0.0.1', 'web.local'] });
    const pem = read(first.cert);
    await ensureServingCert(dir, { name: 'web', hosts: ['web.local'] });
    assert.equal(read(first.cert), pem, 'a subset of the SANs must not reissue');
    await ensureServingCert(dir, { name: 'web', hosts: ['127.0.0.1', 'web.local', '192.0.2.10'] });
    assert.notEqual(read(first.cert), pem);
    assert.equal(cert(first.cert).checkIP('192.0.2.10'), '192.0.2.10');
  });

  test('ensureClientCert carries the user in CN and the groups in O, and reissues on a change', async () => {
    const files = await ensureClientCert(dir, { name: 'admin', commonName: 'admin', organizations: ['system:masters'] });
    const c = cert(files.cert);
    assert.deepEqual(subjectIdentity(c.subject), { commonName: 'admin', organizations: ['system:masters'] });
    assert.deepEqual(c.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    const pem = read(files.cert);
    await ensureClientCert(dir, { name: 'admin', commonName: 'admin', organizations: ['system:masters'] });
    assert.equal(read(files.cert), pem);
    await ensureClientCert(dir, { name: 'admin', commonName: 'admin', organizations: ['system:masters', 'dev'] });
    assert.deepEqual(subjectIdentity(cert(files.cert).subject).organizations, ['system:masters', 'dev']);
  });

  test('a new CA makes every leaf certificate be issued anew', async () => {
    const d = mkdtempSync(join(tmpdir(), 'skiff-pki-'));
    try {
      const leaf = await ensureServingCert(d, { name: 's', hosts: ['127.0.0.1'] });
      unlinkSync(join(d, 'ca.crt'));
      const ca = cert((await ensureCA(d)).cert);
      assert.equal(cert(leaf.cert).checkIssued(ca), false);
      await ensureServingCert(d, { name: 's', hosts: ['127.0.0.1'] });
      assert.ok(cert(leaf.cert).verify(ca.publicKey));
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('concurrent ensures in one directory share one CA', async () => {
    const d = mkdtempSync(join(tmpdir(), 'skiff-pki-'));
    try {
      const [a, b] = await Promise.all([
        ensureServingCert(d, { name: 'a', hosts: ['127.0.0.1'] }),
        ensureClientCert(d, { name: 'b', commonName: 'b', organizations: [] }),
      ]);
      const ca = cert(join(d, 'ca.crt'));
      assert.ok(cert(a.cert).verify(ca.publicKey));
      assert.ok(cert(b.cert).verify(ca.publicKey));
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('a TLS handshake with the serving and client certificates authenticates both sides', async () => {
    const ca = await ensureCA(dir);
    const serving = await ensureServingCert(dir, { name: 'apiserver', hosts: apiserverHosts() });
    const client = await ensureClientCert(dir, { name: 'dev', commonName: 'jane', organizations: ['system:masters', 'devs'] });
    const seen = new Promise<tls.PeerCertificate>((resolve, reject) => {
      const server = tls.createServer(
        { cert: read(serving.cert), key: read(serving.key), ca: read(ca.cert), requestCert: true, rejectUnauthorized: true },
        (socket) => {
          resolve(socket.getPeerCertificate());
          socket.end('ok');
          server.close();
        },
      );
      server.on('tlsClientError', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        const conn = tls.connect({
          host: '127.0.0.1',
          port,
          servername: 'kubernetes.default.svc',
          ca: read(ca.cert),
          cert: read(client.cert),
          key: read(client.key),
        });
        conn.on('error', reject);
        conn.on('data', () => conn.end());
      });
    });
    const peer = await seen;
    assert.equal(peer.subject.CN, 'jane');
    assert.deepEqual(peer.subject.O, ['system:masters', 'devs']);
  });

  test('a client certificate from another CA is refused in the handshake', async () => {
    const other = mkdtempSync(join(tmpdir(), 'skiff-pki-'));
    try {
      const ca = await ensureCA(dir);
      const serving = await ensureServingCert(dir, { name: 'apiserver', hosts: apiserverHosts() });
      const stranger = await ensureClientCert(other, { name: 'x', commonName: 'mallory', organizations: ['system:masters'] });
      const outcome = await new Promise<string>((resolve) => {
        const server = tls.createServer(
          { cert: read(serving.cert), key: read(serving.key), ca: read(ca.cert), requestCert: true, rejectUnauthorized: true },
          (socket) => socket.end('ok'),
        );
        server.on('tlsClientError', (err) => {
          server.close();
          resolve(`refused: ${err.message}`);
        });
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address() as { port: number };
          const conn = tls.connect({ host: '127.0.0.1', port, ca: read(ca.cert), cert: read(stranger.cert), key: read(stranger.key) });
          conn.on('error', () => undefined);
          conn.on('data', () => {
            server.close();
            resolve('accepted');
          });
        });
      });
      assert.match(outcome, /^refused/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
