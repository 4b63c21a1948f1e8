// Validation of CustomResourceDefinitions with Kubernetes' messages and field paths
// (apiextensions-apiserver pkg/apis/apiextensions/validation and pkg/apiserver/schema's structural
// checks).
//
// Kubernetes validates its internal form of a v1 CRD, in which a schema, subresources or printer
// columns that every version shares are moved up to spec.validation, spec.subresources and
// spec.additionalPrinterColumns. Errors about them therefore name those paths
// (`spec.validation.openAPIV3Schema.properties[spec].type: Required value: …`) unless the versions
// differ, and so do these.

import { type FieldError, Path, fieldErrorMessage, forbiddenField, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { isDNS1035Label, isDNS1123Subdomain, validateObjectMeta, validateImmutable } from '../../machinery/validation.js';
import { isCRDConditionTrue, isProtectedCommunityGroup } from './helpers.js';
import { compileSchema, deepEqualJSON, patternError, prune, validateValue } from './schema.js';
import {
  ConditionType,
  KubeAPIApprovedAnnotation,
  type CustomResourceColumnDefinition,
  type CustomResourceDefinition,
  type CustomResourceDefinitionNames,
  type CustomResourceDefinitionSpec,
  type CustomResourceSubresources,
  type JSONSchemaProps,
} from './types.js';

const printerColumnDatatypes = ['boolean', 'date', 'integer', 'number', 'string'];
const columnFormats = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];
const openapiV3Types = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const metaFields = new Set(['metadata', 'kind', 'apiVersion']);

// ---------------------------------------------------------------------------------------------
// The internal form's hoisting of identical per-version fields

interface Hoisted {
  schema: boolean;
  subresources: boolean;
  columns: boolean;
}

function sameForAll<T>(spec: CustomResourceDefinitionSpec, get: (v: CustomResourceDefinitionSpec['versions'][number]) => T): boolean {
  const vs = spec.versions ?? [];
  if (!vs.length) return false;
  const first = normalizeEmpty(get(vs[0]));
  return vs.every((v) => deepEqualJSON(normalizeEmpty(get(v)), first));
}

/** normalizeEmpty treats an empty list as absent, as semantic equality does. */
function normalizeEmpty(v: unknown): unknown {
  return Array.isArray(v) && v.length === 0 ? undefined : (v ?? undefined);
}

function hoisting(spec: CustomResourceDefinitionSpec): Hoisted {
  return {
    schema: sameForAll(spec, (v) => v.schema),
    subresources: sameForAll(spec, (v) => v.subresources),
    columns: sameForAll(spec, (v) => v.additionalPrinterColumns),
  };
}

// ---------------------------------------------------------------------------------------------
// The CRD

/** validateCustomResourceDefinition is ValidateCustomResourceDefinition (create). */
export function validateCustomResourceDefinition(crd: CustomResourceDefinition): FieldError[] {
  return [
    ...validateMetadata(crd),
    ...validateSpec(crd.spec ?? ({} as CustomResourceDefinitionSpec), new Path('spec')),
    ...validateStatus(crd),
    ...validateStoredVersions(crd),
    ...validateAPIApproval(crd, undefined),
    ...validatePreserveUnknownFields(crd, undefined),
  ];
}

/**
 * validateCustomResourceDefinitionUpdate holds what ValidateCustomResourceDefinitionUpdate checks
 * beyond validateCustomResourceDefinition (which the registry runs on updates too): the fields
 * that name stored objects cannot change.
 */
export function validateCustomResourceDefinitionUpdate(crd: CustomResourceDefinition, old: CustomResourceDefinition): FieldError[] {
  const spec = crd.spec ?? ({} as CustomResourceDefinitionSpec);
  const oldSpec = old.spec ?? ({} as CustomResourceDefinitionSpec);
  const p = new Path('spec');
  const errs: FieldError[] = [];
  // Once established, scope and kind decide how stored objects are read: they stay.
  if (isCRDConditionTrue(old, ConditionType.Established)) {
    errs.push(...validateImmutable(spec.scope, oldSpec.scope, p.child('scope')));
    errs.push(...validateImmutable(spec.names?.kind, oldSpec.names?.kind, p.child('names', 'kind')));
  }
  errs.push(...validateImmutable(spec.group, oldSpec.group, p.child('group')));
  errs.push(...validateImmutable(spec.names?.plural, oldSpec.names?.plural, p.child('names', 'plural')));
  return errs;
}

/** validateCustomResourceDefinitionStatusUpdate is ValidateUpdateCustomResourceDefinitionStatus. */
export function validateCustomResourceDefinitionStatusUpdate(crd: CustomResourceDefinition): FieldError[] {
  return validateStatus(crd);
}

function validateMetadata(crd: CustomResourceDefinition): FieldError[] {
  const names = crd.spec?.names;
  const requiredName = `${names?.plural ?? ''}.${crd.spec?.group ?? ''}`;
  return validateObjectMeta(crd.metadata, false, (name) => {
    const errs = isDNS1123Subdomain(name);
    if (name !== requiredName) errs.push('must be spec.names.plural+"."+spec.group');
    return errs;
  });
}

