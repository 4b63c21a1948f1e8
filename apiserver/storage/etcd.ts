// EtcdStorage implements Storage over etcd v3 (package etcd3, raw KV RPCs so every answer carries
// its header revision). Writes are transactions that compare the key's mod revision, so a write
// based on a stale read never lands (DESIGN.md storage contract).

import { Etcd3, type IKeyValue, type IRangeResponse, type ITxnResponse, type ICompare, type IRequestOp } from 'etcd3';
import type { KubeObject } from '../../lib/api/meta.js';
import { canonicalJSON } from '../../lib/machinery/canonical.js';
import {
  CompactedError,
  ConflictError,
  KeyExistsError,
  KeyNotFoundError,
  StorageUnavailableError,
  type ListOptions,
  type ListResult,
  type Preconditions,
  type Storage,
  type TryUpdate,
} from './interface.js';

/** requestTimeoutMs bounds every etcd call, so a dead etcd turns into 504s, not hung requests. */
const requestTimeoutMs = 5_000;

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

/** decodeKV turns a stored value into the object with resourceVersion = its mod revision. */
export function decodeKV(kv: IKeyValue): KubeObject {
  const obj = JSON.parse(kv.value.toString('utf8')) as KubeObject;
  obj.metadata = obj.metadata ?? {};
  obj.metadata.resourceVersion = kv.mod_revision;
  return obj;
}

function stripRV(obj: KubeObject): KubeObject {
  const { resourceVersion: _rv, ...meta } = obj.metadata ?? {};
  return { ...obj, metadata: meta };
}

/** encodeObject stores the object without its resourceVersion (the revision is the version). */
export function encodeObject(obj: KubeObject): Buffer {
  const { resourceVersion: _rv, ...meta } = obj.metadata ?? {};
  return Buffer.from(JSON.stringify({ ...obj, metadata: meta }));
}

function translate(err: unknown): Error {
  if (err instanceof KeyNotFoundError || err instanceof KeyExistsError || err instanceof ConflictError || err instanceof CompactedError) return err;
  const e = err as { message?: string; name?: string };
  const msg = String(e?.message ?? err);
  const compacted = /required revision has been compacted/.exec(msg);
  if (compacted) return new CompactedError(0, 0);
  if (/DEADLINE_EXCEEDED|Deadline exceeded|deadline/i.test(msg)) return new StorageUnavailableError(`etcd request timed out: ${msg}`, true, { cause: err });
  if (/UNAVAILABLE|ECONNREFUSED|circuit|No connection|Breaker|connect|closed/i.test(msg) || /Broken|Unavailable|ClientClosed/.test(e?.name ?? '')) {
    return new StorageUnavailableError(`etcd unavailable: ${msg}`, false, { cause: err });
  }
  return err instanceof Error ? err : new Error(msg);
}

export interface EtcdStorageOptions {
  endpoints: string[];
}

export class EtcdStorage implements Storage {
  readonly client: Etcd3;
  /** lastWriteRevision is the newest revision this process wrote: reads through the cache wait for it. */
  lastWriteRevision = 0;

  constructor(opts: EtcdStorageOptions) {
    this.client = new Etcd3({ hosts: opts.endpoints, dialTimeout: 3_000 });
  }

  private callOpts() {
    return { deadline: Date.now() + requestTimeoutMs };
  }

  private async range(req: Parameters<Etcd3['kv']['range']>[0]): Promise<IRangeResponse> {
    try {
      return await this.client.kv.range(req, this.callOpts());
    } catch (err) {
      throw translate(err);
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
    const value = encodeObject(obj);
    const res = await this.txn([{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }], [{ request_put: { key: k, value } }]);
    if (!res.succeeded) throw new KeyExistsError(key);
    // The caller's object is its own copy: hand it back with its new version, no re-parse.
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: res.header.revision } };
  }

  async get(key: string): Promise<KubeObject | undefined> {
    const kv = await this.getKV(key);
    return kv ? decodeKV(kv) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const start = opts.startKey ?? prefix;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    let res: IRangeResponse;
    try {
      res = await this.range({
        key: Buffer.from(start),
        range_end: prefixEnd(prefix),
        revision: opts.revision || 0,
        limit: limit ? limit + 1 : 0,
      });
    } catch (err) {
      if (err instanceof CompactedError) throw new CompactedError(opts.revision ?? 0, 0);
      throw err;
    }
    const kvs = res.kvs;
    const more = limit > 0 && kvs.length > limit;
    const page = more ? kvs.slice(0, limit) : kvs;
    const items = page.map(decodeKV);
    const keys = page.map((kv) => kv.key.toString('utf8'));
    const revision = opts.revision || Number(res.header.revision);
    if (!more) return { items, keys, revision };
    const nextKey = kvs[limit].key.toString('utf8');
    return { items, keys, revision, nextKey, remaining: Math.max(0, Number(res.count) - limit) };
  }

  async count(prefix: string): Promise<number> {
    const res = await this.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), count_only: true });
    return Number(res.count);
  }

  async guaranteedUpdate(key: string, tryUpdate: TryUpdate, preconditions?: Preconditions): Promise<KubeObject> {
    const k = Buffer.from(key);
    for (;;) {
      const kv = await this.getKV(key);
      if (!kv) throw new KeyNotFoundError(key);
      const current = decodeKV(kv);
      checkPreconditions(key, current, preconditions);
      const next = await tryUpdate(current);
      if (next === null) return current;
      if (canonicalJSON(stripRV(next)) === canonicalJSON(stripRV(current))) return current;
      const value = encodeObject(next);
      const res = await this.txn([{ key: k, target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision }], [{ request_put: { key: k, value } }]);
      if (!res.succeeded) {
        // Someone wrote in between. With a resourceVersion precondition that is a conflict the
        // client must see; otherwise recompute from the fresh state.
        if (preconditions?.resourceVersion) {
          throw new ConflictError(key, 'resourceVersion', preconditions.resourceVersion, 'newer');
        }
        continue;
      }
      return { ...next, metadata: { ...next.metadata, resourceVersion: res.header.revision } };
    }
  }

  async delete(key: string, preconditions?: Preconditions): Promise<KubeObject> {
    const k = Buffer.from(key);
    for (;;) {
      const kv = await this.getKV(key);
      if (!kv) throw new KeyNotFoundError(key);
      const current = decodeKV(kv);
      checkPreconditions(key, current, preconditions);
      const res = await this.txn([{ key: k, target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision }], [{ request_delete_range: { key: k } }]);
      if (res.succeeded) {
        current.metadata.resourceVersion = res.header.revision;
        return current;
      }
      if (preconditions?.resourceVersion) throw new ConflictError(key, 'resourceVersion', preconditions.resourceVersion, 'newer');
    }
  }

  async currentRevision(): Promise<number> {
    // A range over one key that never exists is the cheapest way to learn the store revision.
    const res = await this.range({ key: Buffer.from('/registry/.revision'), count_only: true });
    return Number(res.header.revision);
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.client.kv.compact({ revision, physical: false }, this.callOpts());
    } catch (err) {
      const t = translate(err);
      if (t instanceof CompactedError) return;
      throw t;
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

function checkPreconditions(key: string, current: KubeObject, pre?: Preconditions): void {
  if (!pre) return;
  if (pre.uid && current.metadata.uid !== pre.uid) throw new ConflictError(key, 'uid', pre.uid, String(current.metadata.uid));
  if (pre.resourceVersion && current.metadata.resourceVersion !== pre.resourceVersion) {
    throw new ConflictError(key, 'resourceVersion', pre.resourceVersion, String(current.metadata.resourceVersion));
  }
}
