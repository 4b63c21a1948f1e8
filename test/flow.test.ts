// The seed's sequence end to end, on simulated nodes: kubectl applies a Deployment and a
// Service → the Deployment controller makes a ReplicaSet → the ReplicaSet controller makes pods
// → the scheduler binds them → the node simulator runs them → the Endpoints controllers publish
// the ready pod IPs. Every process is the real one, started as `skiff up` starts it.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { nodeEntry } from '../lib/process/components.js';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers, row, until } from './kubectl-helpers.js';

interface PodList {
  items: Array<{ metadata: { name: string }; spec: { nodeName?: string }; status: { phase?: string; podIP?: string } }>;
}

describe('the seed flow on simulated nodes', () => {
  let cluster: Cluster;
  const { ok } = kubectlHelpers(() => cluster);

  before(async () => {
    cluster = await startCluster({ simulatedNodes: 2 });
  });
  after(async () => {
    await cluster?.stop();
  });

  const pods = async (): Promise<PodList> => JSON.parse(await ok(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as PodList;

  it('runs a Deployment behind a Service, from kubectl apply to published endpoints', async () => {
    await until(async () => (await ok(['get', 'nodes'])).split('\n').filter((l) => / Ready /.test(l)).length === 2, 30_000, 'two Ready simulated nodes');
    await ok(['apply', '-f', '-'], readFileSync(nodeEntry('../manifests/web.yaml'), 'utf8'));
    const status = await ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    assert.match(status, /deployment "web" successfully rolled out/);

    const list = await pods();
    assert.equal(list.items.length, 2);
    const nodes = JSON.parse(await ok(['get', 'nodes', '-o', 'json'])) as { items: Array<{ metadata: { name: string }; spec: { podCIDR?: string } }> };
    const cidrOf = new Map(nodes.items.map((n) => [n.metadata.name, n.spec.podCIDR ?? '']));
    for (const p of list.items) {
      assert.equal(p.status.phase, 'Running');
      assert.ok(p.spec.nodeName && cidrOf.has(p.spec.nodeName), `${p.metadata.name} is bound to a simulated node`);
      // The pod's IP comes from its node's /24.
      const prefix = cidrOf.get(p.spec.nodeName!)!.split('.').slice(0, 3).join('.');
      assert.ok(p.status.podIP?.startsWith(`${prefix}.`), `${p.status.podIP} in ${cidrOf.get(p.spec.nodeName!)}`);
    }
    const ips = list.items.map((p) => p.status.podIP!).sort();
    await until(async () => (await ok(['get', 'endpoints', 'web', '-o', 'jsonpath={.subsets[*].addresses[*].ip}'])).split(' ').filter(Boolean).sort().join(',') === ips.join(','), 20_000, 'the Endpoints to list both pod IPs');
    const ports = await ok(['get', 'endpoints', 'web', '-o', 'jsonpath={.subsets[0].ports[0].port}']);
    assert.equal(ports, '8080', 'the named targetPort resolves to the container port');
    const slice = await ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[*].endpoints[*].addresses[0]}']);
    assert.deepEqual(slice.split(' ').filter(Boolean).sort(), ips);
    const table = await ok(['get', 'deploy', 'web']);
    assert.deepEqual(row(table, 'web').slice(1, 4), ['2/2', '2', '2']);
  });

  it('scales out and back, and a rolling update replaces every pod', async () => {
    await ok(['scale', 'deployment/web', '--replicas=4']);
    await ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    const before = new Set((await pods()).items.map((p) => p.metadata.name));
    assert.equal(before.size, 4);
    await ok(['set', 'image', 'deployment/web', 'httpd=busybox:1.37']);
    await ok(['rollout', 'status', 'deployment/web', '--timeout=90s']);
    await until(async () => (await pods()).items.length === 4, 30_000, 'old pods gone');
    const after = (await pods()).items;
    assert.ok(after.every((p) => !before.has(p.metadata.name) && p.status.phase === 'Running'), 'every pod is new and running');
    const history = await ok(['rollout', 'history', 'deployment/web']);
    assert.match(history, /^1\s/m);
    assert.match(history, /^2\s/m);
  });

  it('deletes the Deployment with everything it owns', async () => {
    await ok(['delete', 'deployment/web', '--cascade=foreground', '--timeout=60s']);
    await until(async () => (await pods()).items.length === 0, 60_000, 'pods gone');
    assert.equal((await ok(['get', 'rs', '-l', 'app=web', '-o', 'name'])).trim(), '');
  });
});
