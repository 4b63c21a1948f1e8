// IP address checks with Kubernetes' messages, on top of a parser that accepts what
// netutils.ParseIPSloppy accepts (IPv4 with leading zeros, IPv6 with an embedded IPv4 tail).

import { type FieldError, type Path, invalidValue } from '../../machinery/field-errors.js';

const ipv4Re = /^([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)$/;

function parseIPv4(s: string): number[] | null {
  const m = ipv4Re.exec(s);
  if (!m) return null;
  const bytes = m.slice(1, 5).map((p) => Number.parseInt(p, 10));
  return bytes.every((b) => b <= 255) ? bytes : null;
}

function parseIPv6(s: string): number[] | null {
  const ip: number[] = new Array(16).fill(0);
  let ellipsis = -1;
  let i = 0;
  if (s.startsWith('::')) {
    ellipsis = 0;
    s = s.slice(2);
    if (s === '') return ip;
  }
  while (i < 16) {
    const m = /^[0-9a-fA-F]{1,4}/.exec(s);
    if (!m) return null;
    if (s[m[0].length] === '.') {
      // An embedded IPv4 address is only allowed as the last 32 bits.
      if (ellipsis < 0 && i !== 12) return null;
      if (i + 4 > 16) return null;
      const v4 = parseIPv4(s);
      if (!v4) return null;
      ip.splice(i, 4, ...v4);
      i += 4;
      s = '';
      break;
    }
    const n = Number.parseInt(m[0], 16);
    ip[i] = n >> 8;
    ip[i + 1] = n & 0xff;
    i += 2;
    s = s.slice(m[0].length);
    if (s === '') break;
    if (s[0] !== ':' || s.length === 1) return null;
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) return null;
      ellipsis = i;
      s = s.slice(1);
      if (s === '') break;
    }
  }
  if (s !== '') return null;
  if (i < 16) {
    if (ellipsis < 0) return null;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j];
    for (let j = ellipsis + n - 1; j >= ellipsis; j--) ip[j] = 0;
  } else if (ellipsis >= 0) {
    // "::" must stand for at least one group.
    return null;
  }
  return ip;
}

/** parseIP returns the 16-byte form of an IPv4 or IPv6 address (IPv4 as ::ffff:a.b.c.d), or null. */
export function parseIP(s: string): number[] | null {
  if (s.includes(':')) return parseIPv6(s);
  const v4 = parseIPv4(s);
  return v4 ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4] : null;
}

/** isIPv4 is `ip.To4() != nil`: an IPv4 address or an IPv4-mapped IPv6 address. */
function isIPv4(ip: number[]): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/** isValidIPv4Address is validation.IsValidIPv4Address. */
export function isValidIPv4Address(path: Path, value: string): FieldError[] {
  const ip = parseIP(value);
  return ip && isIPv4(ip) ? [] : [invalidValue(path, value, 'must be a valid IPv4 address')];
}

/** isValidIPv6Address is validation.IsValidIPv6Address. */
export function isValidIPv6Address(path: Path, value: string): FieldError[] {
  const ip = parseIP(value);
  return ip && !isIPv4(ip) ? [] : [invalidValue(path, value, 'must be a valid IPv6 address')];
}

/**
 * validateEndpointIP is apivalidation.ValidateEndpointIP: endpoint addresses may not be
 * unspecified, loopback, link-local or link-local multicast.
 */
export function validateEndpointIP(value: string, path: Path): FieldError[] {
  const ip = parseIP(value);
  if (!ip) return [invalidValue(path, value, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  const v4 = isIPv4(ip);
  const b = v4 ? ip.slice(12) : ip;
  const unspecified = b.every((x) => x === 0);
  const loopback = v4 ? b[0] === 127 : ip.slice(0, 15).every((x) => x === 0) && ip[15] === 1;
  const linkLocalUnicast = v4 ? b[0] === 169 && b[1] === 254 : ip[0] === 0xfe && (ip[1] & 0xc0) === 0x80;
  const linkLocalMulticast = v4 ? b[0] === 224 && b[1] === 0 && b[2] === 0 : ip[0] === 0xff && (ip[1] & 0x0f) === 0x02;
  if (unspecified) errs.push(invalidValue(path, value, `may not be unspecified (${value})`));
  if (loopback) errs.push(invalidValue(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (linkLocalUnicast) errs.push(invalidValue(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (linkLocalMulticast) errs.push(invalidValue(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}
