// CustomResourceDefinition defaults and validation: Kubernetes' messages at Kubernetes' paths,
// including the internal form's hoisting of what every version shares (spec.validation, …).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../../machinery/field-errors.js';
import { defaultCustomResourceDefinition, customResourceDefinitions } from './customresourcedefinition.js';
import { validateCustomResourceDefinition, validateCustomResourceDefinitionUpdate } from './validation.js';
import type { CustomResourceDefinition, CustomResourceDefinitionVersion, JSONSchemaProps } from './types.js';

const specSchema = (): JSONSchemaProps => ({
  type: 'object',
  properties: {
    spec: { type: 'object', properties: { image: { type: 'string' }, replicas: { type: 'integer', default: 1 } } },
    status: { type: 'object', properties: { replicas: { type: 'integer' } } },
  },
});

function version(name: string, over: Partial<CustomResourceDefinitionVersion> = {}): CustomResourceDefinitionVersion {
  return { name, served: true, storage: name === 'v1', schema: { openAPIV3Schema: specSchema() }, ...over };
}

function crd(over: (c: CustomResourceDefinition) => void = () => undefined): CustomResourceDefinition {
  const c: CustomResourceDefinition = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: { group: 'stable.example.com', scope: 'Namespaced', names: { plural: 'crontabs', kind: 'CronTab' }, versions: [version('v1')] },
  };
  over(c);
  defaultCustomResourceDefinition(c);
  customResourceDefinitions.prepareForCreate!(c, { now: new Date() });
  return c;
}

const errors = (c: CustomResourceDefinition) => validateCustomResourceDefinition(c).map((e) => fieldErrorMessage(e));

test('defaults: singular, listKind, conversion None, and the storage version recorded', () => {
  const c = crd();
  assert.equal(c.spec.names.singular, 'crontab');
  assert.equal(c.spec.names.listKind, 'CronTabList');
  assert.deepEqual(c.spec.conversion, { strategy: 'None' });
  assert.deepEqual(c.status, { storedVersions: ['v1'] });
  assert.deepEqual(errors(c), []);
});

test('the name must be <plural>.<group>, the group a domain with a dot, the scope known', () => {
  assert.deepEqual(errors(crd((c) => (c.metadata.name = 'crontab.stable.example.com'))), [
    'metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group',
  ]);
  const bad = errors(
    crd((c) => {
      c.metadata.name = 'crontabs.example';
      c.spec.group = 'example';
      c.spec.scope = 'Global';
    }),
  );
  assert.deepEqual(bad, ['spec.group: Invalid value: "example": should be a domain with at least one dot', 'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']);
});

test('names must be DNS labels and kind differ from listKind', () => {
  const e = errors(
    crd((c) => {
      c.spec.names.shortNames = ['Bad_Name'];
      c.spec.names.listKind = 'CronTab';
    }),
  );
  assert.ok(e.some((m) => m.startsWith('spec.names.shortNames[0]: Invalid value: "Bad_Name": a DNS-1035 label must consist of lower case alphanumeric characters')), e.join('\n'));
  assert.ok(e.includes('spec.names.listKind: Invalid value: "CronTab": kind and listKind may not be the same'), e.join('\n'));
});

test('a non-structural schema is rejected at the hoisted path when every version shares it', () => {
  const c = crd((c) => {
    (c.spec.versions[0].schema!.openAPIV3Schema!.properties!.spec.properties!.image as JSONSchemaProps).type = undefined;
    c.spec.versions[0].schema!.openAPIV3Schema!.properties!.extra = { description: 'no type' };
  });
  assert.deepEqual(errors(c), [
    'spec.validation.openAPIV3Schema.properties[extra].type: Required value: must not be empty for specified object fields',
    'spec.validation.openAPIV3Schema.properties[spec].properties[image].type: Required value: must not be empty for specified object fields',
  ]);
});

test('per-version schemas are checked under spec.versions[i]', () => {
  const c = crd((c) => {
    const v2 = version('v2');
    v2.schema!.openAPIV3Schema!.properties!.spec.type = undefined;
    c.spec.versions.push(v2);
  });
  assert.deepEqual(errors(c), ['spec.versions[1].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields']);
});

test('schemas are required, and exactly one version is stored', () => {
  const none = errors(crd((c) => (c.spec.versions = [{ name: 'v1', served: true, storage: true }])));
  assert.deepEqual(none, ['spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required']);
  const two = errors(crd((c) => c.spec.versions.push(version('v2', { storage: true }))));
  assert.ok(two.some((m) => m.startsWith('spec.versions: Invalid value: ') && m.endsWith('must have exactly one version marked as storage version')), two.join('\n'));
});

