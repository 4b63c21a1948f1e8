// certificates.k8s.io/v1 CertificateSigningRequest: a request for a certificate from a named
// signer, approved through /approval and signed through /status (pkg/apis/certificates, the
// strategy in pkg/registry/certificates/certificates/strategy.go and the table kubectl prints).

import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { type FieldError, Path, duplicate, forbiddenField, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { age, humanDuration } from '../../machinery/duration.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject } from '../meta.js';
import { defineResource, type PrinterColumn, type StrategyContext } from '../resource.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** keyUsages are the KeyUsage values a CSR may ask for (certificates/v1 KeyUsage). */
export const keyUsages = [
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment',
  'cert sign', 'crl sign', 'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing',
  'email protection', 's/mime', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing',
  'microsoft sgc', 'netscape sgc',
] as const;

/** KubeAPIServerClientSignerName and the two below are the well-known signers (certificates/v1). */
export const KubeAPIServerClientSignerName = 'kubernetes.io/kube-apiserver-client';
export const KubeAPIServerClientKubeletSignerName = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KubeletServingSignerName = 'kubernetes.io/kubelet-serving';
export const LegacyUnknownSignerName = 'kubernetes.io/legacy-unknown';

export type CSRConditionType = 'Approved' | 'Denied' | 'Failed';

export interface CertificateSigningRequestCondition {
  type: CSRConditionType | string;
  status: 'True' | 'False' | 'Unknown' | string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export interface CertificateSigningRequestSpec {
  /** request is the PEM CERTIFICATE REQUEST, base64 in JSON. */
  request: string;
  signerName: string;
  expirationSeconds?: number;
  usages?: string[];
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface CertificateSigningRequest extends KubeObject {
  spec: CertificateSigningRequestSpec;
  status?: { conditions?: CertificateSigningRequestCondition[]; certificate?: string };
}

/** parseCSR decodes spec.request into an x509 certificate request, or returns why it cannot. */
export function parseCSR(request: string | undefined): x509.Pkcs10CertificateRequest | string {
  if (!request) return 'PEM block type must be CERTIFICATE REQUEST';
  const pem = Buffer.from(request, 'base64').toString('utf8');
  const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m) return 'PEM block type must be CERTIFICATE REQUEST';
  if (m[1] !== 'CERTIFICATE REQUEST') return 'PEM block type must be CERTIFICATE REQUEST';
  try {
    return new x509.Pkcs10CertificateRequest(Buffer.from(m[2].replace(/\s+/g, ''), 'base64'));
  } catch (err) {
    return `asn1: ${(err as Error).message}`;
  }
}

/** csrCondition returns the CSR's condition of a type. */
export function csrCondition(csr: CertificateSigningRequest, type: CSRConditionType): CertificateSigningRequestCondition | undefined {
  return csr.status?.conditions?.find((c) => c.type === type);
}

/** csrStatusSummary is kubectl's CONDITION column: Denied, Approved or Pending, then ,Failed and ,Issued. */
export function csrStatusSummary(csr: CertificateSigningRequest): string {
  const has = (t: string) => (csr.status?.conditions ?? []).some((c) => c.type === t);
  let s = has('Denied') ? 'Denied' : has('Approved') ? 'Approved' : 'Pending';
  if (has('Failed')) s += ',Failed';
  if (csr.status?.certificate) s += ',Issued';
  return s;
}

const signerNamePattern = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)\/([a-zA-Z0-9_.~\-]+)$/;

function validateSignerName(path: Path, name: string | undefined): FieldError[] {
  if (!name) return [required(path)];
  if (!signerNamePattern.test(name) || !name.split('/')[0].includes('.')) {
    return [invalidValue(path, name, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  }
  return [];
}

/** validateConditions checks condition types and statuses (ValidateCertificateSigningRequest's conditions part). */
function validateConditions(csr: CertificateSigningRequest): FieldError[] {
  const errs: FieldError[] = [];
  const path = new Path('status.conditions');
  const seen = new Set<string>();
  (csr.status?.conditions ?? []).forEach((c, i) => {
    const p = path.index(i);
    if (!c.type) errs.push(required(p.child('type')));
    else if (seen.has(c.type) && ['Approved', 'Denied', 'Failed'].includes(c.type)) errs.push(duplicate(p.child('type'), c.type));
    seen.add(c.type);
    if (!c.status) errs.push(required(p.child('status')));
    else if (['Approved', 'Denied'].includes(c.type) && c.status !== 'True') errs.push(notSupported(p.child('status'), c.status, ['True']));
    else if (!['True', 'False', 'Unknown'].includes(c.status)) errs.push(notSupported(p.child('status'), c.status, ['False', 'True', 'Unknown']));
  });
  if (seen.has('Approved') && seen.has('Denied')) {
    const i = (csr.status?.conditions ?? []).findIndex((c) => c.type === 'Denied');
    errs.push(invalidValue(path.index(i).child('type'), 'Denied', 'Approved and Denied conditions are mutually exclusive'));
  }
  const cert = csr.status?.certificate;
  if (cert) {
    const pem = Buffer.from(cert, 'base64').toString('utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) errs.push(invalidValue(new Path('status.certificate'), '<certificate data>', 'must contain at least one CERTIFICATE PEM block'));
  }
  return errs;
}

/** validateCSR is ValidateCertificateSigningRequestCreate for certificates/v1. */
export function validateCSR(csr: CertificateSigningRequest): FieldError[] {
  const errs = validateObjectMeta(csr.metadata, false, nameIsDNSSubdomain);
  const spec = new Path('spec');
  const parsed = parseCSR(csr.spec?.request);
  if (typeof parsed === 'string') errs.push(invalidValue(spec.child('request'), '<request data>', parsed));
  if (!csr.spec?.usages || csr.spec.usages.length === 0) errs.push(required(spec.child('usages')));
  const seen = new Set<string>();
  (csr.spec?.usages ?? []).forEach((u, i) => {
    if (!(keyUsages as readonly string[]).includes(u)) errs.push(notSupported(spec.child('usages').index(i), u, keyUsages));
    else if (seen.has(u)) errs.push(duplicate(spec.child('usages').index(i), u));
    seen.add(u);
  });
  errs.push(...validateSignerName(spec.child('signerName'), csr.spec?.signerName));
  if (csr.spec?.signerName === LegacyUnknownSignerName) errs.push(invalidValue(spec.child('signerName'), LegacyUnknownSignerName, 'the legacy signerName is not allowed via this API version'));
  const exp = csr.spec?.expirationSeconds;
  if (exp !== undefined && exp !== null && exp < 600) errs.push(invalidValue(spec.child('expirationSeconds'), exp, 'may not specify a duration less than 600 seconds (10 minutes)'));
  errs.push(...validateConditions(csr));
  return errs;
}

/** validateCSRStatusUpdate forbids removing Approved, Denied or Failed conditions and changing an issued certificate. */
function validateCSRStatusUpdate(csr: CertificateSigningRequest, old: CertificateSigningRequest): FieldError[] {
  const errs = validateConditions(csr);
  for (const type of ['Approved', 'Denied', 'Failed'] as const) {
    const before = (old.status?.conditions ?? []).filter((c) => c.type === type).length;
    const after = (csr.status?.conditions ?? []).filter((c) => c.type === type).length;
    if (after < before) errs.push(forbiddenField(new Path('status.conditions'), `updates may not remove a condition of type "${type}"`));
  }
  if (old.status?.certificate && csr.status?.certificate !== old.status.certificate) {
    errs.push(forbiddenField(new Path('status.certificate'), 'updates may not modify existing certificate content'));
  }
  if (csr.status?.certificate && !old.status?.certificate) {
    if (!csrCondition(csr, 'Approved')) errs.push(forbiddenField(new Path('status.certificate'), 'certificate can only be set if the Approved condition is present'));
    if (csrCondition(csr, 'Failed')) errs.push(forbiddenField(new Path('status.certificate'), 'certificate cannot be set if the Failed condition is present'));
  }
  return errs;
}

/** populateConditionTimestamps sets lastUpdateTime and lastTransitionTime of new or changed conditions to now. */
function populateConditionTimestamps(csr: CertificateSigningRequest, old: CertificateSigningRequest | undefined, ctx: StrategyContext): void {
  const now = ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const c of csr.status?.conditions ?? []) {
    c.lastUpdateTime ??= now;
    if (!c.lastTransitionTime) {
      const prev = old?.status?.conditions?.find((o) => o.type === c.type);
      c.lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
    }
  }
}

/**
 * preserveConditions puts old's conditions of a type back in place in csr when both hold as many
 * (a status update may not change approval); differing counts are left for validation to refuse.
 */
function preserveConditions(csr: CertificateSigningRequest, old: CertificateSigningRequest, type: CSRConditionType): void {
  const conditions = csr.status?.conditions ?? [];
  const at = conditions.flatMap((c, i) => (c.type === type ? [i] : []));
  const before = (old.status?.conditions ?? []).filter((c) => c.type === type);
  if (at.length !== before.length) return;
  at.forEach((i, n) => (conditions[i] = structuredClone(before[n])));
}

/** prepareForApprovalUpdate is the /approval strategy: only status.conditions change. */
export function prepareForApprovalUpdate(csr: CertificateSigningRequest, old: CertificateSigningRequest, ctx: StrategyContext): void {
  csr.spec = old.spec;
  const conditions = csr.status?.conditions;
  csr.status = { ...old.status };
  if (conditions?.length) csr.status.conditions = conditions;
  else delete csr.status.conditions;
  populateConditionTimestamps(csr, old, ctx);
}

/** validateApprovalUpdate checks an /approval update. */
export const validateApprovalUpdate = (csr: CertificateSigningRequest, old: CertificateSigningRequest): FieldError[] => validateCSRStatusUpdate(csr, old);

const columns: PrinterColumn<CertificateSigningRequest>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (c) => c.metadata.name },
  { name: 'Age', type: 'string', cell: (c, now) => age(c.metadata.creationTimestamp, now) },
  { name: 'SignerName', type: 'string', cell: (c) => c.spec?.signerName ?? '' },
  { name: 'Requestor', type: 'string', cell: (c) => c.spec?.username ?? '' },
  { name: 'RequestedDuration', type: 'string', cell: (c) => (c.spec?.expirationSeconds ? humanDuration(c.spec.expirationSeconds * 1000) : '<none>') },
  { name: 'Condition', type: 'string', cell: (c) => csrStatusSummary(c) },
];

export const certificateSigningRequests = defineResource<CertificateSigningRequest>({
  group: 'certificates.k8s.io',
  version: 'v1',
  kind: 'CertificateSigningRequest',
  plural: 'certificatesigningrequests',
  singular: 'certificatesigningrequest',
  shortNames: ['csr'],
  namespaced: false,
  subresources: { status: true },
  printerColumns: columns,
  fieldSelectors: { 'spec.signerName': (c) => c.spec?.signerName },
  prepareForCreate(csr, ctx) {
    // Who asks is the requestor, whatever the body says.
    const spec = (csr.spec ??= {} as CertificateSigningRequestSpec);
    delete spec.username;
    delete spec.uid;
    delete spec.groups;
    delete spec.extra;
    if (ctx.user) {
      spec.username = ctx.user.name;
      if (ctx.user.groups.length) spec.groups = [...ctx.user.groups];
    }
    delete csr.status;
  },
  prepareForUpdate(csr, old) {
    // spec is immutable and status is written only through /status and /approval.
    csr.spec = old.spec;
    if (old.status === undefined) delete csr.status;
    else csr.status = old.status;
  },
  prepareForStatusUpdate(csr, old, ctx) {
    csr.spec = old.spec;
    preserveConditions(csr, old, 'Approved');
    preserveConditions(csr, old, 'Denied');
    populateConditionTimestamps(csr, old, ctx);
  },
  validate: validateCSR,
  validateStatusUpdate(csr, old) {
    const errs = validateCSRStatusUpdate(csr, old);
    for (const type of ['Approved', 'Denied'] as const) {
      const before = (old.status?.conditions ?? []).filter((c) => c.type === type).length;
      const after = (csr.status?.conditions ?? []).filter((c) => c.type === type).length;
      if (after > before) errs.push(forbiddenField(new Path('status.conditions'), `updates may not add a condition of type "${type}"`));
    }
    return errs;
  },
});
