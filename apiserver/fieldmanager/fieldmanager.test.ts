import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../lib/api/meta.js';
import { deployments } from '../../lib/api/apps/deployment.js';
import { configMaps } from '../../lib/api/core/configmap.js';
import { StatusError } from '../../lib/machinery/status.js';
import type { ResourceDefinition } from '../../lib/api/resource.js';
import { FieldManager, LastAppliedConfigAnnotation, buildLastApplied } from './fieldmanager.js';
import type { ManagedFieldsEntry } from './managedfields.js';

const t0 = new Date('2024-05-01T10:00:00Z');
const t1 = new Date('2024-05-01T10:00:05Z');
const t2 = new Date('2024-05-01T10:00:09Z');

function entries(obj: KubeObject): ManagedFieldsEntry[] {
  return (obj.metadata.managedFields ?? []) as ManagedFieldsEntry[];
}

function entry(obj: KubeObject, manager: string): ManagedFieldsEntry {
  const e = entries(obj).find((x) => x.manager === manager);
  assert.ok(e, `no entry for ${manager} in ${JSON.stringify(entries(obj))}`);
  return e;
}

function conflictOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err;
  }
  assert.fail('expected an error');
}

/** stored plays the registry's part: defaults after every write, as the generic store runs them. */
function stored(def: ResourceDefinition<any>, obj: KubeObject): KubeObject {
  const copy = structuredClone(obj);
  def.defaults?.(copy);
  return copy;
}

const cmFM = new FieldManager(configMaps);
const depFM = new FieldManager(deployments);

function configMap(data: Record<string, string>, labels?: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'test-cm', namespace: 'default', ...(labels ? { labels } : {}) }, data } as KubeObject;
}

function deployment(replicas: number | undefined, containers: unknown[], extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers } },
      ...extra,
    },
  } as KubeObject;
}

