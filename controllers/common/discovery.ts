// Discovery for controllers that work over every served resource, custom resources included
// (the garbage collector, the namespace controller): client-go's ServerGroupsAndResources and
// ServerPreferredResources over `/api`, `/apis` and each group version's APIResourceList, a
// kind → resource mapper (the RESTMapper's part they need), and a refresher that discovers again
// periodically and whenever a CustomResourceDefinition changes, so a new CRD's objects are covered.

import type { Client, ResourceType } from '../../lib/client/client.js';
import type { ApiObject, SharedInformer } from '../../lib/controller/informer.js';
import type { Logger } from '../../lib/log.js';

/** APIResource is metav1.APIResource as served in an APIResourceList. */
export interface APIResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

/** APIResourceList is metav1.APIResourceList (`/api/v1`, `/apis/<group>/<version>`). */
export interface APIResourceList {
  kind?: string;
  apiVersion?: string;
  groupVersion: string;
  resources: APIResource[];
}

interface APIVersions {
  versions?: string[];
}

interface APIGroupList {
  groups?: Array<{
    name: string;
    versions?: Array<{ groupVersion: string; version: string }>;
    preferredVersion?: { groupVersion: string; version: string };
  }>;
}

/** DiscoveredResource is one served resource (never a subresource) with its verbs. */
export interface DiscoveredResource extends ResourceType {
  verbs: readonly string[];
  /**
   * preferred is true for the one version of each group/resource ServerPreferredResources would
   * pick: the group's preferred version, else the first version that serves it.
   */
  preferred: boolean;
}

/**
 * GroupDiscoveryFailedError is client-go's ErrGroupDiscoveryFailed: some group versions could
 * not be read. Discovery of the others still succeeded, and callers keep working with them.
 */
export class GroupDiscoveryFailedError extends Error {
  constructor(readonly groups: ReadonlyMap<string, Error>) {
    const parts = [...groups].map(([gv, err]) => `${gv}: ${err.message}`).sort();
    super(`unable to retrieve the complete list of server APIs: ${parts.join(', ')}`);
    this.name = 'GroupDiscoveryFailedError';
  }
}

/** DiscoveryResult is every resource discovered, and the group versions that failed (keyed `group/version`, or `v1`). */
export interface DiscoveryResult {
  resources: DiscoveredResource[];
  failed: ReadonlyMap<string, Error>;
  /** error is a GroupDiscoveryFailedError when failed is not empty. */
  error?: GroupDiscoveryFailedError;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * discoverResources reads `/api`, `/apis` and every group version's APIResourceList, keeping
 * top-level resources (`pods`, not `pods/status`). A failure to read `/api` or `/apis` throws;
 * a failing group version is reported in `failed` and the rest is still returned.
 */
export async function discoverResources(client: Client): Promise<DiscoveryResult> {
  const [core, groups] = await Promise.all([client.getPath<APIVersions>('/api'), client.getPath<APIGroupList>('/apis')]);
  // Each group's versions, preferred version first (ServerPreferredResources' rule).
  const gvs: Array<{ group: string; version: string; preferredVersion: string }> = [];
  for (const v of core.versions ?? []) gvs.push({ group: '', version: v, preferredVersion: core.versions?.[0] ?? v });
  for (const g of groups.groups ?? []) {
    const preferred = g.preferredVersion?.version ?? g.versions?.[0]?.version ?? '';
    for (const v of g.versions ?? []) gvs.push({ group: g.name, version: v.version, preferredVersion: preferred });
  }
  const failed = new Map<string, Error>();
  const lists = await Promise.all(
    gvs.map(async (gv) => {
      const path = gv.group ? `/apis/${gv.group}/${gv.version}` : `/api/${gv.version}`;
      try {
        return { gv, list: await client.getPath<APIResourceList>(path) };
      } catch (err) {
        failed.set(gv.group ? `${gv.group}/${gv.version}` : gv.version, asError(err));
        return { gv, list: undefined };
      }
    }),
  );
  const resources: DiscoveredResource[] = [];
  const chosen = new Map<string, DiscoveredResource>();
  for (const { gv, list } of lists) {
    for (const r of list?.resources ?? []) {
      if (r.name.includes('/')) continue;
      const d: DiscoveredResource = { group: gv.group, version: gv.version, resource: r.name, kind: r.kind, namespaced: r.namespaced, verbs: [...(r.verbs ?? [])], preferred: false };
      resources.push(d);
      const gr = `${gv.group}/${r.name}`;
      const prev = chosen.get(gr);
      if (!prev || (gv.version === gv.preferredVersion && prev.version !== gv.preferredVersion)) chosen.set(gr, d);
    }
  }
  for (const d of chosen.values()) d.preferred = true;
  return { resources, failed, error: failed.size ? new GroupDiscoveryFailedError(failed) : undefined };
}

/** supportsVerbs is discovery.SupportsAllVerbs: r serves every one of verbs. */
export function supportsVerbs(r: Pick<DiscoveredResource, 'verbs'>, ...verbs: string[]): boolean {
  return verbs.every((v) => r.verbs.includes(v));
}

/** preferredResources are the preferred version of each resource that serves all of verbs. */
export function preferredResources(d: DiscoveryResult, ...verbs: string[]): DiscoveredResource[] {
  return d.resources.filter((r) => r.preferred && supportsVerbs(r, ...verbs));
}

/** groupOf is the group of an apiVersion (`apps/v1` → `apps`, `v1` → ''). */
export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

/** resourceID names a resource in logs and maps: `replicasets.apps`, `pods` (core). */
export function resourceID(r: Pick<ResourceType, 'group' | 'resource'>): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

/**
 * ResourceMapper maps an apiVersion and kind (an ownerReference's) to the resource that serves
 * it: the exact group version when served, else the preferred version of the same group and
 * kind (objects are read by name only, so any served version finds them).
 */
export class ResourceMapper {
  private readonly exact = new Map<string, DiscoveredResource>();
  private readonly byGroupKind = new Map<string, DiscoveredResource>();

