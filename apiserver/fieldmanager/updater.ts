// The ownership rules of server-side apply, as structured-merge-diff's merge.Updater applies them.
//
// update: whatever a write changed becomes its manager's; other managers lose the fields that
// were changed or removed (an ordinary write always wins: there are no conflicts for updates).
// apply: the configuration is merged into the live object and the applier owns exactly the fields
// it applied. Fields another manager owns with a different value are conflicts unless forced.
// Fields the applier applied last time but not now are removed from the object ("pruned"),
// unless another manager still owns them, in which case only the applier's ownership goes.

import { FieldSet, equalValues, type Json, type Path } from './fieldpath.js';
import type { VersionedSet } from './managedfields.js';
import type { Comparison, Typed } from './typed.js';

/** Conflict: a field the request would change that another manager owns. */
export interface Conflict {
  /** manager is the owner's identifier. */
  manager: string;
  path: Path;
}

/** ConflictsError carries the conflicts of an apply that was not forced. */
export class ConflictsError extends Error {
  override readonly name = 'ConflictsError';
  constructor(readonly conflicts: Conflict[]) {
    super(`${conflicts.length} conflicts`);
  }
}

/** IgnoreFilter drops the fields a write path never owns (status on the main resource, everything else on /status). */
export type IgnoreFilter = (s: FieldSet) => FieldSet;

export const noFilter: IgnoreFilter = (s) => s;

export type Managers = Map<string, VersionedSet>;

/** Updater computes managers' field sets for one kind at one version. */
export class Updater {
  constructor(
    private readonly typed: Typed,
    private readonly ignore: IgnoreFilter = noFilter,
  ) {}

  private filtered(c: Comparison): Comparison {
    return { removed: this.ignore(c.removed), modified: this.ignore(c.modified), added: this.ignore(c.added) };
  }

  /**
   * takeOwnership compares the two objects and takes every changed field away from the managers
   * other than workflow; without force, another manager owning a changed field is a conflict.
   */
  private takeOwnership(live: Json, next: Json, managers: Managers, workflow: string, force: boolean): Comparison {
    const compare = this.filtered(this.typed.compare(live, next));
    const changed = compare.modified.union(compare.added);
    const conflicts = new Map<string, FieldSet>();
    for (const [manager, vs] of managers) {
      if (manager === workflow) continue;
      const c = vs.set.intersection(changed);
      if (!c.empty()) conflicts.set(manager, c);
    }
    if (!force && conflicts.size) throw new ConflictsError(conflictsFromManagers(conflicts));
    for (const [manager, c] of conflicts) {
      const vs = managers.get(manager)!;
      managers.set(manager, { ...vs, set: vs.set.difference(c) });
    }
    if (!compare.removed.empty()) {
      for (const [manager, vs] of managers) {
        if (manager !== workflow) managers.set(manager, { ...vs, set: vs.set.difference(compare.removed) });
      }
    }
    for (const [manager, vs] of managers) if (vs.set.empty()) managers.delete(manager);
    return compare;
  }

  /** update records an ordinary write by manager: it owns what it changed, on top of what it owned. */
  update(live: Json, next: Json, version: string, managers: Managers, manager: string): void {
    const compare = this.takeOwnership(live, next, managers, manager, true);
    const prev = managers.get(manager)?.set ?? new FieldSet();
    const set = this.ignore(prev.difference(compare.removed).union(compare.modified).union(compare.added));
    if (set.empty()) managers.delete(manager);
    else managers.set(manager, { set, apiVersion: version, applied: false });
  }

  /**
   * apply merges config into live for manager and returns the new object, or undefined when it
   * equals live (nothing to write). It throws ConflictsError unless force.
   */
  apply(live: Json, config: Json, version: string, managers: Managers, manager: string, force: boolean): Json | undefined {
    let merged: Json = this.typed.merge(live, config) ?? {};
    const lastSet = managers.get(manager);
    const set = this.ignore(this.typed.toFieldSet(config));
    managers.set(manager, { set, apiVersion: version, applied: true });
    merged = this.prune(merged, managers, lastSet);
    this.takeOwnership(live, merged, managers, manager, force);
    return equalValues(live, merged) ? undefined : merged;
  }

  /** prune removes what the applier applied last time and not now, unless someone else owns it. */
  private prune(merged: Json, managers: Managers, lastSet: VersionedSet | undefined): Json {
    if (!lastSet || lastSet.set.empty()) return merged;
    const t = this.typed;
    let pruned: Json = t.removeItems(merged, t.ensureNamedFieldsAreMembers(lastSet.set)) ?? {};
    pruned = this.addBackOwnedItems(merged, pruned, managers);
    return this.addBackDanglingItems(merged, pruned, lastSet);
  }

  /** addBackOwnedItems puts back what prune removed that any manager (the applier's new set included) owns. */
  private addBackOwnedItems(merged: Json, pruned: Json, managers: Managers): Json {
    const t = this.typed;
    let managed = new FieldSet();
    for (const vs of managers.values()) managed = managed.union(vs.set);
    const mergedSet = t.ensureNamedFieldsAreMembers(t.toFieldSet(merged));
    const prunedSet = t.ensureNamedFieldsAreMembers(t.toFieldSet(pruned));
    return t.removeItems(merged, mergedSet.difference(prunedSet.union(t.ensureNamedFieldsAreMembers(managed)))) ?? {};
  }

  /** addBackDanglingItems puts back what prune removed that the applier did not own last time (unowned, or an updater's). */
  private addBackDanglingItems(merged: Json, pruned: Json, lastSet: VersionedSet): Json {
    const t = this.typed;
    const prunedSet = t.ensureNamedFieldsAreMembers(t.toFieldSet(pruned));
    const mergedSet = t.ensureNamedFieldsAreMembers(t.toFieldSet(merged));
    const last = t.ensureNamedFieldsAreMembers(lastSet.set);
    return t.removeItems(merged, mergedSet.difference(prunedSet).intersection(last)) ?? {};
  }
}

/** conflictsFromManagers lists conflicts by manager identifier (sorted), each manager's paths in set order. */
function conflictsFromManagers(conflicts: Map<string, FieldSet>): Conflict[] {
  const out: Conflict[] = [];
  for (const manager of [...conflicts.keys()].sort()) {
    for (const path of conflicts.get(manager)!.paths()) out.push({ manager, path });
  }
  return out;
}
