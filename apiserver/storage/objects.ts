// What every Storage backend does to objects alike: the stored form carries no resourceVersion
// (the revision is the version), an update is a change only when more than the version differs,
// and preconditions fail with the same ConflictError whichever backend holds the key.

import type { KubeObject } from '../../lib/api/meta.js';
import { jsonEqual } from '../../lib/machinery/canonical.js';
import { ConflictError, type Preconditions } from './interface.js';

/** stripResourceVersion is obj without metadata.resourceVersion (a shallow copy). */
export function stripResourceVersion(obj: KubeObject): KubeObject {
  const { resourceVersion: _rv, ...meta } = obj.metadata ?? {};
  return { ...obj, metadata: meta };
}

/** sameContent says whether two states differ in nothing but their resourceVersion. */
export function sameContent(a: KubeObject, b: KubeObject): boolean {
  return jsonEqual(a, b, 'resourceVersion');
}

/** checkPreconditions throws ConflictError when the current state's uid or resourceVersion is not the one asked for. */
export function checkPreconditions(key: string, current: KubeObject, pre?: Preconditions): void {
  if (!pre) return;
  if (pre.uid && current.metadata.uid !== pre.uid) throw new ConflictError(key, 'uid', pre.uid, String(current.metadata.uid), current);
  if (pre.resourceVersion && current.metadata.resourceVersion !== pre.resourceVersion) {
    throw new ConflictError(key, 'resourceVersion', pre.resourceVersion, String(current.metadata.resourceVersion), current);
  }
}