function validateStatus(crd: CustomResourceDefinition): FieldError[] {
  return validateNames(crd.status?.acceptedNames ?? ({} as CustomResourceDefinitionNames), new Path('status').child('acceptedNames'));
}

function validateStoredVersions(crd: CustomResourceDefinition): FieldError[] {
  const path = new Path('status').child('storedVersions');
  const stored = crd.status?.storedVersions ?? [];
  if (!stored.length) return [invalidValue(path, stored, 'must have at least one stored version')];
  const errs: FieldError[] = [];
  const remaining = new Map(stored.map((v, i) => [v, i]));
  for (const v of crd.spec?.versions ?? []) {
    if (v.storage && !remaining.has(v.name)) errs.push(invalidValue(path, stored, `must have the storage version ${v.name}`));
    remaining.delete(v.name);
  }
  for (const [v, i] of remaining) errs.push(invalidValue(path.index(i), v, 'must appear in spec.versions'));
  return errs;
}

function validateAPIApproval(crd: CustomResourceDefinition, old: CustomResourceDefinition | undefined): FieldError[] {
  if (!isProtectedCommunityGroup(crd.spec?.group ?? '')) return [];
  const state = (annotations: Record<string, string> | undefined) => approvalState(annotations?.[KubeAPIApprovedAnnotation] ?? '');
  const now = state(crd.metadata.annotations);
  if (old && state(old.metadata.annotations).state === now.state) return [];
  const path = new Path('metadata').child('annotations').key(KubeAPIApprovedAnnotation);
  if (now.state === 'missing') return [required(path, now.reason)];
  if (now.state === 'invalid') return [invalidValue(path, crd.metadata.annotations?.[KubeAPIApprovedAnnotation] ?? '', now.reason)];
  return [];
}

function approvalState(annotation: string): { state: 'missing' | 'bypassed' | 'approved' | 'invalid'; reason: string } {
  if (!annotation) {
    return {
      state: 'missing',
      reason: `protected groups must have approval annotation "${KubeAPIApprovedAnnotation}", see https://github.com/kubernetes/enhancements/pull/1111`,
    };
  }
  if (annotation.startsWith('unapproved')) return { state: 'bypassed', reason: `not approved: "${annotation}"` };
  try {
    const u = new URL(annotation);
    if (u.host && u.protocol) return { state: 'approved', reason: `approved in ${annotation}` };
  } catch {
    // not a URL
  }
  return {
    state: 'invalid',
    reason: `protected groups must have approval annotation "${KubeAPIApprovedAnnotation}" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111`,
  };
}

