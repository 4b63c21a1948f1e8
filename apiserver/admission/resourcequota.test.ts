import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import type { ResourceQuota } from '../../lib/api/core/resourcequota.js';
import type { Container, ResourceList } from '../../lib/api/core/types.js';
import type { KubeObject } from '../../lib/api/meta.js';
import { StatusError, conflict } from '../../lib/machinery/status.js';
import type { AdmissionRequest, RequestContext } from '../registry/store.js';
import { QuotaAdmission, type QuotaStore } from './resourcequota.js';

const ctx: RequestContext = { now: new Date(), dryRun: false };
const pods = { group: '', resource: 'pods' };

function quota(name: string, hard: ResourceList, used: ResourceList = {}, spec: Partial<NonNullable<ResourceQuota['spec']>> = {}): ResourceQuota {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name, namespace: 'ns', resourceVersion: '1' }, spec: { hard, ...spec }, status: { hard, used } };
}

/** MemoryQuotas keeps quotas with resourceVersions and records every status write; conflicts injects 409s. */
class MemoryQuotas implements QuotaStore {
  writes: ResourceQuota[] = [];
  conflicts = 0;
  constructor(public quotas: ResourceQuota[]) {}
  async list(ns: string): Promise<ResourceQuota[]> {
    return structuredClone(this.quotas.filter((q) => q.metadata.namespace === ns));
  }
  async updateStatus(q: ResourceQuota): Promise<ResourceQuota> {
    const i = this.quotas.findIndex((x) => x.metadata.name === q.metadata.name);
    if (this.conflicts > 0 || this.quotas[i]!.metadata.resourceVersion !== q.metadata.resourceVersion) {
      this.conflicts--;
      this.quotas[i] = { ...this.quotas[i]!, metadata: { ...this.quotas[i]!.metadata, resourceVersion: String(Number(this.quotas[i]!.metadata.resourceVersion) + 1) } };
      throw conflict({ group: '', resource: 'resourcequotas' }, q.metadata.name!, 'the object has been modified');
    }
    const next = { ...structuredClone(q), metadata: { ...q.metadata, resourceVersion: String(Number(q.metadata.resourceVersion) + 1) } };
    this.quotas[i] = next;
    this.writes.push(next);
    return next;
  }
}

function pod(name: string, containers: Container[], spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: { containers, ...spec } };
}
const c = (name: string, requests?: ResourceList, limits?: ResourceList): Container => ({ name, image: 'x', resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } });
const create = (obj: KubeObject): AdmissionRequest => ({ operation: 'CREATE', object: obj, name: obj.metadata.name ?? '', namespace: 'ns', ctx });

async function forbidden(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => assert.fail('expected Forbidden'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof StatusError, String(err));
  assert.equal(err.code, 403);
  return err.message;
}

test('ResourceQuota charges a pod to status.used before admitting it', async () => {
  const store = new MemoryQuotas([quota('compute-quota', { 'requests.cpu': '2', 'limits.memory': '2Gi', pods: '10' }, { 'requests.cpu': '0', 'limits.memory': '0', pods: '0' })]);
  await new QuotaAdmission(store).validate(create(pod('p', [c('c', { cpu: '500m' }, { memory: '512Mi' })])), pods);
  assert.deepEqual(store.writes.map((q) => q.status), [{ hard: { 'requests.cpu': '2', 'limits.memory': '2Gi', pods: '10' }, used: { 'requests.cpu': '500m', 'limits.memory': '512Mi', pods: '1' } }]);
});

test('ResourceQuota refuses a pod past the hard limit with kube\'s exceeded quota message, writing nothing', async () => {
  const store = new MemoryQuotas([quota('compute-quota', { 'requests.cpu': '2' }, { 'requests.cpu': '1' })]);
  const msg = await forbidden(new QuotaAdmission(store).validate(create(pod('big', [c('c', { cpu: '2' })])), pods));
  assert.equal(msg, 'pods "big" is forbidden: exceeded quota: compute-quota, requested: requests.cpu=2, used: requests.cpu=1, limited: requests.cpu=2');
  assert.deepEqual(store.writes, []);
});

test('ResourceQuota requires each container to name what a compute quota limits', async () => {
  const store = new MemoryQuotas([quota('q', { 'requests.cpu': '2', 'limits.cpu': '4' }, { 'requests.cpu': '0', 'limits.cpu': '0' })]);
  const msg = await forbidden(new QuotaAdmission(store).validate(create(pod('p', [c('c'), c('d', { cpu: '1' })])), pods));
  assert.equal(msg, 'pods "p" is forbidden: failed quota: q: must specify limits.cpu for: c,d; requests.cpu for: c');
});

test('ResourceQuota counts objects generically and by their legacy names', async () => {
  const store = new MemoryQuotas([quota('objects', { configmaps: '1', 'count/deployments.apps': '1' }, { configmaps: '1', 'count/deployments.apps': '0' })]);
  const admission = new QuotaAdmission(store);
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns' } };
  assert.equal(await forbidden(admission.validate(create(cm), { group: '', resource: 'configmaps' })), 'configmaps "cm" is forbidden: exceeded quota: objects, requested: configmaps=1, used: configmaps=1, limited: configmaps=1');
  const deploy: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'ns' } };
  await admission.validate(create(deploy), { group: 'apps', resource: 'deployments' });
  assert.deepEqual(store.writes.at(-1)!.status!.used, { configmaps: '1', 'count/deployments.apps': '1' });
  // An update of a counted object changes nothing.
  await admission.validate({ ...create(deploy), operation: 'UPDATE', oldObject: { ...deploy, metadata: { ...deploy.metadata, resourceVersion: '5' } } }, { group: 'apps', resource: 'deployments' });
  assert.equal(store.writes.length, 1);
});

