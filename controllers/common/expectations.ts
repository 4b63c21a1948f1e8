// Expectations are how a controller that creates or deletes many children remembers what it
// has asked for until its informer shows it (kube's ControllerExpectations and
// UIDTrackingControllerExpectations, pkg/controller/controller_utils.go). While a controller's
// expectations are unmet its cache is known to lag behind its own writes, so it must not act on
// the counts it sees there: it would create (or delete) the same replicas again.
//
//  - Once set, expectations are only lowered: by informer events (creationObserved,
//    deletionObserved) or by the controller itself for writes that failed.
//  - A key is satisfied when both counts reach 0, or when its expectations are older than
//    ExpectationsTimeout (a dropped watch event must not put a controller to sleep forever),
//    or when it has none (a new controller, or one that never needed to write).
//  - Deletions are tracked by the deleted pod's key, so a graceful delete (first an update
//    setting deletionTimestamp, then the delete itself) is counted once.

/** ExpectationsTimeoutMs is kube's ExpectationsTimeout: unmet expectations older than this no longer block a sync. */
export const ExpectationsTimeoutMs = 5 * 60_000;

/** ControlleeExpectations are the creates and deletes one controller key still waits to observe. */
export interface ControlleeExpectations {
  add: number;
  del: number;
  /** timestamp is when they were set (ms, from the expectations' clock). */
  timestamp: number;
}

/** ControllerExpectations tracks, per controller key, how many creates and deletes it still waits for. */
export class ControllerExpectations {
  private readonly store = new Map<string, ControlleeExpectations>();

  /** now is the clock (ms); tests pass their own. */
  constructor(private readonly now: () => number = Date.now) {}

  /** getExpectations returns a copy of key's expectations, if it has any. */
  getExpectations(key: string): ControlleeExpectations | undefined {
    const e = this.store.get(key);
    return e && { ...e };
  }

  /** satisfiedExpectations: key may sync (its expectations are met, expired, or absent). */
  satisfiedExpectations(key: string): boolean {
    const e = this.store.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.now() - e.timestamp > ExpectationsTimeoutMs;
  }

  /** deleteExpectations forgets key (its controller was deleted, so a new one of that name starts clean). */
  deleteExpectations(key: string): void {
    this.store.delete(key);
  }

  /** setExpectations replaces key's expectations and restarts their timeout. */
  setExpectations(key: string, add: number, del: number): void {
    this.store.set(key, { add, del, timestamp: this.now() });
  }

  /** expectCreations sets key to wait for adds creations (and no deletions). */
  expectCreations(key: string, adds: number): void {
    this.setExpectations(key, adds, 0);
  }

  /** expectDeletions sets key to wait for dels deletions (and no creations). */
  expectDeletions(key: string, dels: number): void {
    this.setExpectations(key, 0, dels);
  }

  /** lowerExpectations subtracts from key's counts, if it has expectations. */
  lowerExpectations(key: string, add: number, del: number): void {
    const e = this.store.get(key);
    if (!e) return;
    e.add -= add;
    e.del -= del;
  }

  /** raiseExpectations adds to key's counts, if it has expectations. */
  raiseExpectations(key: string, add: number, del: number): void {
    const e = this.store.get(key);
    if (!e) return;
    e.add += add;
    e.del += del;
  }

  /** creationObserved lowers key's expected creations by one. */
  creationObserved(key: string): void {
    this.lowerExpectations(key, 1, 0);
  }

  /** deletionObserved lowers key's expected deletions by one. */
  deletionObserved(key: string): void {
    this.lowerExpectations(key, 0, 1);
  }
}

/**
 * UIDTrackingControllerExpectations is ControllerExpectations that remembers which children
 * (by `namespace/name` key, as kube's PodKey) it expects to see deleted, so each is counted once
 * however many events announce its deletion.
 */
export class UIDTrackingControllerExpectations {
  readonly counts: ControllerExpectations;
  private readonly uids = new Map<string, Set<string>>();

  constructor(now: () => number = Date.now) {
    this.counts = new ControllerExpectations(now);
  }

  getExpectations(key: string): ControlleeExpectations | undefined {
    return this.counts.getExpectations(key);
  }

  satisfiedExpectations(key: string): boolean {
    return this.counts.satisfiedExpectations(key);
  }

  expectCreations(key: string, adds: number): void {
    this.counts.expectCreations(key, adds);
  }

  creationObserved(key: string): void {
    this.counts.creationObserved(key);
  }

  /** getDeleteKeys are the children key still waits to see deleted (a copy). */
  getDeleteKeys(key: string): string[] {
    return [...(this.uids.get(key) ?? [])];
  }

  /** expectDeletions sets key to wait for the deletion of exactly these children. */
  expectDeletions(key: string, deleteKeys: readonly string[]): void {
    const set = new Set(deleteKeys);
    this.uids.set(key, set);
    this.counts.expectDeletions(key, set.size);
  }

  /**
   * setExpectations sets key to wait for adds creations and the deletion of exactly these
   * children at once (the DaemonSet controller creates and deletes in one pass).
   */
  setExpectations(key: string, adds: number, deleteKeys: readonly string[]): void {
    const set = new Set(deleteKeys);
    this.uids.set(key, set);
    this.counts.setExpectations(key, adds, set.size);
  }

  /** deletionObserved counts deleteKey's deletion for key, once. */
  deletionObserved(key: string, deleteKey: string): void {
    const set = this.uids.get(key);
    if (!set?.has(deleteKey)) return;
    set.delete(deleteKey);
    this.counts.deletionObserved(key);
  }

  /** deleteExpectations forgets key's counts and tracked deletions. */
  deleteExpectations(key: string): void {
    this.counts.deleteExpectations(key);
    this.uids.delete(key);
  }
}
