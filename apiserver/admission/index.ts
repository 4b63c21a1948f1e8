// Admission for the built-in kinds, the in-tree plugins kube-apiserver enables by default that
// change what skiff stores: ServiceAccount, Priority and DefaultTolerationSeconds on pods,
// Priority on PriorityClasses, NamespaceLifecycle on namespace deletes, NodeRestriction on what
// kubelets write (pods, nodes, leases), DefaultStorageClass and StorageObjectInUseProtection on
// claims and volumes. admissionHooksFor hands the registry the hook for one kind.

import type { ResourceDefinition } from '../../lib/api/resource.js';
import type { APIRegistry } from '../registry/registry.js';
import type { AdmissionRequest, RegistryHooks } from '../registry/store.js';
import { admitDefaultStorageClass } from './defaultstorageclass.js';
import { admitDefaultTolerationSeconds } from './defaulttolerationseconds.js';
import { StorageObjectInUseProtection, admitClaimProtection, admitVolumeProtection } from './storageobjectinuse.js';
import { admitNamespaceDelete } from './namespacelifecycle.js';
import { NodeRestriction } from './noderestriction.js';
import { admitServiceAccount, registryServiceAccountReader } from './serviceaccount.js';
import { admitPod, admitPriorityClass, registryPriorityClassReader, type PriorityClassReader } from './priority.js';
import { LimitRanger } from './limitranger.js';
import { QuotaAdmission } from './resourcequota.js';
import type { LimitRange } from '../../lib/api/core/limitrange.js';
import type { ResourceQuota } from '../../lib/api/core/resourcequota.js';
import type { GenericStore, ValidatingAdmission } from '../registry/store.js';
import type { Logger } from '../../lib/log.js';

export { admitDefaultTolerationSeconds } from './defaulttolerationseconds.js';
export { admitNamespaceDelete, immortalNamespaces } from './namespacelifecycle.js';
export { NodeRestriction, forbiddenNodeLabels, isKubeletLabel } from './noderestriction.js';
export { admitPod, admitPriorityClass, defaultPriorityClass, type PriorityClassReader } from './priority.js';

/** disableablePlugins are the plugins --disable-admission-plugins may name. */
export const disableablePlugins = ['ServiceAccount', 'LimitRanger', 'ResourceQuota', StorageObjectInUseProtection] as const;

/** AdmissionOptions choose the plugins: disabled names plugins turned off. */
export interface AdmissionOptions {
  disabled?: ReadonlySet<string>;
}

