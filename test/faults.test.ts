// Fault tests: a whole cluster (etcd, apiserver, controller manager, scheduler and three
// simulated nodes) under write load while each of its processes is killed with SIGKILL and
// started again, then etcd restarted, then a state of more than 10 MiB carried across an
// apiserver restart. What must hold (issue 9): every acknowledged write is there afterwards, a
// watcher saw every revision of its resource in order (with at most one 410 and re-list per
// fault), and a Deployment on the simulated nodes converges after each fault. The bounded
// version runs in `npm test`; `npm run bench -- faults` runs more rounds, more load and bigger
// states, and prints timings (none are asserted here).
//
// SKIFF_FAULT_ROUNDS sets how many times each process is killed (default 1).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import {
  APIClient,
  ServiceManager,
  Watcher,
  Writer,
  deploymentManifest,
  listAll,
  lostWrites,
  missedRevisions,
  readStored,
  retry,
  scaleDeployment,
  sleep,
  waitConverged,
} from './fault-load.js';
import { startCluster, type Cluster } from './harness.js';

const rounds = Number(process.env.SKIFF_FAULT_ROUNDS ?? 1);
const ns = 'faults';
const deployment = 'web';
/** convergeMs bounds how long a converging cluster may take (a liveness bound, not a timing target). */
const convergeMs = 90_000;

let cluster: Cluster;
let client: APIClient;

/** leaderArgs shorten leader election so a killed leader's successor takes over in seconds. */
const leaderArgs = ['--leader-elect-lease-duration=6', '--leader-elect-renew-deadline=5', '--leader-elect-retry-period=1'];

before(async () => {
  cluster = await startCluster({
    simulatedNodes: 3,
    extraArgs: { 'controller-manager': leaderArgs, scheduler: leaderArgs, sim: ['--lease-renew-interval=2s'] },
  });
  client = new APIClient(cluster);
  for (const name of [ns, 'bigstate']) await client.json('POST', '/api/v1/namespaces', [201], { metadata: { name } });
});

after(async () => {
  client?.close();
  await cluster?.stop();
});

/** logTail is the end of a component's log, for assertion messages. */
const logTail = (name: string) => `\n--- ${name} log ---\n${cluster.logs(name).slice(-3000)}`;

