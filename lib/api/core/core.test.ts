// Tests for the smaller core/v1 kinds: Namespace, Node, ConfigMap, Secret, ServiceAccount,
// Endpoints, Event, Binding, and the quantity helper they lean on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../../machinery/field-errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDefinition } from '../resource.js';
import { validateBinding } from './binding.js';
import { type ConfigMap, configMaps } from './configmap.js';
import { type Endpoints, endpoints, formatEndpoints } from './endpoints.js';
import { type CoreEvent, coreEvents } from './event.js';
import { type Namespace, namespaces } from './namespace.js';
import { type Node, nodes } from './node.js';
import { canonicalQuantity, compareQuantities, parseQuantity } from './quantity.js';
import { type Secret, secrets } from './secret.js';
import { type ServiceAccount, serviceAccounts } from './serviceaccount.js';

const now = new Date('2024-05-01T12:00:00Z');
const ctx = { now };
const msgs = (errs: FieldError[]) => errs.map((e) => fieldErrorMessage(e));

function create<T extends KubeObject>(def: ResourceDefinition<T>, obj: T): { obj: T; errs: string[] } {
  const o = structuredClone(obj);
  def.defaults?.(o);
  def.prepareForCreate?.(o, ctx);
  return { obj: o, errs: msgs(def.validate?.(o) ?? []) };
}

function update<T extends KubeObject>(def: ResourceDefinition<T>, old: T, next: T): { obj: T; errs: string[] } {
  const o = structuredClone(next);
  o.metadata.resourceVersion = old.metadata.resourceVersion ?? '2';
  if (def.subresources?.status) (o as KubeObject).status = structuredClone((old as KubeObject).status);
  def.defaults?.(o);
  def.prepareForUpdate?.(o, old, ctx);
  return { obj: o, errs: msgs([...(def.validate?.(o) ?? []), ...(def.validateUpdate?.(o, old) ?? [])]) };
}

const cells = <T extends KubeObject>(def: ResourceDefinition<T>, obj: T) => def.printerColumns!.map((c) => c.cell(obj, now));
const created = '2024-05-01T11:30:00Z';

// ---- Namespace

test('namespace: Active, the kubernetes finalizer and the metadata.name label on create', () => {
  const { obj, errs } = create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } } as Namespace);
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(obj.status, { phase: 'Active' });
  assert.deepEqual(obj.metadata.labels, { 'kubernetes.io/metadata.name': 'team-a' });
  obj.metadata.creationTimestamp = created;
  assert.deepEqual(cells(namespaces, obj), ['team-a', 'Active', '30m']);
  assert.equal(namespaces.fieldSelectors!['status.phase'](obj), 'Active');
  assert.equal(namespaces.fieldSelectors!['name'](obj), 'team-a');
  assert.equal(namespaces.namespaced, false);
  assert.ok(!namespaces.verbs!.includes('deletecollection'));
});

test('namespace: the name is a DNS label, the label follows the name, finalizers only via /finalize', () => {
  const bad = create(namespaces, { metadata: { name: 'team.a' } } as Namespace);
  assert.deepEqual(bad.errs, ['metadata.name: Invalid value: "team.a": must not contain dots']);
  const old = create(namespaces, { metadata: { name: 'team-a' } } as Namespace).obj;
  const next = structuredClone(old);
  next.metadata.labels = { 'kubernetes.io/metadata.name': 'spoofed', env: 'dev' };
  next.spec = { finalizers: [] };
  const r = update(namespaces, old, next);
  assert.deepEqual(r.errs, []);
  assert.equal(r.obj.metadata.labels!['kubernetes.io/metadata.name'], 'team-a');
  assert.deepEqual(r.obj.spec?.finalizers, ['kubernetes']);
  assert.deepEqual(create(namespaces, { metadata: { name: 'x' }, spec: { finalizers: ['custom'] } } as Namespace).errs, [
    'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
  ]);
});

// ---- Node

