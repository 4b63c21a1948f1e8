// Storage is the one interface between the registry and the store. Objects are JSON values;
// metadata.resourceVersion is the etcd mod revision of the key (DESIGN.md, storage contract).

import type { KubeObject } from '../../lib/api/meta.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** StoreEvent is one change to one key, in revision order. */
export interface StoreEvent {
  type: WatchEventType;
  key: string;
  /** object is the new state, or for DELETED the last state, with resourceVersion = the event's revision. */
  object: KubeObject;
  /** prevObject is the state before the change (MODIFIED and DELETED). */
  prevObject?: KubeObject;
  revision: number;
}

export interface ListOptions {
  /** revision reads at an older revision (consistent paging); 0 or unset = latest. */
  revision?: number;
  limit?: number;
  /** startKey continues a paged list from this key (inclusive). */
  startKey?: string;
}

export interface ListResult {
  items: KubeObject[];
  /** keys[i] is the storage key of items[i]. */
  keys: string[];
  /** revision the list is consistent at. */
  revision: number;
  /** nextKey is set when more keys remain (limit reached). */
  nextKey?: string;
  remaining?: number;
}

/** Preconditions for update/delete: the object's current resourceVersion and/or uid. */
export interface Preconditions {
  resourceVersion?: string;
  uid?: string;
}

/** TryUpdate computes the new object from the current one; return null to leave it unchanged. */
export type TryUpdate = (current: KubeObject) => KubeObject | null | Promise<KubeObject | null>;

export interface Storage {
  create(key: string, obj: KubeObject): Promise<KubeObject>;
  get(key: string): Promise<KubeObject | undefined>;
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** count returns how many keys have the prefix. */
  count(prefix: string): Promise<number>;
  /**
   * guaranteedUpdate reads the key, calls tryUpdate, and writes the result only if the key is still
   * at the revision it read (retrying on a race). A Conflict is thrown only when `preconditions`
   * name a resourceVersion or uid that does not match.
   */
  guaranteedUpdate(key: string, tryUpdate: TryUpdate, preconditions?: Preconditions): Promise<KubeObject>;
  /** delete removes the key if preconditions hold; returns the last state. */
  delete(key: string, preconditions?: Preconditions): Promise<KubeObject>;
  currentRevision(): Promise<number>;
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

/** KeyNotFoundError and the other storage errors are mapped to Status errors by the registry. */
export class KeyNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
    this.name = 'KeyNotFoundError';
  }
}

export class KeyExistsError extends Error {
  constructor(readonly key: string) {
    super(`key exists: ${key}`);
    this.name = 'KeyExistsError';
  }
}

export class ConflictError extends Error {
  constructor(
    readonly key: string,
    readonly reason: 'resourceVersion' | 'uid',
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`precondition failed for ${key}: ${reason} ${expected} != ${actual}`);
    this.name = 'ConflictError';
  }
}

export class CompactedError extends Error {
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`revision ${requested} has been compacted (compact revision ${compacted})`);
    this.name = 'CompactedError';
  }
}

/** StorageUnavailableError means etcd could not be reached or did not answer in time. */
export class StorageUnavailableError extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}
