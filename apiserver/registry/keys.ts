// Storage keys: /registry/<group or core>/<resource>/<namespace>/<name> (cluster-scoped: no
// namespace part), as DESIGN.md's storage contract fixes them.

import type { ResourceDefinition } from '../../lib/api/resource.js';

export function resourcePrefix(def: Pick<ResourceDefinition, 'group' | 'plural'>): string {
  return `/registry/${def.group || 'core'}/${def.plural}/`;
}

/** listPrefix is the prefix of every key a list in namespace ns (or all namespaces) covers. */
export function listPrefix(def: Pick<ResourceDefinition, 'group' | 'plural' | 'namespaced'>, ns: string | undefined): string {
  const base = resourcePrefix(def);
  return def.namespaced && ns ? `${base}${ns}/` : base;
}

export function objectKey(def: Pick<ResourceDefinition, 'group' | 'plural' | 'namespaced'>, ns: string | undefined, name: string): string {
  const base = resourcePrefix(def);
  return def.namespaced ? `${base}${ns}/${name}` : `${base}${name}`;
}
