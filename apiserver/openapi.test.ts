import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  OpenAPIV3Service,
  documentHash,
  documentPaths,
  openAPIV3Document,
  openAPIV3DocumentAt,
  openAPIV3Index,
  openAPIV3Response,
  serializeDocument,
  toValidOperationID,
  type ServedResource,
} from './openapi.js';

const def = (group: string, version: string, kind: string, plural: string, namespaced: boolean, extra: Partial<ServedResource> = {}): ServedResource => ({
  group,
  version,
  kind,
  plural,
  singular: kind.toLowerCase(),
  namespaced,
  ...extra,
});

const defs: ServedResource[] = [
  def('', 'v1', 'Pod', 'pods', true, { subresources: { status: true } }),
  def('', 'v1', 'Namespace', 'namespaces', false, { subresources: { status: true }, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  def('', 'v1', 'Event', 'events', true),
  def('apps', 'v1', 'Deployment', 'deployments', true, {
    subresources: { status: true, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
  }),
  def('apps', 'v1', 'ReplicaSet', 'replicasets', true, { model: 'V1ReplicaSet', subresources: { status: true } }),
  def('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  def('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
];

type Json = Record<string, any>;
const apps = openAPIV3Document('apps/v1', defs, { descriptions: false }) as Json;
const core = openAPIV3Document('v1', defs, { descriptions: false }) as Json;

/** supportsFieldValidation mirrors cli-runtime's queryParamVerifierV3: the first PATCH operation with the GVK decides. */
function supportsFieldValidation(doc: Json, gvk: { group: string; version: string; kind: string }): boolean {
  for (const item of Object.values(doc.paths as Record<string, Json>)) {
    const op = item.patch;
    const g = op?.['x-kubernetes-group-version-kind'];
    if (!g || g.group !== gvk.group || g.version !== gvk.version || g.kind !== gvk.kind) continue;
    return (op.parameters ?? []).some((p: Json) => p.name === 'fieldValidation' && p.in === 'query');
  }
  throw new Error(`no PATCH operation for ${gvk.kind}`);
}

test('apps/v1: PATCH on a deployment has the operation kubectl looks for', () => {
  const item = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
  const patch = item.patch;
  assert.equal(patch.operationId, 'patchAppsV1NamespacedDeployment');
  assert.equal(patch['x-kubernetes-action'], 'patch');
  assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' });
  assert.deepEqual(
    patch.parameters.map((p: Json) => `${p.in}:${p.name}`),
    ['query:dryRun', 'query:fieldManager', 'query:fieldValidation', 'query:force'],
  );
  assert.deepEqual(Object.keys(patch.requestBody.content).sort(), [
    'application/apply-patch+yaml',
    'application/json-patch+json',
    'application/merge-patch+json',
    'application/strategic-merge-patch+json',
  ]);
  assert.equal(patch.requestBody.content['application/strategic-merge-patch+json'].schema.$ref, '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
  assert.equal(patch.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/io.k8s.api.apps.v1.Deployment');
  assert.deepEqual(Object.keys(patch.responses), ['200', '201', '401']);
  // Parameters every operation of the path shares sit on the path item.
  assert.deepEqual(item.parameters.map((p: Json) => p.name), ['name', 'namespace', 'pretty']);
  assert.equal(item.parameters[0].required, true);
  assert.equal(supportsFieldValidation(apps, { group: 'apps', version: 'v1', kind: 'Deployment' }), true);
});

test('apps/v1: every PATCH operation lists fieldValidation, whichever one kubectl meets first', () => {
  const patches = Object.entries(apps.paths as Record<string, Json>).filter(([, item]) => item.patch);
  assert.deepEqual(patches.map(([p]) => p).sort(), [
    '/apis/apps/v1/namespaces/{namespace}/deployments/{name}',
    '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale',
    '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status',
    '/apis/apps/v1/namespaces/{namespace}/replicasets/{name}',
    '/apis/apps/v1/namespaces/{namespace}/replicasets/{name}/status',
  ]);
  for (const [path, item] of patches) assert.ok(item.patch.parameters.some((p: Json) => p.name === 'fieldValidation'), path);
  assert.equal(supportsFieldValidation(core, { group: '', version: 'v1', kind: 'Namespace' }), true);
});

test('apps/v1: operations, actions and subresources as kube-apiserver installs them', () => {
  const ops = new Map<string, [string, string, string]>();
  for (const [path, item] of Object.entries(apps.paths as Record<string, Json>)) {
    for (const m of ['get', 'put', 'post', 'patch', 'delete']) if (item[m]) ops.set(item[m].operationId, [m, path, item[m]['x-kubernetes-action']]);
  }
  const expect: Record<string, [string, string, string | undefined]> = {
    getAppsV1APIResources: ['get', '/apis/apps/v1/', undefined],
    listAppsV1NamespacedDeployment: ['get', '/apis/apps/v1/namespaces/{namespace}/deployments', 'list'],
    listAppsV1DeploymentForAllNamespaces: ['get', '/apis/apps/v1/deployments', 'list'],
    createAppsV1NamespacedDeployment: ['post', '/apis/apps/v1/namespaces/{namespace}/deployments', 'post'],
    deleteAppsV1CollectionNamespacedDeployment: ['delete', '/apis/apps/v1/namespaces/{namespace}/deployments', 'deletecollection'],
    readAppsV1NamespacedDeployment: ['get', '/apis/apps/v1/namespaces/{namespace}/deployments/{name}', 'get'],
    replaceAppsV1NamespacedDeployment: ['put', '/apis/apps/v1/namespaces/{namespace}/deployments/{name}', 'put'],
    deleteAppsV1NamespacedDeployment: ['delete', '/apis/apps/v1/namespaces/{namespace}/deployments/{name}', 'delete'],
    watchAppsV1NamespacedDeployment: ['get', '/apis/apps/v1/watch/namespaces/{namespace}/deployments/{name}', 'watch'],
    watchAppsV1NamespacedDeploymentList: ['get', '/apis/apps/v1/watch/namespaces/{namespace}/deployments', 'watchlist'],
    watchAppsV1DeploymentListForAllNamespaces: ['get', '/apis/apps/v1/watch/deployments', 'watchlist'],
    readAppsV1NamespacedDeploymentStatus: ['get', '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status', 'get'],
    patchAppsV1NamespacedDeploymentScale: ['patch', '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale', 'patch'],
  };
  for (const [id, want] of Object.entries(expect)) assert.deepEqual(ops.get(id), want, id);
  const scale = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].put;
  assert.deepEqual(scale['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });
  assert.equal(scale.requestBody.content['*/*'].schema.$ref, '#/components/schemas/io.k8s.api.autoscaling.v1.Scale');
  const list = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments'].get;
  assert.equal(list.description, 'list or watch objects of kind Deployment');
  assert.ok(list.responses['200'].content['application/json;stream=watch']);
  assert.deepEqual(list.tags, ['apps_v1']);
  assert.equal(apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments'].post.description, 'create a Deployment');
});

test('apps/v1: components hold every schema the kinds reach, with GVKs', () => {
  const schemas = apps.components.schemas as Record<string, Json>;
  assert.deepEqual(schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
  assert.deepEqual(schemas['io.k8s.api.apps.v1.DeploymentList']['x-kubernetes-group-version-kind'], [{ group: 'apps', version: 'v1', kind: 'DeploymentList' }]);
  for (const name of [
    'io.k8s.api.core.v1.PodSpec',
    'io.k8s.api.autoscaling.v1.Scale',
    'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
    'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions',
    'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent',
    'io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
    'io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList',
  ]) {
    assert.ok(schemas[name], name);
  }
  // Every $ref resolves inside the document.
  const refs = new Set<string>();
  JSON.stringify(apps, (k, v) => (k === '$ref' ? (refs.add(v as string), v) : v));
  for (const r of refs) assert.ok(schemas[r.replace('#/components/schemas/', '')], r);
  const gvks = schemas['io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions']['x-kubernetes-group-version-kind'];
  assert.deepEqual(gvks.map((g: Json) => `${g.group}/${g.version}`), ['/v1', 'apps/v1', 'coordination.k8s.io/v1', 'rbac.authorization.k8s.io/v1']);
  assert.deepEqual(apps.info, { title: 'Kubernetes', version: 'unversioned' });
  assert.equal(apps.openapi, '3.0.0');
});

test('core/v1: cluster-scoped kinds, restricted verbs and objects returned by DELETE', () => {
  const ns = core.paths['/api/v1/namespaces/{name}'];
  assert.equal(ns.patch.operationId, 'patchCoreV1Namespace');
  assert.deepEqual(ns.parameters.map((p: Json) => p.name), ['name', 'pretty']);
  assert.equal(core.paths['/api/v1/namespaces'].delete, undefined, 'no deletecollection verb');
  assert.equal(core.paths['/api/v1/namespaces/{namespace}/pods/{name}'].delete.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/io.k8s.api.core.v1.Pod');
  assert.equal(ns.delete.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status');
  assert.ok(core.components.schemas['io.k8s.api.core.v1.Event'], 'core Event from CoreV1Event');
  assert.equal(core.paths['/api/v1/'].get.operationId, 'getCoreV1APIResources');
  const rbac = openAPIV3Document('rbac.authorization.k8s.io/v1', defs, { descriptions: false }) as Json;
  assert.equal(rbac.paths['/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}'].patch.operationId, 'patchRbacAuthorizationV1ClusterRole');
  assert.deepEqual(rbac.paths['/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}'].patch.tags, ['rbacAuthorization_v1']);
  assert.equal(openAPIV3Document('batch/v1', defs), undefined);
  assert.equal(toValidOperationID('flowcontrol.apiserver', true), 'FlowcontrolApiserver');
});

test('custom kinds without a client-node model get a CRD-style definition', () => {
  const crd = def('stable.example.com', 'v1', 'CronTab', 'crontabs', true, {
    schema: { type: 'object', properties: { spec: { type: 'object', properties: { cronSpec: { type: 'string' } } } } },
  });
  const doc = openAPIV3Document('stable.example.com/v1', [...defs, crd], { descriptions: false }) as Json;
  const s = doc.components.schemas['com.example.stable.v1.CronTab'];
  assert.deepEqual(s['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', kind: 'CronTab', version: 'v1' }]);
  assert.equal(s.properties.spec.properties.cronSpec.type, 'string');
  assert.ok(doc.components.schemas['com.example.stable.v1.CronTabList']);
  assert.equal(doc.paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}'].patch.operationId, 'patchStableExampleComV1NamespacedCronTab');
});

test('the index lists every document at a URL carrying its content hash', () => {
  assert.deepEqual(documentPaths(defs), ['api', 'apis', 'api/v1', 'apis/apps', 'apis/apps/v1', 'apis/coordination.k8s.io', 'apis/coordination.k8s.io/v1', 'apis/rbac.authorization.k8s.io', 'apis/rbac.authorization.k8s.io/v1']);
  const service = new OpenAPIV3Service(() => defs, { descriptions: false });
  const index = service.index();
  const doc = service.document('apis/apps/v1')!;
  assert.match(doc.etag, /^[0-9A-F]{128}$/);
  assert.equal(doc.etag, documentHash(serializeDocument(openAPIV3DocumentAt('apis/apps/v1', defs, { descriptions: false }))));
  assert.equal(index.paths['apis/apps/v1'].serverRelativeURL, `/openapi/v3/apis/apps/v1?hash=${doc.etag}`);
  assert.ok(index.paths['api/v1'] && index.paths.api && index.paths.apis && index.paths['apis/apps']);
  assert.deepEqual(openAPIV3Index(defs, () => 'H').paths.api, { serverRelativeURL: '/openapi/v3/api?hash=H' });
  // Same definitions, same bytes; a change of definitions, a new hash.
  assert.equal(new OpenAPIV3Service(() => defs, { descriptions: false }).document('apis/apps/v1')!.etag, doc.etag);
  const more = [...defs, def('apps', 'v1', 'StatefulSet', 'statefulsets', true)];
  assert.notEqual(new OpenAPIV3Service(() => more, { descriptions: false }).document('apis/apps/v1')!.etag, doc.etag);
  const group = JSON.parse(service.document('apis/apps')!.body);
  assert.equal(group.paths['/apis/apps/'].get.operationId, 'getAppsAPIGroup');
  assert.equal(JSON.parse(service.document('api')!.body).paths['/api/'].get.operationId, 'getCoreAPIVersions');
  assert.equal(service.document('apis/batch/v1'), undefined);
});

test('openAPIV3Response: immutable when hashed, redirected when stale, 304 on a matching ETag', () => {
  const service = new OpenAPIV3Service(() => defs, { descriptions: false });
  const { etag } = service.document('apis/apps/v1')!;
  const now = new Date('2026-01-01T00:00:00Z');
  const ok = openAPIV3Response(service, 'apis/apps/v1', new URLSearchParams({ hash: etag }), {}, now);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['Cache-Control'], 'public, immutable');
  assert.equal(ok.headers.Expires, 'Fri, 01 Jan 2027 00:00:00 GMT');
  assert.equal(ok.headers.Etag, `"${etag}"`);
  assert.ok(ok.body?.startsWith('{"components"'));
  const stale = openAPIV3Response(service, 'apis/apps/v1', new URLSearchParams({ hash: 'OLD' }));
  assert.equal(stale.status, 301);
  assert.equal(stale.headers.Location, `/openapi/v3/apis/apps/v1?hash=${etag}`);
  const plain = openAPIV3Response(service, 'apis/apps/v1', new URLSearchParams());
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['Cache-Control'], undefined);
  assert.equal(openAPIV3Response(service, 'apis/apps/v1', new URLSearchParams(), { ifNoneMatch: `"${etag}"` }).status, 304);
  assert.equal(openAPIV3Response(service, 'apis/nope/v1', new URLSearchParams()).status, 404);
  assert.equal(openAPIV3Response(service, 'apis/apps/v1', new URLSearchParams(), { accept: 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf' }).status, 406);
});