function node(extra: Partial<Node> = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-1', labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'node-1' }, creationTimestamp: '2024-04-30T12:00:00Z' },
    spec: {},
    status: {
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [
        { type: 'InternalIP', address: '192.168.1.10' },
        { type: 'Hostname', address: 'node-1' },
      ],
      nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0-18-amd64', containerRuntimeVersion: 'containerd://1.7.13' },
    },
    ...extra,
  };
}

test('node: create keeps the status the kubelet registers with, allocatable defaults to capacity', () => {
  const { obj, errs } = create(nodes, node());
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.status!.allocatable, { cpu: '4', memory: '8Gi', pods: '110' });
  assert.equal(obj.status!.conditions![0].type, 'Ready');
});

test('node: table cells for STATUS, ROLES, VERSION and the wide columns', () => {
  const n = create(nodes, node()).obj;
  assert.deepEqual(cells(nodes, n), ['node-1', 'Ready', 'control-plane', '24h', 'v1.32.0', '192.168.1.10', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0-18-amd64', 'containerd://1.7.13']);
  n.spec!.unschedulable = true;
  n.status!.conditions![0].status = 'Unknown';
  n.metadata.labels = { 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/infra': '', 'node-role.kubernetes.io/': '' };
  assert.deepEqual(cells(nodes, n).slice(1, 3), ['NotReady,SchedulingDisabled', 'infra,worker']);
  n.status = {};
  n.metadata.labels = {};
  assert.deepEqual(cells(nodes, n).slice(1, 3), ['Unknown,SchedulingDisabled', '<none>']);
  assert.deepEqual(cells(nodes, n).slice(5), ['<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  assert.equal(nodes.fieldSelectors!['spec.unschedulable'](n), 'true');
  assert.equal(nodes.fieldSelectors!['spec.unschedulable'](node()), 'false');
});

test('node: podCIDRs go from unset to set once; a spec update keeps the status', () => {
  const old = create(nodes, node()).obj;
  old.metadata.resourceVersion = '9';
  const withCIDR = structuredClone(old);
  withCIDR.spec = { podCIDR: '10.244.1.0/24' };
  withCIDR.status = {};
  const r = update(nodes, old, withCIDR);
  assert.deepEqual(r.errs, []);
  assert.deepEqual(r.obj.spec!.podCIDRs, ['10.244.1.0/24']);
  assert.equal(r.obj.status!.nodeInfo!.kubeletVersion, 'v1.32.0');
  const moved = structuredClone(r.obj);
  moved.spec!.podCIDRs = ['10.244.2.0/24'];
  moved.spec!.podCIDR = '10.244.2.0/24';
  assert.ok(update(nodes, r.obj, moved).errs.includes('spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid'));
  const badTaint = node({ spec: { taints: [{ key: 'k', effect: 'Sometimes' }] } });
  assert.deepEqual(create(nodes, badTaint).errs, ['metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"']);
});

// ---- ConfigMap

function cm(extra: Partial<ConfigMap>): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default', creationTimestamp: created }, ...extra };
}

test('configmap: key rules, data/binaryData overlap, 1 MiB limit, DATA column', () => {
  assert.deepEqual(create(configMaps, cm({ data: { 'bad key': 'x' } })).errs, [
    "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
  ]);
  assert.deepEqual(create(configMaps, cm({ data: { '..x': 'x' } })).errs, ["data[..x]: Invalid value: \"..x\": must not start with '..'"]);
  assert.deepEqual(create(configMaps, cm({ data: { a: 'x' }, binaryData: { a: 'eA==' } })).errs, ['data[a]: Invalid value: "a": duplicate of key present in binaryData']);
  const big = create(configMaps, cm({ data: { a: 'x'.repeat(1024 * 1024), b: 'y' } })).errs;
  assert.deepEqual(big, ['Too long: may not be more than 1048576 bytes']);
  const ok = create(configMaps, cm({ data: { a: '1', b: '2' }, binaryData: { c: 'AAE=' } }));
  assert.deepEqual(ok.errs, []);
  assert.deepEqual(cells(configMaps, ok.obj), ['settings', 3, '30m']);
  assert.deepEqual(configMaps.shortNames, ['cm']);
});

test('configmap: an immutable one keeps its data and stays immutable', () => {
  const old = create(configMaps, cm({ data: { a: '1' }, immutable: true })).obj;
  assert.deepEqual(update(configMaps, old, cm({ data: { a: '2' }, immutable: true })).errs, ['data: Forbidden: field is immutable when `immutable` is set']);
  assert.deepEqual(update(configMaps, old, cm({ data: { a: '1' }, immutable: false })).errs, ['immutable: Forbidden: field is immutable when `immutable` is set']);
  assert.deepEqual(update(configMaps, old, cm({ data: { a: '1' }, immutable: true, metadata: { name: 'settings', namespace: 'default', labels: { x: 'y' } } })).errs, []);
});

// ---- Secret

function secret(extra: Partial<Secret>): Secret {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'default', creationTimestamp: created }, ...extra };
}

test('secret: type defaults to Opaque and stringData is folded into data as base64', () => {
  const { obj, errs } = create(secrets, secret({ data: { user: Buffer.from('root').toString('base64') }, stringData: { password: 's3cr3t', user: 'admin' } }));
  assert.deepEqual(errs, []);
  assert.equal(obj.type, 'Opaque');
  assert.equal(obj.stringData, undefined);
  assert.deepEqual(obj.data, { user: 'YWRtaW4=', password: 'czNjcjN0' });
  assert.deepEqual(cells(secrets, obj), ['creds', 'Opaque', 2, '30m']);
  assert.equal(secrets.fieldSelectors!.type(obj), 'Opaque');
  const old = obj;
  old.metadata.resourceVersion = '3';
  const r = update(secrets, old, secret({ type: 'Opaque', stringData: { token: 'abc' } }));
  assert.deepEqual(r.obj.data, { token: 'YWJj' });
});

test('secret: typed secrets need their keys', () => {
  assert.deepEqual(create(secrets, secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y2VydA==' } })).errs, ['data[tls.key]: Required value']);
  assert.deepEqual(create(secrets, secret({ type: 'kubernetes.io/dockerconfigjson' })).errs, ['data[.dockerconfigjson]: Required value']);
  assert.deepEqual(create(secrets, secret({ type: 'kubernetes.io/basic-auth' })).errs, ['data[username]: Required value', 'data[password]: Required value']);
  assert.deepEqual(create(secrets, secret({ type: 'kubernetes.io/ssh-auth', data: { 'ssh-privatekey': '' } })).errs, ['data[ssh-privatekey]: Required value']);
  assert.deepEqual(create(secrets, secret({ type: 'kubernetes.io/service-account-token' })).errs, ['metadata.annotations[kubernetes.io/service-account.name]: Required value']);
  const badJSON = create(secrets, secret({ type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{nope' } })).errs;
  assert.equal(badJSON.length, 1);
  assert.match(badJSON[0], /^data\[\.dockerconfigjson\]: Invalid value: "<secret contents redacted>": /);
  assert.deepEqual(create(secrets, secret({ type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'c', 'tls.key': 'k' } })).errs, []);
});

test('secret: type is immutable, and so is an immutable secret', () => {
  const old = create(secrets, secret({ data: { a: 'YQ==' }, immutable: true })).obj;
  assert.deepEqual(update(secrets, old, secret({ type: 'example.com/custom', data: { a: 'YQ==' }, immutable: true })).errs, [
    'type: Invalid value: "example.com/custom": field is immutable',
  ]);
  assert.deepEqual(update(secrets, old, secret({ data: { a: 'Yg==' }, immutable: true })).errs, ['data: Forbidden: field is immutable when `immutable` is set']);
  assert.deepEqual(update(secrets, old, secret({ stringData: { a: 'b' }, data: { a: 'YQ==' }, immutable: true })).errs, [
    'data: Forbidden: field is immutable when `immutable` is set',
  ]);
});

// ---- ServiceAccount

test('serviceaccount: secret references keep only names; SECRETS column counts them', () => {
  const sa: ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'builder', namespace: 'ci', creationTimestamp: created },
    secrets: [{ name: 'builder-token', namespace: 'ci', uid: 'x' }],
  };
  const { obj, errs } = create(serviceAccounts, sa);
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.secrets, [{ name: 'builder-token' }]);
  assert.deepEqual(cells(serviceAccounts, obj), ['builder', 1, '30m']);
  assert.deepEqual(serviceAccounts.shortNames, ['sa']);
});

// ---- Endpoints

function ep(subsets: Endpoints['subsets']): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default', creationTimestamp: created }, subsets };
}

test('endpoints: the ENDPOINTS cell lists three ip:port pairs and counts the rest', () => {
  const addresses = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'].map((ip) => ({ ip }));
  const { obj, errs } = create(endpoints, ep([{ addresses, ports: [{ port: 80 }] }]));
  assert.deepEqual(errs, []);
  assert.deepEqual(cells(endpoints, obj), ['web', '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...', '30m']);
  assert.equal(formatEndpoints(ep([])), '<none>');
  assert.equal(formatEndpoints(ep([{ addresses: [{ ip: '10.0.0.9' }] }])), '10.0.0.9');
  assert.equal(formatEndpoints(ep([{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 443 }] }])), '[fd00::1]:443');
  const twoPorts = ep([{ addresses: addresses.slice(0, 2), ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }] }]);
  assert.equal(formatEndpoints(twoPorts), '10.0.0.1:80,10.0.0.2:80,10.0.0.1:81 + 1 more...');
  assert.deepEqual(endpoints.shortNames, ['ep']);
  assert.equal(endpoints.singular, 'endpoints');
  assert.equal(endpoints.allowCreateOnUpdate, true);
});

