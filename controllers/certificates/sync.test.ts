import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CertificateSigningRequest } from '../../lib/api/certificates/certificatesigningrequest.js';
import { listerOf } from '../../lib/controller/factory.js';
import { newLogger } from '../../lib/log.js';
import { ensureCA, newKeyAndCSR } from '../../lib/pki.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { approvalDecision, certificateDuration, syncApproval, syncSigning, type SigningConfig } from './sync.js';

const log = newLogger('test', 0);
let dir: string;
let signing: SigningConfig;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-csr-'));
  const ca = await ensureCA(dir);
  signing = { caCertPem: readFileSync(ca.cert, 'utf8'), caKeyPem: readFileSync(ca.key, 'utf8'), maxDurationMs: 365 * 24 * 3600_000 };
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function csr(name: string, cn: string, orgs: string[], spec: Partial<CertificateSigningRequest['spec']>, conditions?: { type: string; status: string }[]): Promise<CertificateSigningRequest> {
  const { csrPem } = await newKeyAndCSR(cn, orgs);
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'], ...spec },
    ...(conditions ? { status: { conditions } } : {}),
  };
}

describe('csrapproving', () => {
  it('approves a node renewing its own client certificate and a bootstrapper asking for one, nobody else', async () => {
    const self = await csr('self', 'system:node:n1', ['system:nodes'], { username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] });
    assert.deepEqual(approvalDecision(self), { approve: true, message: 'Auto approving self kubelet client certificate after SubjectAccessReview.' });
    const boot = await csr('boot', 'system:node:n2', ['system:nodes'], { username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token'] });
    assert.deepEqual(approvalDecision(boot), { approve: true, message: 'Auto approving kubelet client certificate after SubjectAccessReview.' });
    // A node asking for another node's certificate is recognized but not allowed.
    const other = await csr('other', 'system:node:n2', ['system:nodes'], { username: 'system:node:n1', groups: ['system:nodes'] });
    assert.deepEqual(approvalDecision(other), { approve: false, reason: 'recognized csr "other" as [nodeclient] but subject access review was not approved' });
    // Not a kubelet client request: another signer, or the wrong organization.
    assert.deepEqual(approvalDecision(await csr('user', 'jane', [], { signerName: 'kubernetes.io/kube-apiserver-client', username: 'system:node:n1', groups: ['system:nodes'] })), { approve: false });
    assert.deepEqual(approvalDecision(await csr('org', 'system:node:n1', ['system:masters'], { username: 'system:node:n1', groups: ['system:nodes'] })), { approve: false });

    const client = new FakeClient();
    const now = () => new Date('2026-01-01T00:00:00Z');
    await syncApproval({ client, csrs: listerOf([self, other]), log, now }, 'self');
    await syncApproval({ client, csrs: listerOf([self, other]), log, now }, 'other');
    const writes = client.writes();
    assert.deepEqual(writes.map((w) => [w.verb, w.subresource, w.name]), [['update', 'approval', 'self']]);
    assert.deepEqual((writes[0].object as CertificateSigningRequest).status?.conditions, [
      { type: 'Approved', status: 'True', reason: 'AutoApproved', message: 'Auto approving self kubelet client certificate after SubjectAccessReview.', lastUpdateTime: '2026-01-01T00:00:00Z' },
    ]);
  });
});

describe('csrsigning', () => {
  it('signs an approved request with the CA for the requested duration', async () => {
    const approved = await csr('jane', 'jane', ['dev'], { signerName: 'kubernetes.io/kube-apiserver-client', expirationSeconds: 3600 }, [{ type: 'Approved', status: 'True' }]);
    const client = new FakeClient();
    const now = new Date();
    await syncSigning({ client, csrs: listerOf([approved]), log, now: () => now }, signing, 'jane');
    const [w] = client.writes();
    assert.equal(w.subresource, 'status');
    const pem = Buffer.from((w.object as CertificateSigningRequest).status!.certificate!, 'base64').toString();
    const cert = new X509Certificate(pem);
    assert.ok(cert.verify(new X509Certificate(signing.caCertPem).publicKey));
    assert.equal(cert.subject, 'O=dev\nCN=jane');
    assert.equal(Date.parse(cert.validTo) / 1000, Math.floor(now.getTime() / 1000) + 3600);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  });

  it('marks a request that does not fit its signer Failed, and leaves pending, denied and unknown-signer ones alone', async () => {
    const wrongUsage = await csr('bad', 'jane', [], { signerName: 'kubernetes.io/kube-apiserver-client', usages: ['digital signature', 'server auth'] }, [{ type: 'Approved', status: 'True' }]);
    const pending = await csr('pending', 'jane', [], { signerName: 'kubernetes.io/kube-apiserver-client' });
    const denied = await csr('denied', 'jane', [], { signerName: 'kubernetes.io/kube-apiserver-client' }, [{ type: 'Denied', status: 'True' }]);
    const foreign = await csr('foreign', 'jane', [], { signerName: 'example.com/signer' }, [{ type: 'Approved', status: 'True' }]);
    const client = new FakeClient();
    const s = { client, csrs: listerOf([wrongUsage, pending, denied, foreign]), log, now: () => new Date('2026-01-01T00:00:00Z') };
    for (const key of ['bad', 'pending', 'denied', 'foreign', 'gone']) await syncSigning(s, signing, key);
    const writes = client.writes();
    assert.deepEqual(writes.map((w) => w.name), ['bad']);
    const status = (writes[0].object as CertificateSigningRequest).status!;
    assert.equal(status.certificate, undefined);
    assert.deepEqual(status.conditions?.[1], { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: 'invalid usage for client certificate: server auth', lastUpdateTime: '2026-01-01T00:00:00Z' });
  });

  it('certificateDuration: expirationSeconds within ten minutes and the maximum', () => {
    assert.equal(certificateDuration(3_600_000, undefined), 3_600_000);
    assert.equal(certificateDuration(3_600_000, 7200), 3_600_000);
    assert.equal(certificateDuration(3_600_000, 60), 600_000);
    assert.equal(certificateDuration(3_600_000, 900), 900_000);
  });
});
