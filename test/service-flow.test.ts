// The end of the seed's flow on a real node with its proxy and cluster DNS, as `skiff up` runs
// them: `kubectl apply -f manifests/web.yaml`, then the web Deployment answers through its
// ClusterIP and its NodePort (127.0.0.1 and the node's address) from the host, and through its
// ClusterIP, its NodePort and `web.default.svc.cluster.local` from a pod; traffic moves off a
// deleted pod. skiff-proxy programs the host's own tables here, so this test holds the harness's
// host-proxy lock, and the proxy's chains are gone after stop.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { after, test } from 'node:test';
import type { Node } from '../lib/api/core/node.js';
import type { Pod } from '../lib/api/core/pod.js';
import type { Service } from '../lib/api/core/service.js';
import { nodeEntry, nodeName } from '../lib/process/components.js';
import { type Cluster, startCluster } from './harness.js';
import { httpGet, missingNodeTools, routeOf, sleep, waitFor } from './node-fixture.js';

const skip = missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'iptables', 'iptables-restore', 'kubectl', 'curl']);
let cluster: Cluster | undefined;
after(async () => {
  await cluster?.stop();
});

/** assertLocal fails unless this machine routes addr itself (no gateway hop). */
function assertLocal(addr: string): void {
  const route = routeOf(addr);
  assert.doesNotMatch(route, / via /, `${addr} would leave the machine: ${route}`);
}

/** kubeChains lists the KUBE-* chains in the host's tables, both iptables backends. */
function kubeChains(): string[] {
  const out: string[] = [];
  for (const save of ['iptables-save', 'iptables-legacy-save']) {
    const text = spawnSync(save, [], { encoding: 'utf8' }).stdout ?? '';
    for (const line of text.split('\n')) if (/^:KUBE-/.test(line)) out.push(`${save} ${line.split(' ')[0]}`);
  }
  return out;
}

const isReady = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

test('Services carry traffic on a real node: ClusterIP, NodePort and DNS name, from the host and from a pod', { skip: skip || false, timeout: 600_000 }, async (t) => {
  cluster = await startCluster({ realNode: true, proxy: true });
  const c = cluster;
  const name = nodeName(c.config);
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const diagnose = async () => `\nproxy log tail:\n${c.logs('proxy').split('\n').slice(-20).join('\n')}\ndns log tail:\n${c.logs('dns').split('\n').slice(-20).join('\n')}\npods:\n${await kubectl(['get', 'pods', '-o', 'wide'])}`;

  const node = await waitFor('the Node to be Ready', async () => {
    const n = JSON.parse(await kubectl(['get', 'node', name, '-o', 'json'])) as Node;
    return n.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True' && !!n.spec?.podCIDR ? n : undefined;
  });
  const nodeIP = node.status!.addresses!.find((a) => a.type === 'InternalIP')!.address;
  t.diagnostic(`node ${name} ${nodeIP}, service CIDR ${c.config.serviceCIDR}`);

  await kubectl(['apply', '-f', '-'], readFileSync(nodeEntry('../manifests/web.yaml'), 'utf8'));
  await waitFor('both web pods Ready', async () => {
    const pods = (JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: Pod[] }).items;
    return pods.length === 2 && pods.every(isReady) && pods;
  }, 120_000).catch(async (err: Error) => assert.fail(err.message + (await diagnose())));
  const svc = JSON.parse(await kubectl(['get', 'service', 'web', '-o', 'json'])) as Service;
  const clusterIP = svc.spec!.clusterIP!;
  const nodePort = svc.spec!.ports![0]!.nodePort!;

  // From the host: the ClusterIP (held by the node's sink route, DNATed by the proxy's rules) and
  // the NodePort on 127.0.0.1 and on the node's address.
  assertLocal(clusterIP);
  assertLocal(nodeIP);
  for (const url of [`http://${clusterIP}/`, `http://127.0.0.1:${nodePort}/`, `http://${nodeIP}:${nodePort}/`]) {
    const body = await waitFor(`${url} from the host`, () => httpGet(url), 60_000).catch(async (err: Error) => assert.fail(err.message + (await diagnose())));
    assert.equal(body, 'hello from skiff\n', url);
  }

  // From a pod: the ClusterIP, the NodePort on the node's address, and the Service's name through
  // skiff-dns (the kubelet writes the cluster DNS IP into the pod's resolv.conf).
  await kubectl(['run', 'client', '--image=busybox:1.36', '--restart=Never', '--command', '--', 'sleep', '3600']);
  await waitFor('the client pod Running', async () => {
    const p = JSON.parse(await kubectl(['get', 'pod', 'client', '-o', 'json'])) as Pod;
    return p.status?.phase === 'Running' && p;
  });
  const fromPod = async (target: string) => {
    // busybox wget may crash on a timeout (NODE-FACTS): bound it with timeout.
    const r = await c.kubectl(['exec', 'client', '--', 'timeout', '5', 'wget', '-qO-', target]);
    return r.code === 0 ? r.stdout : undefined;
  };
  for (const target of [`http://${clusterIP}/`, `http://${nodeIP}:${nodePort}/`, 'http://web.default.svc.cluster.local/', 'http://web/']) {
    const body = await waitFor(`${target} from a pod`, () => fromPod(target), 60_000).catch(async (err: Error) => assert.fail(err.message + (await diagnose())));
    assert.equal(body, 'hello from skiff\n', target);
  }
  // The README's own commands: curl from the host, and a web pod reaching its own Service by name
  // (hairpin when it picks itself).
  for (const url of [`http://${clusterIP}/`, `http://127.0.0.1:${nodePort}/`]) {
    const curl = spawnSync('curl', ['-sS', '--max-time', '5', url], { encoding: 'utf8' });
    assert.equal(curl.stdout, 'hello from skiff\n', `curl ${url}: ${curl.stderr}`);
  }
  assert.equal(await kubectl(['exec', 'deploy/web', '--', 'timeout', '5', 'wget', '-qO-', 'http://web.default.svc.cluster.local/']), 'hello from skiff\n');
  const resolv = await kubectl(['exec', 'client', '--', 'cat', '/etc/resolv.conf']);
  assert.match(resolv, /^nameserver \d+\.\d+\.\d+\.10$/m);
  assert.match(resolv, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);

  // Scale to one: the ClusterIP keeps answering, now from the one pod left.
  await kubectl(['scale', 'deployment/web', '--replicas=1']);
  await waitFor('one web endpoint', async () => {
    const eps = JSON.parse(await kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json'])) as { items: { endpoints?: unknown[] }[] };
    return eps.items.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0) === 1;
  });
  for (let i = 0; i < 5; i++) assert.equal(await waitFor('the ClusterIP after scaling down', () => httpGet(`http://${clusterIP}/`), 30_000), 'hello from skiff\n');

  await c.stop();
  cluster = undefined;
  assert.deepEqual(kubeChains(), [], 'no KUBE-* chain of the proxy is left after stop');
});
