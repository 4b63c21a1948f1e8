// EndpointSliceTracker remembers the generation of every slice this controller last wrote, per
// Service (kube's endpointsliceutil.EndpointSliceTracker). Slices are created with generateName,
// so acting on an informer cache that has not yet seen the controller's own create would create
// a second slice: a Service whose cached slices are older than what was written is "stale" and
// waits (the sync is retried) until the informer catches up. It also tells informer events caused
// by the controller's own writes (nothing to do) from changes made by someone else.

import type { EndpointSlice } from '../../lib/api/discovery/endpointslice.js';
import { LabelServiceName } from '../../lib/api/discovery/endpointslice.js';

/** deletionExpected marks a slice this controller deleted and expects to disappear. */
const deletionExpected = -1;

function serviceKeyOf(slice: EndpointSlice): string | undefined {
  const name = slice.metadata.labels?.[LabelServiceName];
  return name ? `${slice.metadata.namespace}/${name}` : undefined;
}

/** EndpointSliceTracker is kube's EndpointSliceTracker, keyed by Service key and slice uid. */
export class EndpointSliceTracker {
  private readonly byService = new Map<string, Map<string, number>>();

  private generations(slice: EndpointSlice, create: boolean): Map<string, number> | undefined {
    const key = serviceKeyOf(slice);
    if (!key) return undefined;
    let m = this.byService.get(key);
    if (!m && create) this.byService.set(key, (m = new Map()));
    return m;
  }

  /** has: the slice is tracked. */
  has(slice: EndpointSlice): boolean {
    return this.generations(slice, false)?.has(slice.metadata.uid ?? '') ?? false;
  }

  /** shouldSync: an informer event for slice is not just the echo of this controller's own write. */
  shouldSync(slice: EndpointSlice): boolean {
    const g = this.generations(slice, false)?.get(slice.metadata.uid ?? '');
    return g === undefined || (slice.metadata.generation ?? 0) > g;
  }

  /**
   * staleSlices: the cached slices of serviceKey lag behind this controller's writes (an older
   * generation than written, a slice written but not yet seen, or one deleted but still there).
   */
  staleSlices(serviceKey: string, slices: readonly EndpointSlice[]): boolean {
    const gens = this.byService.get(serviceKey);
    if (!gens) return false;
    const seen = new Set<string>();
    for (const s of slices) {
      const uid = s.metadata.uid ?? '';
      seen.add(uid);
      const g = gens.get(uid);
      if (g !== undefined && (g === deletionExpected || g > (s.metadata.generation ?? 0))) return true;
    }
    for (const [uid, g] of gens) if (g !== deletionExpected && !seen.has(uid)) return true;
    return false;
  }

  /** update records the generation of a slice just created or updated. */
  update(slice: EndpointSlice): void {
    this.generations(slice, true)?.set(slice.metadata.uid ?? '', slice.metadata.generation ?? 0);
  }

  /** expectDeletion records that slice was deleted by this controller. */
  expectDeletion(slice: EndpointSlice): void {
    this.generations(slice, true)?.set(slice.metadata.uid ?? '', deletionExpected);
  }

  /** handleDeletion forgets a deleted slice and returns whether its deletion was expected. */
  handleDeletion(slice: EndpointSlice): boolean {
    const gens = this.generations(slice, false);
    const uid = slice.metadata.uid ?? '';
    const g = gens?.get(uid);
    gens?.delete(uid);
    // A Service with nothing tracked needs no entry (the slices of a deleted Service end here).
    if (gens?.size === 0) this.byService.delete(serviceKeyOf(slice)!);
    return g === deletionExpected;
  }

  /** trackedServices is how many Services have tracked slices (test-only). */
  get trackedServices(): number {
    return this.byService.size;
  }

  /** deleteService forgets everything about a Service. */
  deleteService(serviceKey: string): void {
    this.byService.delete(serviceKey);
  }
}
