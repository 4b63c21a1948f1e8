import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import type { ResourceQuota } from '../../lib/api/core/resourcequota.js';
import type { ResourceList } from '../../lib/api/core/types.js';
import type { KubeObject } from '../../lib/api/meta.js';
import { ApiError } from '../../lib/client/client.js';
import { ResourceQuotas } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import type { GroupResource } from '../../lib/quota/evaluators.js';
import { type ObjectSource, syncResourceQuota } from './sync.js';

const now = new Date('2024-05-01T12:00:00Z');

function quota(hard: ResourceList, status?: ResourceQuota['status'], spec: Partial<NonNullable<ResourceQuota['spec']>> = {}): ResourceQuota {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'ns', resourceVersion: '7' }, spec: { hard, ...spec }, ...(status ? { status } : {}) };
}

function pod(name: string, cpu: string | undefined, extra: { phase?: string; deadline?: number; deleting?: string; grace?: number } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', ...(extra.deleting ? { deletionTimestamp: extra.deleting, deletionGracePeriodSeconds: extra.grace ?? 30 } : {}) },
    spec: { containers: [{ name: 'c', image: 'x', ...(cpu ? { resources: { requests: { cpu }, limits: { cpu } } } : {}) }], ...(extra.deadline !== undefined ? { activeDeadlineSeconds: extra.deadline } : {}) },
    ...(extra.phase ? { status: { phase: extra.phase } } : {}),
  };
}

function source(objects: Record<string, KubeObject[]>): ObjectSource & { asked: string[] } {
  const asked: string[] = [];
  const fn = async (gr: GroupResource, ns: string) => {
    asked.push(`${gr.group}/${gr.resource}`);
    const items = objects[`${gr.group}/${gr.resource}`];
    return items?.filter((o) => o.metadata.namespace === ns);
  };
  return Object.assign(fn, { asked });
}

const run = async (q: ResourceQuota, objects: ObjectSource, client = new FakeClient()) => {
  client.add(ResourceQuotas, q);
  const result = await syncResourceQuota({ client, quotas: listerOf([q]), objects, resyncMs: 300_000, now: () => now }, 'ns/q');
  return { client, result };
};

describe('resourcequota syncResourceQuota', () => {
  it('writes status.hard from spec and status.used counted from live pods only, through /status', async () => {
    const objects = source({
      '/pods': [pod('a', '500m'), pod('b', '1'), pod('done', '2', { phase: 'Succeeded' }), pod('gone', '2', { deleting: '2024-05-01T11:00:00Z', grace: 30 }), pod('besteffort', undefined)],
    });
    const { client, result } = await run(quota({ 'requests.cpu': '4', 'limits.cpu': '8', pods: '10', 'count/pods': '20' }), objects);
    assert.deepEqual(
      client.writes().map((a) => ({ verb: a.verb, resource: a.resource, subresource: a.subresource, object: a.object })),
      [
        {
          verb: 'update',
          resource: 'resourcequotas',
          subresource: 'status',
          object: {
            ...quota({ 'requests.cpu': '4', 'limits.cpu': '8', pods: '10', 'count/pods': '20' }),
            status: { hard: { 'count/pods': '20', 'limits.cpu': '8', pods: '10', 'requests.cpu': '4' }, used: { 'count/pods': '5', 'limits.cpu': '1500m', pods: '3', 'requests.cpu': '1500m' } },
          },
        },
      ],
    );
    assert.deepEqual(result, { requeueAfter: 300_000 });
  });

  it('counts only what the scopes select', async () => {
    const objects = source({ '/pods': [pod('job', '1', { deadline: 60 }), pod('svc', '1'), pod('be', undefined)] });
    const { client } = await run(quota({ pods: '5' }, undefined, { scopes: ['Terminating'] }), objects);
    assert.deepEqual((client.writes()[0]!.object as ResourceQuota).status, { hard: { pods: '5' }, used: { pods: '1' } });
    const best = await run(quota({ pods: '5' }, undefined, { scopes: ['BestEffort'] }), objects);
    assert.deepEqual((best.client.writes()[0]!.object as ResourceQuota).status!.used, { pods: '1' });
  });

  it('counts services, claims by class and any count/<resource>.<group>, asking only for what the quota limits', async () => {
    const objects = source({
      '/services': [{ metadata: { name: 's', namespace: 'ns' }, spec: { type: 'NodePort', ports: [{ port: 1 }, { port: 2 }] } } as KubeObject],
      '/persistentvolumeclaims': [{ metadata: { name: 'd', namespace: 'ns' }, spec: { storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } } } as KubeObject],
      'apps/deployments': [{ metadata: { name: 'web', namespace: 'ns' } }, { metadata: { name: 'other', namespace: 'elsewhere' } }],
    });
    const hard = { 'services.nodeports': '4', 'fast.storageclass.storage.k8s.io/requests.storage': '5Gi', 'count/deployments.apps': '3', 'count/widgets.example.com': '1' };
    const { client } = await run(quota(hard), objects);
    assert.deepEqual((client.writes()[0]!.object as ResourceQuota).status!.used, {
      'count/deployments.apps': '1',
      'fast.storageclass.storage.k8s.io/requests.storage': '1Gi',
      'services.nodeports': '2',
    });
    assert.deepEqual(objects.asked.sort(), ['/persistentvolumeclaims', '/services', 'apps/deployments', 'example.com/widgets']);
  });

  it('writes nothing when status is already right, and corrects usage admission over-charged', async () => {
    const objects = source({ '/pods': [pod('a', '1')] });
    const right = await run(quota({ pods: '5' }, { hard: { pods: '5' }, used: { pods: '1' } }), objects);
    assert.deepEqual(right.client.writes(), []);
    const over = await run(quota({ pods: '5' }, { hard: { pods: '5' }, used: { pods: '3' } }), objects);
    assert.deepEqual((over.client.writes()[0]!.object as ResourceQuota).status, { hard: { pods: '5' }, used: { pods: '1' } });
  });

  it('does nothing for a quota gone, and retries a failed write', async () => {
    const client = new FakeClient();
    await syncResourceQuota({ client, quotas: listerOf<ResourceQuota>([]), objects: source({}), resyncMs: 0 }, 'ns/q');
    assert.deepEqual(client.writes(), []);
    const failing = new FakeClient().failOn('update', 'resourcequotas', new ApiError({ code: 409, reason: 'Conflict', message: 'modified' }), 'status');
    await assert.rejects(run(quota({ pods: '1' }), source({ '/pods': [] }), failing), /modified/);
  });
});
