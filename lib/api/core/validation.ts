// Validators the core/v1 kinds share, with Kubernetes' own messages (k8s.io/apimachinery
// util/validation and pkg/apis/core/validation). Each returns path-addressed field errors or,
// for the is* checks, the list of problems (empty when valid).

import { type FieldError, type Path, duplicate, forbiddenField, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from '../../machinery/validation.js';
import { parseCIDRSloppy, parseIPSloppy, specialIPRanges } from '../../net/ip.js';
import type { IntOrString, Toleration } from './types.js';

export const fieldImmutableErrorMsg = 'field is immutable';
export const isNegativeErrorMsg = 'must be greater than or equal to 0';

/** inclusiveRangeError is validation.InclusiveRangeError. */
export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (!examples.length) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`);

/**
 * dns1123LabelErrors is IsDNS1123Label as of v1.32, which says "must not contain dots" for a
 * valid subdomain that is not a label (the machinery helper predates that wording).
 */
export function dns1123LabelErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!dns1123LabelRe.test(value)) {
    if (isDNS1123Subdomain(value).length === 0) errs.push('must not contain dots');
    else
      errs.push(
        regexError(
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
          dns1123LabelFmt,
          'my-name',
          '123-abc',
        ),
      );
  }
  return errs;
}

/** nameIsDNSLabel is the name rule for namespaces (NameIsDNSLabel with the v1.32 messages). */
export function nameIsDNSLabel(name: string, prefix: boolean): string[] {
  return dns1123LabelErrors(prefix && name.length > 1 && name.endsWith('-') ? name.slice(0, -1) + 'a' : name);
}

export function validateDNS1123Label(value: string, path: Path | string): FieldError[] {
  return dns1123LabelErrors(value).map((m) => invalidValue(path, value, m));
}

export function validateDNS1123Subdomain(value: string, path: Path | string): FieldError[] {
  return isDNS1123Subdomain(value).map((m) => invalidValue(path, value, m));
}

export function validateQualifiedName(value: string, path: Path | string): FieldError[] {
  return isQualifiedName(value).map((m) => invalidValue(path, value, m));
}

/** validateNonnegative is ValidateNonnegativeField. */
export function validateNonnegative(value: number | undefined, path: Path | string): FieldError[] {
  return value !== undefined && value < 0 ? [invalidValue(path, value, isNegativeErrorMsg)] : [];
}

/** isValidPortNum: a non-zero port number. */
export function isValidPortNum(port: unknown): string[] {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

/** isValidPortName is IANA_SVC_NAME: at most 15 of [-a-z0-9], at least one letter, no '--', no edge '-'. */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** validatePortNumOrName checks an IntOrString port (probes, service targetPort). */
export function validatePortNumOrName(port: IntOrString | undefined, path: Path | string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalidValue(path, port, m));
  if (typeof port === 'string') return isValidPortName(port).map((m) => invalidValue(path, port, m));
  return isValidPortNum(0).map((m) => invalidValue(path, 0, m));
}

/** validateIP is validation.IsValidIP. */
export function validateIP(value: string, path: Path | string): FieldError[] {
  return parseIPSloppy(value) ? [] : [invalidValue(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

/** isValidIPv4Address is validation.IsValidIPv4Address (an IPv4-mapped IPv6 address counts as IPv4). */
export function isValidIPv4Address(path: Path | string, value: string): FieldError[] {
  return parseIPSloppy(value)?.family === 4 ? [] : [invalidValue(path, value, 'must be a valid IPv4 address')];
}

/** isValidIPv6Address is validation.IsValidIPv6Address. */
export function isValidIPv6Address(path: Path | string, value: string): FieldError[] {
  return parseIPSloppy(value)?.family === 6 ? [] : [invalidValue(path, value, 'must be a valid IPv6 address')];
}

const specialIPMessages = {
  unspecified: (value: string) => `may not be unspecified (${value})`,
  loopback: () => 'may not be in the loopback range (127.0.0.0/8, ::1/128)',
  linkLocalUnicast: () => 'may not be in the link-local range (169.254.0.0/16, fe80::/10)',
  linkLocalMulticast: () => 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)',
} as const;

/**
 * validateNonSpecialIP is ValidateNonSpecialIP / ValidateEndpointIP: endpoints and external IPs
 * may not be unspecified, loopback, link-local or link-local multicast.
 */
export function validateNonSpecialIP(value: string, path: Path | string): FieldError[] {
  const ip = parseIPSloppy(value);
  if (!ip) return [invalidValue(path, value, 'must be a valid IP address')];
  return specialIPRanges(ip).map((r) => invalidValue(path, value, specialIPMessages[r](value)));
}

/** isValidCIDR is validation.IsValidCIDR's check. */
export function isValidCIDR(value: string): boolean {
  return parseCIDRSloppy(value) !== undefined;
}

/** validateCIDR is validation.IsValidCIDR. */
export function validateCIDR(value: string, path: Path | string): FieldError[] {
  return isValidCIDR(value) ? [] : [invalidValue(path, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

function hasChDirPrefix(value: string): string[] {
  if (value === '.') return ["must not be '.'"];
  if (value === '..') return ["must not be '..'"];
  if (value.startsWith('..')) return ["must not start with '..'"];
  return [];
}

/** isConfigMapKey is the rule for ConfigMap and Secret keys (and env/volume key selectors). */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!/^[-._a-zA-Z0-9]+$/.test(value)) {
    errs.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", '[-._a-zA-Z0-9]+', 'key.name', 'KEY_NAME', 'key-name'));
  }
  errs.push(...hasChDirPrefix(value));
  return errs;
}

/**
 * isEnvVarName is the relaxed environment variable name rule that v1.32 enables by default
 * (RelaxedEnvironmentVariableValidation): printable ASCII other than '='.
 */
export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (value.length === 0) errs.push('environment variable name must be non-empty');
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c < 32 || c > 126 || ch === '=') {
      errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='");
      break;
    }
  }
  return errs;
}

/** isPathSegmentName is the generic registry's name rule (path.ValidatePathSegmentName). */
export function isPathSegmentName(name: string, prefix: boolean): string[] {
  if (!prefix) {
    if (name === '.' || name === '..') return [`may not be '${name}'`];
  }
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/** taintEffects are the supported effects, in the order Kubernetes lists them. */
export const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

/** validateTaintEffect checks a taint or toleration effect. */
export function validateTaintEffect(effect: string | undefined, allowEmpty: boolean, path: Path): FieldError[] {
  if (!allowEmpty && !effect) return [required(path)];
  if ((taintEffects as readonly string[]).includes(effect ?? '')) return [];
  return [notSupported(path, effect ?? '', taintEffects)];
}

/** validateTolerations is ValidateTolerations. */
export function validateTolerations(tolerations: Toleration[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  (tolerations ?? []).forEach((t, i) => {
    const p = path.index(i);
    if (t.key) errs.push(...validateQualifiedName(t.key, p.child('key')));
    if (!t.key && t.operator !== 'Exists') {
      errs.push(invalidValue(p.child('operator'), t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute') {
      errs.push(invalidValue(p.child('effect'), t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (t.operator ?? '') {
      case 'Equal':
      case '': {
        const msgs = isValidLabelValue(t.value ?? '');
        if (msgs.length) errs.push(invalidValue(p.child('operator'), t.value ?? '', msgs.join(';')));
        break;
      }
      case 'Exists':
        if (t.value) errs.push(invalidValue(p.child('operator'), t.value, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(p.child('operator'), t.operator, ['Equal', 'Exists']));
    }
    if (t.effect) errs.push(...validateTaintEffect(t.effect, true, p.child('effect')));
  });
  return errs;
}

/** validateUniqueNames reports Duplicate for repeated names at `path[i].name`. */
export function validateUniqueNames(items: { name?: string }[] | undefined, path: Path): FieldError[] {
  const seen = new Set<string>();
  const errs: FieldError[] = [];
  (items ?? []).forEach((it, i) => {
    if (!it.name) return;
    if (seen.has(it.name)) errs.push(duplicate(path.index(i).child('name'), it.name));
    seen.add(it.name);
  });
  return errs;
}

/** forbiddenWhenImmutable is the error for touching data of an `immutable: true` ConfigMap or Secret. */
export function forbiddenWhenImmutable(field: string): FieldError {
  return forbiddenField(field, 'field is immutable when `immutable` is set');
}

/** jsonEqual compares two JSON values structurally, ignoring key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** formatLabels prints a label map as labels.FormatLabels does: sorted `k=v` pairs, or <none>. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (!keys.length) return '<none>';
  return keys.map((k) => `${k}=${labels![k]}`).join(',');
}
