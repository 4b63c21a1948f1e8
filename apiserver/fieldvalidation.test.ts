import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  applyStrictError,
  applyStrictProblems,
  findDuplicateFields,
  findDuplicateYAMLKeys,
  findUnknownFields,
  goQuote,
  goValueString,
  strictDecodingError,
  strictJSONProblems,
  strictPatchError,
  strictProblems,
  validateFieldValidation,
  warningHeaders,
  warningsFor,
  yamlStrictError,
} from './fieldvalidation.js';

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    labels: { 'app.kubernetes.io/name': 'web', anything: 'goes' },
    annotations: { 'example.com/x': 'y' },
    managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }],
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'a', image: 'nginx', resources: { limits: { cpu: '1', memory: '1Gi' } } },
          { name: 'b', image: 'busybox', imagePullPolicy: 'Always', ports: [{ containerPort: 80 }, { containerPort: 81, hostPort: 8081 }] },
        ],
        nodeSelector: { 'kubernetes.io/os': 'linux' },
      },
    },
  },
};

test('findUnknownFields: a valid Deployment has none (maps, quantities and raw fields take anything)', () => {
  assert.deepEqual(findUnknownFields(deployment, 'V1Deployment'), []);
});

test('findUnknownFields reports Kubernetes paths at every depth, inside lists and below map values', () => {
  const obj = structuredClone(deployment) as Record<string, any>;
  obj.spec.foo = 1;
  obj.metadata.nmae = 'typo';
  obj.spec.template.spec.containers[1].imagePullPolcy = 'Always';
  obj.spec.template.spec.containers[1].ports[1].hostPrt = 8081;
  obj.spec.template.spec.volumes = [{ name: 'v', configMap: { name: 'c', itemz: [] } }];
  obj.extra = { nested: true };
  assert.deepEqual(findUnknownFields(obj, 'V1Deployment'), [
    'metadata.nmae',
    'spec.template.spec.containers[1].ports[1].hostPrt',
    'spec.template.spec.containers[1].imagePullPolcy',
    'spec.template.spec.volumes[0].configMap.itemz',
    'spec.foo',
    'extra',
  ]);
  // Fields are case-sensitive, as sigs.k8s.io/json decodes them.
  assert.deepEqual(findUnknownFields({ spec: { Replicas: 1 } }, 'V1Deployment'), ['spec.Replicas']);
  // Map values that are structs are checked too (a ConfigMap's data is a plain map; an HPA's metrics list holds structs).
  assert.deepEqual(findUnknownFields({ data: { a: 'b' }, binaryData: { c: 'ZA==' } }, 'V1ConfigMap'), []);
});

test('strictJSONProblems: unknown and duplicate fields in document order, each once', () => {
  const body = `{
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "a", "name": "b", "labels": {"x": "1", "x": "2"}, "foo": 1, "foo": 2},
    "spec": {"template": {"spec": {"containers": [{"name": "c", "imagePullPolcy": "Always"}]}},
             "strategy": {"rollingUpdate": {"maxSurge": {"odd": 1, "odd": 2}}}},
    "metadata": {}
  }`;
  assert.deepEqual(strictJSONProblems(body, 'V1Deployment'), [
    'duplicate field "metadata.name"',
    'duplicate field "metadata.labels.x"',
    'unknown field "metadata.foo"',
    'unknown field "spec.template.spec.containers[0].imagePullPolcy"',
    'duplicate field "metadata"',
  ]);
  assert.deepEqual(strictJSONProblems('{"a": ', 'V1Deployment'), [], 'malformed JSON is the ordinary decoder\'s to report');
});

test('findDuplicateFields: keys JSON.parse would silently collapse', () => {
  const body = '{"a": {"b": 1, "b": 2}, "list": [{"x": 1}, {"y": 1, "y": 2}], "a": 3}';
  assert.deepEqual(findDuplicateFields(body), ['a.b', 'list[1].y', 'a']);
  // With a model, raw JSON (RawExtension) and unknown fields are not looked into, as kube-apiserver does.
  const rev = '{"kind": "ControllerRevision", "data": {"k": 1, "k": 2}, "junk": {"z": 1, "z": 2}, "revision": 1, "revision": 2}';
  assert.deepEqual(findDuplicateFields(rev, 'V1ControllerRevision'), ['revision']);
});

test('findDuplicateYAMLKeys: go-yaml strict lines, numbered by the value, inner before outer', () => {
  const text = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: a', '  name: b', 'data:', '  k: v', 'data:', '  x: "1"', '  x: "2"', ''].join('\n');
  assert.deepEqual(findDuplicateYAMLKeys(text), ['line 5: key "name" already set in map', 'line 10: key "x" already set in map', 'line 9: key "data" already set in map']);
  assert.deepEqual(findDuplicateYAMLKeys('a: 1\n9: 2\n9: 4\n'), ['line 3: key 9 already set in map']);
  assert.equal(yamlStrictError(['line 5: key "name" already set in map']), 'yaml: unmarshal errors:\n  line 5: key "name" already set in map');
});

