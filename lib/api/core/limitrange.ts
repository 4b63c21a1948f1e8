// core/v1 LimitRange: per-namespace bounds and defaults for the compute resources of pods and
// containers and the storage of claims (ValidateLimitRange), enforced by the LimitRanger
// admission plugin (apiserver/admission/limitranger.ts).

import { type FieldError, Path, duplicate, forbiddenField, invalidValue, required } from '../../machinery/field-errors.js';
import { isQualifiedName, nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject } from '../meta.js';
import { defineResource } from '../resource.js';
import { isOvercommitAllowed, validateContainerResourceName, validateResourceName } from './podspec.js';
import { canonicalQuantity, formatQuantity, parseQuantity, quantityNanos } from './quantity.js';
import type { ResourceList } from './types.js';

/** LimitType names what a LimitRangeItem bounds. */
export const LimitType = { Pod: 'Pod', Container: 'Container', PersistentVolumeClaim: 'PersistentVolumeClaim' } as const;
export type LimitType = (typeof LimitType)[keyof typeof LimitType];

/** LimitRangeItem is one bound of a LimitRange. */
export interface LimitRangeItem {
  type: string;
  max?: ResourceList;
  min?: ResourceList;
  default?: ResourceList;
  defaultRequest?: ResourceList;
  maxLimitRequestRatio?: ResourceList;
}

/** LimitRange is core/v1 LimitRange. */
export interface LimitRange extends KubeObject {
  spec?: { limits?: LimitRangeItem[] };
}

const standardLimitTypes = new Set<string>(Object.values(LimitType));

function validateLimitRangeTypeName(value: string, path: Path): FieldError[] {
  const errs = isQualifiedName(value).map((m) => invalidValue(path, value, m));
  if (!value.includes('/') && !standardLimitTypes.has(value)) errs.push(invalidValue(path, value, 'must be a standard limit type or fully qualified'));
  return errs;
}

function validateLimitRangeResourceName(type: string, name: string, path: Path): FieldError[] {
  return type === LimitType.Pod || type === LimitType.Container ? validateContainerResourceName(name, path) : validateResourceName(name, path);
}

/** ratioText prints a float64 as Go's %f does (six decimals). */
const ratioText = (x: number) => x.toFixed(6);

