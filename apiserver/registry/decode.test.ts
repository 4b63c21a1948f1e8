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

  it('parses times as time.Parse(time.RFC3339) does', () => {
    const at = (t: string) => decodeError('V1Pod', pod({}, { creationTimestamp: t }), { flavor: 'json' });
    assert.equal(at('2024-02-29T23:59:59Z'), undefined);
    assert.equal(at('2024-01-01T00:00:00.123+02:00'), undefined);
    assert.equal(at('garbage'), 'parsing time "garbage" as "2006-01-02T15:04:05Z07:00": cannot parse "garbage" as "2006"');
    assert.equal(at('2024/01/01'), 'parsing time "2024/01/01" as "2006-01-02T15:04:05Z07:00": cannot parse "/01/01" as "-"');
    assert.equal(at('2024-13-01T00:00:00Z'), 'parsing time "2024-13-01T00:00:00Z": month out of range');
    assert.equal(at('2023-02-29T00:00:00Z'), 'parsing time "2023-02-29T00:00:00Z": day out of range');
    assert.equal(at('2024-01-01T00:00:00'), 'parsing time "2024-01-01T00:00:00" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"');
    assert.equal(at('2024-01-01T00:00:00Zjunk'), 'parsing time "2024-01-01T00:00:00Zjunk": extra text: "junk"');
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

describe('decodeError holds integers beyond 2^53 (BigInts, lib/machinery/json.ts) to Go int64 exactly', () => {
  const max = 2n ** 63n - 1n;
  it('accepts int64 max and min in int64 fields, float64 fields and quantities', () => {
    assert.equal(decodeError('V1Pod', pod({ activeDeadlineSeconds: max, terminationGracePeriodSeconds: -max - 1n }), { flavor: 'json' }), undefined);
    assert.equal(decodeError('V1Pod', pod({ containers: [{ name: 'c', resources: { limits: { memory: max } } }] }), { flavor: 'json' }), undefined);
    assert.equal(decodeError('V1Pod', pod({ activeDeadlineSeconds: max }), { flavor: 'unstructured' }), undefined);
  });
  it('refuses one past int64 with the digits, in both flavors', () => {
    assert.equal(
      decodeError('V1Pod', pod({ activeDeadlineSeconds: max + 1n }), { flavor: 'json' }),
      'json: cannot unmarshal number 9223372036854775808 into Go struct field PodSpec.spec.activeDeadlineSeconds of type int64',
    );
    assert.equal(
      decodeError('V1Pod', pod({ activeDeadlineSeconds: -max - 2n }), { flavor: 'json' }),
      'json: cannot unmarshal number -9223372036854775809 into Go struct field PodSpec.spec.activeDeadlineSeconds of type int64',
    );
    assert.equal(decodeError('V1Pod', pod({ activeDeadlineSeconds: max + 1n }), { flavor: 'unstructured' }), 'cannot convert float64 to int64');
  });
  it('refuses an int64 in an int32 field and an IntOrString', () => {
    const port = (p: unknown) => pod({ containers: [{ name: 'c', ports: [{ containerPort: p }] }] });
    assert.equal(decodeError('V1Pod', port(max), { flavor: 'json' }), 'json: cannot unmarshal number 9223372036854775807 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32');
    assert.equal(decodeError('V1Pod', port(max), { flavor: 'unstructured' }), 'cannot convert int64 to int32');
    assert.equal(
      decodeError('V1Pod', pod({ containers: [{ name: 'c', readinessProbe: { httpGet: { port: max } } }] }), { flavor: 'json' }),
      'json: cannot unmarshal number 9223372036854775807 into Go value of type int32',
    );
    assert.equal(decodeError('V1Pod', pod({ hostNetwork: max }), { flavor: 'json' }), 'json: cannot unmarshal number into Go struct field PodSpec.spec.hostNetwork of type bool');
  });
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
