import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeError, metadataDecodeError, objectDecodeError } from './decode.js';

const pod = (spec: unknown, metadata: unknown = { name: 'p' }) => ({ apiVersion: 'v1', kind: 'Pod', metadata, spec });

describe('decodeError speaks encoding/json', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['a string for a map', pod({ containers: [] }, { name: 'p', labels: 'x' }), 'json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string'],
    ['a number for a map value', pod({}, { labels: { a: 1 } }), 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string'],
    ['an object for a struct list', pod({ containers: {} }), 'json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container'],
    ['a bool inside a list item', pod({ containers: [{ name: true }] }), 'json: cannot unmarshal bool into Go struct field Container.spec.containers.name of type string'],
    ['a fraction for an int64', pod({ activeDeadlineSeconds: 1.5 }), 'json: cannot unmarshal number 1.5 into Go struct field PodSpec.spec.activeDeadlineSeconds of type int64'],
    ['an int32 overflow', pod({ containers: [{ name: 'c', ports: [{ containerPort: 2 ** 31 }] }] }), 'json: cannot unmarshal number 2147483648 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32'],
    ['a string for a bool', pod({ hostNetwork: 'true' }), 'json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool'],
    ['an array for a struct', pod([]), 'json: cannot unmarshal array into Go struct field Pod.spec of type v1.PodSpec'],
    ['a bad quantity', pod({ containers: [{ name: 'c', resources: { limits: { cpu: true } } }] }), "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['a fraction for an IntOrString', pod({ containers: [{ name: 'c', readinessProbe: { httpGet: { port: 1.5 } } }] }), 'json: cannot unmarshal number 1.5 into Go value of type int32'],
    ['a number for a time', pod({}, { creationTimestamp: 5 }), 'json: cannot unmarshal number into Go value of type string'],
  ];
  for (const [what, obj, msg] of cases) {
    it(what, () => assert.equal(decodeError('V1Pod', obj, { flavor: 'json' }), msg));
  }

  it('names Secret data as Go does, and checks its base64', () => {
    assert.equal(decodeError('V1Secret', { data: -1 }, { flavor: 'json' }), 'json: cannot unmarshal number into Go struct field Secret.data of type map[string][]uint8');
    assert.equal(decodeError('V1Secret', { data: { a: 'a$==' } }, { flavor: 'json' }), 'illegal base64 data at input byte 1');
    assert.equal(decodeError('V1Secret', { data: { a: 'YWJj' } }, { flavor: 'json' }), undefined);
  });

  it('refuses numbers JSON cannot carry (a YAML body may)', () => {
    assert.equal(decodeError('V1Pod', pod({ containers: [{ name: 'c', resources: { limits: { cpu: Infinity } } }] }), { flavor: 'json' }), 'json: unsupported value: +Inf');
    assert.equal(decodeError('V1Pod', pod({ activeDeadlineSeconds: NaN }), { flavor: 'json' }), 'json: unsupported value: NaN');
  });

  it('accepts what Go accepts: nulls, raw fields, unknown fields', () => {
    const obj = pod({ containers: [{ name: 'c', image: null }], nodeSelector: { a: null } }, JSON.parse('{"name":"p","labels":null,"__proto__":{"x":1}}'));
    assert.equal(decodeError('V1Pod', obj, { flavor: 'json' }), undefined);
    // Reporting leaves the object alone; trimming drops what decoding drops.
    assert.ok(Object.hasOwn(obj.metadata as object, '__proto__'));
    assert.equal(decodeError('V1Pod', obj, { flavor: 'json', trim: true }), undefined);
    assert.equal(JSON.stringify(obj), '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}],"nodeSelector":{"a":""}}}');
  });
});

describe('decodeError speaks the unstructured converter for strategic merge patches', () => {
  const cases: [Record<string, unknown>, string][] = [
    [pod({}, { labels: 'invalid' }), 'cannot restore map from string'],
    [pod({ containers: 'x' }), 'cannot restore slice from string'],
    [pod(5), 'cannot restore struct from: int64'],
    [pod({ activeDeadlineSeconds: 'x' }), 'cannot convert string to int64'],
    [pod({ activeDeadlineSeconds: 1.5 }), 'cannot convert float64 to int64'],
    [pod({ hostNetwork: {} }), 'cannot convert map[string]interface {} to bool'],
  ];
  for (const [obj, msg] of cases) it(msg, () => assert.equal(decodeError('V1Pod', obj, { flavor: 'unstructured' }), msg));
});

describe('objectDecodeError', () => {
  it('finds the model of a built-in kind, and checks only the metadata of a custom resource', () => {
    const deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };
    assert.match(objectDecodeError(deployment, { spec: { replicas: '3' } }, { flavor: 'json' }) ?? '', /DeploymentSpec.spec.replicas of type int32$/);
    const cr = { group: 'example.com', version: 'v1', kind: 'Deployment' };
    assert.equal(objectDecodeError(cr, { spec: { replicas: '3' } }, { flavor: 'json' }), undefined);
    assert.equal(objectDecodeError(cr, { metadata: { labels: [] } }, { flavor: 'json' }), 'json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string');
    assert.equal(metadataDecodeError({ metadata: { name: 'x' } }, { flavor: 'json' }), undefined);
  });
});
