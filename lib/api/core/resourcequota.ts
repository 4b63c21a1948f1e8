// core/v1 ResourceQuota: hard limits on what a namespace may hold, optionally narrowed by scopes
// to some pods (ValidateResourceQuota), its status kept by the resource quota controller and
// charged by the ResourceQuota admission plugin (apiserver/admission/resourcequota.ts).

import { type FieldError, Path, invalidValue, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject } from '../meta.js';
import { defineResource } from '../resource.js';
import { validateResourceName } from './podspec.js';
import { canonicalQuantity, formatQuantity, parseQuantity, quantityFormatError } from './quantity.js';
import type { ResourceList } from './types.js';
import { fieldImmutableErrorMsg } from './validation.js';

/** ResourceQuotaScope names a class of pods a quota may be narrowed to. */
export const ResourceQuotaScope = {
  Terminating: 'Terminating',
  NotTerminating: 'NotTerminating',
  BestEffort: 'BestEffort',
  NotBestEffort: 'NotBestEffort',
  PriorityClass: 'PriorityClass',
  CrossNamespacePodAffinity: 'CrossNamespacePodAffinity',
} as const;

/** ScopedResourceSelectorRequirement is one term of spec.scopeSelector. */
export interface ScopedResourceSelectorRequirement {
  scopeName: string;
  operator: string;
  values?: string[];
}

export interface ResourceQuotaSpec {
  hard?: ResourceList;
  scopes?: string[];
  scopeSelector?: { matchExpressions?: ScopedResourceSelectorRequirement[] };
}

export interface ResourceQuotaStatus {
  hard?: ResourceList;
  used?: ResourceList;
}

/** ResourceQuota is core/v1 ResourceQuota. */
export interface ResourceQuota extends KubeObject {
  spec?: ResourceQuotaSpec;
  status?: ResourceQuotaStatus;
}

const standardQuotaResources = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'requests.storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'services',
  'services.nodeports',
  'services.loadbalancers',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
]);

/** isStandardQuotaResourceName is helper.IsStandardQuotaResourceName. */
export function isStandardQuotaResourceName(name: string): boolean {
  return standardQuotaResources.has(name) || name.startsWith('hugepages-') || name.startsWith('requests.hugepages-');
}

const podObjectCountQuotaResources = new Set(['pods']);
const podComputeQuotaResources = new Set(['cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']);
const standardScopes = new Set<string>(Object.values(ResourceQuotaScope));

/** isResourceQuotaScopeValidForResource is helper.IsResourceQuotaScopeValidForResource. */
export function isResourceQuotaScopeValidForResource(scope: string, resource: string): boolean {
  if (scope === ResourceQuotaScope.BestEffort) return podObjectCountQuotaResources.has(resource);
  if (standardScopes.has(scope)) return podObjectCountQuotaResources.has(resource) || podComputeQuotaResources.has(resource);
  return true;
}

function validateQuotaResourceName(name: string, path: Path): FieldError[] {
  const errs = validateResourceName(name, path).filter((e) => e.detail !== 'must be a standard resource type or fully qualified');
  if (!name.includes('/') && !isStandardQuotaResourceName(name)) errs.push(invalidValue(path, name, 'must be a standard resource for quota'));
  return errs;
}

function validateQuantity(name: string, q: unknown, path: Path): FieldError[] {
  const parsed = parseQuantity(q as string);
  if (!parsed) return [invalidValue(path, q, quantityFormatError)];
  if (parsed.nanos < 0n) return [invalidValue(path, canonicalQuantity(q as string), 'must be greater than or equal to 0')];
  const native = !name.includes('/') || name.includes('kubernetes.io/') || name.startsWith('count/') || name.includes('.storageclass.storage.k8s.io/');
  if (!native && parsed.nanos % 1_000_000_000n !== 0n) return [invalidValue(path, q, 'must be an integer')];
  return [];
}

function validateResourceList(list: ResourceList | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(list ?? {})) errs.push(...validateQuotaResourceName(k, path.key(k)), ...validateQuantity(k, v, path.key(k)));
  return errs;
}

const conflictingScopes = [
  [ResourceQuotaScope.BestEffort, ResourceQuotaScope.NotBestEffort],
  [ResourceQuotaScope.Terminating, ResourceQuotaScope.NotTerminating],
];