test('ResourceQuota charges node ports and load balancers of services, and a type change on update', async () => {
  const store = new MemoryQuotas([quota('svc', { services: '5', 'services.nodeports': '2', 'services.loadbalancers': '1' }, { services: '0', 'services.nodeports': '0', 'services.loadbalancers': '0' })]);
  const admission = new QuotaAdmission(store);
  const services = { group: '', resource: 'services' };
  const svc = (type: string, ports: number): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'ns', resourceVersion: '3' }, spec: { type, ports: Array.from({ length: ports }, (_, i) => ({ port: 80 + i })) } } as KubeObject);
  await admission.validate(create(svc('ClusterIP', 3)), services);
  assert.equal(
    await forbidden(admission.validate({ ...create(svc('NodePort', 3)), operation: 'UPDATE', oldObject: svc('ClusterIP', 3) }, services)),
    'services "s" is forbidden: exceeded quota: svc, requested: services.nodeports=3, used: services.nodeports=0, limited: services.nodeports=2',
  );
  await admission.validate(create(svc('LoadBalancer', 1)), services);
  assert.deepEqual(store.writes.at(-1)!.status!.used, { services: '2', 'services.nodeports': '1', 'services.loadbalancers': '1' });
});

test('ResourceQuota charges claims by storage class', async () => {
  const hard = { persistentvolumeclaims: '2', 'requests.storage': '10Gi', 'fast.storageclass.storage.k8s.io/requests.storage': '1Gi' };
  const store = new MemoryQuotas([quota('storage', hard, { persistentvolumeclaims: '0', 'requests.storage': '0', 'fast.storageclass.storage.k8s.io/requests.storage': '0' })]);
  const claim = (cls: string, storage: string): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'ns' }, spec: { storageClassName: cls, resources: { requests: { storage } } } } as KubeObject);
  const pvcs = { group: '', resource: 'persistentvolumeclaims' };
  const admission = new QuotaAdmission(store);
  assert.equal(
    await forbidden(admission.validate(create(claim('fast', '2Gi')), pvcs)),
    'persistentvolumeclaims "data" is forbidden: exceeded quota: storage, requested: fast.storageclass.storage.k8s.io/requests.storage=2Gi, used: fast.storageclass.storage.k8s.io/requests.storage=0, limited: fast.storageclass.storage.k8s.io/requests.storage=1Gi',
  );
  await admission.validate(create(claim('slow', '2Gi')), pvcs);
  assert.deepEqual(store.writes.at(-1)!.status!.used, { persistentvolumeclaims: '1', 'requests.storage': '2Gi', 'fast.storageclass.storage.k8s.io/requests.storage': '0' });
});

test('ResourceQuota scopes: a BestEffort quota counts only best-effort pods, a PriorityClass selector only its classes', async () => {
  const store = new MemoryQuotas([
    quota('best-effort', { pods: '1' }, { pods: '1' }, { scopes: ['BestEffort'] }),
    quota('high', { pods: '1' }, { pods: '1' }, { scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } }),
  ]);
  const admission = new QuotaAdmission(store);
  assert.match(await forbidden(admission.validate(create(pod('be', [c('c')])), pods)), /exceeded quota: best-effort, requested: pods=1/);
  assert.match(await forbidden(admission.validate(create(pod('hi', [c('c', { cpu: '1' })], { priorityClassName: 'high' })), pods)), /exceeded quota: high,/);
  await admission.validate(create(pod('lo', [c('c', { cpu: '1' })], { priorityClassName: 'low' })), pods);
  assert.deepEqual(store.writes, []);
});

test('ResourceQuota: a quota whose status lacks usage for what it limits refuses until the controller counts it', async () => {
  const q = quota('q', { pods: '3' });
  const store = new MemoryQuotas([q]);
  assert.equal(await forbidden(new QuotaAdmission(store).validate(create(pod('p', [c('c')])), pods)), 'pods "p" is forbidden: status unknown for quota: q, resources: pods');
  // A quota the controller has not seen yet (no status.hard) limits nothing.
  store.quotas = [{ ...q, status: undefined }];
  await new QuotaAdmission(store).validate(create(pod('p', [c('c')])), pods);
});

test('ResourceQuota reads the quota again after a conflicting status write, and serialises one namespace', async () => {
  const store = new MemoryQuotas([quota('q', { pods: '5' }, { pods: '0' })]);
  store.conflicts = 1;
  const admission = new QuotaAdmission(store);
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => admission.validate(create(pod(`p${i}`, [c('c')])), pods)));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
  assert.equal(store.quotas[0]!.status!.used!.pods, '5');
});

test('ResourceQuota: a dry run is judged but not charged', async () => {
  const store = new MemoryQuotas([quota('q', { pods: '1' }, { pods: '0' })]);
  await new QuotaAdmission(store).validate({ ...create(pod('p', [c('c')])), ctx: { ...ctx, dryRun: true } }, pods);
  assert.deepEqual(store.writes, []);
});
