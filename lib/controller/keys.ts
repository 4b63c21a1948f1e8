// Queue keys, as client-go's cache.MetaNamespaceKeyFunc / SplitMetaNamespaceKey: `namespace/name`
// for namespaced objects, `name` for cluster-scoped ones.

/** ObjectRef is the part of an object the key functions read (fits client-node's and lib/api's types). */
export interface ObjectRef {
  metadata?: {
    name?: string;
    namespace?: string;
    ownerReferences?: ReadonlyArray<{ apiVersion: string; kind: string; name: string; controller?: boolean }>;
  };
}

/** InvalidKeyError is thrown for a key with more than one `/` or an empty part. */
export class InvalidKeyError extends Error {
  constructor(readonly key: string) {
    super(`unexpected key format: ${JSON.stringify(key)}`);
    this.name = 'InvalidKeyError';
  }
}

/** keyOf is MetaNamespaceKeyFunc: `namespace/name`, or `name` when the object has no namespace. */
export function keyOf(obj: ObjectRef): string {
  const name = obj.metadata?.name ?? '';
  const namespace = obj.metadata?.namespace ?? '';
  return namespace ? `${namespace}/${name}` : name;
}

/** splitKey is SplitMetaNamespaceKey: the namespace ('' for cluster-scoped) and the name. */
export function splitKey(key: string): { namespace: string; name: string } {
  const parts = key.split('/');
  if (parts.length === 1 && parts[0]) return { namespace: '', name: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { namespace: parts[0], name: parts[1] };
  throw new InvalidKeyError(key);
}

/** groupOf is the API group of an apiVersion (`apps/v1` → `apps`, `v1` → ''). */
function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

/**
 * ownerKeyFor is the key of obj's controller owner (the ownerReference with controller: true)
 * when that owner is of the given kind (and, when apiVersion is given, the same API group),
 * else undefined. Owners live in their dependent's namespace, so the key uses obj's namespace.
 * This is how an event on a Pod enqueues its ReplicaSet.
 */
export function ownerKeyFor(obj: ObjectRef, kind: string, apiVersion?: string): string | undefined {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true);
  if (!ref || ref.kind !== kind) return undefined;
  if (apiVersion !== undefined && groupOf(ref.apiVersion) !== groupOf(apiVersion)) return undefined;
  const namespace = obj.metadata?.namespace ?? '';
  return namespace ? `${namespace}/${ref.name}` : ref.name;
}