/** validateResourceQuotaSpec is ValidateResourceQuotaSpec: hard, scopes and scopeSelector. */
export function validateResourceQuotaSpec(spec: ResourceQuotaSpec, path: Path): FieldError[] {
  const errs = validateResourceList(spec.hard, path.child('hard'));
  const hard = Object.keys(spec.hard ?? {}).sort();
  const scopesPath = path.child('scopes');
  const scopes = new Set<string>();
  for (const scope of spec.scopes ?? []) {
    if (!standardScopes.has(scope)) errs.push(invalidValue(scopesPath, spec.scopes, 'unsupported scope'));
    for (const k of hard) {
      if (isStandardQuotaResourceName(k) && !isResourceQuotaScopeValidForResource(scope, k)) errs.push(invalidValue(scopesPath, spec.scopes, 'unsupported scope applied to resource'));
    }
    scopes.add(scope);
  }
  for (const pair of conflictingScopes) if (pair.every((s) => scopes.has(s))) errs.push(invalidValue(scopesPath, spec.scopes, 'conflicting scopes'));

  const selPath = path.child('scopeSelector');
  const selected = new Set<string>();
  for (const req of spec.scopeSelector?.matchExpressions ?? []) {
    if (!standardScopes.has(req.scopeName)) errs.push(invalidValue(selPath.child('matchExpressions.scopeName'), req.scopeName, 'unsupported scope'));
    for (const k of hard) {
      if (isStandardQuotaResourceName(k) && !isResourceQuotaScopeValidForResource(req.scopeName, k)) {
        errs.push(invalidValue(selPath.child('matchExpressions.scopeName'), req.scopeName, 'unsupported scope applied to resource'));
      }
    }
    if (req.scopeName !== ResourceQuotaScope.PriorityClass && standardScopes.has(req.scopeName) && req.operator !== 'Exists') {
      errs.push(
        invalidValue(
          selPath.child('matchExpressions.operator'),
          req.operator,
          "must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
        ),
      );
    }
    if (req.operator === 'In' || req.operator === 'NotIn') {
      if (!req.values?.length) errs.push(required(selPath.child('matchExpressions.values'), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
    } else if (req.operator === 'Exists' || req.operator === 'DoesNotExist') {
      if (req.values?.length) errs.push(invalidValue(selPath.child('matchExpressions.values'), req.values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
    } else {
      errs.push(invalidValue(selPath.child('matchExpressions.operator'), req.operator, 'not a valid selector operator'));
    }
    selected.add(req.scopeName);
  }
  for (const pair of conflictingScopes) if (pair.every((s) => selected.has(s))) errs.push(invalidValue(selPath, spec.scopeSelector, 'conflicting scopes'));
  return errs;
}

/** validateResourceQuota is ValidateResourceQuota. */
export function validateResourceQuota(q: ResourceQuota): FieldError[] {
  return [...validateObjectMeta(q.metadata, true, nameIsDNSSubdomain), ...validateResourceQuotaSpec(q.spec ?? {}, new Path('spec')), ...validateResourceQuotaStatus(q)];
}

/** validateResourceQuotaStatus checks status.hard and status.used. */
export function validateResourceQuotaStatus(q: ResourceQuota): FieldError[] {
  const path = new Path('status');
  return [...validateResourceList(q.status?.hard, path.child('hard')), ...validateResourceList(q.status?.used, path.child('used'))];
}

/** validateResourceQuotaUpdate: the scopes of a quota never change. */
export function validateResourceQuotaUpdate(q: ResourceQuota, old: ResourceQuota): FieldError[] {
  const a = new Set(q.spec?.scopes ?? []);
  const b = new Set(old.spec?.scopes ?? []);
  if (a.size !== b.size || [...a].some((s) => !b.has(s))) return [invalidValue(new Path('spec').child('scopes'), q.spec?.scopes ?? null, fieldImmutableErrorMsg)];
  return [];
}

/** canonicalList prints each quantity canonically, as the API hands them back. */
function canonicalList(list: ResourceList | undefined): void {
  for (const [k, q] of Object.entries(list ?? {})) {
    const p = parseQuantity(q);
    if (p) list![k] = formatQuantity(p.nanos, p.format);
  }
}

/** quotaColumns is printResourceQuota: `resource: used/hard` pairs, limits.* in the Limit column, the rest in Request. */
export function quotaColumns(q: ResourceQuota): { request: string; limit: string } {
  const request: string[] = [];
  const limit: string[] = [];
  for (const name of Object.keys(q.spec?.hard ?? {}).sort()) {
    const used = q.status?.used?.[name];
    const hard = q.status?.hard?.[name];
    const cell = `${name}: ${used === undefined ? '0' : canonicalQuantity(used)}/${hard === undefined ? '0' : canonicalQuantity(hard)}`;
    const pieces = name.split('.');
    (pieces.length > 1 && pieces[0] === 'limits' ? limit : request).push(cell);
  }
  return { request: request.join(', '), limit: limit.join(', ') };
}

export const resourceQuotas = defineResource<ResourceQuota>({
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  singular: 'resourcequota',
  shortNames: ['quota'],
  namespaced: true,
  subresources: { status: true },
  printerColumns: [
    { name: 'Name', type: 'string', format: 'name', cell: (q) => q.metadata.name },
    { name: 'Age', type: 'string', cell: (q, now) => age(q.metadata.creationTimestamp, now) },
    { name: 'Request', type: 'string', description: 'Request represents a minimum amount of cpu/memory that a container may consume.', cell: (q) => quotaColumns(q).request },
    {
      name: 'Limit',
      type: 'string',
      description: 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
      cell: (q) => quotaColumns(q).limit,
    },
  ],
  defaults: (q) => {
    canonicalList(q.spec?.hard);
    canonicalList(q.status?.hard);
    canonicalList(q.status?.used);
  },
  prepareForCreate(q) {
    delete q.status;
  },
  validate: validateResourceQuota,
  validateUpdate: validateResourceQuotaUpdate,
  validateStatusUpdate: (q) => validateResourceQuotaStatus(q),
});
