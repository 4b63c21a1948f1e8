// OpenAPI definition names and group/version/kinds of client-node models: which Go package a
// model lives in (`io.k8s.api.apps.v1.Deployment`), which models are kinds, and which model a
// served kind has.

import { modelAttributes, modelClassNames, parseType, servedAttributes, type TypeRef } from './models.js';
import { kindsByGroup } from './gotags.js';
import { metaPackage } from './definitions.js';

/** GroupVersionKind names a kind the way `x-kubernetes-group-version-kind` does. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/**
 * groupPackages maps an API group to the package prefix of its OpenAPI definition names. Groups
 * not listed follow Kubernetes' rule for in-tree groups: `io.k8s.api.<first label of the group>`.
 */
const groupPackages: Record<string, string> = {
  '': 'io.k8s.api.core',
  'internal.apiserver.k8s.io': 'io.k8s.api.apiserverinternal',
  'apiextensions.k8s.io': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions',
  'apiregistration.k8s.io': 'io.k8s.kube-aggregator.pkg.apis.apiregistration',
};

export {
  FieldsV1Definition,
  IntOrStringDefinition,
  MicroTimeDefinition,
  PatchDefinition,
  QuantityDefinition,
  RawExtensionDefinition,
  TimeDefinition,
} from './definitions.js';

/** groupPackage returns the definition-name package of a group, e.g. `io.k8s.api.apps`. */
export function groupPackage(group: string): string {
  return groupPackages[group] ?? `io.k8s.api.${group.split('.')[0]}`;
}

/**
 * groupPrefixes: client-node prefixes a model with its group when two groups define the same type
 * name (`CoreV1Event`, `EventsV1Event`). The prefix is the capitalised first label of the group.
 */
const groupPrefixes: Record<string, string> = {
  Core: '',
  Apps: 'apps',
  Batch: 'batch',
  Discovery: 'discovery.k8s.io',
  Events: 'events.k8s.io',
  Rbac: 'rbac.authorization.k8s.io',
  Flowcontrol: 'flowcontrol.apiserver.k8s.io',
  Admissionregistration: 'admissionregistration.k8s.io',
  Apiextensions: 'apiextensions.k8s.io',
  Apiregistration: 'apiregistration.k8s.io',
  Authentication: 'authentication.k8s.io',
  Storage: 'storage.k8s.io',
  Resource: 'resource.k8s.io',
  Storagemigration: 'storagemigration.k8s.io',
  Networking: 'networking.k8s.io',
  Policy: 'policy',
};

/** metaTypes are the k8s.io/apimachinery meta/v1 types every group shares. */
const metaTypes = new Set(
  (
    'ObjectMeta ListMeta OwnerReference ManagedFieldsEntry LabelSelector LabelSelectorRequirement ' +
    'FieldSelectorRequirement Condition Status StatusDetails StatusCause DeleteOptions Preconditions ' +
    'WatchEvent APIResource APIResourceList APIGroup APIGroupList APIVersions GroupVersionForDiscovery ' +
    'ServerAddressByClientCIDR ShardInfo'
  ).split(' '),
);

/**
 * coreTypesUsedElsewhere are the core/v1 types other groups' types embed (a Deployment's pod
 * template, a StatefulSet's claim templates, a Job's ObjectReferences, …). Every other nested type
 * lives in the package of the type that holds it.
 */
const coreTypesUsedElsewhere = new Set(
  'PodTemplateSpec PersistentVolumeClaim PersistentVolumeSpec ObjectReference EventSource Toleration TopologySelectorTerm TypedLocalObjectReference'.split(' '),
);

const kindGroup = new Map<string, string>();
for (const [group, kinds] of Object.entries(kindsByGroup())) for (const k of kinds.split(' ')) kindGroup.set(k, group);

/** ModelName is a client-node model name split into its parts: `EventsV1Event` → events.k8s.io, v1, Event. */
export interface ModelName {
  prefixGroup?: string;
  version: string;
  type: string;
}