/** admissionHooksFor returns the admission hook of def's kind, or undefined when no plugin acts on it. */
export function admissionHooksFor(def: ResourceDefinition<any>, registry: APIRegistry, opts: AdmissionOptions = {}): RegistryHooks | undefined {
  // The PriorityClass store may be added after the pod store: look it up on first use.
  const classes: PriorityClassReader = {
    get: (name) => reader().get(name),
    list: (opts) => reader().list(opts),
  };
  const reader = () => {
    const store = registry.lookup('scheduling.k8s.io', 'v1', 'priorityclasses');
    if (!store) throw new Error('priorityclasses are not served');
    return registryPriorityClassReader(store);
  };
  const nodeRestriction = new NodeRestriction(async (ns, name) => {
    const pods = registry.lookup('', 'v1', 'pods');
    return pods?.get(ns, name).catch(() => undefined);
  });
  if (def.group === '' && def.plural === 'pods') {
    const limitRanger = new LimitRanger(registryLimitRangeLister(registry));
    const accounts = registryServiceAccountReader((namespace, name, rv) => {
      const store = registry.lookup('', 'v1', 'serviceaccounts');
      if (!store) throw new Error('serviceaccounts are not served');
      return store.get(namespace, name, rv);
    });
    const serviceAccount = !opts.disabled?.has('ServiceAccount');
    const limitRanges = !opts.disabled?.has('LimitRanger');
    return {
      admit: async (req: AdmissionRequest) => {
        await nodeRestriction.admitPod(req);
        if (req.subresource) return;
        if (limitRanges) await limitRanger.admitPod(req);
        if (serviceAccount) await admitServiceAccount(req, accounts);
        await admitPod(req, classes);
        admitDefaultTolerationSeconds(req);
      },
      admitDelete: (req) => nodeRestriction.admitPodDelete(req),
    };
  }
  if (def.group === '' && def.plural === 'nodes') {
    return { admit: (req) => nodeRestriction.admitNode(req), admitDelete: (req) => nodeRestriction.admitNode(req) };
  }
  if (def.group === 'coordination.k8s.io' && def.plural === 'leases') {
    return { admit: (req) => nodeRestriction.admitLease(req), admitDelete: (req) => nodeRestriction.admitLease(req) };
  }
  if (def.group === '' && def.plural === 'namespaces') {
    return { admitDelete: async (req) => admitNamespaceDelete(req) };
  }
  if (def.group === '' && def.plural === 'persistentvolumeclaims') {
    const list = async () => (await registry.lookup('storage.k8s.io', 'v1', 'storageclasses')?.list({ predicate: () => true, selectorActive: false }))?.items ?? [];
    const protect = !opts.disabled?.has(StorageObjectInUseProtection);
    return {
      admit: async (req: AdmissionRequest) => {
        await admitDefaultStorageClass(req, list);
        if (protect) admitClaimProtection(req);
      },
    };
  }
  if (def.group === '' && def.plural === 'persistentvolumes' && !opts.disabled?.has(StorageObjectInUseProtection)) {
    return { admit: async (req: AdmissionRequest) => admitVolumeProtection(req) };
  }
  if (def.group === 'scheduling.k8s.io' && def.plural === 'priorityclasses') {
    return { admit: async (req: AdmissionRequest) => (req.subresource ? undefined : admitPriorityClass(req, classes)) };
  }
  return undefined;
}

const everything = { predicate: () => true, selectorActive: false };

/** registryLimitRangeLister lists a namespace's LimitRanges from the registry, reading every write so far. */
function registryLimitRangeLister(registry: APIRegistry): (namespace: string) => Promise<LimitRange[]> {
  return async (namespace) => {
    const store = registry.lookup('', 'v1', 'limitranges');
    if (!store) return [];
    return (await store.list({ ...everything, namespace })).items as LimitRange[];
  };
}

/** registryQuotaStore reads and charges quotas through the registry, as kube-apiserver's loopback client would. */
function registryQuotaStore(registry: APIRegistry): ConstructorParameters<typeof QuotaAdmission>[0] {
  const store = (): GenericStore => {
    const s = registry.lookup('', 'v1', 'resourcequotas');
    if (!s) throw new Error('resourcequotas are not served');
    return s;
  };
  return {
    list: async (namespace, fresh) => (await store().list({ ...everything, namespace, resourceVersion: fresh ? undefined : '0' })).items as ResourceQuota[],
    updateStatus: async (q) => {
      const ctx = { now: new Date(), dryRun: false, user: { name: 'system:apiserver', groups: ['system:masters'] } };
      return (await store().update(q.metadata.namespace, q.metadata.name!, q, ctx, { subresource: 'status' })).object as ResourceQuota;
    },
  };
}

/**
 * validatingAdmission is the validating phase for every resource: LimitRanger's bounds on pods
 * and claims, then ResourceQuota, last as in Kubernetes, so nothing refused later is charged.
 */
export function validatingAdmission(registry: APIRegistry, opts: AdmissionOptions & { log?: Logger } = {}): ValidatingAdmission {
  const limitRanger = opts.disabled?.has('LimitRanger') ? undefined : new LimitRanger(registryLimitRangeLister(registry));
  const quota = opts.disabled?.has('ResourceQuota') ? undefined : new QuotaAdmission(registryQuotaStore(registry), opts.log);
  return async (req, def) => {
    const gr = { group: def.group, resource: def.plural };
    await limitRanger?.validate(req, gr);
    await quota?.validate(req, gr);
  };
}
