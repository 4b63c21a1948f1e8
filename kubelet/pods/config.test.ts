import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Container, PodSpec } from '../../lib/api/core/types.js';
import { admitPod } from './admission.js';
import { containerConfig, containerResources, milliCPUToQuota, milliCPUToShares, type NodeConfig, podDNSConfig, sandboxConfig } from './config.js';

const node: NodeConfig = {
  podLogsDir: '/var/log/pods',
  cgroupParent: '/skiff/n1',
  clusterDNS: ['10.96.0.10'],
  clusterDomain: 'cluster.local',
  nodeHostname: 'host1',
  memoryCapacity: 4 * 1024 ** 3,
};

function pod(spec: Partial<PodSpec> = {}, name = 'web'): Pod {
  return {
    metadata: { name, namespace: 'shop', uid: 'u-1', labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36' }], ...spec } as PodSpec,
  } as Pod;
}

describe('sandboxConfig', () => {
  test('hostname, DNS, log directory, cgroup parent, labels, port mappings', () => {
    const p = pod({ containers: [{ name: 'app', image: 'busybox', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 9090 }] }] });
    const c = sandboxConfig(p, 2, node);
    assert.deepEqual(c.metadata, { name: 'web', uid: 'u-1', namespace: 'shop', attempt: 2 });
    assert.equal(c.hostname, 'web');
    assert.equal(c.log_directory, '/var/log/pods/shop_web_u-1');
    assert.equal(c.linux?.cgroup_parent, '/skiff/n1/podu-1');
    assert.deepEqual(c.dns_config, { servers: ['10.96.0.10'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] });
    assert.deepEqual(c.port_mappings, [{ protocol: 'TCP', container_port: 80, host_port: 8080 }]);
    assert.deepEqual(c.labels, { app: 'web', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'u-1', 'io.kubernetes.managed': 'true' });
    assert.deepEqual(c.linux?.security_context?.namespace_options, { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
  });

  test('hostNetwork: the node\'s namespace and hostname, the node\'s resolv.conf', () => {
    const c = sandboxConfig(pod({ hostNetwork: true }), 0, node);
    assert.equal(c.linux?.security_context?.namespace_options?.network, 'NODE');
    assert.equal(c.hostname, 'host1');
    assert.equal(c.dns_config, undefined);
  });
});

describe('podDNSConfig', () => {
  test('Default: the node\'s resolv.conf', () => assert.equal(podDNSConfig(pod({ dnsPolicy: 'Default' }), node), undefined));
  test('None: only dnsConfig', () => {
    assert.deepEqual(podDNSConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: ['a.b'], options: [{ name: 'ndots', value: '2' }] } }), node), {
      servers: ['1.2.3.4'],
      searches: ['a.b'],
      options: ['ndots:2'],
    });
  });
  test('ClusterFirst plus dnsConfig: added, options overridden by name', () => {
    assert.deepEqual(podDNSConfig(pod({ dnsConfig: { searches: ['x.y'], options: [{ name: 'ndots', value: '1' }, { name: 'edns0' }] } }), node), {
      servers: ['10.96.0.10'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'x.y'],
      options: ['ndots:1', 'edns0'],
    });
  });
  test('ClusterFirstWithHostNet on a hostNetwork pod uses the cluster DNS', () => {
    assert.deepEqual(podDNSConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), node)?.servers, ['10.96.0.10']);
  });
});

describe('container resources as the kubelet computes them', () => {
  test('cpu shares and quota arithmetic', () => {
    assert.equal(milliCPUToShares(0), 2);
    assert.equal(milliCPUToShares(1), 2);
    assert.equal(milliCPUToShares(250), 256);
    assert.equal(milliCPUToShares(1000), 1024);
    assert.equal(milliCPUToQuota(0), 0);
    assert.equal(milliCPUToQuota(5), 1000);
    assert.equal(milliCPUToQuota(500), 50_000);
  });
  test('requests and limits: shares from the request, quota and memory from the limits', () => {
    const c: Container = { name: 'app', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } } };
    const p = pod({ containers: [c] });
    const r = containerResources(p, c, node.memoryCapacity);
    assert.deepEqual(r, { cpu_shares: 256, cpu_quota: 100_000, cpu_period: 100_000, memory_limit_in_bytes: 128 * 1024 * 1024, oom_score_adj: 985 });
  });
  test('a limit without a request: the request is the limit for cpu shares', () => {
    const c: Container = { name: 'app', resources: { limits: { cpu: '500m', memory: '16Mi' } } };
    const r = containerResources(pod({ containers: [c] }), c, node.memoryCapacity);
    assert.equal(r.cpu_shares, 512);
    assert.equal(r.cpu_quota, 50_000);
  });
  test('OOM score: Guaranteed -997, Burstable by its memory request', () => {
    const g: Container = { name: 'app', resources: { requests: { cpu: '500m', memory: '16Mi' }, limits: { cpu: '500m', memory: '16Mi' } } };
    assert.equal(containerResources(pod({ containers: [g] }), g, node.memoryCapacity).oom_score_adj, -997);
    const b: Container = { name: 'app', resources: { requests: { memory: '2Gi' } } };
    assert.equal(containerResources(pod({ containers: [b] }), b, node.memoryCapacity).oom_score_adj, 500);
  });
  test('nothing asked: minimal shares, no quota, no memory limit, BestEffort 1000', () => {
    const c: Container = { name: 'app' };
    assert.deepEqual(containerResources(pod(), c, node.memoryCapacity), { cpu_shares: 2, cpu_quota: 0, cpu_period: 100_000, oom_score_adj: 1000 });
  });
});