test('endpoints: subsets are repacked and defaulted; addresses and ports are validated', () => {
  const { obj } = create(
    endpoints,
    ep([
      { addresses: [{ ip: '10.0.0.2' }], ports: [{ port: 80 }] },
      { addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] },
    ]),
  );
  assert.deepEqual(obj.subsets, [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80, protocol: 'TCP' }] }]);
  assert.deepEqual(create(endpoints, ep([{ ports: [{ port: 80 }] }])).errs, ['subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`']);
  assert.deepEqual(create(endpoints, ep([{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] }])).errs, [
    'subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
  ]);
  assert.deepEqual(create(endpoints, ep([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }, { name: 'b', port: 0 }] }])).errs, [
    'subsets[0].ports[0].name: Required value',
    'subsets[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive',
  ]);
});

// ---- Event

function event(extra: Partial<CoreEvent>): CoreEvent {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web.17c1a', namespace: 'default', creationTimestamp: created },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u-1', apiVersion: 'v1', fieldPath: 'spec.containers{app}' },
    reason: 'Pulled',
    message: 'Successfully pulled image "nginx"\n',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: '2024-05-01T11:00:00Z',
    lastTimestamp: '2024-05-01T11:58:00Z',
    count: 4,
    type: 'Normal',
    ...extra,
  };
}

