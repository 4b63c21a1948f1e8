// The LimitRanger admission plugin (plugin/pkg/admission/limitranger): a new pod's containers
// (init containers too) get the namespace's LimitRange defaults for the requests and limits they
// do not set, noted in the kubernetes.io/limit-ranger annotation; then every container, the pod
// as a whole and every claim must keep within the ranges' min, max and limit/request ratio.

import { type LimitRange, type LimitRangeItem, LimitType } from '../../lib/api/core/limitrange.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { canonicalQuantity, quantityNanos } from '../../lib/api/core/quantity.js';
import type { Container, ResourceList } from '../../lib/api/core/types.js';
import type { KubeObject } from '../../lib/api/meta.js';
import { forbidden } from '../../lib/machinery/status.js';
import { podRequestsAndLimits } from '../../lib/quota/evaluators.js';
import { toList } from '../../lib/quota/resources.js';
import type { AdmissionRequest } from '../registry/store.js';

/** limitRangerAnnotation records which defaults the plugin set. */
export const limitRangerAnnotation = 'kubernetes.io/limit-ranger';

/** LimitRangeLister reads a namespace's LimitRanges. */
export type LimitRangeLister = (namespace: string) => Promise<LimitRange[]>;

/** aggregateMessage is utilerrors.NewAggregate(errs).Error(): one message alone, several deduplicated in brackets. */
export function aggregateMessage(msgs: readonly string[]): string {
  if (msgs.length === 1) return msgs[0]!;
  const seen = [...new Set(msgs)];
  return seen.length === 1 ? seen[0]! : `[${seen.join(', ')}]`;
}

/** admissionName is the name admission.NewForbidden reports: the object's name, else its generateName, else Unknown. */
export function admissionName(obj: KubeObject | undefined, requested: string): string {
  return requested || obj?.metadata?.generateName || obj?.metadata?.name || 'Unknown';
}

function containerDefaults(lr: LimitRange): { requests: ResourceList; limits: ResourceList } {
  const requests: ResourceList = {};
  const limits: ResourceList = {};
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== LimitType.Container) continue;
    Object.assign(requests, item.defaultRequest);
    Object.assign(limits, item.default);
  }
  return { requests, limits };
}

function mergeContainer(c: Container, defaults: { requests: ResourceList; limits: ResourceList }, kind: string, notes: string[]): void {
  const res = (c.resources ??= {});
  const limits = (res.limits ??= {});
  const requests = (res.requests ??= {});
  const setLimits = Object.keys(defaults.limits).filter((k) => !(k in limits));
  const setRequests = Object.keys(defaults.requests).filter((k) => !(k in requests));
  for (const k of setLimits) limits[k] = defaults.limits[k]!;
  for (const k of setRequests) requests[k] = defaults.requests[k]!;
  if (!Object.keys(limits).length) delete res.limits;
  if (!Object.keys(requests).length) delete res.requests;
  if (setRequests.length) notes.push(`${setRequests.sort().join(', ')} request for ${kind} ${c.name}`);
  if (setLimits.length) notes.push(`${setLimits.sort().join(', ')} limit for ${kind} ${c.name}`);
}

/** applyPodDefaults is PodMutateLimitFunc for one LimitRange: it fills defaults and sets the annotation. */
export function applyPodDefaults(pod: Pod, lr: LimitRange): void {
  const defaults = containerDefaults(lr);
  const notes: string[] = [];
  for (const c of pod.spec?.containers ?? []) mergeContainer(c, defaults, 'container', notes);
  for (const c of pod.spec?.initContainers ?? []) mergeContainer(c, defaults, 'init container', notes);
  if (notes.length) {
    pod.metadata.annotations ??= {};
    pod.metadata.annotations[limitRangerAnnotation] = `LimitRanger plugin set: ${notes.join('; ')}`;
  }
}

// Comparisons at milli precision, as requestLimitEnforcedValues does for values that fit.
const milli = (q: unknown) => {
  const n = quantityNanos(q as string);
  return n >= 0n ? (n + 999_999n) / 1_000_000n : n / 1_000_000n;
};

function minConstraint(type: string, name: string, enforced: unknown, requests: ResourceList, limits: ResourceList): string | undefined {
  const e = canonicalQuantity(enforced as string);
  if (!(name in requests)) return `minimum ${name} usage per ${type} is ${e}.  No request is specified`;
  if (milli(requests[name]) < milli(enforced)) return `minimum ${name} usage per ${type} is ${e}, but request is ${canonicalQuantity(requests[name]!)}`;
  if (name in limits && milli(limits[name]) < milli(enforced)) return `minimum ${name} usage per ${type} is ${e}, but limit is ${canonicalQuantity(limits[name]!)}`;
  return undefined;
}

