// Controller history, as kube's pkg/controller/history: the ControllerRevisions a DaemonSet or
// StatefulSet keeps of its template, named `<owner>-<hash>`, labelled with
// `controller-revision-hash`, numbered in the order they became current, and created so that a
// hash collision (two different snapshots with the same name) bumps the owner's collisionCount
// instead of failing or overwriting history.

import type { ControllerRevision } from '../../lib/api/apps/controllerrevision.js';
import type { KubeObject } from '../../lib/api/meta.js';
import { ControllerRevisions } from '../../lib/client/resources.js';
import { type Client, isAlreadyExists, isConflict } from '../../lib/client/client.js';
import { canonicalJSON } from '../../lib/machinery/canonical.js';
import { fnv32a, safeEncodeString } from '../deployment/util.js';

/** ControllerRevisionHashLabel is the label every revision (and the owner's pods) carries its hash in. */
export const ControllerRevisionHashLabel = 'controller-revision-hash';

/** OwnerKind names the owner's apiVersion and kind for the revision's controller ownerReference. */
export interface OwnerKind {
  apiVersion: string;
  kind: string;
}

/**
 * hashControllerRevision is HashControllerRevision: FNV over the snapshot (canonical JSON here),
 * then the decimal probe (the owner's collisionCount, 0 when it has none), in SafeEncodeString
 * form, so a revision's name is the same whether or not its owner's status carries the count yet.
 */
export function hashControllerRevision(data: unknown, probe = 0): string {
  const enc = new TextEncoder();
  const h = fnv32a(enc.encode(String(probe)), fnv32a(enc.encode(canonicalJSON(data ?? null))));
  return safeEncodeString(String(h));
}

/** controllerRevisionName is `<prefix>-<hash>`, the prefix cut to 223 characters as kube does. */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/**
 * newControllerRevision is NewControllerRevision: a revision of data owned (as controller, blocking
 * the owner's deletion) by parent, labelled like the owner's pods plus its hash.
 */
export function newControllerRevision(
  parent: KubeObject,
  parentKind: OwnerKind,
  templateLabels: Record<string, string> | undefined,
  data: unknown,
  revision: number,
  collisionCount?: number,
): ControllerRevision {
  const hash = hashControllerRevision(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: controllerRevisionName(parent.metadata.name ?? '', hash),
      namespace: parent.metadata.namespace,
      labels: { ...(templateLabels ?? {}), [ControllerRevisionHashLabel]: hash },
      ownerReferences: [
        { apiVersion: parentKind.apiVersion, kind: parentKind.kind, name: parent.metadata.name ?? '', uid: parent.metadata.uid ?? '', controller: true, blockOwnerDeletion: true },
      ],
    },
    data,
    revision,
  };
}

/** equalRevision is EqualRevision: same snapshot (the hash labels, when both have one, must agree too). */
export function equalRevision(a: ControllerRevision | undefined, b: ControllerRevision | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const ha = a.metadata.labels?.[ControllerRevisionHashLabel];
  const hb = b.metadata.labels?.[ControllerRevisionHashLabel];
  if (ha !== undefined && hb !== undefined && ha !== hb) return false;
  return canonicalJSON(a.data ?? null) === canonicalJSON(b.data ?? null);
}

/** findEqualRevisions is FindEqualRevisions: the revisions holding the same snapshot as needle. */
export function findEqualRevisions(revisions: readonly ControllerRevision[], needle: ControllerRevision): ControllerRevision[] {
  return revisions.filter((r) => equalRevision(r, needle));
}

/** sortControllerRevisions sorts oldest first: by revision number, then creation time, then name. */
export function sortControllerRevisions(revisions: ControllerRevision[]): ControllerRevision[] {
  return revisions.sort(
    (a, b) =>
      (a.revision ?? 0) - (b.revision ?? 0) ||
      (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
}

/** nextRevision is one past the highest revision number in revisions (1 when there is none). */
export function nextRevision(revisions: readonly ControllerRevision[]): number {
  return revisions.reduce((max, r) => Math.max(max, r.revision ?? 0), 0) + 1;
}

/**
 * createControllerRevision is realHistory.CreateControllerRevision: creates revision under the
 * name its hash with collisionCount.value gives. When that name exists with the same snapshot,
 * the existing revision is the answer; with a different one (a hash collision), collisionCount
 * is incremented (the caller persists it in the owner's status) and the next name is tried.
 */
export async function createControllerRevision(
  client: Client,
  parent: KubeObject,
  revision: ControllerRevision,
  collisionCount: { value: number },
): Promise<ControllerRevision> {
  const ns = parent.metadata.namespace ?? '';
  for (;;) {
    const hash = hashControllerRevision(revision.data, collisionCount.value);
    const candidate: ControllerRevision = structuredClone(revision);
    candidate.metadata.name = controllerRevisionName(parent.metadata.name ?? '', hash);
    candidate.metadata.labels = { ...(candidate.metadata.labels ?? {}), [ControllerRevisionHashLabel]: hash };
    candidate.metadata.namespace = ns;
    try {
      return await client.create<ControllerRevision>(ControllerRevisions, ns, candidate);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await client.get<ControllerRevision>(ControllerRevisions, ns, candidate.metadata.name);
      if (equalRevision(existing, candidate)) return existing;
      collisionCount.value++;
    }
  }
}

/**
 * updateControllerRevision is realHistory.UpdateControllerRevision: gives an existing snapshot a
 * new revision number (it became current again), re-reading it on a conflict.
 */
export async function updateControllerRevision(client: Client, revision: ControllerRevision, newRevision: number): Promise<ControllerRevision> {
  let current = revision;
  for (;;) {
    if (current.revision === newRevision) return current;
    try {
      return await client.update<ControllerRevision>(ControllerRevisions, { ...current, revision: newRevision });
    } catch (err) {
      if (!isConflict(err)) throw err;
      current = await client.get<ControllerRevision>(ControllerRevisions, current.metadata.namespace ?? '', current.metadata.name ?? '');
    }
  }
}