test('event: table cells as kubectl get events -o wide prints them', () => {
  const { obj, errs } = create(coreEvents, event({}));
  assert.deepEqual(errs, []);
  assert.deepEqual(
    coreEvents.printerColumns!.map((c) => `${c.name}${c.priority ? '*' : ''}`),
    ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject*', 'Source*', 'Message', 'First Seen*', 'Count*', 'Name*'],
  );
  assert.deepEqual(cells(coreEvents, obj), ['2m', 'Normal', 'Pulled', 'pod/web', 'spec.containers{app}', 'kubelet, node-1', 'Successfully pulled image "nginx"', '60m', 4, 'web.17c1a']);
  const modern = create(
    coreEvents,
    event({ firstTimestamp: undefined, lastTimestamp: undefined, count: undefined, source: undefined, eventTime: '2024-05-01T11:59:30.000000Z', reportingComponent: 'default-scheduler', reportingInstance: 'sched-1', action: 'Binding' }),
  ).obj;
  assert.deepEqual(cells(coreEvents, modern).slice(0, 1).concat(cells(coreEvents, modern).slice(5, 6), cells(coreEvents, modern).slice(7, 9)), ['30s', 'default-scheduler, sched-1', '30s', 1]);
  assert.equal(modern.firstTimestamp, null);
  assert.deepEqual(modern.source, {});
});