describe('update: managedFields of ordinary writes', () => {
  it('records a create as Kubernetes does (kubectl apply of an nginx Deployment)', () => {
    const obj = deployment(2, [
      { name: 'nginx', image: 'nginx:latest', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '250m', memory: '256Mi' } } },
    ]);
    obj.metadata.annotations = { [LastAppliedConfigAnnotation]: '{}' };
    const out = depFM.update(undefined, stored(deployments, obj), { manager: 'kubectl-client-side-apply', now: t0 });
    assert.equal(entries(out).length, 1);
    const e = entry(out, 'kubectl-client-side-apply');
    assert.deepEqual({ ...e, fieldsV1: undefined }, { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: undefined });
    // Kubernetes' own output for this object: `.` only where the Go zero value had nothing.
    const spec = e.fieldsV1!['f:spec'] as Record<string, any>;
    assert.deepEqual(Object.keys(spec), ['f:progressDeadlineSeconds', 'f:replicas', 'f:revisionHistoryLimit', 'f:selector', 'f:strategy', 'f:template']);
    assert.deepEqual(spec['f:strategy'], { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} });
    const container = spec['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}'];
    assert.deepEqual(Object.keys(container), ['.', 'f:image', 'f:imagePullPolicy', 'f:name', 'f:ports', 'f:resources', 'f:terminationMessagePath', 'f:terminationMessagePolicy']);
    assert.deepEqual(container['f:ports'], { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } });
    assert.deepEqual(e.fieldsV1!['f:metadata'], {
      'f:annotations': { '.': {}, [`f:${LastAppliedConfigAnnotation}`]: {} },
      'f:labels': { '.': {}, 'f:app': {} },
    });
  });

  it('moves a changed field to its new writer and merges repeated writes of one manager', () => {
    const created = cmFM.update(undefined, configMap({ a: '1', b: '2' }), { manager: 'kubectl-create', now: t0 });
    const patched = cmFM.update(created, configMap({ a: 'x', b: '2' }), { manager: 'editor', now: t1 });
    assert.deepEqual(entry(patched, 'kubectl-create').fieldsV1, { 'f:data': { '.': {}, 'f:b': {} } });
    assert.deepEqual(entry(patched, 'editor').fieldsV1, { 'f:data': { 'f:a': {} } });
    const again = cmFM.update(patched, configMap({ a: 'x', b: 'y' }), { manager: 'editor', now: t2 });
    assert.deepEqual(entry(again, 'editor').fieldsV1, { 'f:data': { 'f:a': {}, 'f:b': {} } });
    assert.equal(entry(again, 'editor').time, '2024-05-01T10:00:09Z');
    // Left owning only the map itself: a member without children is written `{}`.
    assert.deepEqual(entry(again, 'kubectl-create').fieldsV1, { 'f:data': {} });
  });

  it('changes nothing (not even times) for a write that changes nothing', () => {
    const created = cmFM.update(undefined, configMap({ a: '1' }), { manager: 'kubectl-create', now: t0 });
    const same = cmFM.update(created, configMap({ a: '1' }), { manager: 'other', now: t1 });
    assert.deepEqual(entries(same), entries(created));
  });

  it('removes a deleted field from its owner, and an owner left with nothing', () => {
    const created = cmFM.update(undefined, configMap({ a: '1' }, { l: 'v' }), { manager: 'kubectl-create', now: t0 });
    const next = configMap({}, { l: 'v' });
    delete (next as unknown as { data?: unknown }).data;
    const out = cmFM.update(created, next, { manager: 'editor', now: t1 });
    assert.deepEqual(entries(out).map((e) => [e.manager, e.fieldsV1]), [['kubectl-create', { 'f:metadata': { 'f:labels': { '.': {}, 'f:l': {} } } }]]);
  });

  it('takes managedFields from the request when it sends some, and clears them on [] or [{}]', () => {
    const created = cmFM.update(undefined, configMap({ a: '1' }), { manager: 'kubectl-create', now: t0 });
    const replaced = configMap({ a: '1' });
    replaced.metadata.managedFields = [{ manager: 'someone', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }] as never;
    assert.deepEqual(entries(cmFM.update(created, replaced, { manager: 'kubectl', now: t1 })).map((e) => e.manager), ['someone']);
    for (const reset of [[], [{}]]) {
      const cleared = configMap({ a: '2' });
      cleared.metadata.managedFields = reset as never;
      assert.equal(cmFM.update(created, cleared, { manager: 'kubectl', now: t1 }).metadata.managedFields, undefined);
    }
    // A request without managedFields keeps the live ones.
    assert.deepEqual(entries(cmFM.update(created, configMap({ a: '1' }), { manager: 'x', now: t1 })), entries(created));
  });

  it('does not start tracking an existing object that has no managedFields', () => {
    const untracked = { ...configMap({ a: '1' }), metadata: { ...configMap({}).metadata, uid: 'u' } } as KubeObject;
    assert.equal(cmFM.update(untracked, configMap({ a: '2' }), { manager: 'editor', now: t1 }).metadata.managedFields, undefined);
  });

  it('keeps status out of main-resource entries and everything else out of /status entries', () => {
    const live = depFM.update(undefined, stored(deployments, deployment(1, [{ name: 'a', image: 'a' }])), { manager: 'creator', now: t0 });
    const withStatus = { ...live, status: { replicas: 1, conditions: [{ type: 'Available', status: 'True' }] } } as KubeObject;
    const out = depFM.update(live, withStatus, { manager: 'controller', subresource: 'status', now: t1 });
    const e = entry(out, 'controller');
    assert.equal(e.subresource, 'status');
    // status exists in every stored Deployment (`{}`), so it carries no `.` (as in Kubernetes' own output).
    assert.deepEqual(e.fieldsV1, { 'f:status': { 'f:conditions': { '.': {}, 'k:{"type":"Available"}': { '.': {}, 'f:status': {}, 'f:type': {} } }, 'f:replicas': {} } });
  });

  it('caps Update entries at ten, merging the oldest into ancient-changes', () => {
    let obj = cmFM.update(undefined, configMap({ k0: 'v' }), { manager: 'm0', now: new Date(t0.getTime()) });
    for (let i = 1; i <= 10; i++) {
      const data: Record<string, string> = { ...(obj as unknown as { data: Record<string, string> }).data, [`k${i}`]: 'v' };
      obj = cmFM.update(obj, configMap(data), { manager: `m${i}`, now: new Date(t0.getTime() + i * 1000) });
    }
    const managers = entries(obj).map((e) => e.manager);
    assert.equal(managers.length, 10);
    assert.ok(managers.includes('ancient-changes'));
    assert.ok(!managers.includes('m0') && !managers.includes('m1'));
    assert.deepEqual(entry(obj, 'ancient-changes').fieldsV1, { 'f:data': { '.': {}, 'f:k0': {}, 'f:k1': {} } });
  });
});

