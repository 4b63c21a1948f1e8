import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LimitRange } from '../../lib/api/core/limitrange.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Container } from '../../lib/api/core/types.js';
import type { KubeObject } from '../../lib/api/meta.js';
import { StatusError } from '../../lib/machinery/status.js';
import type { AdmissionRequest, RequestContext } from '../registry/store.js';
import { LimitRanger, aggregateMessage } from './limitranger.js';

const ctx: RequestContext = { now: new Date(), dryRun: false };
const pods = { group: '', resource: 'pods' };

function ranger(...limits: NonNullable<LimitRange['spec']>['limits'][]): LimitRanger {
  const ranges: LimitRange[] = limits.map((l, i) => ({ metadata: { name: `lr${i}`, namespace: 'ns' }, spec: { limits: l } }));
  return new LimitRanger(async (ns) => (ns === 'ns' ? ranges : []));
}

function pod(containers: Container[], init: Container[] = [], meta: Partial<Pod['metadata']> = { name: 'p' }): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'ns', ...meta }, spec: { containers, ...(init.length ? { initContainers: init } : {}) } };
}

const create = (obj: KubeObject, name = obj.metadata.name ?? ''): AdmissionRequest => ({ operation: 'CREATE', object: obj, name, namespace: 'ns', ctx });

async function forbidden(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => assert.fail('expected Forbidden'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof StatusError, String(err));
  assert.equal(err.code, 403);
  return err.message;
}

test('LimitRanger fills default requests and limits of containers and init containers, and says so in the annotation', async () => {
  const lr = ranger([{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } }]);
  const p = pod([{ name: 'app', image: 'x', resources: { limits: { memory: '1Gi' } } }, { name: 'side', image: 'x' }], [{ name: 'init', image: 'x' }]);
  await lr.admitPod(create(p));
  assert.deepEqual(p.spec!.containers[0]!.resources, { limits: { memory: '1Gi', cpu: '500m' }, requests: { cpu: '100m', memory: '128Mi' } });
  assert.deepEqual(p.spec!.containers[1]!.resources, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
  assert.deepEqual(p.spec!.initContainers![0]!.resources, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
  assert.equal(
    p.metadata.annotations?.['kubernetes.io/limit-ranger'],
    'LimitRanger plugin set: cpu, memory request for container app; cpu limit for container app; cpu, memory request for container side; cpu, memory limit for container side; cpu, memory request for init container init; cpu, memory limit for init container init',
  );
});

test('LimitRanger leaves pods alone on update and in namespaces without ranges', async () => {
  const lr = ranger([{ type: 'Container', default: { cpu: '1' } }]);
  const p = pod([{ name: 'c', image: 'x' }]);
  await lr.admitPod({ ...create(p), operation: 'UPDATE', oldObject: p });
  const q = { ...pod([{ name: 'c', image: 'x' }]), metadata: { name: 'q', namespace: 'other' } };
  await lr.admitPod({ ...create(q), namespace: 'other' });
  assert.equal(p.spec!.containers[0]!.resources, undefined);
  assert.equal(q.spec!.containers[0]!.resources, undefined);
});

test('LimitRanger refuses a container outside min and max with every broken bound, as kube words it', async () => {
  const lr = ranger([{ type: 'Container', min: { cpu: '100m' }, max: { memory: '1Gi' } }]);
  const p = pod([{ name: 'c', image: 'x', resources: { requests: { cpu: '50m' }, limits: { memory: '2Gi' } } }]);
  assert.equal(
    await forbidden(lr.validate(create(p), pods)),
    'pods "p" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, maximum memory usage per Container is 1Gi, but limit is 2Gi]',
  );
  const noLimit = pod([{ name: 'c', image: 'x', resources: { requests: { cpu: '200m' } } }], [], { generateName: 'web-' });
  assert.equal(await forbidden(lr.validate(create(noLimit, ''), pods)), 'pods "web-" is forbidden: maximum memory usage per Container is 1Gi.  No limit is specified');
  await lr.validate(create(pod([{ name: 'c', image: 'x', resources: { requests: { cpu: '100m' }, limits: { memory: '1Gi' } } }])), pods);
});

test('LimitRanger holds init containers to container bounds and the pod total to Pod bounds', async () => {
  const init = pod([{ name: 'c', image: 'x', resources: { limits: { cpu: '1' } } }], [{ name: 'i', image: 'x', resources: { limits: { cpu: '2' } } }]);
  const both = ranger([
    { type: 'Container', max: { cpu: '1' } },
    { type: 'Pod', max: { cpu: '1500m' } },
  ]);
  assert.equal(await forbidden(both.validate(create(init), pods)), 'pods "p" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, maximum cpu usage per Pod is 1500m, but limit is 2]');
  const total = pod([
    { name: 'a', image: 'x', resources: { limits: { cpu: '1' } } },
    { name: 'b', image: 'x', resources: { limits: { cpu: '1' } } },
  ]);
  assert.equal(await forbidden(both.validate(create(total), pods)), 'pods "p" is forbidden: maximum cpu usage per Pod is 1500m, but limit is 2');
});

test('LimitRanger enforces the limit to request ratio', async () => {
  const lr = ranger([{ type: 'Container', maxLimitRequestRatio: { cpu: '2' } }]);
  const p = pod([{ name: 'c', image: 'x', resources: { requests: { cpu: '100m' }, limits: { cpu: '500m' } } }]);
  assert.equal(await forbidden(lr.validate(create(p), pods)), 'pods "p" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000');
  const none = pod([{ name: 'c', image: 'x', resources: { limits: { cpu: '500m' } } }]);
  assert.equal(await forbidden(lr.validate(create(none), pods)), 'pods "p" is forbidden: cpu max limit to request ratio per Container is 2, but no request is specified or request is 0');
});

test('LimitRanger bounds a claim\'s storage request', async () => {
  const lr = ranger([{ type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '10Gi' } }]);
  const claim = (storage: string): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'ns' }, spec: { resources: { requests: { storage } } } } as KubeObject);
  const pvcs = { group: '', resource: 'persistentvolumeclaims' };
  assert.equal(await forbidden(lr.validate(create(claim('20Gi')), pvcs)), 'persistentvolumeclaims "data" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi');
  assert.equal(await forbidden(lr.validate(create(claim('500Mi')), pvcs)), 'persistentvolumeclaims "data" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi');
  await lr.validate(create(claim('5Gi')), pvcs);
});

test('aggregateMessage is utilerrors.NewAggregate: one alone, duplicates folded, several in brackets', () => {
  assert.equal(aggregateMessage(['a']), 'a');
  assert.equal(aggregateMessage(['a', 'a']), 'a');
  assert.equal(aggregateMessage(['a', 'b', 'a']), '[a, b]');
});
