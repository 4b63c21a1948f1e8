// EtcdStorage implements Storage over etcd v3 (package etcd3, raw KV RPCs so every answer carries
// its header revision). Writes are transactions that compare the key's mod revision, so a write
// based on a stale read never lands (DESIGN.md storage contract).

import {
  ClientClosedError,
  Etcd3,
  EtcdError,
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCOutOfRangeError,
  GRPCResourceExhastedError,
  GRPCUnavailableError,
  castGrpcError,
  isRecoverableError,
  type ICompare,
  type IKeyValue,
  type IRangeResponse,
  type IRequestOp,
  type ITxnResponse,
  type IWatchResponse,
  type Watcher,
} from 'etcd3';
import { BrokenCircuitError, ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, isBrokenCircuitError, retry } from 'cockatiel';
import type { KubeObject } from '../../lib/api/meta.js';
import type { Logger } from '../../lib/log.js';
import {
  CompactedError,
  ConflictError,
  KeyExistsError,
  KeyNotFoundError,
  StorageUnavailableError,
  WatchTooLargeError,
  type ListOptions,
  type ListResult,
  type Preconditions,
  type Storage,
  type StorageWatch,
  type StoreEvent,
  type TryUpdate,
  type WatchSink,
} from './interface.js';
import { checkPreconditions, sameContent } from './objects.js';
import { parseJSON, stringifyJSON } from '../../lib/machinery/json.js';
import { TransformError } from './encryption.js';

/** holds says whether the preconditions hold on state (checkPreconditions without the throw). */
function holds(state: KubeObject, pre?: Preconditions): boolean {
  if (!pre) return true;
  if (pre.uid && state.metadata.uid !== pre.uid) return false;
  return !pre.resourceVersion || state.metadata.resourceVersion === pre.resourceVersion;
}

/** requestTimeoutMs bounds every etcd call, so a dead etcd turns into 504s, not hung requests. */
const requestTimeoutMs = 5_000;

/**
 * maxReceiveBytes is the largest answer the client accepts: what etcd 3.4 may send (its gRPC
 * server's send limit is math.MaxInt32, as etcd's own Go client's receive limit is). gRPC's
 * default, 4 MiB, is smaller than one page of ordinary objects or one watch backlog.
 */
export const maxReceiveBytes = 2 ** 31 - 1;

/**
 * listPageSize is how many keys one range reads when a caller wants every item. etcd refuses a
 * value over --max-request-bytes (1.5 MiB by default), so a page stays far below maxReceiveBytes;
 * kube-apiserver's watch cache lists in pages the same way.
 */
export const listPageSize = 1000;

/** prefixEnd is the range end that selects every key starting with prefix. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i]++;
      return end;
    }
  }
  return Buffer.from([0]);
}

/**
 * decodeKV turns a stored value into the object with resourceVersion = its mod revision, through
 * the transformer (encryption at rest) when there is one.
 */
export function decodeKV(kv: IKeyValue, transformer?: StorageTransformer): KubeObject {
  const value = transformer ? transformer.fromStorage(kv.value, kv.key.toString('utf8')) : kv.value;
  const obj = parseJSON(value.toString('utf8')) as KubeObject;
  obj.metadata = obj.metadata ?? {};
  obj.metadata.resourceVersion = kv.mod_revision;
  return obj;
}

/** encodeObject stores the object without its resourceVersion (the revision is the version). */
export function encodeObject(obj: KubeObject): Buffer {
  const { resourceVersion: _rv, ...meta } = obj.metadata ?? {};
  return Buffer.from(stringifyJSON({ ...obj, metadata: meta }));
}

/**
 * transient says whether a failed call is worth retrying and counts against etcd's health: the
 * etcd3 library's recoverable errors, except an answer too large for the client, which comes back
 * the same on every try (it must neither be retried nor open the circuit breaker).
 */
function transient(err: Error): boolean {
  return isRecoverableError(err) && !(err instanceof GRPCResourceExhastedError);
}

