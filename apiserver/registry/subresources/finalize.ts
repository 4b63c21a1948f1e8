// namespaces/finalize: the namespace controller's write of spec.finalizers (kube's FinalizeREST).

import type { KubeObject } from '../../../lib/api/meta.js';
import type { SubresourceStorage } from './types.js';

/**
 * finalizeREST takes the new spec.finalizers as given (the namespace update strategy would keep
 * the old ones), and removes a terminating namespace whose finalizers are all gone.
 */
export const finalizeREST: SubresourceStorage = {
  subresource: 'finalize',
  kind: { kind: 'Namespace' },
  serves: (def) => def.group === '' && def.plural === 'namespaces',
  bodyIsParent: true,
  async update({ store, name, ctx, dryRun }, body) {
    const ns = body as KubeObject;
    const finalizers = (ns.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [];
    ctx.dryRun = dryRun();
    const rv = ns.metadata?.resourceVersion;
    const object = await store.updateRaw(undefined, name, (cur) => ({ ...cur, spec: { ...((cur.spec as object) ?? {}), finalizers } }), rv ? { resourceVersion: rv } : undefined, ctx.dryRun);
    const spec = object.spec as { finalizers?: string[] } | undefined;
    if (object.metadata.deletionTimestamp && !(spec?.finalizers ?? []).length && !(object.metadata.finalizers ?? []).length && !ctx.dryRun) {
      const r = await store.delete(undefined, name, {}, ctx).catch(() => undefined);
      return { code: 200, object: r?.object ?? object };
    }
    return { code: 200, object };
  },
};
