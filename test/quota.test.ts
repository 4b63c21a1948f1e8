// ResourceQuota and LimitRange end to end: real etcd, apiserver, controller manager, scheduler
// and simulated nodes, driven by the real kubectl: `kubectl create quota`, a Deployment whose
// third pod the quota refuses, LimitRange defaults on a pod, parallel creates against a quota,
// and the controller's recount after a create that was charged but failed.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import type { Pod } from '../lib/api/core/pod.js';
import type { ResourceQuota } from '../lib/api/core/resourcequota.js';
import { RestClient } from '../lib/client/client.js';
import { Pods, ResourceQuotas } from '../lib/client/resources.js';
import { startCluster, type Cluster } from './harness.js';
import { header, kubectlHelpers, row, until } from './kubectl-helpers.js';

let cluster: Cluster;
let client: RestClient;
const { k, ok, fails } = kubectlHelpers(() => cluster);

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager', 'scheduler', 'sim'],
    simulatedNodes: 1,
    extraArgs: { 'controller-manager': ['--resource-quota-sync-period=2s'] },
  });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  client = new RestClient(kc, { userAgent: 'quota-test' });
});
after(async () => {
  await cluster?.stop();
});

const quota = (ns: string, name: string) => client.get<ResourceQuota>(ResourceQuotas, ns, name);

/** counted waits until the controller has written status.used for every resource of the quota. */
async function counted(ns: string, name: string): Promise<ResourceQuota> {
  let q: ResourceQuota | undefined;
  await until(
    async () => {
      q = await quota(ns, name);
      return Object.keys(q.spec?.hard ?? {}).every((r) => q!.status?.used?.[r] !== undefined);
    },
    20_000,
    `quota ${ns}/${name} to be counted`,
  );
  return q!;
}

async function namespace(ns: string): Promise<void> {
  await ok(['create', 'namespace', ns]);
  await until(async () => (await k(['get', 'serviceaccount', 'default', '-n', ns])).code === 0, 20_000, `${ns}/default ServiceAccount`);
}

const podJSON = (ns: string, name: string, resources?: object) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { containers: [{ name: 'app', image: 'busybox:1', ...(resources ? { resources } : {}) }] } });

