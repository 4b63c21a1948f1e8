// pods/binding: the scheduler's write of a pod to a node (kube's BindingREST).

import type { KubeObject } from '../../../lib/api/meta.js';
import { nowRFC3339 } from '../../../lib/api/meta.js';
import { invalidValue, required } from '../../../lib/machinery/field-errors.js';
import { badRequest, conflict, invalid, successStatus } from '../../../lib/machinery/status.js';
import type { SubresourceStorage } from './types.js';

type Binding = KubeObject & { target?: { kind?: string; name?: string } };

/** bindingREST binds a pod to the node its Binding names, in one write. */
export const bindingREST: SubresourceStorage = {
  subresource: 'binding',
  kind: { kind: 'Binding' },
  serves: (def) => def.group === '' && def.plural === 'pods',
  bodyName: 'a Binding',
  async create({ store, namespace, name, ctx, dryRun }, body) {
    const binding = body as Binding;
    if (binding.metadata?.name && binding.metadata.name !== name) {
      throw badRequest(`the name of the object (${binding.metadata.name}) does not match the name on the URL (${name})`);
    }
    const target = binding.target;
    if (!target?.name) throw invalid({ group: '', kind: 'Binding' }, name, [required('target.name')]);
    if (target.kind && target.kind !== 'Node') throw invalid({ group: '', kind: 'Binding' }, name, [invalidValue('target.kind', target.kind, 'must be empty or "Node"')]);
    ctx.dryRun = dryRun();
    // One write, no pod update strategy (nodeName is otherwise immutable): node, annotations and
    // the PodScheduled condition land together, as kube-apiserver's binding storage does.
    await store.updateRaw(
      namespace,
      name,
      (pod) => {
        const spec = (pod.spec ?? {}) as { nodeName?: string };
        if (pod.metadata.deletionTimestamp) throw conflict(store.gr, name, `pod ${name} is being deleted, cannot be assigned to a host`);
        if (spec.nodeName) throw conflict(store.gr, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
        spec.nodeName = target.name;
        pod.spec = spec;
        if (binding.metadata?.annotations) pod.metadata.annotations = { ...pod.metadata.annotations, ...binding.metadata.annotations };
        const status = (pod.status ?? {}) as { conditions?: { type: string; status: string; lastTransitionTime?: string; lastProbeTime?: null }[] };
        status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== 'PodScheduled'), { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowRFC3339(ctx.now) }];
        pod.status = status;
        return pod;
      },
      binding.metadata?.uid ? { uid: binding.metadata.uid as string } : undefined,
      ctx.dryRun,
    );
    return { code: 201, body: successStatus() };
  },
};