describe('update: custom resources', () => {
  it('records a client-side apply create of a schemaless custom resource as Kubernetes did (`.` on every added map)', () => {
    const def = { group: 'akri.sh', version: 'v0', kind: 'Configuration', plural: 'configurations', singular: 'configuration', namespaced: true } as ResourceDefinition;
    const fm = new FieldManager(def);
    const obj = {
      apiVersion: 'akri.sh/v0',
      kind: 'Configuration',
      metadata: { name: 'zeroconf', namespace: 'default', annotations: { [LastAppliedConfigAnnotation]: '{}' } },
      spec: {
        brokerPodSpec: { containers: [{ image: 'broker', name: 'zeroconf-broker' }], imagePullSecrets: [{ name: 'ghcr' }] },
        capacity: 1,
        protocol: { zeroconf: { kind: '_rust._tcp', port: 8888, txtRecords: { component: 'avahi-publish', project: 'akri', protocol: 'zeroconf' } } },
      },
    } as unknown as KubeObject;
    const out = fm.update(undefined, obj, { manager: 'kubectl', now: t0 });
    assert.deepEqual(entry(out, 'kubectl').fieldsV1, {
      'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} } },
      'f:spec': {
        '.': {},
        'f:brokerPodSpec': { '.': {}, 'f:containers': {}, 'f:imagePullSecrets': {} },
        'f:capacity': {},
        'f:protocol': {
          '.': {},
          'f:zeroconf': { '.': {}, 'f:kind': {}, 'f:port': {}, 'f:txtRecords': { '.': {}, 'f:component': {}, 'f:project': {}, 'f:protocol': {} } },
        },
      },
    });
  });
});

describe('update: /scale', () => {
  it('gives replicas to the scaler as a scale subresource entry at the parent version, without a time', () => {
    const live = depFM.update(undefined, stored(deployments, deployment(2, [{ name: 'a', image: 'a' }])), { manager: 'kubectl-create', now: t0 });
    const scaled = structuredClone(live);
    (scaled.spec as { replicas: number }).replicas = 5;
    const out = depFM.update(live, scaled, { manager: 'kubectl', subresource: 'scale', now: t1 });
    const e = entries(out).find((x) => x.subresource === 'scale');
    assert.deepEqual(e, { manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } }, subresource: 'scale' });
    assert.ok(!JSON.stringify(entry(out, 'kubectl-create').fieldsV1).includes('f:replicas'));
    // Scaling to the same number changes no ownership.
    assert.deepEqual(entries(depFM.update(out, structuredClone(out), { manager: 'hpa', subresource: 'scale', now: t2 })), entries(out));
  });
});

