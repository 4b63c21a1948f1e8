#!/usr/bin/env node
// skiff-proxy: the Service proxy of one node, as kube-proxy in iptables mode (the default) or
// nftables mode (--proxy-mode=nftables). It watches Services, EndpointSlices and Nodes and
// programs the iptables or nftables of the network namespace it runs in; `--cleanup` removes
// everything it ever wrote, in both modes, and exits.

import { spawnSync } from 'node:child_process';
import { hostname, networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';
import type { Node } from '../lib/api/core/node.js';
import type { Service } from '../lib/api/core/service.js';
import { type EndpointSlice, LabelServiceName } from '../lib/api/discovery/endpointslice.js';
import { EventRecorder } from '../lib/client/events.js';
import { EndpointSlices, Nodes, Services } from '../lib/client/resources.js';
import { InformerFactory } from '../lib/controller/factory.js';
import type { FlagSpec } from '../lib/flags.js';
import { newLogger } from '../lib/log.js';
import { parseDuration } from '../lib/machinery/duration.js';
import { runComponent } from '../lib/process/component.js';
import { Conntrack } from './conntrack.js';
import { ProxierHealth, ServiceHealthServer, healthCheckPorts, localReadyEndpoints } from './healthcheck.js';
import { Iptables, backend, detectBackend, enableRouteLocalnet } from './iptables.js';
import { Nftables } from './nftables-run.js';
import { Proxier, type RuleApplier, capJitTiers, iptablesEngine, nftablesEngine } from './proxier.js';
import { type NodeState, serviceKey } from './rules.js';
import { loadBalancerIngressPatch } from './status.js';

const summary = `skiff-proxy programs this node's iptables or nftables so that Services carry traffic, as kube-proxy does.

It watches Services, EndpointSlices and Nodes. In iptables mode (the default) it writes KUBE-SERVICES, KUBE-NODEPORTS,
KUBE-SVC-*, KUBE-SEP-*, KUBE-EXT-* … with one iptables-restore --noflush per sync, leaving every other chain alone; in
nftables mode it writes the table "ip kube-proxy" with one nft -f transaction per sync. LoadBalancer Services get the
nodes' addresses as status.loadBalancer.ingress. --cleanup removes every chain and jump it writes, then exits.`;

const proxyFlags: FlagSpec[] = [
  { name: 'hostname-override', description: 'The name of this node (default: the host name).' },
  { name: 'cluster-cidr', description: 'The pod network: traffic from outside it to a ClusterIP is masqueraded.', default: '10.244.0.0/16' },
  { name: 'service-cluster-ip-range', description: "The Service network (the apiserver's --service-cluster-ip-range): in nftables mode, new connections to its unallocated addresses are dropped. kube-proxy learns it from ServiceCIDR objects, which skiff does not serve.", default: '' },
  { name: 'min-sync-period', description: 'Minimum time between syncs: changes in a burst are coalesced into one.', default: '1s' },
  { name: 'sync-period', description: 'Maximum time between full syncs.', default: '30s' },
  { name: 'nodeport-addresses', description: 'Comma-separated CIDRs NodePorts answer on (default: every local address, 127.0.0.1 included).', default: '' },
  { name: 'masquerade-bit', description: 'The fwmark bit (0-31) that marks packets to be masqueraded.', default: '14' },
  { name: 'proxy-mode', description: 'iptables or nftables (the table "ip kube-proxy"; no NodePorts on 127.0.0.1, as in kube-proxy).', default: 'iptables' },
  { name: 'iptables-backend', description: 'auto (the flavour the system uses, as kube-proxy detects it), nft or legacy.', default: 'auto' },
  { name: 'healthz-bind-address', description: "Serve kube-proxy's plain-HTTP /healthz and /livez on IP:port (kube-proxy's default is 0.0.0.0:10256; here --secure-port serves health and metrics over HTTPS, so this is off unless set).", default: '' },
  { name: 'cleanup', description: 'Remove every rule and chain the proxy wrote, then exit.', boolean: true },
];

/** localAddressesIn are this machine's IPv4 addresses inside any of cidrs (where health check ports listen under --nodeport-addresses). */
function localAddressesIn(cidrs: readonly string[]): string[] {
  const ranges = cidrs.map((c) => ipaddr.parseCIDR(c));
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4') continue;
      const ip = ipaddr.parse(a.address);
      if (ranges.some((r) => r[0].kind() === 'ipv4' && ip.match(r))) out.push(a.address);
    }
  }
  return out;
}

async function chooseBackend(flag: string) {
  if (flag === 'nft' || flag === 'legacy') return backend(flag);
  if (flag !== 'auto') throw new Error(`--iptables-backend must be auto, nft or legacy, not ${JSON.stringify(flag)}`);
  return detectBackend();
}

