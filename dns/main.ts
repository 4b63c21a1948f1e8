#!/usr/bin/env node
// skiff-dns: the cluster's DNS (the role CoreDNS plays in a kubeadm cluster). It watches
// Services and EndpointSlices, answers the Kubernetes DNS schema for --cluster-domain over UDP
// and TCP on --dns-bind-address:--dns-port, forwards every other name to --upstream (default:
// the nameservers of /etc/resolv.conf), and keeps the kube-system/kube-dns Service
// (--cluster-dns-ip) and its endpoints pointing at itself.

import type { Service } from '../lib/api/core/service.js';
import type { EndpointSlice } from '../lib/api/discovery/endpointslice.js';
import { InformerFactory } from '../lib/controller/factory.js';
import { EndpointSlices, Services } from '../lib/client/resources.js';
import { Gauge } from '../lib/metrics.js';
import { hostAddresses } from '../lib/pki.js';
import { runComponent } from '../lib/process/component.js';
import { Forwarder, hostUpstreams, parseUpstreams } from './forward.js';
import { ClusterIndex } from './records.js';
import { defaultResolveConfig } from './resolve.js';
import { desiredKubeDNS, ensureKubeDNS } from './selfservice.js';
import { DnsServer } from './server.js';

const summary = `skiff-dns serves the Kubernetes DNS schema (specification 1.1.0) for the cluster's Services.

<svc>.<ns>.svc.<domain> (A/AAAA, CNAME for ExternalName), <hostname>.<svc>.<ns>.svc.<domain> for headless
endpoints, _<port>._<proto>.<svc>.<ns>.svc.<domain> SRV, <a-b-c-d>.<ns>.pod.<domain> ("pods insecure"), PTR for
ClusterIPs and headless endpoints; NXDOMAIN or NODATA with the SOA for the rest of the domain; every other name is
forwarded to --upstream. It keeps kube-system/kube-dns (ClusterIP --cluster-dns-ip, ports 53/UDP and 53/TCP) and
its endpoints pointing at --advertise-address:--dns-port.`;

runComponent({
  name: 'skiff-dns',
  summary,
  defaultPort: 10270,
  userAgent: 'skiff-dns',
  flags: [
    { name: 'dns-bind-address', description: 'Address to answer DNS on (UDP and TCP).', default: '127.0.0.1' },
    { name: 'dns-port', description: 'Port to answer DNS on (UDP and TCP).', default: '53' },
    { name: 'advertise-address', description: 'Address the kube-dns endpoints name (default: --dns-bind-address, or the first host address when that is 0.0.0.0).' },
    { name: 'cluster-domain', description: 'The cluster\'s DNS domain.', default: 'cluster.local' },
    { name: 'cluster-dns-ip', description: 'ClusterIP of the kube-dns Service (the service CIDR\'s base + 10).', default: '10.96.0.10' },
    { name: 'upstream', description: 'Resolvers for names outside the cluster, comma-separated IP[:port] (default: the nameservers of /etc/resolv.conf).' },
    { name: 'max-concurrent-forwards', description: 'Forwarded queries that may wait at once; more are answered REFUSED.', default: '1000' },
    { name: 'publish-service', description: 'Keep the kube-dns Service and its endpoints pointing at this server.', default: 'true' },
  ],
  run: async ({ flags, log, metrics, kubeConfig, client, signal, addReadyCheck }) => {
    let upstreams;
    try {
      upstreams = flags.upstream ? parseUpstreams(flags.upstream) : hostUpstreams();
    } catch (err) {
      log.error('Invalid flag', { flag: 'upstream', err: (err as Error).message });
      process.exit(2);
    }
    if (upstreams.length === 0) log.info('No upstream resolvers: names outside the cluster will get SERVFAIL');
    const port = Number(flags['dns-port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      log.error('Invalid flag', { flag: 'dns-port', value: flags['dns-port'] });
      process.exit(2);
    }
    const bind = flags['dns-bind-address']!;
    const advertise = flags['advertise-address'] || (bind === '0.0.0.0' ? hostAddresses()[0] ?? '127.0.0.1' : bind);
    const index = new ClusterIndex(defaultResolveConfig(flags['cluster-domain']!, flags['cluster-dns-ip']!).zone);
    const config = { ...defaultResolveConfig(flags['cluster-domain']!, flags['cluster-dns-ip']!), serial: Math.floor(Date.now() / 1000) };
    const forwarder = new Forwarder({ upstreams, maxInFlight: Number(flags['max-concurrent-forwards']) });

    const informers = new InformerFactory(kubeConfig, client, log);
    const services = informers.informerFor<Service>(Services);
    const slices = informers.informerFor<EndpointSlice>(EndpointSlices);
    services.addEventHandler({ onAdd: (s) => index.upsertService(s), onUpdate: (_o, s) => index.upsertService(s), onDelete: (s) => index.deleteService(s) });
    slices.addEventHandler({ onAdd: (s) => index.upsertSlice(s), onUpdate: (_o, s) => index.upsertSlice(s), onDelete: (s) => index.deleteSlice(s) });
    new Gauge({ name: 'skiff_dns_services', help: 'Services the DNS server knows.', registers: [metrics], collect() { this.set(index.serviceCount); } });
    services.start();
    slices.start();
    addReadyCheck('informers-synced', () => (services.hasSynced() && slices.hasSynced() ? undefined : 'informers not synced'));

    // Answer only from a synced cache: an empty one would say NXDOMAIN for names that exist.
    if (!(await services.waitForSync(signal)) || !(await slices.waitForSync(signal))) return;
    const server = new DnsServer({ address: bind, port, view: index, config, forwarder, log, metrics });
    const bound = await server.start();
    log.info('Serving DNS', { address: bind, port: bound, domain: config.zone, upstreams: upstreams.map((u) => `${u.host}:${u.port}`), services: index.serviceCount });

    let timer: NodeJS.Timeout | undefined;
    if (flags['publish-service'] !== 'false') {
      const want = desiredKubeDNS({ clusterIP: flags['cluster-dns-ip']!, address: advertise, port: bound });
      // An endpoint may not be a loopback address (the apiserver's rule for the kubernetes
      // Endpoints too): then only the Service is kept, and the proxy has nowhere to send it.
      const endpoints = !/^127\./.test(advertise) && advertise !== '::1';
      if (!endpoints) log.info('Not publishing kube-dns endpoints: the advertise address is loopback', { address: advertise });
      // Level-triggered: check again every 30 s, so a deleted or edited object comes back.
      const publish = () =>
        ensureKubeDNS(client, want, log, { endpoints }).catch((err: unknown) => log.error('Publishing kube-dns failed', { err: String(err) }));
      await publish();
      timer = setInterval(() => void publish(), 30_000);
    }
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    clearInterval(timer);
    await server.close();
    forwarder.close();
    await informers.stop();
  },
});
