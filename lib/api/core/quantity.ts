// A small resource.Quantity: enough to compare and add requests and limits exactly (QoS class,
// requests <= limits) and to print them the way Kubernetes does in messages. Values are held as
// an exact count of nano-units (bigint), so "100m" + "200m" equals "300m" without float error.
// When lib/machinery grows a full Quantity, this file should defer to it.

import type { Quantity } from './types.js';

/** quantityFormatError is the message Kubernetes gives for a string that is not a quantity. */
export const quantityFormatError = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** ParsedQuantity is an exact value in nano-units plus the notation it was written in. */
export interface ParsedQuantity {
  nanos: bigint;
  format: QuantityFormat;
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  // bigint division truncates toward zero; round up (toward +inf) like Quantity does.
  return a % b !== 0n && a > 0n ? q + 1n : q;
}

/** parseQuantity reads a quantity; undefined when it is not one. */
export function parseQuantity(q: Quantity | undefined | null): ParsedQuantity | undefined {
  if (q === undefined || q === null) return undefined;
  // A JSON number beyond 2^53 arrives as a BigInt (lib/machinery/json.ts): its digits are the quantity.
  const raw: unknown = q;
  const text = typeof q === 'number' ? (Number.isFinite(q) ? String(q) : '') : typeof raw === 'bigint' ? String(raw) : q;
  const m = /^([+-]?)([0-9]*\.?[0-9]*)([a-zA-Z]*)([-+]?[0-9]*)$/.exec(text);
  if (!m || m[2] === '' || m[2] === '.') return undefined;
  const [, sign, num, letters, expDigits] = m;
  const [intPart, fracPart = ''] = num.split('.');
  const digits = BigInt((intPart || '0') + fracPart);
  let exp10 = -fracPart.length;
  let binaryPow = 0;
  let format: QuantityFormat = 'DecimalSI';
  if ((letters === 'e' || letters === 'E') && expDigits !== '' && /^[-+]?[0-9]+$/.test(expDigits)) {
    exp10 += Number(expDigits);
    format = 'DecimalExponent';
  } else if (expDigits !== '') {
    return undefined;
  } else if (letters in binarySuffixes) {
    binaryPow = binarySuffixes[letters];
    format = 'BinarySI';
  } else if (letters in decimalSuffixes) {
    exp10 += decimalSuffixes[letters];
  } else {
    return undefined;
  }
  let numer = digits * 1024n ** BigInt(binaryPow);
  let denom = 1n;
  const shift = exp10 + 9;
  if (shift >= 0) numer *= pow10(shift);
  else denom = pow10(-shift);
  let nanos = ceilDiv(numer, denom);
  if (sign === '-') nanos = -nanos;
  return { nanos, format };
}

/** quantityNanos is the value in nano-units, 0 for a missing or malformed quantity. */
export function quantityNanos(q: Quantity | undefined | null): bigint {
  return parseQuantity(q)?.nanos ?? 0n;
}

/** compareQuantities orders two quantities (-1, 0, 1); malformed ones count as zero. */
export function compareQuantities(a: Quantity | undefined, b: Quantity | undefined): number {
  const x = quantityNanos(a);
  const y = quantityNanos(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * formatQuantity prints a value in the canonical form Quantity.String() uses: the largest
 * suffix that keeps the number whole ("1500m", "2k", "1Gi"), in the notation it was written in.
 */
export function formatQuantity(nanos: bigint, format: QuantityFormat = 'DecimalSI'): string {
  if (nanos === 0n) return '0';
  const neg = nanos < 0n;
  const abs = neg ? -nanos : nanos;
  const sign = neg ? '-' : '';
  if (format === 'BinarySI' && abs % 1_000_000_000n === 0n) {
    let whole = abs / 1_000_000_000n;
    let pow = 0;
    while (pow < 6 && whole >= 1024n && whole % 1024n === 0n) {
      whole /= 1024n;
      pow++;
    }
    const suffix = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'][pow];
    // Binary notation only reads better from 1Ki up; smaller whole numbers print as decimals.
    if (pow > 0) return `${sign}${whole}${suffix}`;
  }
  // Decimal: find the largest exponent (multiple of 3, from nano up) that leaves a whole mantissa.
  let mantissa = abs;
  let exp = -9;
  while (exp < 18 && mantissa % 1000n === 0n) {
    mantissa /= 1000n;
    exp += 3;
  }
  if (format === 'DecimalExponent') return exp === 0 ? `${sign}${mantissa}` : `${sign}${mantissa}e${exp}`;
  const suffix = Object.keys(decimalSuffixes).find((k) => decimalSuffixes[k] === exp) ?? '';
  return `${sign}${mantissa}${suffix}`;
}

/** canonicalQuantity re-prints a quantity canonically; a malformed one is returned as written. */
export function canonicalQuantity(q: Quantity): string {
  const p = parseQuantity(q);
  return p ? formatQuantity(p.nanos, p.format) : String(q);
}
