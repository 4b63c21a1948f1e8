// Field selectors as k8s.io/apimachinery/pkg/fields does them: the `?fieldSelector=` grammar
// (`a=b`, `a==b`, `a!=b`, comma separated, `\` escaping `\`, `,` and `=` in values), matching
// against an object's selectable fields, the canonical String() form, and the per-kind check of
// which field labels a resource supports, with kube-apiserver's 400 messages.

import { goQuote } from './labels.js';
import { badRequest } from './status.js';

/** FieldRequirement is one term of a field selector; `==` is stored as `=` (fields.Requirement uses selection.Equals for both). */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: '=' | '!=';
  readonly value: string;
}

/**
 * FieldSelectorExpr is a parsed field selector: the AND of its terms, in the order Kubernetes keeps
 * them (sorted by their text as written). `nothing` marks fields.Nothing(), which matches no object.
 */
export interface FieldSelectorExpr {
  readonly requirements: readonly FieldRequirement[];
  readonly nothing: boolean;
}

/** Fields is what a field selector is matched against: an object's selectable fields; absent reads as "". */
export type Fields = Readonly<Record<string, string | undefined>>;

const everythingSelector: FieldSelectorExpr = Object.freeze({ requirements: Object.freeze([]), nothing: false });
const nothingSelector: FieldSelectorExpr = Object.freeze({ requirements: Object.freeze([]), nothing: true });

/** everything is fields.Everything(). */
export function everything(): FieldSelectorExpr {
  return everythingSelector;
}

/** nothing is fields.Nothing(). */
export function nothing(): FieldSelectorExpr {
  return nothingSelector;
}

/** oneTermEqualSelector is fields.OneTermEqualSelector: what a GET or watch of one name selects by. */
export function oneTermEqualSelector(field: string, value: string): FieldSelectorExpr {
  return { requirements: [{ field, operator: '=', value }], nothing: false };
}

/** fieldSelectorFromSet is fields.SelectorFromSet: `field=value` for every entry; undefined selects everything. */
export function fieldSelectorFromSet(set: Readonly<Record<string, string>> | undefined): FieldSelectorExpr {
  if (set === undefined) return everythingSelector;
  return { requirements: Object.entries(set).map(([field, value]): FieldRequirement => ({ field, operator: '=', value })), nothing: false };
}

// ---------------------------------------------------------------------------------------------
// Escaping.

/** escapeValue is fields.EscapeValue: prefixes `\`, `,` and `=` with a backslash. */
export function escapeValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

class FieldSelectorParseError extends Error {}

/**
 * unescapeValue is fields.UnescapeValue. Its errors print an unescaped character as Go's %v of a
 * rune does, i.e. as its code point number (`unescaped character in value: 61` for '=').
 */
function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') throw new FieldSelectorParseError(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') throw new FieldSelectorParseError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (inSlash) throw new FieldSelectorParseError('invalid field selector: invalid escape sequence: \\');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing.

