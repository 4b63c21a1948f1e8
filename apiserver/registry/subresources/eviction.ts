// pods/eviction: policy/v1 Eviction, a graceful delete of the pod (kube's EvictionREST).

import type { KubeObject } from '../../../lib/api/meta.js';
import { badRequest, successStatus } from '../../../lib/machinery/status.js';
import type { DeleteOptions } from '../store.js';
import type { SubresourceStorage } from './types.js';

type Eviction = KubeObject & { deleteOptions?: DeleteOptions & { dryRun?: string[] } };

/**
 * evictionREST deletes the pod with the Eviction's deleteOptions. With no PodDisruptionBudgets
 * served yet, every eviction is allowed.
 */
export const evictionREST: SubresourceStorage = {
  subresource: 'eviction',
  kind: { kind: 'Eviction', group: 'policy', version: 'v1' },
  serves: (def) => def.group === '' && def.plural === 'pods',
  bodyName: 'an Eviction',
  async create({ store, namespace, name, ctx, dryRun }, body) {
    const eviction = body as Eviction;
    if (eviction.kind !== undefined && eviction.kind !== 'Eviction') throw badRequest(`the kind in the data (${String(eviction.kind)}) does not match the expected kind (Eviction)`);
    if (eviction.metadata?.name && eviction.metadata.name !== name) throw badRequest(`name in URL does not match name in Eviction object`);
    const opts: DeleteOptions & { dryRun?: string[] } = { ...(eviction.deleteOptions ?? {}) };
    ctx.dryRun = dryRun(opts.dryRun);
    await store.delete(namespace, name, opts, ctx);
    return { code: 201, body: { ...successStatus(), code: 201 } };
  },
};