/** validateLimitRange is ValidateLimitRange. */
export function validateLimitRange(lr: LimitRange): FieldError[] {
  const errs = validateObjectMeta(lr.metadata, true, nameIsDNSSubdomain);
  const seenTypes = new Set<string>();
  const limitsPath = new Path('spec').child('limits');
  (lr.spec?.limits ?? []).forEach((limit, i) => {
    const p = limitsPath.index(i);
    const type = limit.type ?? '';
    errs.push(...validateLimitRangeTypeName(type, p.child('type')));
    if (seenTypes.has(type)) errs.push(duplicate(p.child('type'), type));
    seenTypes.add(type);

    const keys = new Set<string>();
    const collect = (field: keyof Omit<LimitRangeItem, 'type'>) => {
      for (const k of Object.keys(limit[field] ?? {})) {
        errs.push(...validateLimitRangeResourceName(type, k, p.child(field).key(k)));
        keys.add(k);
      }
    };
    collect('max');
    collect('min');
    if (type === LimitType.Pod) {
      if (Object.keys(limit.default ?? {}).length) errs.push(forbiddenField(p.child('default'), "may not be specified when `type` is 'Pod'"));
      if (Object.keys(limit.defaultRequest ?? {}).length) errs.push(forbiddenField(p.child('defaultRequest'), "may not be specified when `type` is 'Pod'"));
    } else {
      collect('default');
      collect('defaultRequest');
    }
    if (type === LimitType.PersistentVolumeClaim && limit.min?.storage === undefined && limit.max?.storage === undefined) {
      errs.push(required(p.child('limits'), 'either minimum or maximum storage value is required, but neither was provided'));
    }
    collect('maxLimitRequestRatio');

    const get = (field: keyof Omit<LimitRangeItem, 'type'>, k: string) => {
      const list = type === LimitType.Pod && (field === 'default' || field === 'defaultRequest') ? undefined : limit[field];
      const q = list?.[k];
      return q === undefined ? undefined : { text: canonicalQuantity(q), n: quantityNanos(q) };
    };
    for (const k of keys) {
      const min = get('min', k);
      const max = get('max', k);
      const def = get('default', k);
      const defReq = get('defaultRequest', k);
      const ratio = get('maxLimitRequestRatio', k);
      if (min && max && min.n > max.n) errs.push(invalidValue(p.child('min').key(k), min.text, `min value ${min.text} is greater than max value ${max.text}`));
      if (defReq && min && min.n > defReq.n) errs.push(invalidValue(p.child('defaultRequest').key(k), defReq.text, `min value ${min.text} is greater than default request value ${defReq.text}`));
      if (defReq && max && defReq.n > max.n) errs.push(invalidValue(p.child('defaultRequest').key(k), defReq.text, `default request value ${defReq.text} is greater than max value ${max.text}`));
      if (defReq && def && defReq.n > def.n) errs.push(invalidValue(p.child('defaultRequest').key(k), defReq.text, `default request value ${defReq.text} is greater than default limit value ${def.text}`));
      if (def && min && min.n > def.n) errs.push(invalidValue(p.child('default').key(k), min.text, `min value ${min.text} is greater than default value ${def.text}`));
      if (def && max && def.n > max.n) errs.push(invalidValue(p.child('default').key(k), max.text, `default value ${def.text} is greater than max value ${max.text}`));
      if (ratio && ratio.n < 1_000_000_000n) errs.push(invalidValue(p.child('maxLimitRequestRatio').key(k), ratio.text, `ratio ${ratio.text} is less than 1`));
      if (ratio && min && max && min.n > 0n) {
        const limit = Number(max.n) / Number(min.n);
        if (Number(ratio.n) / 1e9 > limit) errs.push(invalidValue(p.child('maxLimitRequestRatio').key(k), ratio.text, `ratio ${ratio.text} is greater than max/min = ${ratioText(limit)}`));
      }
      if (!isOvercommitAllowed(k) && def && defReq && def.n !== defReq.n) {
        errs.push(invalidValue(p.child('defaultRequest').key(k), defReq.text, `default value ${def.text} must equal to defaultRequest value ${defReq.text} in ${k}`));
      }
    }
  });
  return errs;
}

/** canonicalLimits prints every quantity of the item canonically, as the API hands them back. */
function canonicalLimits(lr: LimitRange): void {
  for (const item of lr.spec?.limits ?? []) {
    for (const field of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const) {
      const list = item[field];
      if (!list) continue;
      for (const [k, q] of Object.entries(list)) {
        const parsed = parseQuantity(q);
        if (parsed) list[k] = formatQuantity(parsed.nanos, parsed.format);
      }
    }
  }
}

/**
 * defaultLimitRange is SetDefaults_LimitRangeItem: for a Container item, a max without a default
 * becomes the default limit, a default (or max) without a defaultRequest becomes it, and a min
 * becomes the defaultRequest of what still has none.
 */
export function defaultLimitRange(lr: LimitRange): void {
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== LimitType.Container) continue;
    if (item.max) {
      item.default ??= {};
      for (const [k, q] of Object.entries(item.max)) if (item.default[k] === undefined) item.default[k] = q;
    }
    if (item.default) {
      item.defaultRequest ??= {};
      for (const [k, q] of Object.entries(item.default)) if (item.defaultRequest[k] === undefined) item.defaultRequest[k] = q;
    }
    if (item.min) {
      item.defaultRequest ??= {};
      for (const [k, q] of Object.entries(item.min)) if (item.defaultRequest[k] === undefined) item.defaultRequest[k] = q;
    }
    if (item.default && !Object.keys(item.default).length) delete item.default;
    if (item.defaultRequest && !Object.keys(item.defaultRequest).length) delete item.defaultRequest;
  }
  canonicalLimits(lr);
}

export const limitRanges = defineResource<LimitRange>({
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  plural: 'limitranges',
  singular: 'limitrange',
  shortNames: ['limits'],
  namespaced: true,
  printerColumns: [
    { name: 'Name', type: 'string', format: 'name', cell: (l) => l.metadata.name },
    { name: 'Created At', type: 'date', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', cell: (l) => l.metadata.creationTimestamp },
  ],
  defaults: defaultLimitRange,
  validate: validateLimitRange,
});