const modelNameRE = /^([A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$/;

/** splitModelName parses a client-node model name, or returns undefined for names that are not `V1Foo`-shaped. */
export function splitModelName(model: string): ModelName | undefined {
  const m = modelNameRE.exec(model);
  if (!m) return undefined;
  const [, prefix, ver, type] = m;
  const version = ver.toLowerCase();
  if (prefix === undefined) return { version, type };
  const group = groupPrefixes[prefix];
  // Names like `V1Foo` whose type happens to start with a word are not prefixed.
  if (group === undefined) return { version, type: prefix + type };
  return { prefixGroup: group, version, type };
}

/**
 * groupOfModel says which API group's package defines a model: its client-node prefix, the meta
 * package, the group of a known kind, core for the few core types other groups embed, or else the
 * group of the type that refers to it. Without a referrer, the group is the one whose kinds reach
 * the model.
 */
export function groupOfModel(model: string, referrerGroup?: string): string | 'meta' {
  const n = splitModelName(model);
  if (!n) return referrerGroup ?? '';
  if (n.prefixGroup !== undefined) return n.prefixGroup;
  if (metaTypes.has(n.type)) return 'meta';
  const kg = kindGroup.get(n.type) ?? (n.type.endsWith('List') ? kindGroup.get(n.type.slice(0, -4)) : undefined);
  if (kg !== undefined) return kg;
  if (coreTypesUsedElsewhere.has(n.type)) return '';
  if (referrerGroup !== undefined) return referrerGroup;
  return homeGroups().get(model) ?? '';
}

let homeGroupCache: Map<string, string> | undefined;

/** homeGroups maps every model reachable from a known kind to that kind's group (computed once). */
function homeGroups(): Map<string, string> {
  if (homeGroupCache) return homeGroupCache;
  const home = new Map<string, string>();
  const visit = (model: string, group: string): void => {
    if (home.has(model)) return;
    const g = groupOfModel(model, group);
    if (g === 'meta') return;
    home.set(model, g);
    for (const a of servedAttributes(model)) for (const m of modelsIn(parseType(a.type))) visit(m, g);
  };
  const kinds: [string, string][] = [];
  for (const m of modelClassNames()) {
    const gvk = modelAttributes(m) ? kindOfModel(m) : undefined;
    if (gvk && !metaKinds.has(gvk.kind)) kinds.push([m, gvk.group]);
  }
  // Core first, so a type both core and another group reach is filed under core.
  kinds.sort(([, a], [, b]) => Number(a !== '') - Number(b !== ''));
  for (const [k, g] of kinds) visit(k, g);
  homeGroupCache = home;
  return home;
}

function modelsIn(t: TypeRef): string[] {
  switch (t.kind) {
    case 'model':
      return [t.model];
    case 'array':
      return modelsIn(t.items);
    case 'map':
      return modelsIn(t.values);
    default:
      return [];
  }
}

/** definitionName is the OpenAPI definition name of a model: `io.k8s.api.apps.v1.Deployment`. */
export function definitionName(model: string, referrerGroup?: string): string {
  const n = splitModelName(model);
  if (!n) return model;
  const group = groupOfModel(model, referrerGroup);
  const pkg = group === 'meta' ? metaPackage : groupPackage(group);
  return `${pkg}.${n.version}.${n.type}`;
}

/** metaKinds are the meta/v1 types that are kinds of their own (served by every group). */
const metaKinds = new Set('Status DeleteOptions WatchEvent APIResourceList APIGroup APIGroupList APIVersions'.split(' '));

/** kindOfModel returns the GVK of a model that is a top-level kind (or its list), else undefined. */
export function kindOfModel(model: string): GroupVersionKind | undefined {
  const n = splitModelName(model);
  if (!n) return undefined;
  if (metaTypes.has(n.type)) return metaKinds.has(n.type) ? { group: '', version: 'v1', kind: n.type } : undefined;
  const isKind = n.prefixGroup !== undefined ? modelAttributes(model)?.some((a) => a.baseName === 'kind') && modelAttributes(model)?.some((a) => a.baseName === 'metadata') : kindGroup.has(n.type.replace(/List$/, '')) || kindGroup.has(n.type);
  if (!isKind) return undefined;
  const group = groupOfModel(model);
  return { group: group === 'meta' ? '' : group, version: n.version, kind: n.type };
}

/**
 * modelNameFor names the client-node model of a kind: `V1Deployment`, or the group-prefixed form
 * client-node uses when two groups share a kind name (`CoreV1Event`, `EventsV1Event`).
 */
export function modelNameFor(group: string, version: string, kind: string): string | undefined {
  const ver = version[0].toUpperCase() + version.slice(1);
  const prefix = Object.entries(groupPrefixes).find(([, g]) => g === group)?.[0];
  const prefixed = prefix !== undefined ? `${prefix}${ver}${kind}` : undefined;
  if (prefixed && modelAttributes(prefixed)) return prefixed;
  const plain = `${ver}${kind}`;
  if (modelAttributes(plain) && groupOfModel(plain) === group) return plain;
  return undefined;
}
