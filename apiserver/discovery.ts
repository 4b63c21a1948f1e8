// Discovery documents: /api, /apis (plain and aggregated apidiscovery.k8s.io/v2), and the
// APIResourceList of each group/version, generated from the registry's declarations.

import { createHash } from 'node:crypto';
import type { ResourceDefinition } from '../lib/api/resource.js';
import { AllVerbs } from '../lib/api/resource.js';
import type { APIRegistry } from './registry/registry.js';
import { subresourceStorages, subresourceVerbs } from './registry/subresources/index.js';

export const aggregatedDiscoveryContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const aggregatedV2beta1ContentType = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/** wantsAggregated reports which aggregated discovery version the Accept header asks for, if any. */
export function wantsAggregated(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  if (!accept) return undefined;
  for (const clause of accept.split(',')) {
    const p = clause.split(';').map((s) => s.trim());
    if (p[0] !== 'application/json') continue;
    const params = new Map(p.slice(1).map((kv) => kv.split('=') as [string, string]));
    if (params.get('g') === 'apidiscovery.k8s.io' && params.get('as') === 'APIGroupDiscoveryList') {
      const v = params.get('v');
      if (v === 'v2' || v === 'v2beta1') return v;
    }
    if (!params.has('as')) return undefined;
  }
  return undefined;
}

export function aggregatedContentType(v: 'v2' | 'v2beta1'): string {
  return v === 'v2' ? aggregatedDiscoveryContentType : aggregatedV2beta1ContentType;
}

interface SubresourceInfo {
  name: string;
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

function subresourcesOf(def: ResourceDefinition): SubresourceInfo[] {
  const subs: SubresourceInfo[] = subresourceStorages
    .filter((s) => s.serves(def))
    .map((s) => ({ name: s.subresource, ...s.kind, verbs: subresourceVerbs(s) }));
  if (def.subresources?.scale) subs.push({ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] });
  if (def.subresources?.status) subs.push({ name: 'status', kind: def.kind, verbs: ['get', 'patch', 'update'] });
  return subs.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * storageVersionHash is discovery's opaque token for the version a kind is stored as: the
 * base64 of the first 8 bytes of the SHA-256 of `group/version/kind` (kube-apiserver's
 * discovery.StorageVersionHash). Kinds with no storage (reviews) have none.
 */
export function storageVersionHash(def: ResourceDefinition): string | undefined {
  if (def.virtualCreate) return undefined;
  const { group, version, kind } = def.storageVersion ?? def;
  return createHash('sha256').update(`${group}/${version}/${kind}`).digest().subarray(0, 8).toString('base64');
}

function verbsOf(def: ResourceDefinition): string[] {
  return [...(def.verbs ?? AllVerbs)];
}

/** apiResourceList is /api/v1 or /apis/<group>/<version>: each resource, then its subresources. */
export function apiResourceList(registry: APIRegistry, group: string, version: string): object | undefined {
  const defs = registry.all().map((s) => s.def).filter((d) => d.group === group && d.version === version);
  if (!defs.length) return undefined;
  const resources: object[] = [];
  for (const def of defs) {
    const r: Record<string, unknown> = { name: def.plural, singularName: def.singular, namespaced: def.namespaced, kind: def.kind, verbs: verbsOf(def) };
    if (def.shortNames?.length) r.shortNames = def.shortNames;
    if (def.categories?.length) r.categories = def.categories;
    const hash = storageVersionHash(def);
    if (hash) r.storageVersionHash = hash;
    resources.push(r);
    for (const s of subresourcesOf(def)) {
      const sr: Record<string, unknown> = { name: `${def.plural}/${s.name}`, singularName: '', namespaced: def.namespaced, kind: s.kind, verbs: s.verbs };
      if (s.group) {
        sr.group = s.group;
        sr.version = s.version;
      }
      resources.push(sr);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList(registry: APIRegistry): object {
  const groups = new Map<string, string[]>();
  for (const gv of registry.groupVersions()) {
    if (!gv.group) continue;
    const vs = groups.get(gv.group) ?? [];
    if (!vs.includes(gv.version)) vs.push(gv.version);
    groups.set(gv.group, vs);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => ({
      name,
      versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    })),
  };
}

export function apiGroup(registry: APIRegistry, group: string): object | undefined {
  const list = apiGroupList(registry) as { groups: { name: string }[] };
  const g = list.groups.find((x) => x.name === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...g } : undefined;
}

/** aggregatedDiscovery is the APIGroupDiscoveryList for /api (core) or /apis (named groups). */
export function aggregatedDiscovery(registry: APIRegistry, core: boolean, v: 'v2' | 'v2beta1'): object {
  const byGroup = new Map<string, Map<string, ResourceDefinition[]>>();
  for (const s of registry.all()) {
    const d = s.def;
    if ((d.group === '') !== core) continue;
    const versions = byGroup.get(d.group) ?? new Map<string, ResourceDefinition[]>();
    const defs = versions.get(d.version) ?? [];
    defs.push(d);
    versions.set(d.version, defs);
    byGroup.set(d.group, versions);
  }
  const items = [...byGroup].map(([group, versions]) => ({
    metadata: group ? { name: group, creationTimestamp: null } : { creationTimestamp: null },
    versions: [...versions].map(([version, defs]) => ({
      version,
      resources: defs.map((d) => {
        const r: Record<string, unknown> = {
          resource: d.plural,
          responseKind: { group: d.group, version: d.version, kind: d.kind },
          scope: d.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: d.singular,
          verbs: verbsOf(d),
        };
        if (d.shortNames?.length) r.shortNames = d.shortNames;
        // apidiscovery.k8s.io/v2's APIResourceDiscovery has no storageVersionHash field.
        if (d.categories?.length) r.categories = d.categories;
        const subs = subresourcesOf(d);
        if (subs.length) {
          r.subresources = subs.map((s) => ({
            subresource: s.name,
            responseKind: { group: s.group ?? d.group, version: s.version ?? d.version, kind: s.kind },
            verbs: s.verbs,
          }));
        }
        return r;
      }),
      freshness: 'Current',
    })),
  }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${v}`, metadata: {}, items };
}
