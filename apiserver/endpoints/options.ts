// RequestOptions: every query parameter a resource request may carry, parsed once, up front, into
// one typed object (k8s.io/apimachinery's parameter codec decoding into ListOptions, GetOptions,
// CreateOptions, … by verb). Handlers read fields; none of them reads the query string.

import { badRequest, invalid } from '../../lib/machinery/status.js';
import { codecBool, type RequestInfo } from './request.js';
import type { IncludeObject } from './table.js';

/**
 * anyResourceVersion is resourceVersion "0": "any version the server has", served from the watch
 * cache without a quorum read. For a watch it means "start from what the cache holds now, with
 * the current state first". It is the one special value; an absent or empty resourceVersion is
 * "most recent" (a quorum read).
 */
export const anyResourceVersion = '0';

/** RequestOptions are the parsed query options of one resource request. */
export interface RequestOptions {
  /** dryRun holds the `dryRun` values of the query (only `All` is valid). */
  dryRun: string[];
  /** fieldManager is `?fieldManager=` as sent (the request's manager is derived from it and the user agent). */
  fieldManager?: string;
  /** fieldValidation is `Strict`, `Warn`, `Ignore` or '' (checked where the options kind is known). */
  fieldValidation: string;
  /** force is apply's `?force=`; `forceSet` says whether it was sent at all. */
  force: boolean;
  forceSet: boolean;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  labelSelector: string;
  fieldSelector: string;
  limit?: number;
  continue?: string;
  watch: boolean;
  timeoutSeconds?: number;
  allowWatchBookmarks: boolean;
  sendInitialEvents?: boolean;
  gracePeriodSeconds?: number | bigint;
  propagationPolicy?: string;
  orphanDependents?: boolean;
  includeObject: IncludeObject;
  /** timeout is the client's `?timeout=` for a short request, in milliseconds. */
  timeoutMs?: number;
}

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/**
 * codecInt reads an int64 parameter strictly, as strconv.ParseInt does (empty means unset): any
 * int64 is accepted, and one beyond JavaScript's safe integers (a `limit` of 2^62: "no limit"
 * in effect) is clamped to the largest safe one, which every limit, timeout and grace period
 * here treats the same.
 */
export function codecInt(name: string, v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n < int64Min || n > int64Max) {
    throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}: strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  }
  return Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Number(n)));
}

/**
 * codecInt64 reads an int64 parameter as codecInt does, but keeps its value exact: a BigInt beyond
 * 2^53, for a value that is stored (a grace period becomes deletionGracePeriodSeconds).
 */
export function codecInt64(name: string, v: string | null): number | bigint | undefined {
  const clamped = codecInt(name, v);
  if (clamped === undefined || Number.isSafeInteger(Number(v))) return clamped;
  return BigInt(v!);
}

const durationUnits: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** parseGoDuration reads Go's time.ParseDuration syntax (`60s`, `1m30s`, `500ms`) into milliseconds. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * durationUnits[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== text.length) return undefined;
  return total;
}

function includeObjectOf(v: string | null): IncludeObject {
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Object' || v === 'Metadata') return v;
  throw badRequest(`includeObject must be one of "None", "Metadata", "Object"`);
}

const listVerbs = new Set(['list', 'watch', 'deletecollection']);
const deleteVerbs = new Set(['delete', 'deletecollection']);

/**
 * parseRequestOptions decodes a resource request's query once. Like the parameter codec, it
 * decodes only the options the verb's options kind has (a `limit` on a create is ignored, as
 * kube-apiserver ignores it), booleans accept anything but false/0 as true, integers are strict,
 * and a bad value is a 400.
 */
export function parseRequestOptions(info: Pick<RequestInfo, 'verb'>, q: URLSearchParams): RequestOptions {
  const verb = info.verb;
  const listing = listVerbs.has(verb);
  const opts: RequestOptions = {
    dryRun: q.getAll('dryRun'),
    fieldManager: q.get('fieldManager') ?? undefined,
    fieldValidation: q.get('fieldValidation') ?? '',
    force: codecBool(q.get('force')) ?? false,
    forceSet: q.has('force'),
    resourceVersion: q.get('resourceVersion') ?? undefined,
    resourceVersionMatch: q.get('resourceVersionMatch') || undefined,
    labelSelector: q.get('labelSelector') ?? '',
    fieldSelector: q.get('fieldSelector') ?? '',
    continue: q.get('continue') || undefined,
    watch: codecBool(q.get('watch')) ?? false,
    allowWatchBookmarks: codecBool(q.get('allowWatchBookmarks')) ?? false,
    sendInitialEvents: codecBool(q.get('sendInitialEvents')),
    propagationPolicy: q.get('propagationPolicy') || undefined,
    orphanDependents: codecBool(q.get('orphanDependents')),
    includeObject: includeObjectOf(q.get('includeObject')),
  };
  if (listing) {
    const limit = codecInt('limit', q.get('limit'));
    if (limit !== undefined && limit > 0) opts.limit = limit;
    const timeoutSeconds = codecInt('timeoutSeconds', q.get('timeoutSeconds'));
    if (timeoutSeconds !== undefined) {
      if (timeoutSeconds < 0) throw badRequest(`invalid value for timeoutSeconds: ${JSON.stringify(q.get('timeoutSeconds'))}`);
      opts.timeoutSeconds = timeoutSeconds;
    }
  }
  if (deleteVerbs.has(verb)) opts.gracePeriodSeconds = codecInt64('gracePeriodSeconds', q.get('gracePeriodSeconds'));
  const timeout = q.get('timeout');
  if (timeout !== null && timeout !== '') {
    const ms = parseGoDuration(timeout);
    if (ms === undefined) throw badRequest(`invalid timeout specified in the request URL`);
    opts.timeoutMs = ms;
  }
  return opts;
}

/** isDryRun checks the dryRun values of the query and of a body's options: only `All` exists. */
export function isDryRun(opts: RequestOptions, bodyValues: string[] = []): boolean {
  const values = [...opts.dryRun, ...bodyValues];
  for (const v of values) {
    if (v !== 'All') {
      throw invalid({ group: 'meta.k8s.io', kind: 'CreateOptions' }, '', [
        { type: 'FieldValueNotSupported', field: 'dryRun', value: values, detail: 'supported values: "All"' },
      ]);
    }
  }
  return values.length > 0;
}

/**
 * watchStart is the resourceVersion a watch asks the store for, or undefined for "the current
 * state first, then changes":
 *  - sendInitialEvents=true (with allowWatchBookmarks and resourceVersionMatch=NotOlderThan):
 *    the current state, ended by an initial-events-end bookmark;
 *  - sendInitialEvents=false with no resourceVersion or "0": changes from now on, no state;
 *  - resourceVersion "0" or none: the current state, then changes;
 *  - any other resourceVersion: changes after it.
 */
export function watchStart(opts: RequestOptions, currentRevision: () => number): string | undefined {
  const rv = opts.resourceVersion || undefined;
  if (opts.sendInitialEvents === true) {
    if (!opts.allowWatchBookmarks) throw badRequest('sendInitialEvents requires setting allowWatchBookmarks=true');
    if (opts.resourceVersionMatch !== 'NotOlderThan') throw badRequest('sendInitialEvents requires setting resourceVersionMatch=NotOlderThan');
    return undefined;
  }
  if (rv === undefined || rv === anyResourceVersion) return opts.sendInitialEvents === false ? String(currentRevision()) : undefined;
  return rv;
}
