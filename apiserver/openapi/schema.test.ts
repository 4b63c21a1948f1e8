import { test } from 'node:test';
import assert from 'node:assert/strict';

import { fieldsOf } from './fields.js';
import { fieldMarkers, requiredFieldsOf } from './gotags.js';
import { parseType } from './models.js';
import { IntOrStringDefinition, QuantityDefinition, TimeDefinition, definitionName, kindOfModel, modelNameFor } from './names.js';
import { openAPISchemaFor, type Schema } from './schemas.js';

const ref = (def: string) => `#/components/schemas/${def}`;
type Props = Record<string, Schema>;
const props = (s: Schema | undefined): Props => (s?.properties ?? {}) as Props;

const deployment = openAPISchemaFor('V1Deployment');
const s = deployment.schemas;

test('openAPISchemaFor(V1Deployment): Kubernetes definition names across apps, core and meta', () => {
  assert.equal(deployment.root, 'io.k8s.api.apps.v1.Deployment');
  for (const def of [
    'io.k8s.api.apps.v1.Deployment',
    'io.k8s.api.apps.v1.DeploymentSpec',
    'io.k8s.api.apps.v1.RollingUpdateDeployment',
    'io.k8s.api.core.v1.PodTemplateSpec',
    'io.k8s.api.core.v1.PodSpec',
    'io.k8s.api.core.v1.Container',
    'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector',
    QuantityDefinition,
    IntOrStringDefinition,
    TimeDefinition,
  ]) {
    assert.ok(s[def], `missing ${def}`);
  }
  assert.deepEqual(s['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
  // Nested structs are referenced through allOf, as Kubernetes' v3 documents do.
  assert.deepEqual(props(s['io.k8s.api.apps.v1.Deployment']).spec.allOf, [{ $ref: ref('io.k8s.api.apps.v1.DeploymentSpec') }]);
  assert.deepEqual(props(s['io.k8s.api.apps.v1.DeploymentSpec']).template.allOf, [{ $ref: ref('io.k8s.api.core.v1.PodTemplateSpec') }]);
});

test('openAPISchemaFor(V1Deployment) reaches containers with their strategic merge metadata', () => {
  const podSpec = props(s['io.k8s.api.core.v1.PodSpec']);
  const containers = podSpec.containers;
  assert.equal(containers.type, 'array');
  assert.deepEqual(containers.items, { allOf: [{ $ref: ref('io.k8s.api.core.v1.Container') }], default: {} });
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(containers['x-kubernetes-list-type'], 'map');
  assert.deepEqual(containers['x-kubernetes-list-map-keys'], ['name']);
  assert.equal(podSpec.initContainers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(podSpec.volumes['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  assert.equal(podSpec.imagePullSecrets['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(podSpec.hostAliases['x-kubernetes-patch-merge-key'], 'ip');
  assert.deepEqual(podSpec.topologySpreadConstraints['x-kubernetes-list-map-keys'], ['topologyKey', 'whenUnsatisfiable']);
  assert.equal(podSpec.tolerations['x-kubernetes-list-type'], 'atomic');
  assert.equal(podSpec.tolerations['x-kubernetes-patch-strategy'], undefined);
  assert.equal(podSpec.nodeSelector['x-kubernetes-map-type'], 'atomic');

  const container = props(s['io.k8s.api.core.v1.Container']);
  assert.equal(container.ports['x-kubernetes-patch-merge-key'], 'containerPort');
  assert.deepEqual(container.ports['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  assert.equal(container.env['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(container.volumeMounts['x-kubernetes-patch-merge-key'], 'mountPath');
  assert.deepEqual(s['io.k8s.api.core.v1.Container'].required, ['name']);

  const meta = props(s['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
  assert.equal(meta.finalizers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(meta.finalizers['x-kubernetes-patch-merge-key'], undefined);
  assert.equal(meta.ownerReferences['x-kubernetes-patch-merge-key'], 'uid');
  assert.deepEqual(meta.labels, { type: 'object', additionalProperties: { default: '', type: 'string' }, description: meta.labels.description });
  assert.deepEqual(meta.creationTimestamp.allOf, [{ $ref: ref(TimeDefinition) }]);

  const status = props(s['io.k8s.api.apps.v1.DeploymentStatus']);
  assert.equal(status.conditions['x-kubernetes-patch-merge-key'], 'type');
});

test('openAPISchemaFor: scalar types, Quantity, IntOrString and atomic structs', () => {
  assert.deepEqual(s[IntOrStringDefinition].oneOf, [{ type: 'integer' }, { type: 'string' }]);
  assert.equal(s[IntOrStringDefinition].format, 'int-or-string');
  assert.deepEqual(s[QuantityDefinition].oneOf, [{ type: 'string' }, { type: 'number' }]);
  const resources = props(s['io.k8s.api.core.v1.ResourceRequirements']);
  assert.deepEqual(resources.limits.additionalProperties, { $ref: ref(QuantityDefinition) });
  assert.deepEqual(props(s['io.k8s.api.core.v1.EmptyDirVolumeSource']).sizeLimit.allOf, [{ $ref: ref(QuantityDefinition) }]);
  assert.deepEqual(props(s['io.k8s.api.apps.v1.RollingUpdateDeployment']).maxSurge.allOf, [{ $ref: ref(IntOrStringDefinition) }]);
  assert.deepEqual(props(s['io.k8s.api.apps.v1.DeploymentSpec']).replicas, { ...props(s['io.k8s.api.apps.v1.DeploymentSpec']).replicas, format: 'int32', type: 'integer' });
  assert.equal(s['io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector']['x-kubernetes-map-type'], 'atomic');
  assert.deepEqual(props(s['io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry']).fieldsV1.allOf, [
    { $ref: ref('io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1') },
  ]);
  // Descriptions come from client-node's doc comments.
  assert.match(String(s['io.k8s.api.apps.v1.Deployment'].description), /Deployment/);
  assert.equal(openAPISchemaFor('V1Deployment', { descriptions: false }).schemas['io.k8s.api.apps.v1.Deployment'].description, undefined);
});

test('openAPISchemaFor leaves out fields added to Kubernetes after v1.32', () => {
  assert.equal(props(s['io.k8s.api.core.v1.Container']).restartPolicyRules, undefined);
  assert.equal(props(s['io.k8s.api.apps.v1.DeploymentStatus']).terminatingReplicas, undefined);
  assert.equal(fieldsOf('V1Container').fields.has('restartPolicyRules'), false);
  assert.equal(fieldsOf('V1Container').fields.has('imagePullPolicy'), true);
});

test('openAPISchemaFor terminates on recursive models', () => {
  const crd = openAPISchemaFor('V1CustomResourceDefinition', { descriptions: false });
  const props2 = props(crd.schemas['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps']);
  assert.deepEqual(props2.properties.additionalProperties, {
    allOf: [{ $ref: ref('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps') }],
    default: {},
  });
});

test('definitionName files each model under the Go package Kubernetes defines it in', () => {
  const cases: [model: string, referrer: string | undefined, want: string][] = [
    ['V1Pod', undefined, 'io.k8s.api.core.v1.Pod'],
    ['CoreV1Event', undefined, 'io.k8s.api.core.v1.Event'],
    ['EventsV1Event', undefined, 'io.k8s.api.events.v1.Event'],
    ['EventsV1EventSeries', undefined, 'io.k8s.api.events.v1.EventSeries'],
    ['V1Lease', undefined, 'io.k8s.api.coordination.v1.Lease'],
    ['V1EndpointSlice', undefined, 'io.k8s.api.discovery.v1.EndpointSlice'],
    ['DiscoveryV1EndpointPort', undefined, 'io.k8s.api.discovery.v1.EndpointPort'],
    ['V1ClusterRole', undefined, 'io.k8s.api.rbac.v1.ClusterRole'],
    ['V1Scale', undefined, 'io.k8s.api.autoscaling.v1.Scale'],
    ['V2HorizontalPodAutoscaler', undefined, 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler'],
    ['V1ObjectMeta', 'apps', 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'],
    ['V1PodTemplateSpec', 'apps', 'io.k8s.api.core.v1.PodTemplateSpec'],
    ['V1ObjectReference', 'batch', 'io.k8s.api.core.v1.ObjectReference'],
    ['V1DeploymentSpec', undefined, 'io.k8s.api.apps.v1.DeploymentSpec'],
    ['V1ScaleIOVolumeSource', undefined, 'io.k8s.api.core.v1.ScaleIOVolumeSource'],
    ['V1EventSource', undefined, 'io.k8s.api.core.v1.EventSource'],
    ['V1JobTemplateSpec', undefined, 'io.k8s.api.batch.v1.JobTemplateSpec'],
    ['V1JSONSchemaProps', undefined, 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps'],
  ];
  for (const [model, referrer, want] of cases) assert.equal(definitionName(model, referrer), want, model);
});

test('modelNameFor and kindOfModel link kinds to client-node models', () => {
  assert.equal(modelNameFor('apps', 'v1', 'Deployment'), 'V1Deployment');
  assert.equal(modelNameFor('', 'v1', 'Event'), 'CoreV1Event');
  assert.equal(modelNameFor('events.k8s.io', 'v1', 'Event'), 'EventsV1Event');
  assert.equal(modelNameFor('', 'v1', 'EventList'), 'CoreV1EventList');
  assert.equal(modelNameFor('autoscaling', 'v2', 'HorizontalPodAutoscaler'), 'V2HorizontalPodAutoscaler');
  assert.equal(modelNameFor('apps', 'v1', 'Pod'), undefined);
  assert.equal(modelNameFor('example.com', 'v1', 'Widget'), undefined);
  assert.deepEqual(kindOfModel('V1PodList'), { group: '', version: 'v1', kind: 'PodList' });
  assert.equal(kindOfModel('V1OwnerReference'), undefined);
  assert.equal(kindOfModel('V1PodSpec'), undefined);
});

test('parseType reads client-node type strings', () => {
  assert.deepEqual(parseType('Array<V1Container>'), { kind: 'array', items: { kind: 'model', model: 'V1Container' } });
  assert.deepEqual(parseType('{ [key: string]: Array<string>; }'), { kind: 'map', values: { kind: 'array', items: { kind: 'string', format: '' } } });
  assert.deepEqual(parseType('number', 'int32'), { kind: 'number', format: 'int32' });
  assert.deepEqual(parseType('any'), { kind: 'any' });
});

test('fieldsOf compiles the known fields: nested models, lists, maps and raw JSON', () => {
  const meta = fieldsOf('V1ObjectMeta').fields;
  assert.deepEqual(meta.get('labels'), { kind: 'map', values: { kind: 'scalar' } });
  assert.deepEqual(meta.get('ownerReferences'), { kind: 'array', items: { kind: 'object', model: 'V1OwnerReference' } });
  assert.equal(meta.get('bogus'), undefined);
  assert.deepEqual(fieldsOf('V1ManagedFieldsEntry').fields.get('fieldsV1'), { kind: 'raw' });
  assert.deepEqual(fieldsOf('V1ControllerRevision').fields.get('data'), { kind: 'raw' });
  assert.equal(fieldsOf('V1Deployment'), fieldsOf('V1Deployment'), 'compiled once');
});

test('fieldMarkers and requiredFieldsOf expose the table facts', () => {
  assert.deepEqual(fieldMarkers('V1ServiceSpec', 'ports'), {
    'x-kubernetes-patch-strategy': 'merge',
    'x-kubernetes-patch-merge-key': 'port',
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['port', 'protocol'],
  });
  assert.equal(fieldMarkers('V1Container', 'image'), undefined);
  assert.deepEqual(requiredFieldsOf('V1OwnerReference').sort(), ['apiVersion', 'kind', 'name', 'uid']);
});
