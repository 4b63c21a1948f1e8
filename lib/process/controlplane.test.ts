import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig, contextFor } from './cluster.js';
import { apiserverMember, clusterComponents, controlPlaneComponents, etcdMember, etcdMemberArgs, etcdMemberEndpoints, loadBalancer, memberPorts } from './controlplane.js';

describe('control plane members', () => {
  const config = { ...defaultConfig('/h'), realNode: false, controlPlaneMembers: 3 };

  it('run every etcd, then every apiserver, the balancer, then the controller managers and schedulers', () => {
    assert.deepEqual(clusterComponents(config).map((c) => c.name), [
      'etcd-1', 'etcd-2', 'etcd-3', 'apiserver-1', 'apiserver-2', 'apiserver-3', 'apiserver-lb',
      'controller-manager-1', 'controller-manager-2', 'controller-manager-3', 'scheduler-1', 'scheduler-2', 'scheduler-3', 'sim', 'dns',
    ]);
    assert.deepEqual(clusterComponents({ ...config, controlPlaneMembers: 1 }).map((c) => c.name), ['etcd', 'apiserver', 'controller-manager', 'scheduler', 'sim', 'dns']);
  });

  it('get ports of their own that do not collide', () => {
    assert.deepEqual(memberPorts(config, 2), { etcdClientPort: 2389, etcdPeerPort: 2390, etcdMetricsPort: 2391, apiserverPort: 6445, controllerManagerPort: 10357, schedulerPort: 10359 });
    const all = [1, 2, 3].flatMap((n) => Object.values(memberPorts(config, n)));
    assert.equal(new Set([...all, config.apiserverPort]).size, all.length + 1);
    assert.deepEqual(etcdMemberEndpoints(config), ['https://127.0.0.1:2379', 'https://127.0.0.1:2389', 'https://127.0.0.1:2399']);
  });

  it('form one static etcd cluster over peer TLS, reachable at the advertise address', () => {
    const args = etcdMemberArgs(contextFor({ ...config, advertiseAddress: '192.0.2.2' }), 2);
    const flag = (name: string) => {
      const given = args.filter((a) => a === name || a.startsWith(`${name}=`));
      assert.equal(given.length, 1, `${name} given once: ${args.join(' ')}`);
      return given[0]!.includes('=') ? given[0]!.slice(name.length + 1) : args[args.indexOf(name) + 1];
    };
    assert.equal(flag('--name'), 'etcd-2');
    assert.equal(flag('--data-dir'), '/h/etcd-2');
    assert.equal(flag('--initial-cluster'), 'etcd-1=https://192.0.2.2:2380,etcd-2=https://192.0.2.2:2390,etcd-3=https://192.0.2.2:2400');
    // Loopback stays: a member whose data dir recorded loopback peer URLs is still reached there.
    assert.equal(flag('--listen-peer-urls'), 'https://127.0.0.1:2390,https://192.0.2.2:2390');
    assert.equal(flag('--initial-advertise-peer-urls'), 'https://192.0.2.2:2390');
    assert.equal(flag('--advertise-client-urls'), 'https://192.0.2.2:2389', 'members of other machines call MemberAdd here');
    assert.equal(flag('--peer-trusted-ca-file'), '/h/pki/etcd-peer/ca.crt');
    assert.equal(flag('--peer-client-cert-auth'), 'true');
    assert.equal(flag('--listen-client-urls'), 'https://127.0.0.1:2389,https://192.0.2.2:2389', "the single etcd's client settings, on the member's port");
    assert.ok(args.includes('--client-cert-auth'), "client certificates of etcd's CA only, on every listener");
  });

  it('in a lab, run members 2 and 3 in their namespaces on the namespaces\' addresses with the standard ports', () => {
    const lab = {
      ...config,
      advertiseAddress: '192.0.2.2',
      bindAddress: '0.0.0.0',
      controlPlaneNetns: [2, 3].map((n) => ({ member: n, netns: `skiff-lab-cp-${n}`, ip: `172.31.1.${n}`, gateway: '172.31.1.1' })),
    };
    const ctx = contextFor(lab);
    assert.deepEqual(memberPorts(lab, 1), memberPorts(config, 1), 'member 1 stays on this machine');
    assert.equal(memberPorts(lab, 3).etcdClientPort, 2379);
    const args = etcdMemberArgs(ctx, 2);
    const flag = (name: string) => args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
    assert.equal(flag('--initial-cluster'), 'etcd-1=https://192.0.2.2:2380,etcd-2=https://172.31.1.2:2380,etcd-3=https://172.31.1.3:2380');
    assert.equal(flag('--listen-peer-urls'), 'https://172.31.1.2:2380');
    assert.equal(flag('--listen-client-urls'), 'https://172.31.1.2:2379');
    assert.equal(flag('--listen-metrics-urls'), 'http://172.31.1.2:2381');
    assert.equal(flag('--peer-cert-file'), '/h/pki/etcd-peer/peer-2.crt');
    assert.equal(flag('--cert-file'), '/h/pki/etcd/server-2.crt');
    assert.equal(args.filter((a) => a.startsWith('--cert-file') || a === '--cert-file').length, 1);
    // From a namespace, member 1's etcd is at the advertise address; from this machine at loopback.
    assert.deepEqual(etcdMemberEndpoints(lab, 2), ['https://192.0.2.2:2379', 'https://172.31.1.2:2379', 'https://172.31.1.3:2379']);
    assert.deepEqual(etcdMemberEndpoints(lab, 1), ['https://127.0.0.1:2379', 'https://172.31.1.2:2379', 'https://172.31.1.3:2379']);
    const etcd2 = etcdMember(2).command(ctx);
    assert.equal(etcd2.command, 'nsenter');
    assert.equal(etcd2.args[0], '--net=/run/netns/skiff-lab-cp-2');
    assert.equal(etcdMember(1).command(ctx).command, process.env.SKIFF_ETCD_BIN ?? 'etcd');
    assert.equal(etcdMember(3).health(ctx).url, 'http://172.31.1.3:2381/metrics');
    const api3 = apiserverMember(3).command(ctx).args;
    assert.ok(api3.includes('--bind-address=172.31.1.3') && api3.includes('--secure-port=6443'), api3.join(' '));
    assert.ok(api3.includes('--tls-cert-file=/h/pki/apiserver-3.crt'));
    const cm2 = controlPlaneComponents(lab).find((c) => c.name === 'controller-manager-2')!;
    const cmArgs = cm2.command(ctx).args;
    assert.ok(cmArgs.includes('--kubeconfig=/h/pki/controller-manager-2.kubeconfig') && cmArgs.includes('--bind-address=172.31.1.2'), cmArgs.join(' '));
    const lb = loadBalancer.command(ctx).args;
    assert.deepEqual(lb.filter((a) => a.startsWith('--backend=')), ['--backend=127.0.0.1:6444', '--backend=172.31.1.2:6443', '--backend=172.31.1.3:6443']);
  });
});
