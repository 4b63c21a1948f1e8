// The real node through the harness: a containerd and a kubelet of the test cluster's own. The
// Node registers Ready with the machine's capacity, nodeInfo and addresses; its Lease is renewed;
// the CNI conflist follows spec.podCIDR; an unused cluster or service address is routed to the
// sink (dropped here) while a pod's address is routed to the bridge and answers from the host;
// the kubelet survives SIGKILL; and stopping the cluster leaves no link, route, rule, cgroup,
// mount, network namespace or process behind. Cleanup runs when the test fails too.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Lease } from '../lib/api/coordination/lease.js';
import type { Node } from '../lib/api/core/node.js';
import { cgroupHierarchies, containerdPaths, mountsUnder } from '../kubelet/containerd.js';
import { CriClient } from '../kubelet/cri/client.js';
import type { PodSandboxConfig } from '../kubelet/cri/types.js';
import { ConflistFileName } from '../kubelet/network.js';
import { memTotalKi } from '../kubelet/machine.js';
import { nodeEntry, nodeName } from '../lib/process/components.js';
import { type Cluster, run, startCluster } from './harness.js';
import { linkExists, missingNodeTools, routeOf, waitFor } from './node-fixture.js';

const skip = missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'iptables']);
let cluster: Cluster | undefined;
after(async () => {
  await cluster?.stop();
});

async function getJSON<T>(c: Cluster, path: string): Promise<T> {
  const r = await c.request(path);
  assert.equal(r.status, 200, `GET ${path}: ${r.body}`);
  return JSON.parse(r.body) as T;
}

