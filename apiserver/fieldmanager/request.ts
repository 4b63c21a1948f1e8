// The request side of field management: who the manager of a write is, the PatchOptions checks
// kube-apiserver makes for apply and other patches, and decoding an apply body (YAML or JSON).

import { parseDocument } from 'yaml';
import { invalid, badRequest, type StatusError } from '../../lib/machinery/status.js';
import { forbiddenField, invalidValue, required, tooLong, type FieldError } from '../../lib/machinery/field-errors.js';
import { validateFieldValidation } from '../fieldvalidation.js';
import { mayHoldUnsafeInteger, safeIntegersToNumbers } from '../../lib/machinery/json.js';

/** FieldManagerMaxLength is the longest fieldManager Kubernetes accepts (and how much of a User-Agent it keeps). */
export const FieldManagerMaxLength = 128;

export const ApplyPatchType = 'application/apply-patch+yaml';

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** prefixFromUserAgent is the User-Agent up to its first `/`, printable characters only, at most 128 bytes: `kubectl/v1.32.4 (…)` → `kubectl`. */
export function prefixFromUserAgent(userAgent: string | undefined): string {
  let out = '';
  for (const ch of (userAgent ?? '').split('/')[0]) {
    if (!printable.test(ch)) continue;
    if (Buffer.byteLength(out + ch) > FieldManagerMaxLength) break;
    out += ch;
  }
  return out;
}

/** managerOrUserAgent is the manager of a write: ?fieldManager=, else the User-Agent's prefix. */
export function managerOrUserAgent(manager: string | null | undefined, userAgent: string | undefined): string {
  return manager ? manager : prefixFromUserAgent(userAgent);
}

type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions';

const optionsKindOfVerb: Record<string, OptionsKind | undefined> = { create: 'CreateOptions', update: 'UpdateOptions', patch: 'PatchOptions' };

function optionsInvalid(kind: OptionsKind, errs: FieldError[]): StatusError {
  return invalid({ group: 'meta.k8s.io', kind }, '', errs);
}

/** validateFieldManager: at most 128 bytes, printable characters only. */
export function validateFieldManager(manager: string): FieldError[] {
  const errs: FieldError[] = [];
  if (Buffer.byteLength(manager) > FieldManagerMaxLength) errs.push(tooLong('fieldManager', '', FieldManagerMaxLength));
  let pos = 0;
  for (const ch of manager) {
    if (!printable.test(ch)) {
      const cp = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      errs.push(invalidValue('fieldManager', manager, `invalid character U+${cp} (at position ${pos})`));
    }
    pos += Buffer.byteLength(ch);
  }
  return errs;
}

/**
 * requestFieldManager returns the manager a write request records (empty for reads), after
 * checking ?fieldManager= as the request's options kind is checked.
 */
export function requestFieldManager(query: URLSearchParams, userAgent: string | undefined, verb: string): string {
  const kind = optionsKindOfVerb[verb];
  if (!kind) return '';
  const manager = query.get('fieldManager') ?? '';
  const errs = validateFieldManager(manager);
  if (errs.length) throw optionsInvalid(kind, errs);
  return managerOrUserAgent(manager, userAgent);
}

/** validatePatchOptions: apply needs a fieldManager; only apply may say force. */
export function validatePatchOptions(query: URLSearchParams, mediaType: string): void {
  const errs: FieldError[] = [];
  if (mediaType === ApplyPatchType) {
    if (!query.get('fieldManager')) errs.push(required('fieldManager', 'is required for apply patch'));
  } else if (query.has('force')) {
    errs.push(forbiddenField('force', 'may not be specified for non-apply patch'));
  }
  if (errs.length) throw optionsInvalid('PatchOptions', errs);
}

/** forceOf reads ?force= (true, 1 or empty mean true). */
export function forceOf(query: URLSearchParams): boolean {
  const v = query.get('force');
  if (v === null || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1' || v === '') return true;
  throw badRequest(`invalid boolean value for force: ${JSON.stringify(v)}`);
}

/**
 * decodeApplyPatch reads an apply body (YAML, of which JSON is a subset). Duplicate keys fail the
 * request under fieldValidation=Strict and become warnings under Warn, as kube-apiserver's strict
 * re-decoding of the patch reports them.
 */
export function decodeApplyPatch(raw: Buffer, query: URLSearchParams): { config: unknown; warnings: string[] } {
  const text = raw.toString('utf8');
  // An integer beyond 2^53 stays exact: YAML reads every integer as a BigInt then, and the ones a
  // number holds exactly go back to numbers.
  const bigInts = mayHoldUnsafeInteger(text);
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, intAsBigInt: bigInts });
  if (doc.errors.length) throw badRequest(`error decoding patch: ${doc.errors[0].message}`);
  let config = doc.toJS({ maxAliasCount: 100 }) ?? {};
  if (bigInts) config = safeIntegersToNumbers(config);
  const warnings: string[] = [];
  const mode = query.get('fieldValidation') ?? '';
  const bad = validateFieldValidation(mode, 'PatchOptions');
  if (bad) throw bad;
  if (mode === 'Strict' || mode === 'Warn') {
    const strict = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
    const dup = strict.errors[0];
    if (dup) {
      const msg = `error strict decoding patch: ${dup.message}`;
      if (mode === 'Strict') throw badRequest(msg);
      warnings.push(msg);
    }
  }
  return { config, warnings };
}