function maxConstraint(type: string, name: string, enforced: unknown, requests: ResourceList, limits: ResourceList): string | undefined {
  const e = canonicalQuantity(enforced as string);
  if (!(name in limits)) return `maximum ${name} usage per ${type} is ${e}.  No limit is specified`;
  if (milli(limits[name]) > milli(enforced)) return `maximum ${name} usage per ${type} is ${e}, but limit is ${canonicalQuantity(limits[name]!)}`;
  if (name in requests && milli(requests[name]) > milli(enforced)) return `maximum ${name} usage per ${type} is ${e}, but request is ${canonicalQuantity(requests[name]!)}`;
  return undefined;
}

function ratioConstraint(type: string, name: string, enforced: unknown, requests: ResourceList, limits: ResourceList): string | undefined {
  const e = canonicalQuantity(enforced as string);
  const req = name in requests ? milli(requests[name]) : 0n;
  const lim = name in limits ? milli(limits[name]) : 0n;
  if (req === 0n) return `${name} max limit to request ratio per ${type} is ${e}, but no request is specified or request is 0`;
  if (lim === 0n) return `${name} max limit to request ratio per ${type} is ${e}, but no limit is specified or limit is 0`;
  const ratio = Number(lim) / Number(req);
  if (ratio * 1000 > Number(milli(enforced))) return `${name} max limit to request ratio per ${type} is ${e}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
}

function checkItem(item: LimitRangeItem, requests: ResourceList, limits: ResourceList, errs: string[]): void {
  const push = (m: string | undefined) => m && errs.push(m);
  for (const [k, v] of Object.entries(item.min ?? {})) push(minConstraint(item.type, k, v, requests, limits));
  for (const [k, v] of Object.entries(item.max ?? {})) push(maxConstraint(item.type, k, v, requests, limits));
  for (const [k, v] of Object.entries(item.maxLimitRequestRatio ?? {})) push(ratioConstraint(item.type, k, v, requests, limits));
}

/** validatePod is PodValidateLimitFunc for one LimitRange: every broken bound's message. */
export function validatePod(pod: Pod, lr: LimitRange): string[] {
  const errs: string[] = [];
  for (const item of lr.spec?.limits ?? []) {
    if (item.type === LimitType.Container) {
      for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
        checkItem(item, c.resources?.requests ?? {}, c.resources?.limits ?? {}, errs);
      }
    }
    if (item.type === LimitType.Pod) {
      const { requests, limits } = podRequestsAndLimits(pod);
      checkItem(item, toList(requests), toList(limits), errs);
    }
  }
  return errs;
}

interface ClaimLike extends KubeObject {
  spec?: { resources?: { requests?: ResourceList } };
}

/** validateClaim is PersistentVolumeClaimValidateLimitFunc: the claim's storage within min and max. */
export function validateClaim(pvc: ClaimLike, lr: LimitRange): string[] {
  const errs: string[] = [];
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== LimitType.PersistentVolumeClaim) continue;
    const requests = pvc.spec?.resources?.requests ?? {};
    // Only the request is the user's: spec.resources.limits is not held to min, and max bounds the request.
    for (const [k, v] of Object.entries(item.min ?? {})) {
      const m = minConstraint(item.type, k, v, requests, {});
      if (m) errs.push(m);
    }
    for (const [k, v] of Object.entries(item.max ?? {})) {
      const e = canonicalQuantity(v);
      if (!(k in requests)) errs.push(`maximum ${k} usage per ${item.type} is ${e}.  No request is specified`);
      else if (milli(requests[k]) > milli(v)) errs.push(`maximum ${k} usage per ${item.type} is ${e}, but request is ${canonicalQuantity(requests[k]!)}`);
    }
  }
  return errs;
}

const podResource = { group: '', resource: 'pods' };
const claimResource = { group: '', resource: 'persistentvolumeclaims' };

/** LimitRanger is the plugin: admitPod (mutating) fills defaults, validate (validating) enforces the bounds. */
export class LimitRanger {
  constructor(private readonly list: LimitRangeLister) {}

  /** admitPod fills a new pod's defaults from every LimitRange of its namespace. */
  async admitPod(req: AdmissionRequest): Promise<void> {
    if (req.operation !== 'CREATE' || req.subresource || !req.namespace) return;
    for (const lr of await this.list(req.namespace)) applyPodDefaults(req.object as Pod, lr);
  }

  /** validate refuses a new pod, or a new or changed claim, that breaks a bound. */
  async validate(req: AdmissionRequest, gr: { group: string; resource: string }): Promise<void> {
    if (req.subresource || !req.namespace || gr.group !== '') return;
    const isPod = gr.resource === 'pods' && req.operation === 'CREATE';
    const isClaim = gr.resource === 'persistentvolumeclaims';
    if (!isPod && !isClaim) return;
    const ranges = await this.list(req.namespace);
    if (!ranges.length) return;
    for (const lr of ranges) {
      const errs = isPod ? validatePod(req.object as Pod, lr) : validateClaim(req.object as ClaimLike, lr);
      if (errs.length) throw forbidden(isPod ? podResource : claimResource, admissionName(req.object, req.name), aggregateMessage(errs));
    }
  }
}