describe('ResourceQuota and LimitRange', () => {
  it('kubectl api-resources lists both with kube\'s short names', async () => {
    const out = await ok(['api-resources']);
    assert.deepEqual(row(out, 'limitranges'), ['limitranges', 'limits', 'v1', 'true', 'LimitRange']);
    assert.deepEqual(row(out, 'resourcequotas'), ['resourcequotas', 'quota', 'v1', 'true', 'ResourceQuota']);
  });

  it('kubectl create quota, get and describe print usage as kube does; a Deployment\'s third pod is refused', async () => {
    await namespace('q1');
    await ok(['create', 'quota', 'compute', '--hard=pods=2,requests.cpu=1,limits.memory=1Gi', '-n', 'q1']);
    await counted('q1', 'compute');
    const table = await ok(['get', 'quota', '-n', 'q1']);
    assert.deepEqual(header(table), ['NAME', 'AGE', 'REQUEST', 'LIMIT']);
    assert.deepEqual(row(table, 'compute').slice(2), ['pods: 0/2, requests.cpu: 0/1', 'limits.memory: 0/1Gi']);

    const deploy = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'q1' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'busybox:1', resources: { requests: { cpu: '200m' }, limits: { memory: '100Mi' } } }] } },
      },
    };
    await ok(['apply', '-f', '-'], JSON.stringify(deploy));
    let events = '';
    await until(
      async () => {
        events = await ok(['get', 'events', '-n', 'q1', '--field-selector', 'reason=FailedCreate', '-o', 'jsonpath={.items[*].message}']);
        return events.includes('exceeded quota');
      },
      30_000,
      'a FailedCreate event from the ReplicaSet',
    );
    assert.match(events, /Error creating: pods "web-[a-z0-9]+-" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2/);
    const pods = await client.list<Pod>(Pods, 'q1');
    assert.equal(pods.items.length, 2);

    await until(async () => (await quota('q1', 'compute')).status?.used?.['requests.cpu'] === '400m', 20_000, 'usage of two pods');
    const described = await ok(['describe', 'quota', 'compute', '-n', 'q1']);
    assert.match(described, /Resource\s+Used\s+Hard/);
    assert.match(described, /limits\.memory\s+200Mi\s+1Gi/);
    assert.match(described, /pods\s+2\s+2/);
    assert.match(described, /requests\.cpu\s+400m\s+1/);

    // A pod without the limit a compute quota needs is refused with kube's "must specify".
    const missing = await fails(['create', '-f', '-'], podJSON('q1', 'bare'));
    assert.match(missing, /pods "bare" is forbidden: failed quota: compute: must specify limits\.memory for: app; requests\.cpu for: app/);
  });

  it('LimitRange defaults show on the pod, with the limit-ranger annotation; bounds refuse with kube\'s message', async () => {
    await namespace('q2');
    const lr = {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'defaults', namespace: 'q2' },
      spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' }, min: { cpu: '50m' }, max: { memory: '1Gi' } }] },
    };
    await ok(['apply', '-f', '-'], JSON.stringify(lr));
    const limits = await ok(['get', 'limits', '-n', 'q2']);
    assert.deepEqual(header(limits), ['NAME', 'CREATED AT']);
    await ok(['run', 'plain', '--image=busybox:1', '-n', 'q2']);
    const pod = JSON.parse(await ok(['get', 'pod', 'plain', '-n', 'q2', '-o', 'json'])) as Pod;
    assert.deepEqual(pod.spec!.containers[0]!.resources, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
    assert.equal(pod.metadata.annotations?.['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu, memory request for container plain; cpu, memory limit for container plain');
    const yaml = await ok(['get', 'pod', 'plain', '-n', 'q2', '-o', 'yaml']);
    assert.match(yaml, /kubernetes\.io\/limit-ranger: 'LimitRanger plugin set: cpu, memory request for container\s+plain; cpu, memory limit for container plain'/);
    assert.match(yaml, /resources:\n\s+limits:\n\s+cpu: 500m\n\s+memory: 256Mi\n\s+requests:\n\s+cpu: 100m\n\s+memory: 128Mi/);

    const err = await fails(['create', '-f', '-'], podJSON('q2', 'greedy', { requests: { cpu: '10m' }, limits: { memory: '2Gi' } }));
    assert.match(err, /pods "greedy" is forbidden: \[minimum cpu usage per Container is 50m, but request is 10m, maximum memory usage per Container is 1Gi, but limit is 2Gi\]/);

    // An invalid LimitRange is refused with kube's validation message.
    const bad = { ...lr, metadata: { name: 'bad', namespace: 'q2' }, spec: { limits: [{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }] } };
    assert.match(await fails(['apply', '-f', '-'], JSON.stringify(bad)), /spec\.limits\[0\]\.min\[cpu\]: Invalid value: "2": min value 2 is greater than max value 1/);
  });

  it('ten parallel pod creates against pods=5 admit exactly five', async () => {
    await namespace('q3');
    await ok(['create', 'quota', 'five', '--hard=pods=5', '-n', 'q3']);
    await counted('q3', 'five');
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => client.create<Pod>(Pods, 'q3', JSON.parse(podJSON('q3', `p${i}`)) as Pod)),
    );
    const admitted = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
    assert.equal(admitted, 5, refused.join('\n'));
    for (const msg of refused) assert.match(msg, /exceeded quota: five, requested: pods=1, used: pods=5, limited: pods=5/);
    assert.equal((await client.list<Pod>(Pods, 'q3')).items.length, 5);
    assert.equal((await quota('q3', 'five')).status?.used?.pods, '5');
  });

  it('a create charged but then failed is recounted by the controller; deletes free the quota', async () => {
    await namespace('q4');
    await ok(['create', 'quota', 'objects', '--hard=count/secrets=3', '-n', 'q4']);
    await counted('q4', 'objects');
    await ok(['create', 'secret', 'generic', 'one', '--from-literal=a=b', '-n', 'q4']);
    // The second create of the same name is charged, then refused by storage as AlreadyExists:
    // admission charged two, the recount (every 2 s here) finds one.
    await fails(['create', 'secret', 'generic', 'one', '--from-literal=a=b', '-n', 'q4']);
    await until(async () => (await quota('q4', 'objects')).status?.used?.['count/secrets'] === '1', 20_000, 'the recount to drop the failed create');
    await ok(['delete', 'secret', 'one', '-n', 'q4']);
    await until(async () => (await quota('q4', 'objects')).status?.used?.['count/secrets'] === '0', 20_000, 'the delete to free the quota');
  });
});