capJitTiers();
const argv = process.argv.slice(2);
if (argv.includes('--cleanup') || argv.includes('--cleanup=true')) {
  // As kube-proxy --cleanup: no apiserver needed; both flavours are cleaned unless one is named.
  const log = newLogger('proxy');
  const named = argv.find((a) => a.startsWith('--iptables-backend='))?.split('=')[1];
  const flavours = named && named !== 'auto' ? [backend(named as 'nft' | 'legacy')] : [backend('nft'), backend('legacy')];
  let failed = false;
  try {
    const removed = await new Nftables().cleanup();
    log.info('Cleaned up proxy rules', { backend: 'nftables', table: removed });
  } catch (err) {
    failed = true;
    log.error('Cleanup failed', { backend: 'nftables', err: (err as Error).message });
  }
  for (const b of flavours) {
    try {
      const removed = await new Iptables(b).cleanup();
      log.info('Cleaned up proxy rules', { backend: b.name, chains: removed });
    } catch (err) {
      failed = true;
      log.error('Cleanup failed', { backend: b.name, err: (err as Error).message });
    }
  }
  process.exit(failed ? 1 : 0);
}

runComponent({
  name: 'skiff-proxy',
  summary,
  defaultPort: 10256,
  userAgent: 'skiff-proxy',
  flags: proxyFlags,
  run: async ({ flags, log, metrics, kubeConfig, client, signal, addReadyCheck }) => {
    const nodeName = flags['hostname-override'] || hostname();
    const bit = Number(flags['masquerade-bit']);
    if (!Number.isInteger(bit) || bit < 0 || bit > 31) throw new Error(`--masquerade-bit must be 0-31, not ${flags['masquerade-bit']}`);
    const minSyncPeriodMs = parseDuration(flags['min-sync-period']!);
    const syncPeriodMs = parseDuration(flags['sync-period']!);
    const nodePortAddresses = (flags['nodeport-addresses'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const serviceCIDRs = (flags['service-cluster-ip-range'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    for (const c of serviceCIDRs) if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c)) throw new Error(`--service-cluster-ip-range: ${JSON.stringify(c)} is not an IPv4 CIDR`);
    const mode = flags['proxy-mode'];
    if (mode !== 'iptables' && mode !== 'nftables') throw new Error(`--proxy-mode must be iptables or nftables, not ${JSON.stringify(mode)}`);
    let applier: RuleApplier;
    let engine;
    if (mode === 'nftables') {
      const nft = new Nftables();
      log.info('Using nftables proxy mode', { node: nodeName });
      applier = { restore: (text) => nft.apply(text), ensureJumps: async () => undefined, begin: () => nft.begin() };
      // Take over what an earlier proxy left: its chains stay until this one's first sync replaces them.
      engine = nftablesEngine(await nft.existing());
      // The other mode's rules would catch Service traffic first: a proxy switched to nftables removes them (as kube-proxy does).
      for (const f of [backend('nft'), backend('legacy')]) await new Iptables(f).cleanup().catch(() => 0);
    } else {
      const b = await chooseBackend(flags['iptables-backend']!);
      const iptables = new Iptables(b);
      log.info('Using iptables backend', { backend: b.name, node: nodeName });
      let localnetSet = false;
      const localnet = () => {
        if (localnetSet || !(nodePortAddresses.length === 0 || nodePortAddresses.some((c) => c.startsWith('127.')))) return;
        localnetSet = true;
        try {
          enableRouteLocalnet();
        } catch (err) {
          log.error('Could not set route_localnet: NodePorts on 127.0.0.1 will not answer', { err: (err as Error).message });
        }
      };
      applier = {
        restore: (text: string) => iptables.restore(text),
        ensureJumps: async () => {
          await iptables.ensureJumps();
          localnet();
        },
        begin: (withJumps) => {
          if (withJumps) localnet();
          return iptables.begin(withJumps);
        },
      };
      // Take over what an earlier proxy left: its chains stay until this one's first sync replaces them.
      const existing = await iptables.ownChains();
      engine = iptablesEngine(new Set(existing.nat));
      await new Nftables().cleanup().catch(() => false);
    }

    const factory = new InformerFactory(kubeConfig, client, log);
    const services = factory.informerFor<Service>(Services);
    const slices = factory.informerFor<EndpointSlice>(EndpointSlices);
    const nodes = factory.informerFor<Node>(Nodes);
    const recorder = new EventRecorder(client, { component: 'kube-proxy', host: nodeName, log });

    // No rules until this node's Node exists (the kubelet registers it): a proxy started beside
    // simulated nodes, or before its kubelet, touches nothing.
    const nodeState = (): NodeState | undefined => {
      const node = nodes.lister().list().find((n) => n.metadata?.name === nodeName);
      if (!node) return undefined;
      const ips = (node?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => a.address).filter((a) => a.includes('.'));
      return { nodeName, nodeIPs: ips, clusterCIDR: flags['cluster-cidr'] || undefined, masqueradeMark: 1 << bit >>> 0, nodePortAddresses, serviceCIDRs };
    };
    // kube-proxy's health: a change waiting longer than two sync periods makes the proxy unhealthy.
    const health = new ProxierHealth(2 * syncPeriodMs);
    const serviceHealth = new ServiceHealthServer({
      addresses: nodePortAddresses.length ? localAddressesIn(nodePortAddresses) : undefined,
      health,
      log,
      onListenError: (key, port, err) => {
        const svc = services.lister().list().find((x) => serviceKey(x) === key);
        if (svc) recorder.event(svc, 'Warning', 'FailedToStartServiceHealthcheck', `node ${nodeName} failed to start healthcheck "${key}" on port ${port}: ${err.message}`);
      },
    });
    let healthz: Awaited<ReturnType<ProxierHealth['serve']>> | undefined;
    if (flags['healthz-bind-address']) {
      const hp = flags['healthz-bind-address'];
      const colon = hp.lastIndexOf(':');
      const port = Number(hp.slice(colon + 1));
      if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--healthz-bind-address must be IP:port, not ${JSON.stringify(hp)}`);
      healthz = await health.serve(hp.slice(0, colon) || '0.0.0.0', port);
    }
    // Stale UDP flows are cleaned after each sync, when the conntrack tool is there.
    const hasConntrack = spawnSync('conntrack', ['--version'], { stdio: 'ignore' }).status === 0;
    if (!hasConntrack) log.warn('conntrack not found: stale UDP flows to removed endpoints are not cleaned up');
    const conntrack = new Conntrack(log);
    const proxier = new Proxier({
      applier,
      services: () => services.lister().list(),
      slices: () => slices.lister().list(),
      node: nodeState,
      minSyncPeriodMs,
      syncPeriodMs,
      log,
      metrics,
      engine,
      onSkipped: (s) => {
        const svc = services.lister().list().find((x) => serviceKey(x) === `${s.namespace}/${s.name}`);
        if (svc) recorder.event(svc, 'Warning', s.reason, s.message);
      },
      onQueued: () => health.queuedUpdate(),
      onSynced: async (state) => {
        health.updated();
        await serviceHealth.syncServices(healthCheckPorts(state.services));
        serviceHealth.syncEndpoints(localReadyEndpoints(state.slices, state.node.nodeName));
        if (hasConntrack) await conntrack.cleanStaleEntries(state.services, state.slices);
      },
    });

    // LoadBalancer ingress: every proxy computes the same list (all nodes' addresses), so they agree.
    const allNodeIPs = () =>
      nodes.lister().list().flatMap((n) => (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' && a.address.includes('.')).map((a) => a.address)).sort();
    const updateIngress = (svc: Service) => {
      const patch = loadBalancerIngressPatch(svc, allNodeIPs());
      if (!patch) return;
      client.patch(Services, svc.metadata!.namespace!, svc.metadata!.name!, 'merge', patch, { subresource: 'status' }).catch((err: Error) => {
        log.error('Failed to update load balancer status', { service: serviceKey(svc), err: err.message });
      });
    };

    services.addEventHandler({
      onAdd: (s) => (proxier.onServiceChange(s), updateIngress(s)),
      onUpdate: (_o, s) => (proxier.onServiceChange(s), updateIngress(s)),
      onDelete: (s) => proxier.onServiceChange(s),
    });
    slices.addEventHandler({
      onAdd: (s) => proxier.onSliceChange(s),
      onUpdate: (o, s) => {
        // A slice moved to another Service (relabelled) changes the old one too; only the new
        // version's trigger time counts.
        if (o.metadata?.labels?.[LabelServiceName] !== s.metadata?.labels?.[LabelServiceName]) proxier.onSliceChange({ ...o, metadata: { ...o.metadata, annotations: {} } } as EndpointSlice);
        proxier.onSliceChange(s);
      },
      onDelete: (s) => proxier.onSliceChange(s),
    });
    const nodeChanged = () => {
      health.syncNode(nodes.lister().list().find((n) => n.metadata?.name === nodeName));
      proxier.onNodeChange();
      for (const s of services.lister().list()) updateIngress(s);
    };
    nodes.addEventHandler({ onAdd: nodeChanged, onUpdate: nodeChanged, onDelete: nodeChanged });

    addReadyCheck('proxy-synced', () => (proxier.syncs > 0 ? undefined : 'the first sync has not finished'));
    services.start();
    slices.start();
    nodes.start();
    const synced = await Promise.all([services.waitForSync(signal), slices.waitForSync(signal), nodes.waitForSync(signal)]);
    if (synced.every(Boolean)) proxier.start();
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    // Rules stay: killing or stopping the proxy must not interrupt traffic.
    await proxier.stop();
    await serviceHealth.close();
    if (healthz) await new Promise((r) => healthz!.close(r));
    await factory.stop();
  },
});
