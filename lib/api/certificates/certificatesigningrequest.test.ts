import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FieldError, fieldErrorMessage } from '../../machinery/field-errors.js';
import { newKeyAndCSR } from '../../pki.js';
import { type CertificateSigningRequest, certificateSigningRequests as csrs, csrStatusSummary, prepareForApprovalUpdate, validateApprovalUpdate } from './certificatesigningrequest.js';

const ctx = { now: new Date('2026-01-01T10:00:00Z'), user: { name: 'jane', groups: ['dev', 'system:authenticated'] } };
const msgs = (errs: FieldError[]) => errs.map((e) => fieldErrorMessage(e));

async function csr(spec: Partial<CertificateSigningRequest['spec']> = {}, status?: CertificateSigningRequest['status']): Promise<CertificateSigningRequest> {
  const { csrPem } = await newKeyAndCSR('jane', ['dev']);
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'jane', creationTimestamp: '2026-01-01T09:00:00Z' },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], ...spec },
    ...(status ? { status } : {}),
  };
}

test('CSR validation: request, usages, signer name and expirationSeconds', async () => {
  assert.deepEqual(msgs(csrs.validate!(await csr())), []);
  assert.deepEqual(msgs(csrs.validate!(await csr({ request: Buffer.from('hello').toString('base64'), usages: [], signerName: 'nodomain' }))), [
    'spec.request: Invalid value: "<request data>": PEM block type must be CERTIFICATE REQUEST',
    'spec.usages: Required value',
    "spec.signerName: Invalid value: \"nodomain\": must be a fully qualified domain and path of the form 'example.com/signer-name'",
  ]);
  assert.deepEqual(msgs(csrs.validate!(await csr({ usages: ['client auth', 'client auth', 'fly'], signerName: 'kubernetes.io/legacy-unknown', expirationSeconds: 599 }))), [
    'spec.usages[1]: Duplicate value: "client auth"',
    'spec.usages[2]: Unsupported value: "fly": supported values: "signing", "digital signature", "content commitment", "key encipherment", "key agreement", "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any", "server auth", "client auth", "code signing", "email protection", "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc"',
    'spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version',
    'spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)',
  ]);
});

test('CSR create: the requestor is who asks, whatever the body says; status is cleared', async () => {
  const c = await csr({ username: 'admin', groups: ['system:masters'] }, { certificate: 'eA==' });
  csrs.prepareForCreate!(c, ctx);
  assert.equal(c.spec.username, 'jane');
  assert.deepEqual(c.spec.groups, ['dev', 'system:authenticated']);
  assert.equal(c.status, undefined);
});

test('CSR approval: conditions only, Approved and Denied exclusive, none removed', async () => {
  const old = await csr();
  const next = await csr({ signerName: 'example.com/other' }, { conditions: [{ type: 'Approved', status: 'True', reason: 'KubectlApprove' }] });
  prepareForApprovalUpdate(next, old, ctx);
  assert.equal(next.spec.signerName, 'kubernetes.io/kube-apiserver-client');
  assert.deepEqual(next.status?.conditions, [{ type: 'Approved', status: 'True', reason: 'KubectlApprove', lastUpdateTime: '2026-01-01T10:00:00Z', lastTransitionTime: '2026-01-01T10:00:00Z' }]);
  assert.deepEqual(msgs(validateApprovalUpdate(next, old)), []);
  const both = structuredClone(next);
  both.status!.conditions!.push({ type: 'Denied', status: 'True' });
  assert.deepEqual(msgs(validateApprovalUpdate(both, next)), ['status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive']);
  assert.deepEqual(msgs(validateApprovalUpdate(old, next)), ['status.conditions: Forbidden: updates may not remove a condition of type "Approved"']);
});

test('CSR status: approval stays as it was, a certificate needs approval and never changes', async () => {
  const approved = await csr({}, { conditions: [{ type: 'Approved', status: 'True' }] });
  const sneaky = await csr({}, { conditions: [{ type: 'Approved', status: 'True', reason: 'Changed' }], certificate: Buffer.from('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n').toString('base64') });
  csrs.prepareForStatusUpdate!(sneaky, approved, ctx);
  assert.equal(sneaky.status?.conditions?.[0].reason, undefined);
  assert.deepEqual(msgs(csrs.validateStatusUpdate!(sneaky, approved)), []);
  const pending = await csr();
  assert.deepEqual(msgs(csrs.validateStatusUpdate!(structuredClone({ ...pending, status: { certificate: sneaky.status!.certificate } }), pending)), [
    'status.certificate: Forbidden: certificate can only be set if the Approved condition is present',
  ]);
  assert.deepEqual(msgs(csrs.validateStatusUpdate!({ ...sneaky, status: { ...sneaky.status, certificate: 'eA==' } }, sneaky)), [
    'status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block',
    'status.certificate: Forbidden: updates may not modify existing certificate content',
  ]);
  assert.deepEqual(msgs(csrs.validateStatusUpdate!({ ...pending, status: { conditions: [{ type: 'Approved', status: 'True' }] } }, pending)), ['status.conditions: Forbidden: updates may not add a condition of type "Approved"']);
});

test('CSR table: NAME AGE SIGNERNAME REQUESTOR REQUESTEDDURATION CONDITION', async () => {
  const c = await csr({ username: 'jane', expirationSeconds: 86400 });
  const cols = csrs.printerColumns!;
  assert.deepEqual(cols.map((col) => col.name), ['Name', 'Age', 'SignerName', 'Requestor', 'RequestedDuration', 'Condition']);
  assert.deepEqual(cols.map((col) => col.cell(c, ctx.now)), ['jane', '60m', 'kubernetes.io/kube-apiserver-client', 'jane', '24h', 'Pending']);
  assert.equal(csrStatusSummary({ ...c, status: { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Failed', status: 'True' }] } }), 'Approved,Failed');
  assert.equal(csrStatusSummary({ ...c, status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'x' } }), 'Approved,Issued');
  assert.equal(csrStatusSummary({ ...c, status: { conditions: [{ type: 'Denied', status: 'True' }] } }), 'Denied');
});
