// TokenRequest (authentication.k8s.io/v1): a request for a service-account token, posted to
// serviceaccounts/<name>/token. Never stored; its validation is kube's ValidateTokenRequest.

import { invalidValue, type FieldError } from '../../machinery/field-errors.js';
import type { KubeObject } from '../meta.js';

/** BoundObjectReference names the object a token is bound to (a Pod or a Secret). */
export interface BoundObjectReference {
  kind?: string;
  apiVersion?: string;
  name?: string;
  uid?: string;
}

/** TokenRequest is authentication.k8s.io/v1 TokenRequest. */
export interface TokenRequest extends KubeObject {
  spec: {
    audiences?: string[] | null;
    expirationSeconds?: number;
    boundObjectRef?: BoundObjectReference | null;
  };
  status?: { token: string; expirationTimestamp: string };
}

/** defaultTokenExpirationSeconds is TokenRequestSpec's default expirationSeconds (one hour). */
export const defaultTokenExpirationSeconds = 3600;

/** minTokenExpirationSeconds is the shortest token a request may ask for (ten minutes). */
export const minTokenExpirationSeconds = 10 * 60;

/** maxTokenExpirationSeconds is the longest (2^32 seconds). */
export const maxTokenExpirationSeconds = 2 ** 32;

/** validateTokenRequest checks a defaulted TokenRequest. */
export function validateTokenRequest(tr: TokenRequest): FieldError[] {
  const errs: FieldError[] = [];
  const exp = tr.spec.expirationSeconds!;
  if (!Number.isInteger(exp)) errs.push(invalidValue('spec.expirationSeconds', exp, 'must be an integer'));
  else if (exp < minTokenExpirationSeconds) errs.push(invalidValue('spec.expirationSeconds', exp, 'may not specify a duration less than 10 minutes'));
  else if (exp > maxTokenExpirationSeconds) errs.push(invalidValue('spec.expirationSeconds', exp, 'may not specify a duration larger than 2^32 seconds'));
  return errs;
}
