// The CSR approving and signing controllers' reconciles (kube's pkg/controller/certificates
// approver/sarapprove.go and signer/signer.go).
//
// Approval: kube asks a SubjectAccessReview whether the requestor may create
// certificatesigningrequests/selfnodeclient (a node renewing its own client certificate) or
// /nodeclient (a bootstrap token asking for any node's). skiff answers those with the grants
// kubeadm makes: selfnodeclient to the group system:nodes, nodeclient to the system:bootstrappers
// groups, both to system:masters.

import {
  type CertificateSigningRequest,
  KubeAPIServerClientKubeletSignerName,
  KubeAPIServerClientSignerName,
  KubeletServingSignerName,
  csrCondition,
} from '../../lib/api/certificates/certificatesigningrequest.js';
import type { Client } from '../../lib/client/client.js';
import { isNotFound } from '../../lib/client/client.js';
import { CertificateSigningRequests } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { csrIdentity, signCertificateRequest } from '../../lib/pki.js';
import { validateAPIServerClientCSR, validateKubeletClientCSR, validateKubeletServingCSR } from './validation.js';

/** requestPEM decodes spec.request (base64 in JSON). */
export function requestPEM(csr: CertificateSigningRequest): string {
  return Buffer.from(csr.spec.request, 'base64').toString('utf8');
}

const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** ApprovalDecision is what the approver makes of a CSR: approve with a message, or leave it. */
export type ApprovalDecision = { approve: true; message: string } | { approve: false; reason?: string };

/** approvalDecision is the approver's pure decision for one pending CSR. */
export function approvalDecision(csr: CertificateSigningRequest): ApprovalDecision {
  if (csr.spec.signerName !== KubeAPIServerClientKubeletSignerName) return { approve: false };
  const pem = requestPEM(csr);
  if (validateKubeletClientCSR(pem, csr.spec.usages ?? [])) return { approve: false };
  const groups = csr.spec.groups ?? [];
  const masters = groups.includes('system:masters');
  const tried: string[] = [];
  // selfnodeclient: a node asking for a certificate in its own name.
  if (csrIdentity(pem).commonName === csr.spec.username) {
    tried.push('selfnodeclient');
    if (masters || groups.includes('system:nodes')) return { approve: true, message: 'Auto approving self kubelet client certificate after SubjectAccessReview.' };
  }
  tried.push('nodeclient');
  if (masters || groups.some((g) => g === 'system:bootstrappers' || g.startsWith('system:bootstrappers:'))) {
    return { approve: true, message: 'Auto approving kubelet client certificate after SubjectAccessReview.' };
  }
  return { approve: false, reason: `recognized csr "${csr.metadata.name}" as [${tried.join(' ')}] but subject access review was not approved` };
}

/** CSRSyncer holds what the two reconciles read and write. */
export interface CSRSyncer {
  client: Client;
  csrs: Lister<CertificateSigningRequest>;
  log: Logger;
  now?: () => Date;
}

/** syncApproval approves a pending kubelet client CSR that the rules above allow, through /approval. */
export async function syncApproval(s: CSRSyncer, key: string): Promise<void> {
  const cached = s.csrs.get(key);
  if (!cached || cached.status?.certificate || csrCondition(cached, 'Approved') || csrCondition(cached, 'Denied')) return;
  const decision = approvalDecision(cached);
  if (!decision.approve) {
    if (decision.reason) s.log.v(2).info('Not approving CSR', { csr: key, reason: decision.reason });
    return;
  }
  const csr = structuredClone(cached);
  const now = rfc3339(s.now?.() ?? new Date());
  csr.status = { ...csr.status, conditions: [...(csr.status?.conditions ?? []), { type: 'Approved', status: 'True', reason: 'AutoApproved', message: decision.message, lastUpdateTime: now }] };
  try {
    await s.client.update(CertificateSigningRequests, csr, { subresource: 'approval' });
    s.log.info('Approved CSR', { csr: key, requestor: csr.spec.username });
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
}

/** SigningConfig is the cluster CA (PEM text) and the longest certificate it issues (--cluster-signing-duration). */
export interface SigningConfig {
  caCertPem: string;
  caKeyPem: string;
  maxDurationMs: number;
}

/** signerValidators are the signers this controller signs for, with what each accepts. */
const signerValidators: Record<string, (pem: string, usages: string[]) => string | undefined> = {
  [KubeAPIServerClientSignerName]: validateAPIServerClientCSR,
  [KubeAPIServerClientKubeletSignerName]: validateKubeletClientCSR,
  [KubeletServingSignerName]: validateKubeletServingCSR,
};

/** certificateDuration is kube's: the requested expirationSeconds (at least ten minutes), never past the signer's maximum. */
export function certificateDuration(maxMs: number, expirationSeconds: number | undefined): number {
  if (expirationSeconds === undefined || expirationSeconds === null) return maxMs;
  return Math.max(10 * 60_000, Math.min(maxMs, expirationSeconds * 1000));
}

/** syncSigning signs an approved CSR for a known signer, or marks it Failed when the request does not fit the signer. */
export async function syncSigning(s: CSRSyncer, cfg: SigningConfig, key: string): Promise<void> {
  const cached = s.csrs.get(key);
  if (!cached || !csrCondition(cached, 'Approved') || csrCondition(cached, 'Failed') || cached.status?.certificate) return;
  const validate = signerValidators[cached.spec.signerName];
  if (!validate) return;
  const csr = structuredClone(cached);
  const pem = requestPEM(csr);
  const now = s.now?.() ?? new Date();
  const failure = validate(pem, csr.spec.usages ?? []);
  if (failure) {
    csr.status!.conditions = [...(csr.status?.conditions ?? []), { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: failure, lastUpdateTime: rfc3339(now) }];
    s.log.info('CSR failed the signer\'s checks', { csr: key, signer: csr.spec.signerName, reason: failure });
  } else {
    const cert = await signCertificateRequest(cfg.caCertPem, cfg.caKeyPem, { csrPem: pem, usages: csr.spec.usages ?? [], durationMs: certificateDuration(cfg.maxDurationMs, csr.spec.expirationSeconds), now });
    csr.status!.certificate = Buffer.from(cert).toString('base64');
  }
  try {
    await s.client.update(CertificateSigningRequests, csr, { subresource: 'status' });
    if (!failure) s.log.info('Signed CSR', { csr: key, signer: csr.spec.signerName });
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
}
