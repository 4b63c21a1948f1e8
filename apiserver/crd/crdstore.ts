// The CustomResourceDefinition store: the generic store, except that the first delete of a CRD
// does not remove it. It marks it deleted, adds the customresourcecleanup finalizer and sets the
// Terminating condition, so its custom resources can be deleted first (apiextensions-apiserver
// pkg/registry/customresourcedefinition/etcd.go). Later deletes are the generic store's.

import { deepClone, nowRFC3339, type KubeObject } from '../../lib/api/meta.js';
import { setCRDCondition } from '../../lib/api/apiextensions/helpers.js';
import { ConditionType, CustomResourceCleanupFinalizer, type CustomResourceDefinition } from '../../lib/api/apiextensions/types.js';
import { conflict } from '../../lib/machinery/status.js';
import { GenericStore, type DeleteOptions, type DeleteResult, type RequestContext } from '../registry/store.js';

/** markTerminating records the start of a CRD's deletion (in place). */
export function markTerminating(crd: CustomResourceDefinition, now: Date): CustomResourceDefinition {
  crd.metadata.deletionTimestamp ??= nowRFC3339(now);
  const finalizers = (crd.metadata.finalizers ??= []);
  if (!finalizers.includes(CustomResourceCleanupFinalizer)) finalizers.push(CustomResourceCleanupFinalizer);
  setCRDCondition(
    crd,
    {
      type: ConditionType.Terminating,
      status: 'True',
      reason: 'InstanceDeletionPending',
      message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
    },
    now,
  );
  return crd;
}

export class CustomResourceDefinitionStore extends GenericStore {
  override async delete(ns: string | undefined, name: string, options: DeleteOptions, ctx: RequestContext): Promise<DeleteResult> {
    const current = await this.get(undefined, name);
    const pre = options.preconditions ?? {};
    if (pre.uid && pre.uid !== current.metadata.uid) {
      throw conflict(this.gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(this.gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
    }
    if (current.metadata.deletionTimestamp) return super.delete(ns, name, options, ctx);
    const mark = (obj: KubeObject) => markTerminating(obj as CustomResourceDefinition, ctx.now);
    if (ctx.dryRun) return { object: mark(deepClone(current)), deleted: false };
    const object = await this.updateRaw(undefined, name, mark, { uid: pre.uid ?? current.metadata.uid, resourceVersion: pre.resourceVersion });
    return { object, deleted: false };
  }
}