describe('containerConfig', () => {
  test('labels, annotations, log path, security context', () => {
    const c: Container = {
      name: 'app',
      image: 'busybox:1.36',
      workingDir: '/tmp',
      securityContext: { runAsUser: 1000, readOnlyRootFilesystem: true, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } },
      lifecycle: { preStop: { exec: { command: ['sleep', '1'] } } },
    };
    const p = pod({ containers: [c], securityContext: { runAsGroup: 3000 }, terminationGracePeriodSeconds: 7 });
    const cfg = containerConfig(p, c, { imageRef: 'sha256:abc', restartCount: 3, init: false, env: [{ key: 'A', value: '1' }], command: ['sh'], args: ['-c', 'true'], mounts: [], terminationMessageHostPath: '/k/pods/u-1/containers/app/ab12', memoryCapacity: node.memoryCapacity });
    assert.deepEqual(cfg.metadata, { name: 'app', attempt: 3 });
    assert.deepEqual(cfg.image, { image: 'sha256:abc', user_specified_image: 'busybox:1.36' });
    assert.equal(cfg.log_path, 'app/3.log');
    assert.equal(cfg.working_dir, '/tmp');
    assert.deepEqual(cfg.labels, { 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'u-1', 'io.kubernetes.container.name': 'app' });
    assert.equal(cfg.annotations!['io.kubernetes.container.restartCount'], '3');
    assert.equal(cfg.annotations!['io.kubernetes.container.terminationMessagePath'], '/dev/termination-log');
    assert.equal(cfg.annotations!['io.kubernetes.pod.terminationGracePeriod'], '7');
    assert.equal(cfg.annotations!['io.kubernetes.container.preStopHandler'], JSON.stringify(c.lifecycle!.preStop));
    assert.deepEqual(cfg.mounts, [{ container_path: '/dev/termination-log', host_path: '/k/pods/u-1/containers/app/ab12' }]);
    const sc = cfg.linux!.security_context!;
    assert.deepEqual(sc.run_as_user, { value: 1000 });
    assert.deepEqual(sc.run_as_group, { value: 3000 });
    assert.equal(sc.readonly_rootfs, true);
    assert.deepEqual(sc.capabilities, { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['ALL'] });
    assert.ok(sc.masked_paths!.includes('/proc/kcore'));
  });
  test('an init container is marked so adoption can tell it apart', () => {
    const c: Container = { name: 'setup', image: 'busybox' };
    const cfg = containerConfig(pod({ initContainers: [c] }), c, { imageRef: 'x', restartCount: 0, init: true, env: [], command: [], args: [], mounts: [], memoryCapacity: 0 });
    assert.equal(cfg.labels!['skiff.dev/init-container'], 'true');
  });
});

describe('admitPod', () => {
  const alloc = { cpu: '2', memory: '4Gi', pods: '3' };
  const withRequests = (name: string, cpu: string, memory = '0') => pod({ containers: [{ name: 'app', resources: { requests: { cpu, memory } } }] }, name);
  test('a pod that fits is admitted', () => assert.equal(admitPod(withRequests('a', '1'), [withRequests('b', '500m')], alloc), undefined));
  test('cpu: OutOfcpu in millicores', () => {
    assert.deepEqual(admitPod(withRequests('a', '1600m'), [withRequests('b', '500m')], alloc), {
      reason: 'OutOfcpu',
      message: "Node didn't have enough resource: cpu, requested: 1600, used: 500, capacity: 2000",
    });
  });
  test('memory: OutOfmemory in bytes', () => {
    assert.deepEqual(admitPod(withRequests('a', '0', '5Gi'), [], alloc), {
      reason: 'OutOfmemory',
      message: `Node didn't have enough resource: memory, requested: ${5 * 1024 ** 3}, used: 0, capacity: ${4 * 1024 ** 3}`,
    });
  });
  test('pods: OutOfpods first', () => {
    assert.deepEqual(admitPod(withRequests('a', '100'), [pod({}, 'x'), pod({}, 'y'), pod({}, 'z')], alloc), {
      reason: 'OutOfpods',
      message: "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3",
    });
  });
});