test('strictProblems: a YAML body reports its duplicates, then unknown fields with keys sorted', () => {
  const text = ['apiVersion: v1', 'kind: ConfigMap', 'zeta: 1', 'metadata:', '  name: a', '  name: b', 'alpha: 2', ''].join('\n');
  assert.deepEqual(strictProblems(text, 'application/yaml', 'V1ConfigMap'), [
    'yaml: unmarshal errors:\n  line 6: key "name" already set in map',
    'unknown field "alpha"',
    'unknown field "zeta"',
  ]);
  assert.deepEqual(strictProblems(Buffer.from('{"kind":"ConfigMap","datta":{}}'), 'application/json', 'V1ConfigMap'), ['unknown field "datta"']);
  assert.deepEqual(strictProblems(Buffer.from([0x6b, 0x38, 0x73, 0x00]), 'application/vnd.kubernetes.protobuf', 'V1ConfigMap'), []);
  // Without a model (a custom resource) only duplicates are the decoder's to find.
  assert.deepEqual(strictProblems('{"spec": {"a": 1, "a": 2}, "zzz": 1}', 'application/json', undefined), ['duplicate field "spec.a"']);
  assert.deepEqual(strictProblems('spec:\n  a: 1\n  a: 2\nzzz: 1\n', 'application/yaml', undefined), ['yaml: unmarshal errors:\n  line 3: key "a" already set in map']);
});

test('strictDecodingError: the 400 kube-apiserver answers to a Strict create or update', () => {
  const err = strictDecodingError(['unknown field "spec.foo"', 'duplicate field "metadata.name"'], { kind: 'Deployment', version: 'v1' });
  assert.equal(err.code, 400);
  assert.equal(err.reason, 'BadRequest');
  assert.equal(err.message, 'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo", duplicate field "metadata.name"');
  assert.equal(strictDecodingError(['unknown field "spec.foo"']).message, 'strict decoding error: unknown field "spec.foo"');
});

test('strictPatchError and applyStrictError: the patch paths', () => {
  const err = strictPatchError(['unknown field "spec.foo"'], goValueString({ spec: { foo: 'bar' } }));
  assert.equal(err.code, 422);
  assert.equal(err.message, ' "" is invalid: patch: Invalid value: "map[spec:map[foo:bar]]": strict decoding error: unknown field "spec.foo"');
  assert.equal(err.status.details?.causes?.[0].field, 'patch');
  const apply = applyStrictError(['line 3: key "a" already set in map']);
  assert.equal(apply.code, 400);
  assert.equal(apply.message, 'error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 3: key "a" already set in map');
  assert.deepEqual(warningsFor(applyStrictProblems(['line 3: key "a" already set in map'])), ['299 - "line 3: key \\"a\\" already set in map"']);
});

test('warningsFor: one Warning header per problem, YAML errors split per line', () => {
  assert.deepEqual(warningsFor(['unknown field "spec.foo"', 'yaml: unmarshal errors:\n  line 2: key "a" already set in map\n  line 4: key "b" already set in map', 'unknown field "spec.foo"']), [
    '299 - "unknown field \\"spec.foo\\""',
    '299 - "line 2: key \\"a\\" already set in map"',
    '299 - "line 4: key \\"b\\" already set in map"',
  ]);
  // Past 4096 characters in all, every text is cut to 256, and texts stop once the cut ones fill 4096.
  const long = Array.from({ length: 20 }, (_, i) => `unknown field "${String(i).padStart(300, 'x')}"`);
  const headers = warningHeaders(long);
  assert.equal(headers.length, 16);
  assert.equal(headers[0].length, '299 - ""'.length + 256 + 1); // one escaped quote within the first 256 characters
  assert.equal(warningHeaders(long.slice(0, 3)).length, 3);
  assert.equal(warningHeaders(long.slice(0, 3))[0].length, '299 - ""'.length + 316 + 2);
});

test('validateFieldValidation: unsupported directives get the metav1 validation error', () => {
  assert.equal(validateFieldValidation('Strict', 'CreateOptions'), undefined);
  assert.equal(validateFieldValidation('', 'PatchOptions'), undefined);
  const err = validateFieldValidation('strict', 'UpdateOptions');
  assert.equal(err?.code, 422);
  assert.equal(err?.message, 'UpdateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"');
});

test('goValueString and goQuote print as Go does', () => {
  assert.equal(goValueString({ b: [1, 'x', true], a: null, c: { d: 1.5, e: 1234567.5, f: 0.00001 } }), 'map[a:<nil> b:[1 x true] c:map[d:1.5 e:1.2345675e+06 f:1e-05]]');
  assert.equal(goQuote('a"b\\c\n\u0001é'), '"a\\"b\\\\c\\n\\x01é"');
});
