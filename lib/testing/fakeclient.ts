// FakeClient is a Client for unit tests (test-only): an in-memory object store that records
// every action, so a test can preload objects, run one reconcile, and assert the exact writes
// it made (sample-controller's fixture). It does not validate or default; it assigns uid,
// resourceVersion and creationTimestamp on create, honours resourceVersion on update, and
// generateName. `reactors` let a test make a verb fail.

import { ApiError, type Client, type DeleteCollectionOptions, type DeleteOptions, type ListOptions, type ObjectList, type PatchType, type ResourceType, type WriteOptions } from '../client/client.js';
import { matches, parseLabelSelector } from '../machinery/labels.js';

/** Action is one call a FakeClient received. */
export interface Action {
  verb: 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
  resource: string;
  subresource?: string;
  namespace: string;
  name: string;
  object?: unknown;
  patch?: unknown;
  patchType?: PatchType;
  options?: unknown;
}

/** Reactor may answer an action first: return an Error to fail it, undefined to let the store handle it. */
export type Reactor = (action: Action) => Error | undefined;

interface Meta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
}

/** FakeClient is an in-memory Client that records actions (for tests only). */
export class FakeClient implements Client {
  readonly actions: Action[] = [];
  readonly reactors: Reactor[] = [];
  private readonly objects = new Map<string, unknown>();
  private rv = 1000;
  private uidCounter = 0;

  /** add preloads objects without recording an action. */
  add(r: ResourceType, ...objs: unknown[]): this {
    for (const o of objs) {
      const c = structuredClone(o) as { metadata: Meta };
      c.metadata.resourceVersion ??= String(++this.rv);
      c.metadata.uid ??= `uid-${++this.uidCounter}`;
      this.objects.set(this.key(r, c.metadata.namespace ?? '', c.metadata.name ?? ''), c);
    }
    return this;
  }

  /** failOn makes every matching verb on resource (and subresource) fail with err. */
  failOn(verb: Action['verb'], resource: string, err: Error, subresource?: string): this {
    this.reactors.push((a) => (a.verb === verb && a.resource === resource && a.subresource === subresource ? err : undefined));
    return this;
  }

  /** stored returns the stored object (a copy), or undefined. */
  stored<T>(r: ResourceType, namespace: string, name: string): T | undefined {
    const o = this.objects.get(this.key(r, namespace, name));
    return o === undefined ? undefined : (structuredClone(o) as T);
  }

  /** writes are the actions that changed something (no get/list). */
  writes(): Action[] {
    return this.actions.filter((a) => a.verb !== 'get' && a.verb !== 'list');
  }

  /** clearActions forgets recorded actions (the store stays). */
  clearActions(): void {
    this.actions.length = 0;
  }

  async get<T>(r: ResourceType, namespace: string, name: string, subresource?: string): Promise<T> {
    this.record({ verb: 'get', resource: r.resource, subresource, namespace, name });
    const o = this.objects.get(this.key(r, namespace, name));
    if (o === undefined) throw notFound(r, name);
    return structuredClone(o) as T;
  }

  async list<T>(r: ResourceType, namespace = '', opts: ListOptions = {}): Promise<ObjectList<T>> {
    this.record({ verb: 'list', resource: r.resource, namespace, name: '', options: opts });
    const sel = opts.labelSelector ? parseLabelSelector(opts.labelSelector) : undefined;
    const prefix = `${r.group}/${r.resource}/`;
    const items: T[] = [];
    for (const [k, o] of this.objects) {
      if (!k.startsWith(prefix)) continue;
      const m = (o as { metadata: Meta & { labels?: Record<string, string> } }).metadata;
      if (namespace && m.namespace !== namespace) continue;
      if (sel && !matches(sel, m.labels)) continue;
      items.push(structuredClone(o) as T);
    }
    return { metadata: { resourceVersion: String(this.rv) }, items };
  }

  async create<T, R = T>(r: ResourceType, namespace: string, obj: T, opts: WriteOptions & { name?: string } = {}): Promise<R> {
    const c = structuredClone(obj) as { metadata?: Meta };
    const name = opts.subresource ? opts.name ?? '' : c.metadata?.name ?? c.metadata?.generateName ?? '';
    this.record({ verb: 'create', resource: r.resource, subresource: opts.subresource, namespace, name, object: structuredClone(obj) });
    if (opts.subresource) return structuredClone(obj) as unknown as R;
    c.metadata ??= {};
    if (!c.metadata.name && c.metadata.generateName) c.metadata.name = c.metadata.generateName + (++this.uidCounter).toString(36).padStart(5, '0');
    if (r.namespaced) c.metadata.namespace = namespace;
    const key = this.key(r, namespace, c.metadata.name ?? '');
    if (this.objects.has(key)) throw new ApiError({ code: 409, reason: 'AlreadyExists', message: `${r.resource} "${c.metadata.name}" already exists` });
    c.metadata.uid = `uid-${++this.uidCounter}`;
    c.metadata.resourceVersion = String(++this.rv);
    c.metadata.creationTimestamp ??= new Date().toISOString();
    this.objects.set(key, c);
    return structuredClone(c) as unknown as R;
  }

