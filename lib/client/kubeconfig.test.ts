// Unit tests of ClientConfig: it reads the kubeconfigs skiff writes (lib/kubeconfig.ts) and
// kubectl-style ones with file references, and its TLS options and token really authenticate to
// an HTTPS server that requires the cluster CA's client certificates.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { kubeconfigYAML, writeKubeconfig } from '../kubeconfig.js';
import { ensureCA, ensureClientCert, ensureServingCert } from '../pki.js';
import { RestClient } from './client.js';
import { ClientConfig, KubeconfigError, loadClientConfig } from './kubeconfig.js';

describe('ClientConfig', () => {
  let dir: string;
  let ca: { cert: string; key: string };
  let admin: { cert: string; key: string };
  let server: https.Server;
  let port = 0;
  /** seen is what the server saw of each request: the client certificate's CN and the Authorization header. */
  const seen: Array<{ cn?: string; auth?: string }> = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-clientconfig-'));
    ca = await ensureCA(join(dir, 'pki'));
    admin = await ensureClientCert(join(dir, 'pki'), { name: 'admin', commonName: 'admin', organizations: ['system:masters'] });
    const serving = await ensureServingCert(join(dir, 'pki'), { name: 'apiserver', hosts: ['127.0.0.1'] });
    server = https.createServer({ cert: readFileSync(serving.cert), key: readFileSync(serving.key), ca: readFileSync(ca.cert), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      seen.push({ cn: (req.socket as TLSSocket).authorized ? (peer.subject?.CN as string | undefined) : undefined, auth: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"kind":"APIVersions"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('reads the kubeconfig skiff writes and authenticates with its client certificate over verified TLS', async () => {
    const path = writeKubeconfig(join(dir, 'admin.kubeconfig'), { server: `https://127.0.0.1:${port}/`, caFile: ca.cert, clientCert: admin.cert, clientKey: admin.key, user: 'admin', namespace: 'team-a' });
    const kc = loadClientConfig(path);
    const cluster = kc.getCurrentCluster();
    assert.equal(cluster?.name, 'skiff');
    assert.equal(cluster?.server, `https://127.0.0.1:${port}`, 'the trailing slash is dropped, as client-node does');
    assert.equal(Buffer.from(cluster!.caData!, 'base64').toString('utf8'), readFileSync(ca.cert, 'utf8'), 'caData stays base64, as callers decode it');
    assert.equal(cluster?.skipTLSVerify, false);
    assert.equal(kc.getCurrentUser()?.name, 'admin');
    assert.equal(kc.getCurrentContext()?.namespace, 'team-a');

    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    assert.equal(String(opts.ca), readFileSync(ca.cert, 'utf8'));
    assert.equal(String(opts.cert), readFileSync(admin.cert, 'utf8'));
    assert.equal(String(opts.key), readFileSync(admin.key, 'utf8'));
    assert.equal(opts.rejectUnauthorized, undefined, 'the server certificate is verified');
    assert.equal((opts.headers as Record<string, string>).Authorization, undefined);

    seen.length = 0;
    await new RestClient(kc).getPath('/api');
    assert.deepEqual(seen, [{ cn: 'admin', auth: undefined }]);
  });

  test('a token user sends Authorization: Bearer, and a token file is read again on each apply', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'first\n');
    mkdirSync(join(dir, 'conf'), { recursive: true });
    writeFileSync(join(dir, 'conf', 'ca.crt'), readFileSync(ca.cert));
    // kubectl's form: file references relative to the kubeconfig's own directory.
    const text = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: c\n  cluster:\n    server: https://127.0.0.1:${port}\n    certificate-authority: ca.crt\n    tls-server-name: 127.0.0.1`,
      'users:',
      '- name: robot\n  user:\n    tokenFile: ../token',
      '- name: other\n  user:\n    token: abc.def',
      'contexts:',
      '- name: robot@c\n  context:\n    cluster: c\n    user: robot',
      '- name: other@c\n  context:\n    cluster: c\n    user: other',
      'current-context: robot@c',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'conf', 'kubeconfig'), text);
    const kc = loadClientConfig(join(dir, 'conf', 'kubeconfig'));
    assert.equal(kc.getCurrentCluster()?.caFile, join(dir, 'conf', 'ca.crt'));
    assert.equal(kc.getCurrentUser()?.tokenFile, join(dir, 'token'));

    const first: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(first);
    assert.equal((first.headers as Record<string, string>).Authorization, 'Bearer first');
    assert.equal(first.servername, '127.0.0.1');
    assert.equal(first.cert, undefined);
    writeFileSync(tokenFile, 'second\n');
    const second: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(second);
    assert.equal((second.headers as Record<string, string>).Authorization, 'Bearer second', 'a rotated token is picked up');

    seen.length = 0;
    await new RestClient(kc).getPath('/api');
    assert.deepEqual(seen, [{ cn: undefined, auth: 'Bearer second' }]);

    kc.currentContext = 'other@c';
    const other: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(other);
    assert.equal((other.headers as Record<string, string>).Authorization, 'Bearer abc.def');
  });

  test('insecure-skip-tls-verify turns off server verification; loadFromString leaves relative paths alone', async () => {
    const kc = new ClientConfig();
    kc.loadFromString(['clusters:', '- name: c\n  cluster:\n    server: https://h:6443\n    insecure-skip-tls-verify: true', 'users:', '- name: u\n  user:\n    client-certificate: rel/cert.pem\n    client-key: rel/key.pem', 'contexts:', '- name: x\n  context:\n    cluster: c\n    user: u', 'current-context: x'].join('\n'));
    assert.equal(kc.getCurrentCluster()?.skipTLSVerify, true);
    assert.equal(kc.getCurrentUser()?.certFile, 'rel/cert.pem');
    const opts: https.RequestOptions = {};
    kc.users = [{ name: 'u', token: 't' }];
    await kc.applyToHTTPSOptions(opts);
    assert.equal(opts.rejectUnauthorized, false);
  });

  test('a mutated cluster list redirects requests (joincontrolplane points the admin config at one member)', () => {
    const kc = new ClientConfig();
    kc.loadFromString(kubeconfigYAML({ server: 'https://10.0.0.1:6443', caData: 'pem', token: 't', user: 'u' }));
    kc.clusters = kc.clusters.map((c) => ({ ...c, server: 'https://10.0.0.2:6443' }));
    assert.equal(kc.getCurrentCluster()?.server, 'https://10.0.0.2:6443');
  });

  test('says clearly what is missing', () => {
    const load = (text: string) => () => new ClientConfig().loadFromString(text);
    const cluster = 'clusters:\n- name: c\n  cluster:\n    server: https://h\n';
    const users = 'users:\n- name: u\n  user:\n    token: t\n';
    assert.throws(load(`${cluster}${users}contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n`), { name: 'KubeconfigError', message: /current-context is not set/ });
    assert.throws(load(`${cluster}${users}contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: y\n`), /current-context "y" is not among the contexts \("x"\)/);
    assert.throws(load(`${cluster}${users}contexts:\n- name: x\n  context:\n    cluster: d\n    user: u\ncurrent-context: x\n`), /names cluster "d", which is not among the clusters \("c"\)/);
    assert.throws(load(`${cluster}${users}contexts:\n- name: x\n  context:\n    cluster: c\n    user: v\ncurrent-context: x\n`), /names user "v", which is not among the users \("u"\)/);
    assert.throws(load(`clusters:\n- name: c\n  cluster: {}\n${users}`), /clusters\[0\] \(c\): cluster.server is missing/);
    assert.throws(load(`${cluster}users:\n- name: u\n  user:\n    exec:\n      command: aws\ncontexts: []\ncurrent-context: x\n`), /user "u" uses exec, which skiff's components do not support/);
    // client-node's exportConfig writes absent fields as null: that is no exec user.
    assert.doesNotThrow(load(`${cluster}users:\n- name: u\n  user:\n    token: t\n    exec: null\n    username: null\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n`));
    assert.throws(() => loadClientConfig(join(dir, 'missing')), (err: unknown) => err instanceof KubeconfigError && /missing: ENOENT/.test(err.message));
    // Broken YAML is reported by position only: the offending line may be a credential.
    assert.throws(load(`${cluster}users:\n- name: u\n  user:\n    token: "s3cr3t-token\n  bad: [\n`), (err: unknown) => {
      assert.ok(err instanceof KubeconfigError);
      assert.match(err.message, /^kubeconfig: not YAML \(\w+ at line \d+, column \d+\)$/);
      assert.doesNotMatch(err.message, /s3cr3t/);
      return true;
    });
  });
});