describe('apply', () => {
  const cm = (data: Record<string, string>, labels?: Record<string, string>) => configMap(data, labels);

  it('creates, owning exactly the applied fields (the ConfigMap of Kubernetes\' TestApplyManagedFields)', () => {
    const created = cmFM.apply(undefined, cm({ key: 'value' }, { 'test-label': 'test' }), { manager: 'apply_test', force: false, now: t0 });
    assert.deepEqual(entries(created), [
      { manager: 'apply_test', operation: 'Apply', apiVersion: 'v1', time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:key': {} }, 'f:metadata': { 'f:labels': { 'f:test-label': {} } } } },
    ]);
    const updated = cmFM.update(created, cm({ key: 'new value' }, { 'test-label': 'test' }), { manager: 'updater', now: t1 });
    assert.deepEqual(
      entries(updated).map((e) => [e.manager, e.operation, e.fieldsV1]),
      [
        ['apply_test', 'Apply', { 'f:metadata': { 'f:labels': { 'f:test-label': {} } } }],
        ['updater', 'Update', { 'f:data': { 'f:key': {} } }],
      ],
    );
  });

  it('keeps no entry for an applier that owns nothing (TestApplyRemovesEmptyManagedFields)', () => {
    const empty = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'test-cm', namespace: 'default' } };
    const created = cmFM.apply(undefined, empty, { manager: 'apply_test', force: false, now: t0 });
    assert.equal(created.metadata.managedFields, undefined);
    assert.equal(cmFM.apply(created, empty, { manager: 'apply_test', force: false, now: t1 }).metadata.managedFields, undefined);
  });

  it('conflicts with the manager of a field it would change, with Kubernetes\' message and causes', () => {
    const live = depFM.update(undefined, stored(deployments, deployment(2, [{ name: 'a', image: 'a' }])), { manager: 'kubectl-client-side-apply', now: t0 });
    const err = conflictOf(() => depFM.apply(live, deployment(3, [{ name: 'a', image: 'a' }]), { manager: 'other', force: false, now: t1 }));
    assert.equal(err.code, 409);
    assert.equal(err.reason, 'Conflict');
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    assert.deepEqual(err.status.details, { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }] });
    // The same value is no conflict: the field becomes shared.
    const shared = depFM.apply(live, deployment(2, [{ name: 'a', image: 'a' }]), { manager: 'other', force: false, now: t1 });
    assert.match(JSON.stringify(entry(shared, 'other').fieldsV1), /f:replicas/);
    assert.match(JSON.stringify(entry(shared, 'kubectl-client-side-apply').fieldsV1), /f:replicas/);
  });

  it('lists several conflicts grouped by manager', () => {
    let live = cmFM.apply(undefined, cm({ a: '1', b: '1' }), { manager: 'one', force: false, now: t0 });
    live = cmFM.update(live, cm({ a: '1', b: '1', c: '1' }), { manager: 'two', now: t1 });
    const err = conflictOf(() => cmFM.apply(live, cm({ a: '2', b: '2', c: '2' }), { manager: 'three', force: false, now: t2 }));
    assert.equal(
      err.message,
      'Apply failed with 3 conflicts: conflicts with "one":\n- .data.a\n- .data.b\nconflicts with "two" using v1:\n- .data.c',
    );
    assert.equal(err.status.details?.causes?.length, 3);
  });

  it('takes ownership with force', () => {
    const live = depFM.update(undefined, stored(deployments, deployment(2, [{ name: 'a', image: 'a' }])), { manager: 'creator', now: t0 });
    const out = depFM.apply(live, deployment(3, [{ name: 'a', image: 'a' }]), { manager: 'applier', force: true, now: t1 });
    assert.equal((out.spec as { replicas: number }).replicas, 3);
    assert.match(JSON.stringify(entry(out, 'applier').fieldsV1), /f:replicas/);
    assert.doesNotMatch(JSON.stringify(entry(out, 'creator').fieldsV1), /f:replicas/);
  });

  it('removes a field it no longer applies, unless another manager owns it', () => {
    const first = cmFM.apply(undefined, cm({ a: '1', b: '2' }), { manager: 'applier', force: false, now: t0 });
    const dropped = cmFM.apply(first, cm({ a: '1' }), { manager: 'applier', force: false, now: t1 });
    assert.deepEqual((dropped as unknown as { data: unknown }).data, { a: '1' });

    const coOwned = cmFM.apply(first, cm({ b: '2' }), { manager: 'other', force: false, now: t1 });
    const kept = cmFM.apply(coOwned, cm({ a: '1' }), { manager: 'applier', force: false, now: t2 });
    assert.deepEqual((kept as unknown as { data: unknown }).data, { a: '1', b: '2' });
    assert.deepEqual(entry(kept, 'applier').fieldsV1, { 'f:data': { 'f:a': {} } });
    assert.deepEqual(entry(kept, 'other').fieldsV1, { 'f:data': { 'f:b': {} } });
  });

  it('removes a container it no longer applies but keeps one another writer added', () => {
    const live = depFM.apply(undefined, deployment(1, [{ name: 'a', image: 'a', ports: [{ containerPort: 80 }] }]), { manager: 'applier', force: false, now: t0 });
    const noPorts = depFM.apply(stored(deployments, live), deployment(1, [{ name: 'a', image: 'a' }]), { manager: 'applier', force: false, now: t1 });
    const c = (noPorts.spec as any).template.spec.containers[0];
    assert.equal(c.ports, undefined, 'TestApplyRemoveContainerPort: the port is gone');
    const withSidecar = structuredClone(noPorts);
    (withSidecar.spec as any).template.spec.containers.push({ name: 'side', image: 's' });
    const updated = depFM.update(noPorts, stored(deployments, withSidecar), { manager: 'editor', now: t1 });
    const again = depFM.apply(updated, deployment(1, [{ name: 'a', image: 'a' }]), { manager: 'applier', force: false, now: t2 });
    assert.deepEqual((again.spec as any).template.spec.containers.map((x: { name: string }) => x.name), ['a', 'side']);
  });

  it('returns the live object unchanged for an unchanged configuration', () => {
    const config = deployment(2, [{ name: 'a', image: 'a' }]);
    const created = stored(deployments, depFM.apply(undefined, config, { manager: 'applier', force: false, now: t0 }));
    const again = depFM.apply(created, config, { manager: 'applier', force: false, now: t1 });
    assert.deepEqual(again, created);
  });

  it('records the fields of an untracked object as before-first-apply', () => {
    const untracked = stored(configMaps, { ...cm({ a: '1', b: '2' }), metadata: { ...cm({}).metadata, uid: 'u' } } as KubeObject);
    const out = cmFM.apply(untracked, cm({ a: '1' }), { manager: 'applier', force: false, now: t1 });
    assert.deepEqual(
      entries(out).map((e) => [e.manager, e.operation]),
      [
        ['applier', 'Apply'],
        ['before-first-apply', 'Update'],
      ],
    );
  });

  it('rejects configurations Kubernetes rejects', () => {
    const wrongKind = conflictOf(() => cmFM.apply(undefined, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }, { manager: 'm', force: false, now: t0 }));
    assert.equal(wrongKind.code, 400);
    assert.equal(wrongKind.message, 'invalid object type: /v1, Kind=Secret');
    const withManaged = conflictOf(() => cmFM.apply(undefined, { ...cm({}), metadata: { name: 'x', managedFields: [] } }, { manager: 'm', force: false, now: t0 }));
    assert.equal(withManaged.message, 'metadata.managedFields must be nil');
    const unknown = conflictOf(() => cmFM.apply(undefined, { ...cm({}), spec: {} }, { manager: 'm', force: false, now: t0 }));
    assert.equal(unknown.code, 400);
    assert.equal(unknown.message, 'failed to create typed patch object (default/test-cm; /v1, Kind=ConfigMap): .spec: field not declared in schema');
  });

  it('upgrades from client-side apply for kubectl: no conflicts where last-applied still holds, and the annotation follows', () => {
    const csaConfig = deployment(2, [{ name: 'a', image: 'a:1' }]);
    const annotated = structuredClone(csaConfig);
    annotated.metadata.annotations = { [LastAppliedConfigAnnotation]: buildLastApplied(csaConfig) };
    const live = depFM.update(undefined, stored(deployments, annotated), { manager: 'kubectl-client-side-apply', now: t0 });
    const next = deployment(3, [{ name: 'a', image: 'a:2' }]);
    // Another manager name gets the conflicts...
    assert.equal(conflictOf(() => depFM.apply(live, next, { manager: 'not-kubectl', force: false, now: t1 })).code, 409);
    // ...kubectl does not, and its last-applied annotation now records the new configuration.
    const out = depFM.apply(live, next, { manager: 'kubectl', force: false, now: t1 });
    assert.equal((out.spec as { replicas: number }).replicas, 3);
    assert.equal(out.metadata.annotations?.[LastAppliedConfigAnnotation], buildLastApplied(next));
    assert.match(buildLastApplied(next), /^\{"apiVersion":"apps\/v1","kind":"Deployment","metadata":\{"labels":\{"app":"web"\},"name":"web","namespace":"default"\},"spec":\{"replicas":3,/);
    // A field someone changed since the last client-side apply still conflicts.
    const edited = depFM.update(live, { ...stored(deployments, annotated), spec: { ...(stored(deployments, annotated).spec as object), minReadySeconds: 5 } } as KubeObject, { manager: 'kubectl-edit', now: t1 });
    const err = conflictOf(() => depFM.apply(edited, deployment(3, [{ name: 'a', image: 'a:2' }], { minReadySeconds: 7 }), { manager: 'kubectl', force: false, now: t2 }));
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.minReadySeconds');
  });

  it('applies to /status as its own manager, owning status fields only', () => {
    const live = depFM.update(undefined, stored(deployments, deployment(1, [{ name: 'a', image: 'a' }])), { manager: 'creator', now: t0 });
    const out = depFM.apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, status: { replicas: 1 } }, { manager: 'ctrl', force: false, subresource: 'status', now: t1 });
    assert.deepEqual(entry(out, 'ctrl'), { manager: 'ctrl', operation: 'Apply', apiVersion: 'apps/v1', time: '2024-05-01T10:00:05Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:replicas': {} } }, subresource: 'status' });
  });
});
