// metadata.managedFields in and out: each entry is one manager's field set, identified by who
// wrote (manager), how (Apply or Update), at which version (Update only) and through which
// subresource, as k8s.io/apimachinery's managedfields package keys and encodes them.

import { goQuote } from '../../lib/machinery/goquote.js';
import { FieldSet, fromFieldsV1, isObject, toFieldsV1, type Json, type JsonObject } from './fieldpath.js';

export const Operation = { Apply: 'Apply', Update: 'Update' } as const;
export type Operation = (typeof Operation)[keyof typeof Operation];

/** ManagedFieldsEntry is metav1.ManagedFieldsEntry as it appears in an object. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: JsonObject;
  subresource?: string;
}

/** VersionedSet is one manager's fields, the version they were recorded at, and whether they were applied. */
export interface VersionedSet {
  set: FieldSet;
  apiVersion: string;
  applied: boolean;
}

/**
 * Managed is the decoded managedFields: the field sets by manager identifier, and each manager's
 * time. Identifiers are what BuildManagerIdentifier makes: the entry without its fields and time,
 * and (for appliers) without its apiVersion, as JSON.
 */
export class Managed {
  constructor(
    readonly fields = new Map<string, VersionedSet>(),
    readonly times = new Map<string, string | undefined>(),
  ) {}

  clone(): Managed {
    const f = new Map<string, VersionedSet>();
    for (const [k, v] of this.fields) f.set(k, { ...v, set: v.set.clone() });
    return new Managed(f, new Map(this.times));
  }
}

/** ManagerInfo is what identifies a manager. */
export interface ManagerInfo {
  manager: string;
  operation: Operation;
  apiVersion?: string;
  subresource?: string;
}

/** managerIdentifier is the key of a manager in Managed (apiVersion left out for appliers). */
export function managerIdentifier(m: ManagerInfo): string {
  const o: Record<string, string> = {};
  if (m.manager) o.manager = m.manager;
  if (m.operation) o.operation = m.operation;
  if (m.apiVersion && m.operation !== Operation.Apply) o.apiVersion = m.apiVersion;
  if (m.subresource) o.subresource = m.subresource;
  return JSON.stringify(o);
}

/** parseIdentifier reads a manager identifier back. */
export function parseIdentifier(id: string): ManagerInfo {
  try {
    const o = JSON.parse(id) as Partial<ManagerInfo>;
    return { manager: o.manager ?? '', operation: (o.operation as Operation) ?? Operation.Update, apiVersion: o.apiVersion, subresource: o.subresource };
  } catch {
    return { manager: id, operation: Operation.Update };
  }
}

/** printManager is how conflict messages name a manager: `"kubectl" with subresource "scale" using apps/v1`. */
export function printManager(id: string): string {
  const m = parseIdentifier(id);
  let s = goQuote(m.manager);
  if (m.subresource) s = `${s} with subresource ${goQuote(m.subresource)}`;
  if (m.operation === Operation.Update) s = `${s} using ${m.apiVersion ?? ''}`;
  return s;
}

/** ManagedFieldsError: entries that cannot be decoded. */
export class ManagedFieldsError extends Error {
  override readonly name = 'ManagedFieldsError';
}

/** decodeManagedFields reads metadata.managedFields; it throws ManagedFieldsError for entries Kubernetes would not accept. */
export function decodeManagedFields(entries: unknown): Managed {
  const managed = new Managed();
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) throw new ManagedFieldsError('managedFields must be a list');
  entries.forEach((raw, i) => {
    if (!isObject(raw as Json)) throw new ManagedFieldsError(`managed fields entry ${i} is not an object`);
    const e = raw as ManagedFieldsEntry;
    if (e.operation !== Operation.Apply && e.operation !== Operation.Update) throw new ManagedFieldsError('operation must be `Apply` or `Update`');
    if (!e.apiVersion) throw new ManagedFieldsError('apiVersion must not be empty');
    if (!e.fieldsType) throw new ManagedFieldsError(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new ManagedFieldsError(`invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`);
    const id = managerIdentifier({ manager: e.manager ?? '', operation: e.operation, apiVersion: e.apiVersion, subresource: e.subresource });
    let set: FieldSet;
    try {
      set = e.fieldsV1 === undefined || e.fieldsV1 === null ? new FieldSet() : fromFieldsV1(e.fieldsV1);
    } catch (err) {
      throw new ManagedFieldsError(`error decoding versioned set: ${(err as Error).message}`);
    }
    managed.fields.set(id, { set, apiVersion: e.apiVersion, applied: e.operation === Operation.Apply });
    managed.times.set(id, e.time);
  });
  return managed;
}

/** encodeManagedFields writes Managed as metadata.managedFields, sorted as Kubernetes sorts them; undefined when there are none. */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] | undefined {
  if (!managed.fields.size) return undefined;
  const out: ManagedFieldsEntry[] = [];
  for (const [id, vs] of managed.fields) {
    const info = parseIdentifier(id);
    // Field order of metav1.ManagedFieldsEntry, so the JSON reads as kube-apiserver writes it.
    const e: ManagedFieldsEntry = {};
    if (info.manager) e.manager = info.manager;
    e.operation = vs.applied ? Operation.Apply : info.operation;
    e.apiVersion = vs.apiVersion;
    const time = managed.times.get(id);
    if (time) e.time = time;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = toFieldsV1(vs.set);
    if (info.subresource) e.subresource = info.subresource;
    out.push(e);
  }
  return out.sort(compareEntries);
}

function seconds(t: string | undefined): number {
  if (!t) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function cmp(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** compareEntries: by operation (Apply first), time, manager, apiVersion, subresource. */
function compareEntries(p: ManagedFieldsEntry, q: ManagedFieldsEntry): number {
  return (
    cmp(p.operation ?? '', q.operation ?? '') ||
    seconds(p.time) - seconds(q.time) ||
    cmp(p.manager ?? '', q.manager ?? '') ||
    cmp(p.apiVersion ?? '', q.apiVersion ?? '') ||
    cmp(p.subresource ?? '', q.subresource ?? '')
  );
}

/** isResetManagedFields: a request that sets managedFields to `[]` or `[{}]` asks to clear them. */
export function isResetManagedFields(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  return entries.length === 1 && isObject(entries[0] as Json) && Object.keys(entries[0] as object).length === 0;
}
