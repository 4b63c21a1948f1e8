// End-to-end: skiff's own clients keep an int64 beyond 2^53 (issue 16, defect 9). The controller
// manager, the scheduler and the node simulator read through RestClient and informers; when they
// rounded 9223372036854775807 to 9223372036854775808, the Deployment controller's copy of the pod
// template was refused by the apiserver's exact range check and no ReplicaSet was ever created.
// Answers are read as raw text: only the text shows whether every digit was kept.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers, until } from './kubectl-helpers.js';
import { parseJSON } from '../lib/machinery/json.js';

let cluster: Cluster;
const { ok } = kubectlHelpers(() => cluster);
const ns = 'int64-controllers';
const max = '9223372036854775807';
const graceField = `"terminationGracePeriodSeconds":${max}`;

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager', 'scheduler', 'sim'],
    simulatedNodes: 2,
    extraArgs: { sim: ['--max-termination-grace=2s'] },
  });
  await ok(['create', 'namespace', ns]);
});
after(async () => {
  await cluster?.stop();
});

interface Item {
  metadata: { name: string; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

/** listText GETs a collection and answers its raw text and its items. */
async function listText(path: string): Promise<{ text: string; items: Item[] }> {
  const r = await cluster.request(path);
  assert.equal(r.status, 200, r.body);
  return { text: r.body, items: (parseJSON(r.body) as { items: Item[] }).items };
}

/** podSpec is a pod spec's text with two int64 fields at 2^63-1. */
const podSpec = `{${graceField},"tolerations":[{"key":"k","operator":"Exists","effect":"NoExecute","tolerationSeconds":${max}}],"containers":[{"name":"c","image":"nginx"}]}`;
const template = (app: string) => `{"metadata":{"labels":{"app":"${app}"}},"spec":${podSpec}}`;

describe('controllers, scheduler and simulated nodes with int64s beyond 2^53', () => {
  it('a Deployment whose template has terminationGracePeriodSeconds 2^63-1 gets its ReplicaSet and running pods, every digit kept', async () => {
    const body = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"big"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"big"}},"template":${template('big')}}}`;
    const created = await cluster.request(`/apis/apps/v1/namespaces/${ns}/deployments`, { method: 'POST', body });
    assert.equal(created.status, 201, created.body);

    let rsText = '';
    await until(async () => {
      const { text, items } = await listText(`/apis/apps/v1/namespaces/${ns}/replicasets`);
      rsText = text;
      return items.length === 1;
    }, 60_000, 'the ReplicaSet of the Deployment');
    assert.ok(rsText.includes(graceField), `ReplicaSet keeps the grace period: ${rsText}`);
    assert.ok(rsText.includes(`"tolerationSeconds":${max}`), `ReplicaSet keeps the tolerationSeconds: ${rsText}`);

    let podText = '';
    await until(async () => {
      const { text, items } = await listText(`/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dbig`);
      podText = text;
      return items.length === 2 && items.every((p) => p.spec?.nodeName?.startsWith('sim-') && p.status?.phase === 'Running');
    }, 90_000, 'two Running pods on simulated nodes');
    assert.equal(podText.split(graceField).length - 1, 2, `both pods keep the grace period: ${podText}`);

    // The controller's own status write went through too (it reads the Deployment from its informer).
    await until(async () => (await ok(['get', 'deployment', 'big', '-n', ns, '-o', 'jsonpath={.status.availableReplicas}'])) === '2', 60_000, 'two available replicas');
    const deployment = await cluster.request(`/apis/apps/v1/namespaces/${ns}/deployments/big`);
    assert.ok(deployment.body.includes(graceField), deployment.body);
  });

  it('a Pod with terminationGracePeriodSeconds 2^63-1 runs on a simulated node and is deleted', async () => {
    const body = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"forever"},"spec":${podSpec}}`;
    const created = await cluster.request(`/api/v1/namespaces/${ns}/pods`, { method: 'POST', body });
    assert.equal(created.status, 201, created.body);
    await until(async () => {
      const r = await cluster.request(`/api/v1/namespaces/${ns}/pods/forever`);
      return (parseJSON(r.body) as Item).status?.phase === 'Running';
    }, 60_000, 'the pod Running');

    const deleted = await cluster.request(`/api/v1/namespaces/${ns}/pods/forever`, { method: 'DELETE' });
    assert.equal(deleted.status, 200, deleted.body);
    assert.ok(deleted.body.includes(`"deletionGracePeriodSeconds":${max}`), deleted.body);
    // The simulator gives it at most --max-termination-grace (2s), then removes it.
    await until(async () => (await cluster.request(`/api/v1/namespaces/${ns}/pods/forever`)).status === 404, 60_000, 'the pod gone');
  });
});