/**
 * translate turns an etcd3 error into a storage error by its class (the etcd3 library's typed
 * gRPC errors, cockatiel's open breaker); anything else passes through.
 */
function translate(err: unknown): Error {
  if (err instanceof KeyNotFoundError || err instanceof KeyExistsError || err instanceof ConflictError || err instanceof CompactedError) return err;
  if (err instanceof StorageUnavailableError) return err;
  const e = err instanceof Error ? castGrpcError(err) : new Error(String(err));
  if (e instanceof GRPCDeadlineExceededError) return new StorageUnavailableError(`etcd request timed out: ${e.message}`, true, { cause: e });
  if (e instanceof GRPCUnavailableError || e instanceof BrokenCircuitError || e instanceof ClientClosedError || e instanceof GRPCCancelledError) {
    return new StorageUnavailableError(`etcd unavailable: ${e.message}`, false, { cause: e });
  }
  return e;
}

/** StorageTransformer turns a value into its stored form and back (encryption at rest); key is the etcd key. */
export interface StorageTransformer {
  toStorage(data: Buffer, key: string): Buffer;
  fromStorage(data: Buffer, key: string): Buffer;
}

/** EtcdTLS is PEM text: etcd's CA, and the client certificate and key etcd asks for. */
export interface EtcdTLS {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export interface EtcdStorageOptions {
  endpoints: string[];
  /** tls authenticates to an etcd that serves https and asks for a client certificate. */
  tls?: EtcdTLS;
  /** transformer encrypts values before they are written and decrypts them when read. */
  transformer?: StorageTransformer;
  /** maxReceiveBytes overrides the client's receive limit (tests shrink it to provoke large answers). */
  maxReceiveBytes?: number;
  /** log receives what the storage's watches go through (disconnects, resumes). */
  log?: Logger;
}

export class EtcdStorage implements Storage {
  private readonly client: Etcd3;
  lastWriteRevision = 0;
  private readonly log?: Logger;
  private readonly transformer?: StorageTransformer;

  constructor(opts: EtcdStorageOptions) {
    this.log = opts.log;
    this.transformer = opts.transformer;
    this.client = new Etcd3({
      hosts: opts.endpoints,
      credentials: opts.tls ? { rootCertificate: opts.tls.ca, certChain: opts.tls.cert, privateKey: opts.tls.key } : undefined,
      dialTimeout: 3_000,
      grpcOptions: { 'grpc.max_receive_message_length': opts.maxReceiveBytes ?? maxReceiveBytes },
      // A breaker per member that opens after three failures in a row (the library's default),
      // minus the errors that are not etcd's ill health. While an etcd cluster elects a new
      // leader (a member killed) every member fails for a second or two: a call is then tried
      // again with back-off (about 3.5 s in all) and a broken circuit is tried again after 1 s,
      // so a request waits out the election instead of answering 503, as kube-apiserver's
      // requests wait for etcd's new leader.
      faultHandling: {
        host: () => circuitBreaker(handleWhen(transient), { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(3) }),
        global: retry(handleWhen((e) => transient(e) || isBrokenCircuitError(e)), {
          maxAttempts: 5,
          backoff: new ExponentialBackoff({ initialDelay: 250, maxDelay: 2_000 }),
        }),
      },
    });
  }

  private encode(key: string, obj: KubeObject): Buffer {
    const data = encodeObject(obj);
    return this.transformer ? this.transformer.toStorage(data, key) : data;
  }

  private decode(kv: IKeyValue): KubeObject {
    return decodeKV(kv, this.transformer);
  }

  private callOpts() {
    return { deadline: Date.now() + requestTimeoutMs };
  }

  private async range(req: Parameters<Etcd3['kv']['range']>[0]): Promise<IRangeResponse> {
    try {
      return await this.client.kv.range(req, this.callOpts());
    } catch (err) {
      const e = err instanceof Error ? castGrpcError(err) : err;
      // etcd answers OutOfRange for a revision it no longer has (or does not have yet).
      if (e instanceof GRPCOutOfRangeError && req.revision && Number(req.revision) > 0) {
        const current = await this.currentRevision().catch(() => Infinity);
        if (Number(req.revision) <= current) throw new CompactedError(Number(req.revision), 0);
      }
      throw translate(e);
    }
  }

