// What each well-known signer accepts in a request (kube's pkg/apis/certificates
// ValidateKubeletClientCSR and ValidateKubeletServingCSR, and the csrsigning controller's check of
// kube-apiserver-client usages). Errors read as Kubernetes words them.

import { csrIdentity, csrSubjectAltNames } from '../../lib/pki.js';

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x)) && new Set(a).size === a.length;

function kubeletCommonChecks(csrPem: string): string | undefined {
  const id = csrIdentity(csrPem);
  if (!sameSet(id.organizations, ['system:nodes'])) return 'subject organization is not system:nodes';
  const sans = csrSubjectAltNames(csrPem);
  if (!(id.commonName ?? '').startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  if (sans.some((s) => s.type === 'email')) return 'email addresses are not allowed';
  if (sans.some((s) => s.type === 'url')) return 'uri SANs are not allowed';
  return undefined;
}

/** validateKubeletClientCSR says why a request is not a kubelet client certificate request, or undefined when it is. */
export function validateKubeletClientCSR(csrPem: string, usages: string[]): string | undefined {
  const id = csrIdentity(csrPem);
  if (!sameSet(id.organizations, ['system:nodes'])) return 'subject organization is not system:nodes';
  const sans = csrSubjectAltNames(csrPem);
  if (sans.some((s) => s.type === 'dns')) return 'dnsNames are not allowed';
  if (sans.some((s) => s.type === 'email')) return 'email addresses are not allowed';
  if (sans.some((s) => s.type === 'ip')) return 'ip addresses are not allowed';
  if (sans.some((s) => s.type === 'url')) return 'uri SANs are not allowed';
  if (!(id.commonName ?? '').startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  const required = ['digital signature', 'client auth'];
  if (!sameSet(usages, required) && !sameSet(usages, ['key encipherment', ...required])) return `usages did not match [${required.join(' ')}]`;
  return undefined;
}

/** validateKubeletServingCSR says why a request is not a kubelet serving certificate request. */
export function validateKubeletServingCSR(csrPem: string, usages: string[]): string | undefined {
  const common = kubeletCommonChecks(csrPem);
  if (common) return common;
  if (!csrSubjectAltNames(csrPem).some((s) => s.type === 'dns' || s.type === 'ip')) return 'DNS or IP subjectAltName is required';
  const required = ['digital signature', 'server auth'];
  if (!sameSet(usages, required) && !sameSet(usages, ['key encipherment', ...required])) return `usages did not match [${required.join(' ')}]`;
  return undefined;
}

const apiserverClientUsages = ['digital signature', 'key encipherment', 'client auth'];

/** validateAPIServerClientCSR checks the usages of a kube-apiserver-client request. */
export function validateAPIServerClientCSR(_csrPem: string, usages: string[]): string | undefined {
  const bad = usages.find((u) => !apiserverClientUsages.includes(u));
  return bad ? `invalid usage for client certificate: ${bad}` : undefined;
}