describe('faults', () => {
  test('kill -9 of each process under write load loses no acknowledged write, keeps watchers in order, and the cluster converges', async (t) => {
    await client.json('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, [201], deploymentManifest(deployment, 2));
    await waitConverged(client, ns, deployment, convergeMs);

    const watcher = new Watcher(client, cluster, ns);
    await watcher.start();
    // Two writers keep up a steady load without starving the processes under test of the two cores.
    const writer = new Writer(client, ns, { concurrency: 2, payloadBytes: 256 });
    await writer.start();
    const faults: string[] = [];
    // Leaders that lose their lease while the API is away exit; the service manager brings them back.
    const services = new ServiceManager(cluster, ['controller-manager', 'scheduler', 'sim']);
    services.start();
    try {
      let replicas = 2;
      for (let round = 0; round < rounds; round++) {
        for (const component of ['apiserver', 'etcd', 'controller-manager', 'scheduler', 'sim']) {
          const acked = writer.stats.acknowledged;
          // Let some writes land between faults, so each kill hits a cluster under load.
          await retry(`writes before killing ${component}`, 60_000, async () => assert.ok(writer.stats.acknowledged >= acked + 20));
          await services.pause(component);
          await cluster.killHard(component);
          faults.push(`kill -9 ${component}`);
          // The controllers' work happens while they are down: scale now if the API is up.
          // Scale up, so the scheduler and the simulator have work when they come back; the
          // controller manager scales down (it deletes pods), so the count stays small.
          replicas = component === 'controller-manager' ? replicas - 1 : replicas >= 6 ? 2 : replicas + 1;
          if (component !== 'apiserver' && component !== 'etcd') await scaleDeployment(client, ns, deployment, replicas);
          await sleep(500);
          const t0 = Date.now();
          await cluster.restart(component);
          services.paused = undefined;
          const restartMs = Date.now() - t0;
          if (component === 'apiserver' || component === 'etcd') await scaleDeployment(client, ns, deployment, replicas);
          try {
            const convergedMs = await waitConverged(client, ns, deployment, convergeMs);
            t.diagnostic(`kill -9 ${component}: back in ${restartMs} ms, ${replicas} replicas converged ${convergedMs} ms later`);
          } catch (err) {
            assert.fail(`after kill -9 ${component}: ${(err as Error).message}${logTail(component)}`);
          }
        }
      }
      // A clean etcd restart (SIGTERM) under the same load.
      await cluster.restart('etcd');
      faults.push('etcd restart');
      const acked = writer.stats.acknowledged;
      await retry('writes after the etcd restart', 60_000, async () => assert.ok(writer.stats.acknowledged >= acked + 20));
    } finally {
      await writer.stop();
      await services.stop();
    }

    // One last write the watcher must see: after it, the watcher has caught up with everything before.
    const marker = await retry('the final write', 60_000, () =>
      client.json<{ metadata: { resourceVersion: string } }>('POST', `/api/v1/namespaces/${ns}/configmaps`, [201], { metadata: { name: 'final' } }),
    );
    await retry('the watcher to reach the final write', 60_000, async () => assert.ok(watcher.seen(Number(marker.metadata.resourceVersion))));
    await watcher.stop();

    const stored = await readStored(client, ns);
    t.diagnostic(`${JSON.stringify(writer.stats)}; watcher ${watcher.events.length} events, ${watcher.reconnects} reconnects, ${watcher.relists.length} re-lists; restarted after exiting: ${services.restarts.join(', ') || 'none'}`);
    const context = `faults: ${faults.join(', ')}; restarted after exiting: ${services.restarts.join(', ') || 'none'}; writes ${JSON.stringify(writer.stats)}; watcher: ${watcher.events.length} events, ${watcher.reconnects} reconnects, ${watcher.relists.length} re-lists`;
    const lost = lostWrites(writer, stored.objects);
    assert.deepEqual(lost.slice(0, 20), [], `acknowledged writes lost (${lost.length}); ${context}`);
    assert.ok(writer.stats.acknowledged >= 100, `too few writes were acknowledged to tell anything: ${context}`);
    const missed = missedRevisions(writer, watcher, stored.objects);
    assert.deepEqual(missed.slice(0, 20), [], `the watcher missed revisions or saw them out of order (${missed.length}); ${context}`);
    assert.ok(watcher.relists.length <= faults.length, `more re-lists than faults: ${context}`);
    await waitConverged(client, ns, deployment, convergeMs);
  });

  test('a state of more than 10 MiB survives an apiserver restart and lists in full, paged and typed', async (t) => {
    const count = 1_300;
    const value = 'y'.repeat(8 * 1024);
    const names: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const name = `big-${String(next++).padStart(5, '0')}`;
        await retry(`create ${name}`, 60_000, () => client.json('POST', '/api/v1/namespaces/bigstate/configmaps', [201], { metadata: { name }, data: { v: value } }));
        names.push(name);
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.equal(names.length, count);
    t.diagnostic(`${count} ConfigMaps of 8 KiB written in ${Date.now() - t0} ms`);

    const check = async (when: string) => {
      const full = await client.request('GET', '/api/v1/namespaces/bigstate/configmaps');
      assert.equal(full.status, 200, `${when}: a full list of ${count} ConfigMaps of 8 KiB answered ${full.status}: ${full.body.slice(0, 300)}`);
      // The root CA publisher's kube-root-ca.crt lives in every namespace, this one too.
      const ours = (i: { metadata: { name?: string } }) => i.metadata.name?.startsWith('big-') ?? false;
      const items = (JSON.parse(full.body) as { items: { metadata: { name: string }; data: { v: string } }[] }).items.filter(ours);
      assert.equal(items.length, count, `${when}: full list`);
      assert.ok(items.every((i) => i.data.v === value), `${when}: every item holds its 8 KiB`);
      const paged = await listAll<{ metadata: { name: string } }>(client, '/api/v1/namespaces/bigstate/configmaps', 250);
      assert.deepEqual(paged.items.filter(ours).map((i) => i.metadata.name).sort(), [...names].sort(), `${when}: paged list`);
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(cluster.kubeconfig);
      const typed = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedConfigMap({ namespace: 'bigstate' });
      assert.equal(typed.items.filter((i) => ours({ metadata: { name: i.metadata?.name } })).length, count, `${when}: client-node's typed list`);
    };
    await check('before the restart');

    const t1 = Date.now();
    try {
      await cluster.restart('apiserver');
      t.diagnostic(`apiserver restarted over ${count} ConfigMaps in ${Date.now() - t1} ms`);
    } catch (err) {
      assert.fail(`the apiserver did not come back over ${count} ConfigMaps of 8 KiB: ${(err as Error).message}${logTail('apiserver')}`);
    }
    await check('after the restart');
  });
});