/** nthAddress is the address at offset from a CIDR's base address. */
function nthAddress(cidr: string, offset: number): string {
  const [base] = cidr.split('/');
  const n = base!.split('.').reduce((a, o) => a * 256 + Number(o), 0) + offset;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

test('a real node: registered Ready with the machine\'s facts, Lease renewed, pod network from podCIDR, sink, kubelet restart, nothing left after stop', { skip: skip || false, timeout: 300_000 }, async (t) => {
  cluster = await startCluster({ realNode: true });
  const c = cluster;
  const { config } = c;
  const name = nodeName(config);
  t.diagnostic(`cluster CIDR ${config.clusterCIDR}, service CIDR ${config.serviceCIDR}, bridge ${config.cniBridge}, sink ${config.sinkDevice}`);

  const node = await waitFor('the Node to be Ready', async () => {
    const n = await getJSON<Node>(c, `/api/v1/nodes/${name}`);
    return n.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True' && n;
  });
  const s = node.status!;
  assert.deepEqual(
    s.conditions?.map((x) => `${x.type}=${x.status}/${x.reason}`),
    ['MemoryPressure=False/KubeletHasSufficientMemory', 'DiskPressure=False/KubeletHasNoDiskPressure', 'PIDPressure=False/KubeletHasSufficientPID', 'Ready=True/KubeletReady'],
  );
  assert.equal(s.capacity?.cpu, String(cpus().length));
  assert.equal(s.capacity?.memory, `${memTotalKi(readFileSync('/proc/meminfo', 'utf8'))}Ki`);
  assert.equal(s.capacity?.pods, '110');
  assert.match(String(s.capacity?.['ephemeral-storage']), /^\d+Ki$/);
  assert.ok(s.allocatable?.memory && s.allocatable.memory !== s.capacity?.memory, 'allocatable memory leaves the eviction threshold out');
  assert.deepEqual(s.addresses?.map((a) => a.type), ['InternalIP', 'Hostname']);
  assert.match(s.nodeInfo?.containerRuntimeVersion ?? '', /^containerd:\/\/\d/);
  assert.equal(s.nodeInfo?.kernelVersion, release());
  assert.match(s.nodeInfo?.kubeletVersion ?? '', /^v1\.32\./);
  assert.ok(s.nodeInfo?.osImage && s.nodeInfo.bootID && s.nodeInfo.operatingSystem === 'linux');
  assert.deepEqual((s as { daemonEndpoints?: unknown }).daemonEndpoints, { kubeletEndpoint: { Port: config.kubeletPort } });
  assert.equal(node.metadata?.labels?.['kubernetes.io/hostname'], name);
  assert.equal(node.metadata?.labels?.['kubernetes.io/os'], 'linux');
  const kubectl = await c.kubectl(['get', 'node', name, '-o', 'wide', '--no-headers']);
  assert.match(kubectl.stdout, new RegExp(`^${name}\\s+Ready\\s+.*v1\\.32\\.\\S+\\s+${s.addresses![0]!.address}\\s.*containerd://`), kubectl.stdout + kubectl.stderr);

  // The kubelet's identity is system:node:<name> in system:nodes; its serving certificate covers the node's addresses.
  const clientCert = new X509Certificate(readFileSync(join(c.home, 'pki', 'kubelet-client.crt')));
  assert.equal(clientCert.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3), `system:node:${name}`);
  assert.ok(clientCert.subject.split('\n').includes('O=system:nodes'), clientCert.subject);
  const servingCert = new X509Certificate(readFileSync(join(c.home, 'pki', 'kubelet-serving.crt')));
  for (const host of ['127.0.0.1', s.addresses![0]!.address]) assert.ok(servingCert.checkIP(host), `serving certificate covers ${host}`);
  assert.ok(servingCert.checkHost(name), `serving certificate covers ${name}`);

  // The kubelet's node events, as `kubectl describe node` lists them.
  await waitFor('the kubelet\'s node events', async () => {
    const events = await getJSON<{ items: { reason?: string; source?: { component?: string; host?: string }; involvedObject?: { kind?: string; name?: string } }[] }>(c, '/api/v1/namespaces/default/events');
    const reasons = events.items.filter((e) => e.involvedObject?.kind === 'Node' && e.involvedObject.name === name && e.source?.component === 'kubelet').map((e) => e.reason);
    return reasons.includes('Starting') && reasons.includes('NodeReady') && reasons.includes('NodeHasSufficientMemory');
  }, 20_000);

  // The conflist follows spec.podCIDR (given by the controller manager's node IPAM).
  const podCIDR = node.spec?.podCIDR ?? '';
  assert.ok(podCIDR.startsWith(config.clusterCIDR.split('.').slice(0, 2).join('.')), `podCIDR ${podCIDR} is in ${config.clusterCIDR}`);
  const paths = containerdPaths(join(c.home, 'containerd'));
  const conflist = JSON.parse(readFileSync(join(paths.cniConfDir, ConflistFileName), 'utf8')) as { name: string; plugins: { type: string; bridge?: string; ipam?: { ranges: { subnet: string }[][] } }[] };
  assert.equal(conflist.name, config.cniNetworkName);
  assert.equal(conflist.plugins[0]!.bridge, config.cniBridge);
  assert.equal(conflist.plugins[0]!.ipam!.ranges[0]![0]!.subnet, podCIDR);

  // The Lease is renewed (every 10 s).
  const lease1 = await getJSON<Lease>(c, `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`);
  assert.equal(lease1.spec?.holderIdentity, name);
  await waitFor('the Lease to be renewed', async () => (await getJSON<Lease>(c, `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`)).spec?.renewTime !== lease1.spec?.renewTime, 30_000);

  // The sink: an address of the cluster CIDR outside the node's /24, and a Service address, go to the sink device.
  const unusedPodAddr = nthAddress(config.clusterCIDR, 16 * 256 - 256 + 77);
  assert.ok(!unusedPodAddr.startsWith(podCIDR.split('.').slice(0, 3).join('.')), 'the probe address is outside the node\'s /24');
  assert.match(routeOf(unusedPodAddr), new RegExp(`dev ${config.sinkDevice}\\b`));
  assert.doesNotMatch(routeOf(unusedPodAddr), / via /);
  assert.match(routeOf(nthAddress(config.serviceCIDR, 10)), new RegExp(`dev ${config.sinkDevice}\\b`));

  // A pod's address is routed to the bridge, past the sink's shorter route, and answers from the host.
  const cri = new CriClient(paths.socket);
  t.after(() => cri.close());
  const uid = `kubelet-node-${Date.now()}`;
  const sandboxConfig: PodSandboxConfig = {
    metadata: { name: 'probe', uid, namespace: 'default', attempt: 0 },
    hostname: 'probe',
    log_directory: join(c.home, 'pod-logs', `default_probe_${uid}`),
    linux: { cgroup_parent: `${config.cgroupRoot}/pod${uid}` },
  };
  const sandboxId = await cri.runPodSandbox(sandboxConfig);
  const sandboxStatus = await cri.podSandboxStatus(sandboxId, true);
  const podIP = sandboxStatus.status.network?.ip ?? '';
  const sandboxInfo = JSON.parse(sandboxStatus.info.info ?? '{}') as { runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } } };
  const netns = sandboxInfo.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path ?? '';
  assert.ok(netns && existsSync(netns), `the sandbox's network namespace ${netns} exists`);
  assert.ok(podIP.startsWith(podCIDR.split('.').slice(0, 3).join('.') + '.'), `pod IP ${podIP} is in ${podCIDR}`);
  assert.match(routeOf(podIP), new RegExp(`dev ${config.cniBridge}\\b`));
  const containerId = await cri.createContainer(
    sandboxId,
    { metadata: { name: 'web', attempt: 0 }, image: { image: 'busybox:1.36' }, command: ['sh', '-c', 'mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www'], log_path: 'web/0.log' },
    sandboxConfig,
  );
  await cri.startContainer(containerId);
  const body = await waitFor('the pod to answer HTTP', () => httpGet(`http://${podIP}:8080/`), 20_000);
  assert.equal(body, 'hello-from-pod\n');

  // SIGKILL the kubelet and start it again: the Node stays Ready, the Lease keeps being renewed, the pod keeps running.
  await c.killHard('kubelet');
  await c.restart('kubelet');
  const lease2 = await getJSON<Lease>(c, `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`);
  await waitFor('the restarted kubelet to renew the Lease', async () => (await getJSON<Lease>(c, `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`)).spec?.renewTime !== lease2.spec?.renewTime, 30_000);
  const again = await getJSON<Node>(c, `/api/v1/nodes/${name}`);
  assert.equal(again.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True');
  assert.equal(await httpGet(`http://${podIP}:8080/`), 'hello-from-pod\n');
  cri.close();

  // Stopping the cluster stops the sandbox through CRI and leaves nothing of the node behind.
  const home = c.home;
  await c.stop();
  cluster = undefined;
  assert.equal(linkExists(config.cniBridge), false, 'the bridge is gone');
  assert.equal(linkExists(config.sinkDevice), false, 'the sink is gone');
  assert.doesNotMatch(routeOf(unusedPodAddr), new RegExp(config.sinkDevice), 'the sink routes are gone');
  const nat = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout;
  assert.ok(!nat.includes(config.cniNetworkName), `no nat rule names ${config.cniNetworkName}`);
  assert.ok(!nat.includes(podIP + '/32'), `no nat rule for the pod IP ${podIP}`);
  assert.deepEqual(cgroupHierarchies().filter((h) => existsSync(join(h, config.cgroupRoot))), [], 'no pod cgroup is left');
  assert.deepEqual(mountsUnder(home), [], 'no mount under the home');
  assert.equal(existsSync(netns), false, `the pod's network namespace ${netns} is gone`);
  const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(home);
    } catch {
      return false;
    }
  });
  assert.deepEqual(procs, [], 'no process of the home is left');
});