test('defaults must be valid and pruned', () => {
  const c = crd((c) => {
    const spec = c.spec.versions[0].schema!.openAPIV3Schema!.properties!.spec;
    spec.properties!.replicas.default = 'one';
    spec.properties!.nested = { type: 'object', properties: { a: { type: 'string' } }, default: { a: 'x', b: 'y' } };
  });
  const e = errors(c);
  assert.equal(e.length, 2, e.join('\n'));
  assert.equal(e[0], 'spec.validation.openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: "string":  in body must be of type integer: "string"');
  assert.match(e[1], /^spec\.validation\.openAPIV3Schema\.properties\[spec\]\.properties\[nested\]\.default: Invalid value: .*: must not have unknown fields$/);
});

test('metadata may restrict only name and generateName; top-level defaults and other constructs are forbidden', () => {
  const c = crd((c) => {
    const root = c.spec.versions[0].schema!.openAPIV3Schema!;
    root.properties!.metadata = { type: 'object', properties: { labels: { type: 'object' } } };
    root.properties!.spec.properties!.tags = { type: 'array', items: { type: 'string' }, uniqueItems: true };
    root.properties!.spec.properties!.more = { type: 'object', additionalProperties: false, properties: { a: { type: 'string' } } };
  });
  assert.deepEqual(errors(c), [
    'spec.validation.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified',
    'spec.validation.openAPIV3Schema.properties[spec].properties[tags].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
    'spec.validation.openAPIV3Schema.properties[spec].properties[more].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive',
  ]);
});

test('list types: map lists need keys that are required or defaulted', () => {
  const c = crd((c) => {
    c.spec.versions[0].schema!.openAPIV3Schema!.properties!.spec.properties!.ports = {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: { type: 'object', properties: { name: { type: 'string' } } },
    };
  });
  assert.deepEqual(errors(c), [
    'spec.validation.openAPIV3Schema.properties[spec].properties[ports].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property',
  ]);
});

test('printer columns and the scale subresource are checked', () => {
  const c = crd((c) => {
    c.spec.versions[0].additionalPrinterColumns = [{ name: 'Replicas', type: 'float', jsonPath: 'spec.replicas' }];
    c.spec.versions[0].subresources = { status: {}, scale: { specReplicasPath: '.status.replicas', statusReplicasPath: '.status.replicas' } };
  });
  assert.deepEqual(errors(c), [
    'spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec',
    'spec.additionalPrinterColumns[0].type: Invalid value: "float": must be one of boolean,date,integer,number,string',
    'spec.additionalPrinterColumns[0].JSONPath: Invalid value: "spec.replicas": must be a simple json path starting with .',
  ]);
});

test('with the status subresource only some constructs are allowed at the schema root', () => {
  const c = crd((c) => {
    c.spec.versions[0].subresources = { status: {} };
    c.spec.versions[0].schema!.openAPIV3Schema!.minProperties = 1;
  });
  assert.deepEqual(errors(c), [
    'spec.validation.openAPIV3Schema: Invalid value: ' +
      JSON.stringify(c.spec.versions[0].schema!.openAPIV3Schema) +
      ': only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource is enabled',
  ]);
});

test('preserveUnknownFields and webhook conversion are refused', () => {
  const e = errors(
    crd((c) => {
      c.spec.preserveUnknownFields = true;
      c.spec.conversion = { strategy: 'Webhook' };
    }),
  );
  assert.ok(e.includes('spec.conversion.strategy: Unsupported value: "Webhook": supported values: "None"'), e.join('\n'));
  assert.ok(e.includes('spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead'), e.join('\n'));
});

test('protected groups need the API approval annotation', () => {
  const e = errors(
    crd((c) => {
      c.metadata.name = 'things.example.k8s.io';
      c.spec.group = 'example.k8s.io';
      c.spec.names = { plural: 'things', kind: 'Thing' };
    }),
  );
  assert.deepEqual(e, [
    'metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111',
  ]);
});

test('once established, scope and kind are immutable; group and plural always', () => {
  const old = crd();
  old.status!.conditions = [{ type: 'Established', status: 'True' }];
  const next = structuredClone(old);
  next.spec.scope = 'Cluster';
  next.spec.names.kind = 'Cron';
  next.spec.group = 'other.example.com';
  assert.deepEqual(
    validateCustomResourceDefinitionUpdate(next, old).map((e) => fieldErrorMessage(e)),
    ['spec.scope: Invalid value: "Cluster": field is immutable', 'spec.names.kind: Invalid value: "Cron": field is immutable', 'spec.group: Invalid value: "other.example.com": field is immutable'],
  );
});
