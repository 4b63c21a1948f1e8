// Path-addressed validation errors, formatted as k8s.io/apimachinery/pkg/util/validation/field does,
// so an Invalid Status reads `spec.replicas: Invalid value: -1: must be greater than or equal to 0`.

import { stringifyJSON } from './json.js';

export const FieldErrorType = {
  NotFound: 'FieldValueNotFound',
  Required: 'FieldValueRequired',
  Duplicate: 'FieldValueDuplicate',
  Invalid: 'FieldValueInvalid',
  NotSupported: 'FieldValueNotSupported',
  Forbidden: 'FieldValueForbidden',
  TooLong: 'FieldValueTooLong',
  TooMany: 'FieldValueTooMany',
  Internal: 'InternalError',
  TypeInvalid: 'FieldValueTypeInvalid',
} as const;
export type FieldErrorType = (typeof FieldErrorType)[keyof typeof FieldErrorType];

const typeText: Record<FieldErrorType, string> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  InternalError: 'Internal error',
  FieldValueTypeInvalid: 'Invalid value',
};

/** FieldError is one validation failure at one field path. */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  value?: unknown;
  detail?: string;
  /** omitValue: the value is not printed (field.OmitValueType). */
  omitValue?: boolean;
}

/** Path builds field paths: `new Path('spec').child('containers').index(0).child('name')`. */
export class Path {
  constructor(private readonly text: string) {}
  static root(name: string): Path {
    return new Path(name);
  }
  child(name: string, ...more: string[]): Path {
    let p = this.text ? `${this.text}.${name}` : name;
    for (const m of more) p = `${p}.${m}`;
    return new Path(p);
  }
  index(i: number): Path {
    return new Path(`${this.text}[${i}]`);
  }
  key(k: string): Path {
    return new Path(`${this.text}[${k}]`);
  }
  toString(): string {
    return this.text;
  }
}

type P = Path | string;
const s = (p: P) => String(p);

export const required = (p: P, detail = ''): FieldError => ({ type: FieldErrorType.Required, field: s(p), detail });
export const invalidValue = (p: P, value: unknown, detail: string): FieldError => ({ type: FieldErrorType.Invalid, field: s(p), value, detail });
export const duplicate = (p: P, value: unknown): FieldError => ({ type: FieldErrorType.Duplicate, field: s(p), value });
export const forbiddenField = (p: P, detail: string): FieldError => ({ type: FieldErrorType.Forbidden, field: s(p), detail });
export const notFoundField = (p: P, value: unknown): FieldError => ({ type: FieldErrorType.NotFound, field: s(p), value });
export const tooLong = (p: P, value: unknown, max: number): FieldError => ({
  type: FieldErrorType.TooLong,
  field: s(p),
  value,
  detail: `may not be more than ${max} bytes`,
});
export const tooMany = (p: P, actual: number, max: number): FieldError => ({
  type: FieldErrorType.TooMany,
  field: s(p),
  value: actual,
  detail: `must have at most ${max} items`,
});
export function notSupported(p: P, value: unknown, valid: readonly string[]): FieldError {
  const detail = valid.length ? `supported values: ${valid.map((v) => stringifyJSON(v)).join(', ')}` : '';
  return { type: FieldErrorType.NotSupported, field: s(p), value, detail };
}

/** formatValue prints a value the way Go's %#v-based field errors do for the common cases. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
    return stringifyJSON(v);
  }
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.every(([, x]) => typeof x === 'string')) {
      return `map[string]string{${entries.map(([k, x]) => `${JSON.stringify(k)}:${JSON.stringify(x)}`).join(', ')}}`;
    }
    return stringifyJSON(v);
  }
  return String(v);
}

function errorBody(e: FieldError): string {
  let body = typeText[e.type];
  switch (e.type) {
    case FieldErrorType.Required:
    case FieldErrorType.Forbidden:
    case FieldErrorType.TooLong:
    case FieldErrorType.Internal:
      break;
    default:
      if (!e.omitValue) body = `${body}: ${formatValue(e.value)}`;
  }
  if (e.detail) body = `${body}: ${e.detail}`;
  return body;
}

/** fieldErrorMessage is one error as text, with or without its field path in front. */
export function fieldErrorMessage(e: FieldError, withField = true): string {
  return withField && e.field ? `${e.field}: ${errorBody(e)}` : errorBody(e);
}

/** formatFieldErrors aggregates errors as utilerrors.NewAggregate does: one plain, several in brackets. */
export function formatFieldErrors(errs: FieldError[], opts: { withField: boolean }): string {
  const msgs = [...new Set(errs.map((e) => fieldErrorMessage(e, opts.withField)))];
  if (msgs.length === 1) return msgs[0];
  return `[${msgs.join(', ')}]`;
}
