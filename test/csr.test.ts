// CertificateSigningRequests end to end with the real kubectl: a request created, approved with
// `kubectl certificate approve`, signed by the controller manager with the cluster CA, and the
// certificate then authenticates; `deny`, validation, a kubelet's own renewal approved by the
// approver, and `skiff user add`.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { writeKubeconfig } from '../lib/kubeconfig.js';
import { nodeEntry } from '../lib/process/components.js';
import { ensureClientCert, newKeyAndCSR } from '../lib/pki.js';
import { type Cluster, kubectlBinary, run, startCluster } from './harness.js';
import { header, row, until } from './kubectl-helpers.js';

let cluster: Cluster;
let scratch: string;

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver', 'controller-manager'] });
  scratch = mkdtempSync(join(tmpdir(), 'skiff-csr-e2e-'));
});

after(async () => {
  await cluster?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function csrYAML(name: string, csrPem: string, spec: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], ...spec },
  });
}

test('kubectl certificate approve: the controller manager signs, and the certificate authenticates', async () => {
  const { keyPem, csrPem } = await newKeyAndCSR('jane', ['dev']);
  assert.equal((await kubectl(['create', '-f', '-'], csrYAML('jane', csrPem, { expirationSeconds: 86400 }))).trim(), 'certificatesigningrequest.certificates.k8s.io/jane created');
  const pending = await kubectl(['get', 'csr']);
  assert.deepEqual(header(pending), ['NAME', 'AGE', 'SIGNERNAME', 'REQUESTOR', 'REQUESTEDDURATION', 'CONDITION']);
  assert.deepEqual(row(pending, 'jane').slice(2), ['kubernetes.io/kube-apiserver-client', 'admin', '24h', 'Pending']);

  assert.equal((await kubectl(['certificate', 'approve', 'jane'])).trim(), 'certificatesigningrequest.certificates.k8s.io/jane approved');
  await until(async () => (await kubectl(['get', 'csr', 'jane', '-o', 'jsonpath={.status.certificate}'])) !== '', 30_000, 'the certificate of jane');
  assert.equal(row(await kubectl(['get', 'csr', 'jane']), 'jane')[5], 'Approved,Issued');
  const approved = JSON.parse(await kubectl(['get', 'csr', 'jane', '-o', 'json']));
  assert.deepEqual(
    approved.status.conditions.map((c: { type: string; reason: string; status: string }) => [c.type, c.status, c.reason]),
    [['Approved', 'True', 'KubectlApprove']],
  );
  const cert = Buffer.from(approved.status.certificate, 'base64').toString();

  const kubeconfig = join(scratch, 'jane.kubeconfig');
  writeKubeconfig(kubeconfig, { server: cluster.server, caFile: cluster.caFile, clientCert: cert, clientKey: keyPem, user: 'jane' });
  const whoami = await run(kubectlBinary(), ['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'json'], { env: { ...process.env, KUBECACHEDIR: join(scratch, 'cache') } });
  assert.equal(whoami.code, 0, whoami.stderr);
  assert.deepEqual(JSON.parse(whoami.stdout).status.userInfo, { username: 'jane', groups: ['dev', 'system:authenticated'] });

  // An approved request cannot be denied: kubectl says so, and the server refuses it too.
  const deny = await cluster.kubectl(['certificate', 'deny', 'jane']);
  assert.notEqual(deny.code, 0);
  assert.match(deny.stderr, /certificate signing request "jane" is already Approved/);
  approved.status.conditions.push({ type: 'Denied', status: 'True', reason: 'Sneaky' });
  const put = await cluster.request('/apis/certificates.k8s.io/v1/certificatesigningrequests/jane/approval', { method: 'PUT', body: approved });
  assert.equal(put.status, 422);
  assert.match(JSON.parse(put.body).message, /status.conditions\[1\].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive/);
});

test('kubectl certificate deny: the request is never signed', async () => {
  const { csrPem } = await newKeyAndCSR('mallory', []);
  await kubectl(['create', '-f', '-'], csrYAML('mallory', csrPem));
  assert.equal((await kubectl(['certificate', 'deny', 'mallory'])).trim(), 'certificatesigningrequest.certificates.k8s.io/mallory denied');
  const denied = JSON.parse(await kubectl(['get', 'csr', 'mallory', '-o', 'json']));
  assert.equal(denied.status.conditions[0].type, 'Denied');
  assert.equal(denied.status.certificate, undefined);
  assert.equal(row(await kubectl(['get', 'csr', 'mallory']), 'mallory')[5], 'Denied');
});

test('bad requests are refused with Kubernetes\' messages', async () => {
  const { csrPem } = await newKeyAndCSR('x', []);
  const legacy = await cluster.kubectl(['create', '-f', '-'], { input: csrYAML('legacy', csrPem, { signerName: 'kubernetes.io/legacy-unknown' }) });
  assert.notEqual(legacy.code, 0);
  assert.match(legacy.stderr, /spec.signerName: Invalid value: "kubernetes.io\/legacy-unknown": the legacy signerName is not allowed via this API version/);
  const short = await cluster.kubectl(['create', '-f', '-'], { input: csrYAML('short', csrPem, { expirationSeconds: 60 }) });
  assert.match(short.stderr, /spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds \(10 minutes\)/);
  const garbage = await cluster.kubectl(['create', '-f', '-'], { input: csrYAML('garbage', 'not a pem') });
  assert.match(garbage.stderr, /spec.request: Invalid value: .*PEM block type must be CERTIFICATE REQUEST/);
  // A request that does not fit its signer is approved but fails the signer's checks.
  const { csrPem: serving } = await newKeyAndCSR('y', []);
  await kubectl(['create', '-f', '-'], csrYAML('serving', serving, { usages: ['server auth'] }));
  await kubectl(['certificate', 'approve', 'serving']);
  await until(async () => row(await kubectl(['get', 'csr', 'serving']), 'serving')[5] === 'Approved,Failed', 30_000, 'serving to fail');
  const failed = JSON.parse(await kubectl(['get', 'csr', 'serving', '-o', 'json']));
  assert.deepEqual([failed.status.conditions[1].reason, failed.status.conditions[1].message], ['SignerValidationFailure', 'invalid usage for client certificate: server auth']);
});

test('a kubelet renewing its own client certificate is approved and signed without an admin', async () => {
  const files = await ensureClientCert(dirname(cluster.caFile), { name: 'test-node-n7', commonName: 'system:node:n7', organizations: ['system:nodes'] });
  const { csrPem } = await newKeyAndCSR('system:node:n7', ['system:nodes']);
  const body = JSON.stringify({
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'node-n7' },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
  });
  const status = await new Promise<number>((resolve, reject) => {
    const req = https.request(new URL('/apis/certificates.k8s.io/v1/certificatesigningrequests', cluster.server), { method: 'POST', ca: readFileSync(cluster.caFile), cert: readFileSync(files.cert), key: readFileSync(files.key), agent: false, headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(status, 201);
  await until(async () => row(await kubectl(['get', 'csr', 'node-n7']), 'node-n7')[5] === 'Approved,Issued', 30_000, 'node-n7 to be issued');
  const csr = JSON.parse(await kubectl(['get', 'csr', 'node-n7', '-o', 'json']));
  assert.equal(csr.spec.username, 'system:node:n7');
  assert.deepEqual([csr.status.conditions[0].reason, csr.status.conditions[0].message], ['AutoApproved', 'Auto approving self kubelet client certificate after SubjectAccessReview.']);
});

test('skiff user add writes a working kubeconfig with a 0600 key', async () => {
  const skiff = (args: string[]) => run(process.execPath, [nodeEntry('cli/main.js'), ...args, '--home', cluster.home], { env: { ...process.env, SKIFF_HOME: cluster.home } });
  const added = await skiff(['user', 'add', 'bob', '--group', 'qa', '--expiration', '2h']);
  assert.equal(added.code, 0, added.stderr);
  const kubeconfig = join(cluster.home, 'users', 'bob.kubeconfig');
  assert.match(added.stdout, new RegExp(`Kubeconfig: ${kubeconfig}`));
  assert.match(added.stdout, /kubectl create rolebinding bob-edit --clusterrole=edit --user=bob --namespace=default/);
  assert.equal(statSync(kubeconfig).mode & 0o777, 0o600);
  assert.equal(statSync(join(cluster.home, 'users', 'bob.key')).mode & 0o777, 0o600);
  const whoami = await run(kubectlBinary(), ['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'json'], { env: { ...process.env, KUBECACHEDIR: join(scratch, 'cache2') } });
  assert.equal(whoami.code, 0, whoami.stderr);
  assert.deepEqual(JSON.parse(whoami.stdout).status.userInfo, { username: 'bob', groups: ['qa', 'system:authenticated'] });
  // The CSR it made is there, issued, for two hours (kubectl prints 120m).
  const listed = await kubectl(['get', 'csr']);
  const bobRow = listed.split('\n').find((l) => l.startsWith('user-bob-'));
  assert.ok(bobRow, listed);
  assert.match(bobRow, /kubernetes.io\/kube-apiserver-client\s+admin\s+120m\s+Approved,Issued/);

  const again = await skiff(['user', 'add', 'bob']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /user "bob" already has .*bob.kubeconfig/);
  const reserved = await skiff(['user', 'add', 'eve', '--group', 'system:masters']);
  assert.equal(reserved.code, 2);
  assert.match(reserved.stderr, /group "system:masters" is reserved/);
});
