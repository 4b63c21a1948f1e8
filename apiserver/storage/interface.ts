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
  /**
   * limit bounds the items of one answer; 0 or unset = every item (a backend still reads its own
   * store in bounded pages). A backend may answer fewer than limit items with nextKey set.
   */
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

/**
 * WatchSink receives one storage watch. Calls are synchronous, in revision order, and never
 * overlap; after onError nothing more is delivered.
 */
export interface WatchSink {
  /**
   * onEvents delivers the events of one or more whole revisions (possibly none: a progress
   * report), and the store revision the watch has now seen everything up to.
   */
  onEvents(events: StoreEvent[], revision: number): void;
  /**
   * onError ends the watch: CompactedError when the history it needs is gone,
   * WatchTooLargeError when the backend cannot carry the backlog in one answer, or another
   * error. The watcher re-lists and watches again from the listed revision.
   */
  onError(err: Error): void;
}

/** StorageWatch is a running storage watch. */
export interface StorageWatch {
  /** cancel stops the watch; the sink hears nothing more. */
  cancel(): Promise<void>;
}

/** TryUpdate computes the new object from the current one; return null to leave it unchanged. */
export type TryUpdate = (current: KubeObject) => KubeObject | null | Promise<KubeObject | null>;

export interface Storage {
  /** lastWriteRevision is the newest revision this process wrote (reads through a cache wait for it). */
  readonly lastWriteRevision: number;
  create(key: string, obj: KubeObject): Promise<KubeObject>;
  get(key: string): Promise<KubeObject | undefined>;
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** count returns how many keys have the prefix. */
  count(prefix: string): Promise<number>;
  /**
   * guaranteedUpdate reads the key, calls tryUpdate, and writes the result only if the key is still
   * at the revision it read (retrying on a race). A Conflict is thrown only when `preconditions`
   * name a resourceVersion or uid that does not match.
   *
   * cachedExisting is a state of the key the caller already holds (a copy it gives away, with
   * resourceVersion = its mod revision, e.g. from the watch cache): the backend may try the write
   * against it without reading the key first. tryUpdate may then see that state before the
   * current one; a precondition that fails on it, or a result that writes nothing, is decided
   * again on the current state, so the outcome is the same as without it (kube-apiserver's
   * cachedExistingObject).
   */
  guaranteedUpdate(key: string, tryUpdate: TryUpdate, preconditions?: Preconditions, cachedExisting?: KubeObject): Promise<KubeObject>;
  /**
   * delete removes the key if preconditions hold; returns the last state. cachedExisting is as for
   * guaranteedUpdate: with it, a delete of an unchanged key is one transaction, no read.
   */
  delete(key: string, preconditions?: Preconditions, cachedExisting?: KubeObject): Promise<KubeObject>;
  currentRevision(): Promise<number>;
  /**
   * watch delivers every change to keys under prefix from fromRevision (inclusive) on, and
   * resolves once the watch is established. When fromRevision is older than the store's history
   * the watch ends with CompactedError: the promise rejects, or (etcd tells it only after the
   * watch was created) sink.onError reports it. The backend resumes after its own disconnects
   * with no gap and no repeat; when it cannot, it ends the watch through sink.onError.
   */
  watch(prefix: string, fromRevision: number, sink: WatchSink): Promise<StorageWatch>;
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
    /** current is the state that failed the precondition, when the backend read it (a caller may decide again from it without reading). */
    readonly current?: KubeObject,
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

/**
 * WatchTooLargeError means a watch's backlog came in one answer larger than the client accepts:
 * resuming would fetch the same answer again, so the watch ends instead of looping.
 */
export class WatchTooLargeError extends Error {
  constructor(
    readonly revision: number,
    options?: { cause?: unknown },
  ) {
    super(`the watch answer from revision ${revision} is larger than the client accepts`, options);
    this.name = 'WatchTooLargeError';
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