function validatePreserveUnknownFields(crd: CustomResourceDefinition, old: CustomResourceDefinition | undefined): FieldError[] {
  if (old?.spec?.preserveUnknownFields === true) return [];
  if (crd.spec?.preserveUnknownFields === true) {
    return [invalidValue(new Path('spec').child('preserveUnknownFields'), true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead')];
  }
  return [];
}

// ---------------------------------------------------------------------------------------------
// The spec

function validateSpec(spec: CustomResourceDefinitionSpec, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  const group = spec.group ?? '';
  if (!group) errs.push(required(p.child('group'), ''));
  else {
    const bad = isDNS1123Subdomain(group);
    if (bad.length) errs.push(invalidValue(p.child('group'), group, bad.join(',')));
    else if (group.split('.').length < 2) errs.push(invalidValue(p.child('group'), group, 'should be a domain with at least one dot'));
  }
  if (!spec.scope) errs.push(required(p.child('scope'), ''));
  else if (!['Cluster', 'Namespaced'].includes(spec.scope)) errs.push(notSupported(p.child('scope'), spec.scope, ['Cluster', 'Namespaced']));

  const versions = spec.versions ?? [];
  const hoisted = hoisting(spec);
  const topSchema = hoisted.schema ? versions[0]?.schema?.openAPIV3Schema : undefined;
  if (!topSchema) {
    versions.forEach((v, i) => {
      if (!v.schema?.openAPIV3Schema) errs.push(required(p.child('versions').index(i).child('schema').child('openAPIV3Schema'), 'schemas are required'));
    });
  }
  const anyStatus = versions.some((v) => !!v.subresources?.status);
  const names = new Set<string>();
  let unique = true;
  let storage = 0;
  versions.forEach((v, i) => {
    const vp = p.child('versions').index(i);
    if (v.storage) storage++;
    if (names.has(v.name)) unique = false;
    names.add(v.name);
    const bad = isDNS1035Label(v.name ?? '');
    if (bad.length) errs.push(invalidValue(vp.child('name'), v.name ?? '', bad.join(',')));
    errs.push(...validateDeprecationWarning(v.deprecated === true, v.deprecationWarning, vp.child('deprecationWarning')));
    if (!hoisted.schema && v.schema) errs.push(...validateSchemaValidation(v.schema.openAPIV3Schema, !!v.subresources?.status, vp.child('schema')));
    if (!hoisted.subresources) errs.push(...validateSubresources(v.subresources, vp.child('subresources')));
    if (!hoisted.columns) (v.additionalPrinterColumns ?? []).forEach((c, j) => errs.push(...validateColumn(c, vp.child('additionalPrinterColumns').index(j))));
  });
  if (!unique) errs.push(invalidValue(p.child('versions'), versions, 'must contain unique version names'));
  if (storage !== 1) errs.push(invalidValue(p.child('versions'), versions, 'must have exactly one version marked as storage version'));

  const n = spec.names ?? ({} as CustomResourceDefinitionNames);
  if (!n.plural) errs.push(required(p.child('names', 'plural'), ''));
  if (!n.singular) errs.push(required(p.child('names', 'singular'), ''));
  if (!n.kind) errs.push(required(p.child('names', 'kind'), ''));
  if (!n.listKind) errs.push(required(p.child('names', 'listKind'), ''));
  errs.push(...validateNames(n, p.child('names')));
  if (hoisted.schema && versions[0]?.schema) errs.push(...validateSchemaValidation(versions[0].schema.openAPIV3Schema, anyStatus, p.child('validation')));
  if (hoisted.subresources) errs.push(...validateSubresources(versions[0]?.subresources, p.child('subresources')));
  if (hoisted.columns) (versions[0]?.additionalPrinterColumns ?? []).forEach((c, j) => errs.push(...validateColumn(c, p.child('additionalPrinterColumns').index(j))));
  errs.push(...validateConversion(spec, p.child('conversion')));
  return errs;
}

function validateDeprecationWarning(deprecated: boolean, warning: string | undefined, p: Path): FieldError[] {
  if (!deprecated && warning !== undefined) return [invalidValue(p, warning, 'can only be set for deprecated versions')];
  if (warning === undefined) return [];
  const errs: FieldError[] = [];
  if (Buffer.byteLength(warning) > 256) errs.push(invalidValue(p, warning, 'must be <= 256 characters long'));
  if (warning.length === 0) errs.push(invalidValue(p, warning, 'must not be an empty string'));
  const ctl = [...warning].findIndex((c) => /\p{Cc}/u.test(c));
  if (ctl >= 0) errs.push(invalidValue(p, warning, `must only contain printable UTF-8 characters; non-printable character found at index ${ctl}`));
  return errs;
}

/** validateConversion accepts strategy None only: skiff does not call conversion webhooks, and says so. */
function validateConversion(spec: CustomResourceDefinitionSpec, p: Path): FieldError[] {
  const c = spec.conversion;
  if (!c) return [];
  if (!c.strategy) return [required(p.child('strategy'), '')];
  if (c.strategy === 'Webhook') return [notSupported(p.child('strategy'), c.strategy, ['None'])];
  if (c.strategy !== 'None') return [notSupported(p.child('strategy'), c.strategy, ['None', 'Webhook'])];
  if (c.webhook?.clientConfig) return [forbiddenField(p.child('webhookClientConfig'), 'should not be set when strategy is not set to Webhook')];
  if (c.webhook?.conversionReviewVersions?.length) return [forbiddenField(p.child('conversionReviewVersions'), 'should not be set when strategy is not set to Webhook')];
  return [];
}

/** validateNames is ValidateCustomResourceDefinitionNames. */
export function validateNames(n: CustomResourceDefinitionNames, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  const label = (v: string | undefined, path: Path, prefix = '') => {
    if (!v) return;
    const bad = isDNS1035Label(prefix ? v.toLowerCase() : v);
    if (bad.length) errs.push(invalidValue(path, v, prefix + bad.join(',')));
  };
  label(n.plural, p.child('plural'));
  label(n.singular, p.child('singular'));
  label(n.kind, p.child('kind'), 'may have mixed case, but should otherwise match: ');
  label(n.listKind, p.child('listKind'), 'may have mixed case, but should otherwise match: ');
  (n.shortNames ?? []).forEach((s, i) => {
    const bad = isDNS1035Label(s);
    if (bad.length) errs.push(invalidValue(p.child('shortNames').index(i), s, bad.join(',')));
  });
  if (n.kind && n.kind === n.listKind) errs.push(invalidValue(p.child('listKind'), n.listKind, 'kind and listKind may not be the same'));
  (n.categories ?? []).forEach((c, i) => {
    const bad = isDNS1035Label(c);
    if (bad.length) errs.push(invalidValue(p.child('categories').index(i), c, bad.join(',')));
  });
  return errs;
}

/** validateColumn is ValidateCustomResourceColumnDefinition (its paths name the internal JSONPath field). */
function validateColumn(c: CustomResourceColumnDefinition, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(required(p.child('name'), ''));
  if (!c.type) errs.push(required(p.child('type'), `must be one of ${printerColumnDatatypes.join(',')}`));
  else if (!printerColumnDatatypes.includes(c.type)) errs.push(invalidValue(p.child('type'), c.type, `must be one of ${printerColumnDatatypes.join(',')}`));
  if (c.format && !columnFormats.includes(c.format)) errs.push(invalidValue(p.child('format'), c.format, `must be one of ${columnFormats.join(',')}`));
  if (!c.jsonPath) errs.push(required(p.child('JSONPath'), ''));
  else errs.push(...validateSimpleJSONPath(c.jsonPath, p.child('JSONPath')));
  return errs;
}

function validateSimpleJSONPath(s: string, p: Path | string): FieldError[] {
  if (!s) return [invalidValue(p, s, 'must not be empty')];
  if (s[0] !== '.') return [invalidValue(p, s, 'must be a simple json path starting with .')];
  return [];
}

/** validateSubresources is ValidateCustomResourceDefinitionSubresources. */
function validateSubresources(sub: CustomResourceSubresources | undefined, p: Path): FieldError[] {
  const scale = sub?.scale;
  if (!scale) return [];
  const errs: FieldError[] = [];
  const check = (value: string | undefined, name: string, prefixes: string[], msg: string) => {
    const fp = p.child(`scale.${name}`);
    const jp = validateSimpleJSONPath(value ?? '', fp);
    if (jp.length) errs.push(...jp);
    else if (!prefixes.some((pre) => value!.startsWith(pre))) errs.push(invalidValue(fp, value, msg));
  };
  if (!scale.specReplicasPath) errs.push(required(p.child('scale.specReplicasPath'), ''));
  else check(scale.specReplicasPath, 'specReplicasPath', ['.spec.'], 'should be a json path under .spec');
  if (!scale.statusReplicasPath) errs.push(required(p.child('scale.statusReplicasPath'), ''));
  else check(scale.statusReplicasPath, 'statusReplicasPath', ['.status.'], 'should be a json path under .status');
  if (scale.labelSelectorPath) check(scale.labelSelectorPath, 'labelSelectorPath', ['.spec.', '.status.'], 'should be a json path under either .spec or .status');
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Schemas

const allowedFieldsAtRootSchema = [
  'Description', 'Type', 'Format', 'Title', 'Maximum', 'ExclusiveMaximum', 'Minimum', 'ExclusiveMinimum', 'MaxLength', 'MinLength', 'Pattern',
  'MaxItems', 'MinItems', 'UniqueItems', 'MultipleOf', 'Required', 'Items', 'Properties', 'ExternalDocs', 'Example', 'XPreserveUnknownFields', 'XValidations',
];

/** goFieldNames are the internal JSONSchemaProps fields in declaration order, by JSON name. */
const goFieldNames: [string, string][] = [
  ['id', 'ID'], ['$schema', 'Schema'], ['$ref', 'Ref'], ['description', 'Description'], ['type', 'Type'], ['format', 'Format'], ['title', 'Title'],
  ['default', 'Default'], ['maximum', 'Maximum'], ['exclusiveMaximum', 'ExclusiveMaximum'], ['minimum', 'Minimum'], ['exclusiveMinimum', 'ExclusiveMinimum'],
  ['maxLength', 'MaxLength'], ['minLength', 'MinLength'], ['pattern', 'Pattern'], ['maxItems', 'MaxItems'], ['minItems', 'MinItems'],
  ['uniqueItems', 'UniqueItems'], ['multipleOf', 'MultipleOf'], ['enum', 'Enum'], ['maxProperties', 'MaxProperties'], ['minProperties', 'MinProperties'],
  ['required', 'Required'], ['items', 'Items'], ['allOf', 'AllOf'], ['oneOf', 'OneOf'], ['anyOf', 'AnyOf'], ['not', 'Not'], ['properties', 'Properties'],
  ['additionalProperties', 'AdditionalProperties'], ['patternProperties', 'PatternProperties'], ['dependencies', 'Dependencies'],
  ['additionalItems', 'AdditionalItems'], ['definitions', 'Definitions'], ['externalDocs', 'ExternalDocs'], ['example', 'Example'], ['nullable', 'Nullable'],
  ['x-kubernetes-preserve-unknown-fields', 'XPreserveUnknownFields'], ['x-kubernetes-embedded-resource', 'XEmbeddedResource'],
  ['x-kubernetes-int-or-string', 'XIntOrString'], ['x-kubernetes-list-map-keys', 'XListMapKeys'], ['x-kubernetes-list-type', 'XListType'],
  ['x-kubernetes-map-type', 'XMapType'], ['x-kubernetes-validations', 'XValidations'],
];

function isZero(v: unknown): boolean {
  return v === undefined || v === null || v === false || v === '' || v === 0 || (Array.isArray(v) && v.length === 0);
}

/** validateSchemaValidation is validateCustomResourceDefinitionValidation for one schema at p (`spec.validation`). */
function validateSchemaValidation(schema: JSONSchemaProps | undefined, statusEnabled: boolean, p: Path): FieldError[] {
  if (!schema) return [];
  const errs: FieldError[] = [];
  const sp = p.child('openAPIV3Schema');
  if (statusEnabled) {
    for (const [json, goName] of goFieldNames) {
      const v = (schema as Record<string, unknown>)[json];
      if (isZero(v)) continue;
      if (goName === 'Type') {
        if (schema.type !== 'object') {
          errs.push(invalidValue(p.child('openAPIV3Schema.type'), schema.type, 'only "object" is allowed as the type at the root of the schema if the status subresource is enabled'));
          break;
        }
        continue;
      }
      if (!allowedFieldsAtRootSchema.includes(goName)) {
        errs.push(invalidValue(sp, schema, `only [${allowedFieldsAtRootSchema.join(' ')}] fields are allowed at the root of the schema if the status subresource is enabled`));
        break;
      }
    }
  }
  if (schema.nullable) errs.push(forbiddenField(p.child('openAPIV3Schema.nullable'), 'nullable cannot be true at the root'));
  const structural = validateStructural(schema, sp);
  if (structural.length) errs.push(...structural);
  else errs.push(...validateDefaults(schema, sp, true, false));
  errs.push(...validateOpenAPISchema(schema, sp, { allowDefaults: true, disallowReason: '', insideResourceMeta: false }, true));
  return errs;
}

// ---- structural invariants (pkg/apiserver/schema/validation.go) ----

type Level = 'root' | 'item' | 'field';


/** validateStructural is ValidateStructural: the errors, sorted by their text as Kubernetes sorts them. */
export function validateStructural(schema: JSONSchemaProps, p: Path): FieldError[] {
  const errs = [...structuralInvariants(schema, 'root', p), ...completeness(schema, p)];
  return errs.sort((a, b) => {
    const ta = fieldErrorMessage(a);
    const tb = fieldErrorMessage(b);
    return ta < tb ? -1 : ta > tb ? 1 : 0;
  });
}

function isIntOrStringAnyOf(anyOf: JSONSchemaProps[] | undefined): boolean {
  return (
    Array.isArray(anyOf) &&
    anyOf.length === 2 &&
    deepEqualJSON(anyOf[0], { type: 'integer' }) &&
    deepEqualJSON(anyOf[1], { type: 'string' })
  );
}

function structuralInvariants(s: JSONSchemaProps | undefined, lvl: Level, p: Path): FieldError[] {
  if (!s || typeof s !== 'object') return [];
  const errs: FieldError[] = [];
  const items = Array.isArray(s.items) ? undefined : s.items;
  if (s.type === 'array' && !s.items) errs.push(required(p.child('items'), 'must be specified'));
  errs.push(...structuralInvariants(items, 'item', p.child('items')));
  for (const [k, v] of Object.entries(s.properties ?? {})) errs.push(...structuralInvariants(v, 'field', p.child('properties').key(k)));
  if (s.additionalProperties !== undefined && s.additionalProperties !== null) {
    if (lvl === 'root') errs.push(forbiddenField(p.child('additionalProperties'), 'must not be used at the root'));
    if (typeof s.additionalProperties === 'object') errs.push(...structuralInvariants(s.additionalProperties, 'field', p.child('additionalProperties')));
  }
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (intOrString && preserve) errs.push(invalidValue(p.child('x-kubernetes-preserve-unknown-fields'), true, 'must be false if x-kubernetes-int-or-string is true'));
  if (intOrString && embedded) errs.push(invalidValue(p.child('x-kubernetes-embedded-resource'), true, 'must be false if x-kubernetes-int-or-string is true'));
  const skipAnyOf = isIntOrStringAnyOf(s.anyOf);
  const skipFirstAllOfAnyOf = Array.isArray(s.allOf) && s.allOf.length >= 1 && isIntOrStringAnyOf(s.allOf[0]?.anyOf);
  errs.push(...valueValidation(s, skipAnyOf, skipFirstAllOfAnyOf, p));

  const checkMetadata = lvl === 'root' || embedded;
  const type = s.type ?? '';
  if (embedded && type !== 'object') {
    if (!type) errs.push(required(p.child('type'), 'must be object if x-kubernetes-embedded-resource is true'));
    else errs.push(invalidValue(p.child('type'), type, 'must be object if x-kubernetes-embedded-resource is true'));
  } else if (!type && !intOrString && !preserve) {
    const where = lvl === 'root' ? 'at the root' : lvl === 'item' ? 'for specified array items' : 'for specified object fields';
    errs.push(required(p.child('type'), `must not be empty ${where}`));
  }
  if (embedded && s.additionalProperties !== undefined) errs.push(forbiddenField(p.child('additionalProperties'), 'must not be used if x-kubernetes-embedded-resource is set'));
  if (lvl === 'root' && type && type !== 'object') errs.push(invalidValue(p.child('type'), type, 'must be object at the root'));
  for (const name of ['kind', 'apiVersion']) {
    const prop = s.properties?.[name];
    if (prop && checkMetadata && prop.type !== 'string') errs.push(invalidValue(p.child('properties').key(name).child('type'), prop.type ?? '', 'must be string'));
  }
  const metadata = s.properties?.metadata;
  if (metadata) errs.push(...metadataInvariants(metadata, checkMetadata, lvl, p.child('properties').key('metadata')));
  if (embedded && !preserve && !Object.keys(s.properties ?? {}).length) {
    errs.push(required(p.child('properties'), 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
  return errs;
}

function metadataInvariants(s: JSONSchemaProps, checkMetadata: boolean, lvl: Level, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (checkMetadata && s.type !== 'object') errs.push(invalidValue(p.child('type'), s.type ?? '', 'must be object'));
  if (lvl === 'root') {
    // Only name and generateName may be restricted; anything else would be silently ignored.
    const props = Object.keys(s.properties ?? {});
    const onlyNames = props.every((k) => k === 'name' || k === 'generateName');
    const rest = Object.entries(s).filter(([k, v]) => !['type', 'default', 'properties'].includes(k) && !isZero(v));
    if (!onlyNames || rest.length) errs.push(forbiddenField(p, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
  }
  return errs;
}

function valueValidation(v: JSONSchemaProps, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!skipAnyOf) (v.anyOf ?? []).forEach((n, i) => errs.push(...nestedValueValidation(n, false, p.child('anyOf').index(i))));
  (v.allOf ?? []).forEach((n, i) => errs.push(...nestedValueValidation(n, skipFirstAllOfAnyOf && i === 0, p.child('allOf').index(i))));
  (v.oneOf ?? []).forEach((n, i) => errs.push(...nestedValueValidation(n, false, p.child('oneOf').index(i))));
  if (v.not) errs.push(...nestedValueValidation(v.not, false, p.child('not')));
  if (v.pattern) {
    const bad = patternError(v.pattern);
    if (bad) errs.push(invalidValue(p.child('pattern'), v.pattern, `must be a valid regular expression, but isn't: ${bad}`));
  }
  return errs;
}

function nestedValueValidation(v: JSONSchemaProps | undefined, skipAnyOf: boolean, p: Path): FieldError[] {
  if (!v || typeof v !== 'object') return [];
  const errs = [...valueValidation(v, skipAnyOf, false, p)];
  if (v.items && !Array.isArray(v.items)) errs.push(...nestedValueValidation(v.items, false, p.child('items')));
  for (const [k, f] of Object.entries(v.properties ?? {})) errs.push(...nestedValueValidation(f, false, p.child('properties').key(k)));
  if (v.type) errs.push(forbiddenField(p.child('type'), 'must be empty to be structural'));
  if (v.additionalProperties !== undefined) errs.push(forbiddenField(p.child('additionalProperties'), 'must be undefined to be structural'));
  if (v.default !== undefined && v.default !== null) errs.push(forbiddenField(p.child('default'), 'must be undefined to be structural'));
  if (v.title) errs.push(forbiddenField(p.child('title'), 'must be empty to be structural'));
  if (v.description) errs.push(forbiddenField(p.child('description'), 'must be empty to be structural'));
  if (v.nullable) errs.push(forbiddenField(p.child('nullable'), 'must be false to be structural'));
  if (v['x-kubernetes-preserve-unknown-fields']) errs.push(forbiddenField(p.child('x-kubernetes-preserve-unknown-fields'), 'must be false to be structural'));
  if (v['x-kubernetes-embedded-resource']) errs.push(forbiddenField(p.child('x-kubernetes-embedded-resource'), 'must be false to be structural'));
  if (v['x-kubernetes-int-or-string']) errs.push(forbiddenField(p.child('x-kubernetes-int-or-string'), 'must be false to be structural'));
  if (v['x-kubernetes-list-map-keys']?.length) errs.push(forbiddenField(p.child('x-kubernetes-list-map-keys'), 'must be empty to be structural'));
  if (v['x-kubernetes-list-type'] !== undefined) errs.push(forbiddenField(p.child('x-kubernetes-list-type'), 'must be undefined to be structural'));
  if (v['x-kubernetes-map-type'] !== undefined) errs.push(forbiddenField(p.child('x-kubernetes-map-type'), 'must be undefined to be structural'));
  if (v['x-kubernetes-validations']?.length) errs.push(forbiddenField(p.child('x-kubernetes-validations'), 'must be empty to be structural'));
  if (v.properties?.metadata) errs.push(forbiddenField(p.child('properties').key('metadata'), 'must not be specified in a nested context'));
  return errs;
}

/** completeness: every property or items a value validation names must be specified structurally too. */
function completeness(s: JSONSchemaProps, p: Path): FieldError[] {
  return valueCompleteness(s, s, p, p);
}

function valueCompleteness(v: JSONSchemaProps, s: JSONSchemaProps | undefined, sp: Path, vp: Path): FieldError[] {
  const errs: FieldError[] = [];
  const nested = (n: JSONSchemaProps | undefined, np: Path) => errs.push(...nestedCompleteness(n, s, sp, np));
  nested(v.not, vp.child('not'));
  (v.allOf ?? []).forEach((n, i) => nested(n, vp.child('allOf').index(i)));
  (v.anyOf ?? []).forEach((n, i) => nested(n, vp.child('anyOf').index(i)));
  (v.oneOf ?? []).forEach((n, i) => nested(n, vp.child('oneOf').index(i)));
  return errs;
}

function nestedCompleteness(v: JSONSchemaProps | undefined, s: JSONSchemaProps | undefined, sp: Path, vp: Path): FieldError[] {
  if (!v || typeof v !== 'object') return [];
  if (!s) return [required(sp, `because it is defined in ${vp}`)];
  const errs = [...valueCompleteness(v, s, sp, vp)];
  const vItems = v.items && !Array.isArray(v.items) ? v.items : undefined;
  const sItems = s.items && !Array.isArray(s.items) ? s.items : undefined;
  if (vItems) errs.push(...nestedCompleteness(vItems, sItems, sp.child('items'), vp.child('items')));
  for (const [k, f] of Object.entries(v.properties ?? {})) {
    const sf = s.properties?.[k];
    if (!sf) errs.push(required(sp.child('properties').key(k), `because it is defined in ${vp.child('properties').key(k)}`));
    else errs.push(...nestedCompleteness(f, sf, sp.child('properties').key(k), vp.child('properties').key(k)));
  }
  return errs;
}

// ---- defaults (pkg/apiserver/schema/defaulting/validation.go) ----

/** validateDefaults checks that every default is pruned and valid against its own schema. */
function validateDefaults(s: JSONSchemaProps, p: Path, isResourceRoot: boolean, insideMeta: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const embedded = isResourceRoot || s['x-kubernetes-embedded-resource'] === true;
  if (s.default !== undefined && s.default !== null && !insideMeta) {
    const compiled = compileSchema(s);
    const pruned = structuredClone(s.default);
    prune(pruned, compiled, embedded);
    if (!deepEqualJSON(pruned, s.default)) errs.push(invalidValue(p.child('default'), s.default, 'must not have unknown fields'));
    errs.push(...validateValue(compiled, s.default, String(p.child('default'))));
  }
  if (s.items && !Array.isArray(s.items)) errs.push(...validateDefaults(s.items, p.child('items'), false, insideMeta));
  for (const [k, sub] of Object.entries(s.properties ?? {})) {
    errs.push(...validateDefaults(sub, p.child('properties').key(k), false, embedded && metaFields.has(k) ? true : insideMeta));
  }
  return errs;
}

// ---- OpenAPI schema rules (ValidateCustomResourceDefinitionOpenAPISchema) ----

interface SchemaRules {
  allowDefaults: boolean;
  disallowReason: string;
  insideResourceMeta: boolean;
}

function standardChecks(s: JSONSchemaProps, p: Path, r: SchemaRules): FieldError[] {
  const errs: FieldError[] = [];
  if (s.type && !openapiV3Types.includes(s.type)) errs.push(notSupported(p.child('type'), s.type, openapiV3Types));
  if (s.default !== undefined && s.default !== null && !r.allowDefaults) {
    errs.push(forbiddenField(p.child('default'), `must not be set${r.disallowReason ? ` ${r.disallowReason}` : ''}`));
  }
  if (s.id) errs.push(forbiddenField(p.child('id'), 'id is not supported'));
  if (s.additionalItems !== undefined) errs.push(forbiddenField(p.child('additionalItems'), 'additionalItems is not supported'));
  if (s.patternProperties && Object.keys(s.patternProperties).length) errs.push(forbiddenField(p.child('patternProperties'), 'patternProperties is not supported'));
  if (s.definitions && Object.keys(s.definitions).length) errs.push(forbiddenField(p.child('definitions'), 'definitions is not supported'));
  if (s.dependencies !== undefined) errs.push(forbiddenField(p.child('dependencies'), 'dependencies is not supported'));
  if (s.$ref !== undefined) errs.push(forbiddenField(p.child('$ref'), '$ref is not supported'));
  if (s.type === 'null') errs.push(forbiddenField(p.child('type'), 'type cannot be set to null, use nullable as an alternative'));
  if (Array.isArray(s.items) && s.items.length) errs.push(forbiddenField(p.child('items'), 'items must be a schema object and not an array'));
  if (r.insideResourceMeta && s['x-kubernetes-embedded-resource']) errs.push(forbiddenField(p.child('x-kubernetes-embedded-resource'), 'must not be used inside of resource meta'));
  return errs;
}

function validateOpenAPISchema(s: JSONSchemaProps | undefined, p: Path, r: SchemaRules, isRoot: boolean): FieldError[] {
  if (!s || typeof s !== 'object') return [];
  const errs = standardChecks(s, p, r);
  if (s.uniqueItems) errs.push(forbiddenField(p.child('uniqueItems'), 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  if (s.additionalProperties !== undefined && s.additionalProperties !== null) {
    const ap = s.additionalProperties;
    if (Object.keys(s.properties ?? {}).length && (ap === false || typeof ap === 'object')) {
      errs.push(forbiddenField(p.child('additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
    }
    const sub = r.insideResourceMeta ? { ...r, allowDefaults: false, disallowReason: 'inside additionalProperties applying to object metadata' } : r;
    if (typeof ap === 'object') errs.push(...validateOpenAPISchema(ap, p.child('additionalProperties'), sub, false));
  }
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    let sub = r;
    if ((isRoot || s['x-kubernetes-embedded-resource']) && metaFields.has(name)) {
      sub = { ...sub, insideResourceMeta: true };
      if (isRoot) sub = { ...sub, allowDefaults: false, disallowReason: `in top-level ${name}` };
    }
    errs.push(...validateOpenAPISchema(prop, p.child('properties').key(name), sub, false));
  }
  errs.push(...validateOpenAPISchema(s.not, p.child('not'), r, false));
  (s.allOf ?? []).forEach((n, i) => errs.push(...validateOpenAPISchema(n, p.child('allOf').index(i), r, false)));
  (s.oneOf ?? []).forEach((n, i) => errs.push(...validateOpenAPISchema(n, p.child('oneOf').index(i), r, false)));
  (s.anyOf ?? []).forEach((n, i) => errs.push(...validateOpenAPISchema(n, p.child('anyOf').index(i), r, false)));
  for (const [k, d] of Object.entries(s.definitions ?? {})) errs.push(...validateOpenAPISchema(d, p.child('definitions').key(k), r, false));
  if (s.items) {
    if (Array.isArray(s.items)) s.items.forEach((n, i) => errs.push(...validateOpenAPISchema(n, p.child('items').index(i), r, false)));
    else errs.push(...validateOpenAPISchema(s.items, p.child('items'), r, false));
  }
  if (s['x-kubernetes-preserve-unknown-fields'] === false) errs.push(invalidValue(p.child('x-kubernetes-preserve-unknown-fields'), false, 'must be true or undefined'));
  const mapType = s['x-kubernetes-map-type'];
  if (mapType !== undefined && s.type !== 'object') {
    if (!s.type) errs.push(required(p.child('type'), 'must be object if x-kubernetes-map-type is specified'));
    else errs.push(invalidValue(p.child('type'), s.type, 'must be object if x-kubernetes-map-type is specified'));
  }
  if (mapType !== undefined && mapType !== 'atomic' && mapType !== 'granular') errs.push(notSupported(p.child('x-kubernetes-map-type'), mapType, ['atomic', 'granular']));
  const listType = s['x-kubernetes-list-type'];
  const items = s.items && !Array.isArray(s.items) ? s.items : undefined;
  if (listType !== undefined && s.type !== 'array') {
    if (!s.type) errs.push(required(p.child('type'), 'must be array if x-kubernetes-list-type is specified'));
    else errs.push(invalidValue(p.child('type'), s.type, 'must be array if x-kubernetes-list-type is specified'));
  } else if (listType === 'set' && items) {
    if (items.type === 'array' && items['x-kubernetes-list-type'] !== undefined && items['x-kubernetes-list-type'] !== 'atomic') {
      errs.push(invalidValue(p.child('items').child('x-kubernetes-list-type'), items['x-kubernetes-list-type'], 'must be atomic as item of a list with x-kubernetes-list-type=set'));
    }
    if (items.type === 'object' && items['x-kubernetes-map-type'] !== 'atomic') {
      errs.push(invalidValue(p.child('items').child('x-kubernetes-map-type'), items['x-kubernetes-list-type'] ?? null, 'must be atomic as item of a list with x-kubernetes-list-type=set'));
    }
  }
  if (listType !== undefined && !['atomic', 'set', 'map'].includes(listType)) errs.push(notSupported(p.child('x-kubernetes-list-type'), listType, ['atomic', 'set', 'map']));
  const mapKeys = s['x-kubernetes-list-map-keys'] ?? [];
  if (mapKeys.length) {
    if (listType === undefined) errs.push(required(p.child('x-kubernetes-list-type'), 'must be map if x-kubernetes-list-map-keys is non-empty'));
    else if (listType !== 'map') errs.push(invalidValue(p.child('x-kubernetes-list-type'), listType, 'must be map if x-kubernetes-list-map-keys is non-empty'));
  }
  if (listType === 'map') {
    if (!mapKeys.length) errs.push(required(p.child('x-kubernetes-list-map-keys'), 'must not be empty if x-kubernetes-list-type is map'));
    if (!s.items) errs.push(required(p.child('items'), 'must have a schema if x-kubernetes-list-type is map'));
    if (Array.isArray(s.items)) errs.push(invalidValue(p.child('items'), s.items, 'must only have a single schema if x-kubernetes-list-type is map'));
    if (items && items.type !== 'object') errs.push(invalidValue(p.child('items').child('type'), items.type ?? '', "must be object if parent array's x-kubernetes-list-type is map"));
    if (items && items.type === 'object') {
      const seen = new Set<string>();
      for (const k of mapKeys) {
        const ks = items.properties?.[k];
        if (ks) {
          if (ks.type === 'array' || ks.type === 'object') {
            errs.push(invalidValue(p.child('items').child('properties').key(k).child('type'), items.type, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
          }
        } else errs.push(invalidValue(p.child('x-kubernetes-list-map-keys'), mapKeys, 'entries must all be names of item properties'));
        if (seen.has(k)) errs.push(invalidValue(p.child('x-kubernetes-list-map-keys'), mapKeys, 'must not contain duplicate entries'));
        seen.add(k);
      }
    }
  }
  if (items && (listType === 'set' || listType === 'map')) {
    if (items.nullable) errs.push(forbiddenField(p.child('items').child('nullable'), `cannot be nullable when x-kubernetes-list-type is ${listType}`));
    if (listType === 'map') {
      const req = new Set(items.required ?? []);
      for (const k of mapKeys) {
        const ks = items.properties?.[k];
        if (!ks) continue;
        if (!req.has(k) && (ks.default === undefined || ks.default === null)) {
          errs.push(required(p.child('items').child('properties').key(k).child('default'), 'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property'));
        }
        if (ks.nullable) errs.push(forbiddenField(p.child('items').child('properties').key(k).child('nullable'), 'this property is in x-kubernetes-list-map-keys, so it cannot be nullable'));
      }
    }
  }
  (s['x-kubernetes-validations'] ?? []).forEach((rule, i) => {
    const rp = p.child('x-kubernetes-validations').index(i);
    if (!rule.rule?.trim()) errs.push(required(rp.child('rule'), 'rule is not specified'));
  });
  return errs;
}