  constructor(resources: readonly DiscoveredResource[]) {
    for (const r of resources) {
      const gv = r.group ? `${r.group}/${r.version}` : r.version;
      // Several resources may share a kind (none do among skiff's); the first one listed wins, as in discovery order.
      if (!this.exact.has(`${gv}|${r.kind}`)) this.exact.set(`${gv}|${r.kind}`, r);
      const gk = `${r.group}|${r.kind}`;
      const prev = this.byGroupKind.get(gk);
      if (!prev || (r.preferred && !prev.preferred)) this.byGroupKind.set(gk, r);
    }
  }

  /** resourceFor is the resource serving kind in apiVersion, or undefined when no such kind is served. */
  resourceFor(apiVersion: string, kind: string): DiscoveredResource | undefined {
    return this.exact.get(`${apiVersion}|${kind}`) ?? this.byGroupKind.get(`${groupOf(apiVersion)}|${kind}`);
  }
}

/** fingerprint is a stable summary of what was discovered, to tell whether anything changed. */
export function fingerprint(resources: readonly DiscoveredResource[]): string {
  return resources
    .map((r) => `${r.group}/${r.version}/${r.resource}|${r.kind}|${r.namespaced}|${r.preferred}|${[...r.verbs].sort().join(',')}`)
    .sort()
    .join('\n');
}

/** DiscoveryRefresherOptions configure a DiscoveryRefresher. */
export interface DiscoveryRefresherOptions {
  client: Client;
  /** onChange runs (one at a time) after a discovery whose resources differ from the last one's. */
  onChange(result: DiscoveryResult): void | Promise<void>;
  /** crdInformer, when given, triggers a discovery shortly after any CustomResourceDefinition changes. */
  crdInformer?: SharedInformer<ApiObject>;
  /** intervalMs between periodic discoveries (default 30 s). */
  intervalMs?: number;
  /** retryMs after a failed discovery (default 5 s). */
  retryMs?: number;
  /** debounceMs coalesces bursts of CRD events (default 250 ms). */
  debounceMs?: number;
  log?: Logger;
  signal?: AbortSignal;
}

/**
 * DiscoveryRefresher keeps a current view of the served resources: it discovers every
 * intervalMs, soon after a failure, and soon after a CRD is added, changed (e.g. becomes
 * Established) or deleted, and calls onChange whenever the set of resources changed.
 */
export class DiscoveryRefresher {
  private last: DiscoveryResult | undefined;
  private lastPrint = '';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: DiscoveryRefresherOptions) {
    if (opts.crdInformer) {
      const poke = (): void => this.soon(opts.debounceMs ?? 250);
      opts.crdInformer.on('add', poke);
      opts.crdInformer.on('update', poke);
      opts.crdInformer.on('delete', poke);
    }
    opts.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** current is the last successful discovery, if any. */
  current(): DiscoveryResult | undefined {
    return this.last;
  }

  /**
   * refresh discovers now (joining a discovery already under way, and running once more after
   * it) and resolves once onChange, if due, has run. It never throws: failures are logged and
   * retried after retryMs.
   */
  refresh(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.once();
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** start schedules the periodic discoveries (the first one right away). */
  start(): void {
    this.soon(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private soon(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, ms);
    this.timer.unref?.();
  }

  private async once(): Promise<void> {
    let next = this.opts.intervalMs ?? 30_000;
    try {
      const result = await discoverResources(this.opts.client);
      if (result.error) {
        this.opts.log?.warn('Discovery failed for some groups', { err: result.error.message });
        next = Math.min(next, this.opts.retryMs ?? 5_000);
      }
      // Keep what a failing group served before, so a passing failure does not look like removal.
      let resources = result.resources;
      if (this.last && result.failed.size) {
        const kept = this.last.resources.filter((r) => result.failed.has(r.group ? `${r.group}/${r.version}` : r.version));
        // A kept resource that was preferred stays preferred over another version answering now.
        const keptPreferred = new Set(kept.filter((r) => r.preferred).map((r) => `${r.group}/${r.resource}`));
        resources = [...result.resources.map((r) => (r.preferred && keptPreferred.has(`${r.group}/${r.resource}`) ? { ...r, preferred: false } : r)), ...kept];
      }
      const merged: DiscoveryResult = { ...result, resources };
      const print = fingerprint(resources);
      this.last = merged;
      if (print !== this.lastPrint && !this.stopped) {
        await this.opts.onChange(merged);
        // Only once handled: a failed onChange is tried again at the next discovery.
        this.lastPrint = print;
      }
    } catch (err) {
      this.opts.log?.warn('Discovery failed', { err: asError(err).message });
      next = this.opts.retryMs ?? 5_000;
    }
    if (!this.stopped && !this.timer) this.soon(next);
  }
}