test('skiff-kubelet answers --help and stops at a bad flag with exit 2, before touching anything', async () => {
  const kubelet = nodeEntry('kubelet/main.js');
  const help = await run(process.execPath, [kubelet, '--help']);
  assert.equal(help.code, 0);
  for (const flag of ['--node-name', '--node-ip', '--root-dir', '--container-runtime-endpoint', '--cluster-dns', '--cluster-domain', '--max-pods', '--port', '--register-with-taints']) {
    assert.match(help.stdout, new RegExp(`${flag}=`), flag);
  }
  const cases: [string, RegExp][] = [
    ['--cluster-cidr=10.1.0.0/99', /invalid value "10\.1\.0\.0\/99" for --cluster-cidr: want an IPv4 CIDR/],
    ['--node-ip=nope', /for --node-ip: want an IPv4 address/],
    ['--max-pods=0', /for --max-pods: want an integer in \[1, 10000\]/],
    ['--register-with-taints=a:Bad', /effect must be one of NoSchedule, PreferNoSchedule, NoExecute/],
    ['--cni-bridge=a-bridge-name-too-long', /want a network device name of 1 to 15 characters/],
  ];
  for (const [flag, message] of cases) {
    const r = await run(process.execPath, [kubelet, '--kubeconfig=/nonexistent', flag]);
    assert.equal(r.code, 2, flag);
    assert.match(r.stderr, message, flag);
  }
});