test('event: the involved object must live in the event namespace', () => {
  assert.deepEqual(create(coreEvents, event({ metadata: { name: 'e', namespace: 'other' } })).errs, [
    'involvedObject.namespace: Invalid value: "default": does not match event.namespace',
  ]);
  const clusterScoped = event({ involvedObject: { kind: 'Node', name: 'node-1' } });
  assert.deepEqual(create(coreEvents, clusterScoped).errs, []);
  const newStyle = event({ eventTime: '2024-05-01T11:59:30.000000Z', reason: '' });
  const errs = create(coreEvents, newStyle).errs;
  // Kubernetes also runs the qualified-name check on the empty controller, hence two more errors there.
  assert.deepEqual(errs.filter((e) => !e.startsWith('reportingController: Invalid value')), [
    'reportingController: Required value',
    'reportingInstance: Required value',
    'action: Required value',
    'reason: Required value',
  ]);
  assert.ok(errs.includes('reportingController: Invalid value: "": name part must be non-empty'));
});

test('event: field selectors over the involved object, reason, source and type', () => {
  const e = create(coreEvents, event({ reportingComponent: 'kubelet' })).obj;
  const f = coreEvents.fieldSelectors!;
  assert.equal(f['involvedObject.kind'](e), 'Pod');
  assert.equal(f['involvedObject.name'](e), 'web');
  assert.equal(f['involvedObject.namespace'](e), 'default');
  assert.equal(f['involvedObject.uid'](e), 'u-1');
  assert.equal(f['involvedObject.fieldPath'](e), 'spec.containers{app}');
  assert.equal(f['involvedObject.resourceVersion'](e), '');
  assert.equal(f['reason'](e), 'Pulled');
  assert.equal(f['source'](e), 'kubelet');
  assert.equal(f['reportingComponent'](e), 'kubelet');
  assert.equal(f['type'](e), 'Normal');
  assert.deepEqual(coreEvents.shortNames, ['ev']);
});

// ---- Binding

test('binding: the target is a named Node', () => {
  assert.deepEqual(validateBinding({ metadata: { name: 'web' }, target: { kind: 'Node', name: 'node-1' } }), []);
  assert.deepEqual(validateBinding({ metadata: { name: 'web' }, target: { name: 'node-1' } }), []);
  assert.deepEqual(msgs(validateBinding({ metadata: { name: 'web' }, target: { kind: 'Pod' } })), [
    'target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>"',
    'target.name: Required value',
  ]);
});

// ---- Quantity

test('quantities compare exactly and print canonically', () => {
  assert.equal(compareQuantities('1', '1000m'), 0);
  assert.equal(compareQuantities('1Gi', '1073741824'), 0);
  assert.equal(compareQuantities('1G', '1Gi'), -1);
  assert.equal(compareQuantities('1e3', '1k'), 0);
  assert.equal(canonicalQuantity('0.5'), '500m');
  assert.equal(canonicalQuantity('1536Mi'), '1536Mi');
  assert.equal(canonicalQuantity('2048Mi'), '2Gi');
  assert.equal(canonicalQuantity('2000'), '2k');
  assert.equal(canonicalQuantity(3), '3');
  assert.equal(parseQuantity('1.2.3'), undefined);
  assert.equal(parseQuantity('5 Gi'), undefined);
  assert.equal(parseQuantity('10Mb'), undefined);
});