  private async txn(compare: ICompare[], success: IRequestOp[], failure: IRequestOp[] = []): Promise<ITxnResponse> {
    try {
      const res = await this.client.kv.txn({ compare, success, failure }, this.callOpts());
      if (res.succeeded) this.lastWriteRevision = Math.max(this.lastWriteRevision, Number(res.header.revision));
      return res;
    } catch (err) {
      throw translate(err);
    }
  }

  private async getKV(key: string): Promise<IKeyValue | undefined> {
    const res = await this.range({ key: Buffer.from(key) });
    return res.kvs[0];
  }

  async create(key: string, obj: KubeObject): Promise<KubeObject> {
    const k = Buffer.from(key);
    const value = this.encode(key, obj);
    const res = await this.txn([{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }], [{ request_put: { key: k, value } }]);
    if (!res.succeeded) throw new KeyExistsError(key);
    // The caller's object is its own copy: hand it back with its new version, no re-parse.
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: res.header.revision } };
  }

  async get(key: string): Promise<KubeObject | undefined> {
    const kv = await this.getKV(key);
    return kv ? this.decode(kv) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    if (limit) return this.listPage(prefix, opts.startKey ?? prefix, opts.revision || 0, limit);
    // Every item: read in pages at the revision of the first, so no one answer is unbounded.
    const items: KubeObject[] = [];
    const keys: string[] = [];
    let revision = opts.revision || 0;
    let startKey = opts.startKey ?? prefix;
    for (;;) {
      const page = await this.listPage(prefix, startKey, revision, listPageSize);
      revision = page.revision;
      for (const o of page.items) items.push(o);
      for (const k of page.keys) keys.push(k);
      if (!page.nextKey) return { items, keys, revision };
      startKey = page.nextKey;
    }
  }

  /**
   * listPage reads up to limit keys from startKey at revision (0 = latest). An answer larger than
   * the client accepts is read again in halves, so a page comes back shorter, never failed.
   */
  private async listPage(prefix: string, startKey: string, revision: number, limit: number): Promise<ListResult> {
    let res: IRangeResponse;
    for (;;) {
      try {
        res = await this.range({ key: Buffer.from(startKey), range_end: prefixEnd(prefix), revision, limit: limit + 1 });
        break;
      } catch (err) {
        if (err instanceof GRPCResourceExhastedError && limit > 1) {
          limit = Math.floor(limit / 2);
          continue;
        }
        throw err;
      }
    }
    const kvs = res.kvs;
    const more = kvs.length > limit;
    const page = more ? kvs.slice(0, limit) : kvs;
    const items: KubeObject[] = [];
    const keys: string[] = [];
    for (const kv of page) {
      const key = kv.key.toString('utf8');
      let obj: KubeObject;
      try {
        obj = this.decode(kv);
      } catch (err) {
        // A value no configured key decrypts (a key removed too early) must not make every list
        // of /registry/ fail, the watch cache's first among them: it is left out and named in the
        // log, and a get of it answers the error.
        if (!(err instanceof TransformError)) throw err;
        this.log?.error('Could not read a stored value; leaving it out of the list', { key, err });
        continue;
      }
      items.push(obj);
      keys.push(key);
    }
    const at = revision || Number(res.header.revision);
    if (!more) return { items, keys, revision: at };
    const nextKey = kvs[limit].key.toString('utf8');
    return { items, keys, revision: at, nextKey, remaining: Math.max(0, Number(res.count) - limit) };
  }

  async count(prefix: string): Promise<number> {
    const res = await this.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), count_only: true });
    return Number(res.count);
  }

  async guaranteedUpdate(key: string, tryUpdate: TryUpdate, preconditions?: Preconditions, cachedExisting?: KubeObject): Promise<KubeObject> {
    const k = Buffer.from(key);
    // A state from the caller saves the read; it is "current" only once etcd confirmed it.
    let state = cachedExisting ? { obj: cachedExisting, confirmed: false } : await this.readState(key);
    for (;;) {
      const current = state.obj;
      if (!state.confirmed && !holds(current, preconditions)) {
        state = await this.readState(key);
        continue;
      }
      checkPreconditions(key, current, preconditions);
      const next = await tryUpdate(current);
      if (next === null || sameContent(next, current)) {
        // Nothing to write: that is an answer only about the state etcd holds now.
        if (!state.confirmed) {
          state = await this.readState(key);
          continue;
        }
        return current;
      }
      const value = this.encode(key, next);
      const res = await this.txn(
        [{ key: k, target: 'Mod', result: 'Equal', mod_revision: current.metadata.resourceVersion! }],
        [{ request_put: { key: k, value } }],
        [{ request_range: { key: k } }],
      );
      if (res.succeeded) return { ...next, metadata: { ...next.metadata, resourceVersion: res.header.revision } };
      // Someone wrote in between (or the caller's state was stale): the failed transaction read
      // the key, so decide again from that state without another round trip. A resourceVersion
      // precondition now fails on it with the version it found.
      state = { obj: this.stateFromFailure(key, res), confirmed: true };
    }
  }

  async delete(key: string, preconditions?: Preconditions, cachedExisting?: KubeObject): Promise<KubeObject> {
    const k = Buffer.from(key);
    let state = cachedExisting ? { obj: cachedExisting, confirmed: false } : await this.readState(key);
    for (;;) {
      const current = state.obj;
      if (!state.confirmed && !holds(current, preconditions)) {
        state = await this.readState(key);
        continue;
      }
      checkPreconditions(key, current, preconditions);
      const res = await this.txn(
        [{ key: k, target: 'Mod', result: 'Equal', mod_revision: current.metadata.resourceVersion! }],
        [{ request_delete_range: { key: k } }],
        [{ request_range: { key: k } }],
      );
      if (res.succeeded) return { ...current, metadata: { ...current.metadata, resourceVersion: res.header.revision } };
      state = { obj: this.stateFromFailure(key, res), confirmed: true };
    }
  }

  /** readState reads the key from etcd: the confirmed current state, or KeyNotFoundError. */
  private async readState(key: string): Promise<{ obj: KubeObject; confirmed: boolean }> {
    const kv = await this.getKV(key);
    if (!kv) throw new KeyNotFoundError(key);
    return { obj: this.decode(kv), confirmed: true };
  }

  /** stateFromFailure is the key's state as the failed compare-and-swap's read found it. */
  private stateFromFailure(key: string, res: ITxnResponse): KubeObject {
    const kv = res.responses[0]?.response_range?.kvs[0];
    if (!kv) throw new KeyNotFoundError(key);
    return this.decode(kv);
  }

  async currentRevision(): Promise<number> {
    // A range over one key that never exists is the cheapest way to learn the store revision.
    const res = await this.range({ key: Buffer.from('/registry/.revision'), count_only: true });
    return Number(res.header.revision);
  }

  async watch(prefix: string, fromRevision: number, sink: WatchSink): Promise<StorageWatch> {
    const w = new EtcdWatch(this.client, prefix, fromRevision, sink, this.log, this.transformer);
    await w.started;
    return w;
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.client.kv.compact({ revision, physical: false }, this.callOpts());
    } catch (err) {
      // etcd answers OutOfRange both for a revision already compacted (then the work is done)
      // and for one it does not have yet (an error).
      if (castGrpcError(err as Error) instanceof GRPCOutOfRangeError && revision <= (await this.currentRevision())) return;
      throw translate(err);
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/**
 * EtcdWatch is one etcd watch behind the Storage interface. The etcd3 library reconnects a watch
 * stream after any error; on every reconnect the resume point is set from what the sink was
 * given (the library would resume from the last response header, which can skip events still in
 * flight when a second disconnect hits during catch-up). An answer too large for the client would
 * come back on every reconnect, so that one ends the watch instead.
 */
class EtcdWatch implements StorageWatch {
  readonly started: Promise<void>;
  private readonly watcher: Watcher;
  /** next is the first revision not yet delivered: where a reconnect resumes. */
  private next: number;
  private done = false;

  constructor(
    client: Etcd3,
    prefix: string,
    fromRevision: number,
    private readonly sink: WatchSink,
    log?: Logger,
    transformer?: StorageTransformer,
  ) {
    this.next = fromRevision;
    // Listeners go on before the watcher can connect (watcher(), not create()): no answer arrives unheard.
    const w = client.watch().prefix(prefix).withPreviousKV().startRevision(String(fromRevision)).watcher();
    this.watcher = w;
    const request = w.request as { start_revision?: string | number };
    w.on('data', (res: IWatchResponse) => {
      if (this.done) return;
      let events: StoreEvent[];
      try {
        events = res.events.map((e) => toStoreEvent(e, transformer));
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      const headerRev = Number(res.header.revision);
      const last = events.length ? events[events.length - 1]!.revision : headerRev;
      this.next = Math.max(this.next, last + 1);
      this.sink.onEvents(events, events.length ? last : headerRev);
    });
    w.on('disconnected', (err: Error) => {
      if (this.done) return;
      request.start_revision = String(this.next);
      if (castGrpcError(err) instanceof GRPCResourceExhastedError) {
        this.fail(new WatchTooLargeError(this.next, { cause: err }));
        return;
      }
      log?.warn('Watch of etcd disconnected; reconnecting', { prefix, resumeRevision: this.next, err });
    });
    w.on('connected', () => {
      request.start_revision = String(this.next);
    });
    this.started = new Promise<void>((resolve, reject) => {
      let connected = false;
      w.once('connected', () => {
        connected = true;
        resolve();
      });
      // An error means etcd canceled the watch: it is gone on both sides. Before the first
      // connect it fails the start; after, it ends the watch.
      w.on('error', (err: Error) => {
        if (connected) {
          this.fail(watchError(err, this.next));
          return;
        }
        this.done = true;
        reject(watchError(err, fromRevision));
      });
    });
  }

  private fail(err: Error): void {
    if (this.done) return;
    void this.cancel();
    this.sink.onError(err);
  }

  async cancel(): Promise<void> {
    this.done = true;
    const w = this.watcher;
    w.removeAllListeners();
    w.on('error', () => undefined);
    await w.cancel().catch(() => undefined);
  }
}

/**
 * watchError names why etcd canceled a watch. etcd 3.4 cancels a watch it accepted only when the
 * revision it needs was compacted (etcd3 reports the cancel as an EtcdError).
 */
function watchError(err: Error, revision: number): Error {
  if (err instanceof EtcdError) return new CompactedError(revision, 0);
  return translate(err);
}

/** toStoreEvent turns one etcd watch event into a StoreEvent (DELETED carries the last state, at the delete's revision). */
function toStoreEvent(e: IWatchResponse['events'][number], transformer?: StorageTransformer): StoreEvent {
  const key = e.kv.key.toString('utf8');
  const revision = Number(e.kv.mod_revision);
  if (e.type === 'Put') {
    const ev: StoreEvent = { type: Number(e.kv.version) === 1 ? 'ADDED' : 'MODIFIED', key, object: decodeKV(e.kv, transformer), revision };
    const prev = e.prev_kv;
    if (!prev) return ev;
    // The previous state is parsed only when someone reads it: the watch cache holds it already.
    let decoded: KubeObject | undefined;
    Object.defineProperty(ev, 'prevObject', { enumerable: true, get: () => (decoded ??= decodeKV(prev, transformer)) });
    return ev;
  }
  const prevObject = e.prev_kv ? decodeKV(e.prev_kv, transformer) : undefined;
  const last = prevObject ?? ({ metadata: {} } as KubeObject);
  return { type: 'DELETED', key, object: { ...last, metadata: { ...last.metadata, resourceVersion: String(revision) } }, prevObject, revision };
}