  async update<T>(r: ResourceType, obj: T, opts: WriteOptions = {}): Promise<T> {
    const c = structuredClone(obj) as { metadata: Meta };
    const namespace = c.metadata.namespace ?? '';
    const name = c.metadata.name ?? '';
    this.record({ verb: 'update', resource: r.resource, subresource: opts.subresource, namespace, name, object: structuredClone(obj) });
    const key = this.key(r, namespace, name);
    const old = this.objects.get(key) as { metadata: Meta } | undefined;
    if (!old) throw notFound(r, name);
    if (c.metadata.resourceVersion && c.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw new ApiError({ code: 409, reason: 'Conflict', message: `Operation cannot be fulfilled on ${r.resource} "${name}": the object has been modified; please apply your changes to the latest version and try again` });
    }
    c.metadata.uid = old.metadata.uid;
    c.metadata.resourceVersion = String(++this.rv);
    this.objects.set(key, c);
    return structuredClone(c) as unknown as T;
  }

  async patch<T>(r: ResourceType, namespace: string, name: string, type: PatchType, patch: unknown, opts: WriteOptions = {}): Promise<T> {
    this.record({ verb: 'patch', resource: r.resource, subresource: opts.subresource, namespace, name, patch: structuredClone(patch), patchType: type });
    const key = this.key(r, namespace, name);
    const old = this.objects.get(key);
    if (old === undefined) throw notFound(r, name);
    // Merge semantics are enough for a fake: tests assert the patch sent, not the merge.
    const merged = type === 'merge' || type === 'strategic' || type === 'apply' ? mergePatch(old, patch) : old;
    (merged as { metadata: Meta }).metadata.resourceVersion = String(++this.rv);
    this.objects.set(key, merged);
    return structuredClone(merged) as T;
  }

  async delete<T = unknown>(r: ResourceType, namespace: string, name: string, opts: DeleteOptions = {}): Promise<T | undefined> {
    this.record({ verb: 'delete', resource: r.resource, namespace, name, options: opts });
    const key = this.key(r, namespace, name);
    const old = this.objects.get(key) as { metadata: Meta } | undefined;
    if (!old) throw notFound(r, name);
    if (opts.preconditions?.uid && opts.preconditions.uid !== old.metadata.uid) {
      throw new ApiError({ code: 409, reason: 'Conflict', message: `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${old.metadata.uid}` });
    }
    return this.remove(key, old);
  }

  async deleteCollection(r: ResourceType, namespace: string, opts: DeleteCollectionOptions = {}): Promise<void> {
    this.record({ verb: 'deletecollection', resource: r.resource, namespace, name: '', options: opts });
    const sel = opts.labelSelector ? parseLabelSelector(opts.labelSelector) : undefined;
    const prefix = `${r.group}/${r.resource}/`;
    for (const [k, o] of [...this.objects]) {
      if (!k.startsWith(prefix)) continue;
      const m = (o as { metadata: Meta & { labels?: Record<string, string> } }).metadata;
      if (namespace && m.namespace !== namespace) continue;
      if (sel && !matches(sel, m.labels)) continue;
      this.remove(k, o as { metadata: Meta });
    }
  }

  /** remove deletes a stored object, or, while it has finalizers, only marks it with a deletionTimestamp (as the apiserver does). */
  private remove(key: string, old: { metadata: Meta }): undefined {
    if ((old.metadata.finalizers ?? []).length) {
      if (!old.metadata.deletionTimestamp) {
        old.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        old.metadata.resourceVersion = String(++this.rv);
      }
      return undefined;
    }
    this.objects.delete(key);
    return undefined;
  }

  /** paths answers getPath (discovery documents); a missing path is a 404. */
  readonly paths = new Map<string, unknown>();

  async getPath<T>(path: string): Promise<T> {
    const v = this.paths.get(path);
    if (v === undefined) throw new ApiError({ code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' });
    return structuredClone(v) as T;
  }

  private record(a: Action): void {
    this.actions.push(a);
    for (const react of this.reactors) {
      const err = react(a);
      if (err) throw err;
    }
  }

  private key(r: ResourceType, namespace: string, name: string): string {
    return `${r.group}/${r.resource}/${r.namespaced ? namespace : ''}/${name}`;
  }
}

function notFound(r: ResourceType, name: string): ApiError {
  const kind = r.group ? `${r.resource}.${r.group}` : r.resource;
  return new ApiError({ code: 404, reason: 'NotFound', message: `${kind} "${name}" not found`, details: { name, kind: r.resource } });
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? structuredClone(target as Record<string, unknown>) : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
