// ResourceList arithmetic for quota (k8s.io/apiserver pkg/quota/v1 resources.go): exact amounts
// that remember the notation they were written in, so sums print as Kubernetes prints them
// ("1Gi" + "512Mi" = "1536Mi", "0" + "500m" = "500m").

import { type ParsedQuantity, formatQuantity, parseQuantity } from '../api/core/quantity.js';
import type { ResourceList } from '../api/core/types.js';

/** Amounts are quantities by resource name. */
export type Amounts = Map<string, ParsedQuantity>;

/** one is the quantity 1 (an object counted once). */
export const one = (): ParsedQuantity => ({ nanos: 1_000_000_000n, format: 'DecimalSI' });

/** fromList reads a ResourceList; malformed quantities are left out. */
export function fromList(list: ResourceList | undefined): Amounts {
  const out: Amounts = new Map();
  for (const [k, q] of Object.entries(list ?? {})) {
    const p = parseQuantity(q);
    if (p) out.set(k, p);
  }
  return out;
}

/** toList prints amounts as a ResourceList, canonically. */
export function toList(a: Amounts): ResourceList {
  const out: ResourceList = {};
  for (const k of [...a.keys()].sort()) out[k] = formatQuantity(a.get(k)!.nanos, a.get(k)!.format);
  return out;
}

/** addQuantity is Quantity.Add: a zero takes the other's notation. */
export function addQuantity(a: ParsedQuantity | undefined, b: ParsedQuantity): ParsedQuantity {
  if (!a) return { ...b };
  return { nanos: a.nanos + b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

/** add is quota.Add: the sum of each resource in either. */
export function add(a: Amounts, b: Amounts): Amounts {
  const out: Amounts = new Map(a);
  for (const [k, v] of b) out.set(k, addQuantity(out.get(k), v));
  return out;
}

/** subtractNonNegative is quota.SubtractWithNonNegativeResult. */
export function subtractNonNegative(a: Amounts, b: Amounts): Amounts {
  const out: Amounts = new Map();
  for (const [k, v] of a) {
    const n = v.nanos - (b.get(k)?.nanos ?? 0n);
    out.set(k, { nanos: n > 0n ? n : 0n, format: v.format });
  }
  return out;
}

/** mask keeps the named resources. */
export function mask(a: Amounts, names: Iterable<string>): Amounts {
  const out: Amounts = new Map();
  for (const k of names) {
    const v = a.get(k);
    if (v) out.set(k, v);
  }
  return out;
}

/** removeZeros drops the resources at zero. */
export function removeZeros(a: Amounts): Amounts {
  return new Map([...a].filter(([, v]) => v.nanos !== 0n));
}

/** negative lists the resources below zero. */
export function negative(a: Amounts): string[] {
  return [...a].filter(([, v]) => v.nanos < 0n).map(([k]) => k);
}

/** exceeded is quota.LessThanOrEqual's second answer: the resources of a above b's (a resource b lacks is not limited). */
export function exceeded(a: Amounts, b: Amounts): string[] {
  const out: string[] = [];
  for (const [k, v] of a) {
    const limit = b.get(k);
    if (limit && v.nanos > limit.nanos) out.push(k);
  }
  return out;
}

/** prettyPrint is the admission plugin's prettyPrint: `name=value` pairs by name, comma-separated. */
export function prettyPrint(a: Amounts): string {
  return [...a.keys()]
    .sort()
    .map((k) => `${k}=${formatQuantity(a.get(k)!.nanos, a.get(k)!.format)}`)
    .join(',');
}

/** equalLists says whether two ResourceLists hold the same amounts (Semantic.DeepEqual). */
export function equalLists(a: ResourceList | undefined, b: ResourceList | undefined): boolean {
  const x = fromList(a);
  const y = fromList(b);
  if (x.size !== y.size || Object.keys(a ?? {}).length !== Object.keys(b ?? {}).length) return false;
  for (const [k, v] of x) if (y.get(k)?.nanos !== v.nanos) return false;
  return true;
}