/** splitTerms cuts at commas not escaped by a backslash; escapes stay in the terms. */
function splitTerms(s: string): string[] {
  if (s.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

// `!=` and `==` are tried before `=` so neither leaves an '=' at the start of the value.
const termOperators = ['!=', '==', '='] as const;

/** splitTerm splits a term at the first operator; the field part has no escaping. */
function splitTerm(term: string): { lhs: string; op: (typeof termOperators)[number]; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of termOperators) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

// compareStrings orders as Go's sort.Strings does for ASCII text.
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * parseFieldSelector is fields.ParseSelector: comma-separated `field=value`, `field==value`,
 * `field!=value` terms (no whitespace trimming; empty terms are skipped; "" selects everything).
 * Errors throw the 400 BadRequest kube-apiserver answers for `?fieldSelector=`, e.g.
 * `invalid selector: 'foo'; can't understand 'foo'`. Terms are checked in sorted order, as in Go,
 * so the first error reported is the same.
 */
export function parseFieldSelector(s: string): FieldSelectorExpr {
  const parts = splitTerms(s).sort(compareStrings);
  const requirements: FieldRequirement[] = [];
  try {
    for (const part of parts) {
      if (part === '') continue;
      const t = splitTerm(part);
      if (!t) throw new FieldSelectorParseError(`invalid selector: '${s}'; can't understand '${part}'`);
      const value = unescapeValue(t.rhs);
      requirements.push({ field: t.lhs, operator: t.op === '!=' ? '!=' : '=', value });
    }
  } catch (err) {
    if (err instanceof FieldSelectorParseError) throw badRequest(err.message);
    throw err;
  }
  return requirements.length ? { requirements, nothing: false } : everythingSelector;
}

// ---------------------------------------------------------------------------------------------
// Using a selector.

/** fieldRequirements is Selector.Requirements(). */
export function fieldRequirements(sel: FieldSelectorExpr): readonly FieldRequirement[] {
  return sel.requirements;
}

/** isEverything is Selector.Empty(): the selector does not restrict anything. */
export function isEverything(sel: FieldSelectorExpr): boolean {
  return !sel.nothing && sel.requirements.length === 0;
}

/** matchesFields is Selector.Matches: every term holds, a field the object lacks reading as "". */
export function matchesFields(sel: FieldSelectorExpr, fields: Fields): boolean {
  if (sel.nothing) return false;
  const reqs = sel.requirements;
  for (let i = 0; i < reqs.length; i++) {
    const r = reqs[i];
    const actual = Object.prototype.hasOwnProperty.call(fields, r.field) ? (fields[r.field] ?? '') : '';
    if ((actual === r.value) !== (r.operator === '=')) return false;
  }
  return true;
}

/**
 * requiresExactMatch is Selector.RequiresExactMatch: the value the first `=` term on field demands.
 * The apiserver uses it for `metadata.name` (a GET-style watch) and the kubelet's `spec.nodeName`.
 */
export function requiresExactMatch(sel: FieldSelectorExpr, field: string): string | undefined {
  for (const r of sel.requirements) if (r.operator === '=' && r.field === field) return r.value;
  return undefined;
}

/** fieldSelectorToString is Selector.String(): terms joined by ',' with values escaped. */
export function fieldSelectorToString(sel: FieldSelectorExpr): string {
  return sel.requirements.map((r) => `${r.field}${r.operator}${escapeValue(r.value)}`).join(',');
}

/**
 * transformFieldSelector is Selector.Transform: fn maps each term's field and value (renaming a
 * deprecated field label, or throwing for an unsupported one); a term mapped to ['', ''] is dropped.
 */
export function transformFieldSelector(sel: FieldSelectorExpr, fn: (field: string, value: string) => [string, string]): FieldSelectorExpr {
  if (sel.nothing) return sel;
  const requirements: FieldRequirement[] = [];
  for (const r of sel.requirements) {
    const [field, value] = fn(r.field, r.value);
    if (field === '' && value === '') continue;
    requirements.push({ field, operator: r.operator, value });
  }
  return requirements.length ? { requirements, nothing: false } : everythingSelector;
}

// ---------------------------------------------------------------------------------------------
// Supported field labels.

/** FieldLabelMessage renders the error for a field label a resource does not support. */
export type FieldLabelMessage = (label: string) => string;

/**
 * fieldLabelNotSupported is the message of the core kinds that register a field label conversion
 * (Pod, Node, ReplicationController, Event, Namespace, Secret, Service) and of custom resources.
 */
export const fieldLabelNotSupported: FieldLabelMessage = (label) => `field label not supported: ${label}`;

/** fieldLabelNotSupportedFor is the message of kinds that name themselves (`field label not supported for <kind>: <label>`). */
export function fieldLabelNotSupportedFor(resourceDescription: string): FieldLabelMessage {
  return (label) => `field label not supported for ${resourceDescription}: ${label}`;
}

/**
 * notAKnownFieldSelector is runtime.DefaultMetaV1FieldSelectorConversion's message, used for every
 * kind without its own conversion (Deployments, ConfigMaps, …), where only metadata.name and
 * metadata.namespace are selectable.
 */
export const notAKnownFieldSelector: FieldLabelMessage = (label) =>
  `${goQuote(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`;

/** defaultFieldLabels are the fields every kind without its own conversion supports. */
export const defaultFieldLabels: readonly string[] = ['metadata.name', 'metadata.namespace'];

/**
 * checkFieldSelectorSupported throws the 400 BadRequest kube-apiserver answers when a field
 * selector names a field label the resource does not support, reporting the first such term.
 * resourceDescription picks the message: omitted → `field label not supported: <label>`; a string
 * → `field label not supported for <description>: <label>`; or any FieldLabelMessage (e.g.
 * notAKnownFieldSelector for kinds that only support the defaultFieldLabels).
 */
export function checkFieldSelectorSupported(sel: FieldSelectorExpr, supported: readonly string[], resourceDescription?: string | FieldLabelMessage): void {
  const message =
    resourceDescription === undefined || resourceDescription === ''
      ? fieldLabelNotSupported
      : typeof resourceDescription === 'string'
        ? fieldLabelNotSupportedFor(resourceDescription)
        : resourceDescription;
  for (const r of sel.requirements) {
    if (!supported.includes(r.field)) throw badRequest(message(r.field));
  }
}
