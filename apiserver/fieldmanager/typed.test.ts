import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deployments } from '../../lib/api/apps/deployment.js';
import { services } from '../../lib/api/core/service.js';
import { FieldSet, fieldPath, pathString, toFieldsV1, type Json } from './fieldpath.js';
import { Typed } from './typed.js';
import { customTypeSchema, typeSchemaFor } from './types.js';

const dep = new Typed(typeSchemaFor(deployments));

function deployment(spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'web' }): Json {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata, spec } as Json;
}

const podSpec = (containers: unknown[]) => ({
  selector: { matchLabels: { app: 'web' } },
  template: { metadata: { labels: { app: 'web' } }, spec: { containers } },
});

describe('toFieldSet', () => {
  it('addresses containers, ports and env by their list-map keys, labels by key, finalizers by value', () => {
    const obj = deployment(
      {
        replicas: 2,
        ...podSpec([
          {
            name: 'web',
            image: 'nginx',
            command: ['nginx', '-g'],
            ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }],
            env: [{ name: 'A', value: '1' }],
          },
        ]),
      },
      { name: 'web', labels: { app: 'web' }, finalizers: ['example.com/keep'] },
    );
    assert.deepEqual(toFieldsV1(dep.toFieldSet(obj)), {
      'f:apiVersion': {},
      'f:kind': {},
      'f:metadata': { 'f:finalizers': { 'v:"example.com/keep"': {} }, 'f:labels': { 'f:app': {} }, 'f:name': {} },
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"web"}': {
                '.': {},
                'f:command': {},
                'f:env': { 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
                'f:image': {},
                'f:name': {},
                'f:ports': {
                  // protocol defaults to TCP in the key, though the item does not say it.
                  'k:{"containerPort":53,"protocol":"UDP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} },
                  'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} },
                },
              },
            },
          },
        },
      },
    });
  });

  it('owns an empty struct or an explicit null as a leaf', () => {
    const s = dep.toFieldSet(deployment({ strategy: {}, paused: null }));
    assert.ok(s.has(fieldPath('spec', 'strategy')));
    assert.ok(s.has(fieldPath('spec', 'paused')));
  });

  it('treats a Service selector as an atomic map', () => {
    const svc = new Typed(typeSchemaFor(services));
    const s = svc.toFieldSet({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { app: 'a', tier: 'b' } } });
    assert.ok(s.has(fieldPath('spec', 'selector')));
    assert.ok(!s.has(fieldPath('spec', 'selector', 'app')));
  });
});

describe('compare', () => {
  const live = deployment({ replicas: 2, ...podSpec([{ name: 'web', image: 'nginx:1' }, { name: 'side', image: 'busybox' }]) });

  it('finds modified leaves, added and removed items, and marks new maps themselves as added', () => {
    const next = deployment(
      { replicas: 3, ...podSpec([{ name: 'web', image: 'nginx:2' }, { name: 'log', image: 'fluent' }]) },
      { name: 'web', labels: { tier: 'front' } },
    );
    const c = dep.compare(live, next);
    assert.deepEqual(c.modified.paths().map(pathString), ['.spec.replicas', '.spec.template.spec.containers[name="web"].image']);
    assert.deepEqual(c.added.paths().map(pathString), [
      '.metadata.labels',
      '.metadata.labels.tier',
      '.spec.template.spec.containers[name="log"]',
      '.spec.template.spec.containers[name="log"].image',
      '.spec.template.spec.containers[name="log"].name',
    ]);
    assert.deepEqual(c.removed.paths().map(pathString), [
      '.spec.template.spec.containers[name="side"]',
      '.spec.template.spec.containers[name="side"].image',
      '.spec.template.spec.containers[name="side"].name',
    ]);
  });

  it('sees no change between equal objects whatever their key order', () => {
    const reordered = JSON.parse(JSON.stringify(live), (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v));
    const c = dep.compare(live, reordered);
    assert.ok(c.added.empty() && c.removed.empty() && c.modified.empty());
  });
});

