// Admission for the built-in kinds, the in-tree plugins kube-apiserver enables by default that
// change what skiff stores: ServiceAccount, Priority and DefaultTolerationSeconds on pods,
// Priority on PriorityClasses, NamespaceLifecycle on namespace deletes, NodeRestriction on what
// kubelets write (pods, nodes, leases). admissionHooksFor hands the registry the hook for one kind.

import type { ResourceDefinition } from '../../lib/api/resource.js';
import type { APIRegistry } from '../registry/registry.js';
import type { AdmissionRequest, RegistryHooks } from '../registry/store.js';
import { admitDefaultStorageClass } from './defaultstorageclass.js';
import { admitDefaultTolerationSeconds } from './defaulttolerationseconds.js';
import { admitNamespaceDelete } from './namespacelifecycle.js';
import { NodeRestriction } from './noderestriction.js';
import { admitServiceAccount, registryServiceAccountReader } from './serviceaccount.js';
import { admitPod, admitPriorityClass, registryPriorityClassReader, type PriorityClassReader } from './priority.js';

export { admitDefaultTolerationSeconds } from './defaulttolerationseconds.js';
export { admitNamespaceDelete, immortalNamespaces } from './namespacelifecycle.js';
export { NodeRestriction, forbiddenNodeLabels, isKubeletLabel } from './noderestriction.js';
export { admitPod, admitPriorityClass, defaultPriorityClass, type PriorityClassReader } from './priority.js';

/** disableablePlugins are the plugins --disable-admission-plugins may name. */
export const disableablePlugins = ['ServiceAccount'] as const;

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
    const accounts = registryServiceAccountReader((namespace, name, rv) => {
      const store = registry.lookup('', 'v1', 'serviceaccounts');
      if (!store) throw new Error('serviceaccounts are not served');
      return store.get(namespace, name, rv);
    });
    const serviceAccount = !opts.disabled?.has('ServiceAccount');
    return {
      admit: async (req: AdmissionRequest) => {
        await nodeRestriction.admitPod(req);
        if (req.subresource) return;
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
    return { admit: (req: AdmissionRequest) => admitDefaultStorageClass(req, list) };
  }
  if (def.group === 'scheduling.k8s.io' && def.plural === 'priorityclasses') {
    return { admit: async (req: AdmissionRequest) => (req.subresource ? undefined : admitPriorityClass(req, classes)) };
  }
  return undefined;
}