describe('merge', () => {
  it('merges containers by name in the live order, replaces atomic lists, unions sets', () => {
    const live = deployment(
      podSpec([
        { name: 'a', image: 'a:1', args: ['x', 'y'] },
        { name: 'b', image: 'b:1' },
      ]),
      { name: 'web', finalizers: ['one'] },
    );
    const config = deployment(podSpec([{ name: 'b', image: 'b:2' }, { name: 'c', image: 'c:1' }, { name: 'a', args: ['z'] }]), { name: 'web', finalizers: ['two'] });
    const merged = dep.merge(live, config) as { metadata: { finalizers: string[] }; spec: { template: { spec: { containers: unknown[] } } } };
    assert.deepEqual(merged.spec.template.spec.containers, [
      { name: 'b', image: 'b:2' },
      { name: 'c', image: 'c:1' },
      { name: 'a', image: 'a:1', args: ['z'] },
    ]);
    assert.deepEqual(merged.metadata.finalizers, ['one', 'two']);
  });

  it('keeps live items the configuration does not mention, in place', () => {
    const live = deployment(podSpec([{ name: 'a', image: 'a' }, { name: 'b', image: 'b' }, { name: 'c', image: 'c' }]));
    const config = deployment(podSpec([{ name: 'c', image: 'c2' }]));
    const merged = dep.merge(live, config) as { spec: { template: { spec: { containers: { name: string; image: string }[] } } } };
    assert.deepEqual(
      merged.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`),
      ['a=a', 'b=b', 'c=c2'],
    );
  });

  it('refuses duplicate keys in a configuration', () => {
    assert.throws(() => dep.merge(deployment({}), deployment(podSpec([{ name: 'a' }, { name: 'a' }]))), /duplicate entries for key \[name="a"\]/);
  });
});

describe('removeItems', () => {
  it('removes fields and items, and drops what is left empty', () => {
    const obj = deployment({ replicas: 2, ...podSpec([{ name: 'a', image: 'a' }, { name: 'b', image: 'b' }]) }, { name: 'web', labels: { x: '1' } });
    const set = FieldSet.of(
      fieldPath('spec', 'replicas'),
      [...fieldPath('spec', 'template', 'spec', 'containers'), { key: [['name', 'b']] }],
      fieldPath('metadata', 'labels', 'x'),
    );
    assert.deepEqual(dep.removeItems(obj, set), deployment(podSpec([{ name: 'a', image: 'a' }]), { name: 'web' }));
  });
});

describe('validate', () => {
  it('reports unknown fields, duplicate keys and items without keys as structured-merge-diff does', () => {
    assert.deepEqual(dep.validate(deployment({ replicas: 1, replica: 2 })), ['.spec.replica: field not declared in schema']);
    assert.deepEqual(dep.validate(deployment(podSpec([{ name: 'a' }, { name: 'a' }]))), ['.spec.template.spec.containers: duplicate entries for key [name="a"]']);
    assert.deepEqual(dep.validate(deployment(podSpec([{ image: 'x' }]))), [
      '.spec.template.spec.containers: element 0: associative list with keys has an element that omits all key fields ["name"] (and doesn\'t have default values for any key fields)',
    ]);
    assert.deepEqual(dep.validate(deployment({ replicas: 'two' })), ['.spec.replicas: expected numeric (int or float), got string']);
    assert.deepEqual(dep.validate(deployment({ replicas: 2 })), []);
  });
});

describe('custom resources', () => {
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' } } } },
          tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
          hosts: { type: 'array', items: { type: 'string' } },
          extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    },
  };
  const cr = new Typed(customTypeSchema(schema));

  it('follows the schema: list-map keys, sets, atomic lists by default, free-form maps granular', () => {
    const s = cr.toFieldSet({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', labels: { a: 'b' } },
      spec: { ports: [{ name: 'http', port: 80 }], tags: ['x'], hosts: ['h1', 'h2'], extra: { deep: { k: 'v' }, list: [1] } },
    });
    assert.deepEqual(toFieldsV1(s), {
      'f:apiVersion': {},
      'f:kind': {},
      'f:metadata': { 'f:labels': { 'f:a': {} }, 'f:name': {} },
      'f:spec': {
        'f:extra': { 'f:deep': { '.': {}, 'f:k': {} }, 'f:list': {} },
        'f:hosts': {},
        'f:ports': { 'k:{"name":"http"}': { '.': {}, 'f:name': {}, 'f:port': {} } },
        'f:tags': { 'v:"x"': {} },
      },
    });
    assert.deepEqual(cr.validate({ apiVersion: 'example.com/v1', kind: 'Widget', spec: { nope: 1 } }), ['.spec.nope: field not declared in schema']);
  });

  it('deduces everything when there is no schema: maps granular, lists atomic', () => {
    const free = new Typed(customTypeSchema(undefined));
    const s = free.toFieldSet({ apiVersion: 'example.com/v1', kind: 'Thing', spec: { a: { b: 1 }, list: [{ x: 1 }] } });
    assert.deepEqual(toFieldsV1(s), { 'f:apiVersion': {}, 'f:kind': {}, 'f:spec': { '.': {}, 'f:a': { '.': {}, 'f:b': {} }, 'f:list': {} } });
  });
});
