// The node simulator as a component. main.ts runs it as the skiff-sim process; the test kit
// (kit/) runs it in a test's process.

import type { Node } from '../lib/api/core/node.js';
import type { Pod } from '../lib/api/core/pod.js';
import { RestClient } from '../lib/client/client.js';
import { Nodes, Pods } from '../lib/client/resources.js';
import { Counter, Gauge } from '../lib/metrics.js';
import type { ComponentSpec } from '../lib/process/component.js';
import { ConfigError, parseSimConfig, simFlags } from './config.js';
import { newTrimmedInformer } from './informer.js';
import { wallClock } from '../lib/clock.js';
import { Simulator } from './simulator.js';
import { isSimulated } from './node.js';
import { SimResourceMetrics } from './usage.js';

const summary = `skiff-sim plays the kubelet, without containers, for every Node annotated skiff.dev/simulated: "true".

It creates --nodes Nodes named <prefix>0 … <prefix>N-1 (labels kubernetes.io/hostname, kubernetes.io/os=linux,
kubernetes.io/arch=amd64, node.kubernetes.io/instance-type=skiff-sim, topology.kubernetes.io/zone=zone-a|b|c…,
plus --node-labels and --node-taints) and adopts Nodes created with that annotation by anyone else, keeping their
labels and taints. Annotations skiff.dev/capacity-cpu, -memory, -pods and -ephemeral-storage set a Node's capacity.
Each Node renews its Lease in kube-node-lease and reports Ready. Pods bound to these Nodes become Running and Ready
after --pod-start-delay, with an address from the Node's spec.podCIDR; readiness probes are not run (pods are Ready
at once). Label a pod skiff.dev/sim=fail (containers exit 1), crashloop (CrashLoopBackOff), unready (never Ready)
or succeed (containers exit 0); restartPolicy decides, as in the kubelet, whether an exited container restarts.
Deleted pods are removed after their grace period (at most --max-termination-grace).`;

/** nodeSimulator is the skiff-sim component: main.ts runs it as a process, the test kit in its own. */
export const nodeSimulator: ComponentSpec = {
  name: 'skiff-sim',
  summary,
  defaultPort: 10260,
  leaseName: 'skiff-node-simulator',
  userAgent: 'skiff-sim',
  flags: simFlags,
  run: async ({ flags, log, metrics, kubeConfig, signal, addReadyCheck, addHandler }) => {
    let config;
    try {
      config = parseSimConfig(flags);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      log.error('Invalid flag', { err: err.message });
      process.exit(2);
    }
    // A client of its own: as many sockets as writes may be in flight.
    const client = new RestClient(kubeConfig, { userAgent: 'skiff-sim', maxSockets: config.maxConcurrentWrites });
    const writes = new Counter({ name: 'skiff_sim_writes_total', help: 'API writes the node simulator made, by kind.', labelNames: ['kind'], registers: [metrics] });
    const nodeInformer = newTrimmedInformer<Node>(kubeConfig, client, Nodes, { log });
    // Only bound pods matter; the apiserver filters the rest out.
    const podInformer = newTrimmedInformer<Pod>(kubeConfig, client, Pods, { fieldSelector: 'spec.nodeName!=', log });
    // The simulated Nodes' /metrics/resource, one endpoint for all of them (see usage.ts).
    const usage = new SimResourceMetrics();
    const metricsURL = addHandler('/metrics/resource', (_req, res) => {
      const byNode = new Map<string, Pod[]>();
      for (const n of nodeInformer.source.list()) if (isSimulated(n)) byNode.set(n.metadata.name ?? '', []);
      for (const p of podInformer.source.list()) if (p.status?.phase === 'Running') byNode.get(p.spec?.nodeName ?? '')?.push(p);
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(usage.render(byNode, Date.now()));
    });
    const sim = new Simulator({
      metricsURL,
      client,
      nodes: nodeInformer.source,
      pods: podInformer.source,
      clock: wallClock,
      config,
      log,
      onWrite: (kind) => writes.inc({ kind }),
    });
    new Gauge({ name: 'skiff_sim_nodes', help: 'Nodes the simulator runs.', registers: [metrics], collect() { this.set(sim.nodeCount); } });
    new Gauge({ name: 'skiff_sim_pods_running', help: 'Pods on simulated Nodes reported Running.', registers: [metrics], collect() { this.set(sim.podsRunning); } });
    new Gauge({ name: 'skiff_sim_write_queue_depth', help: 'Writes waiting for the write budget.', registers: [metrics], collect() { this.set(sim.writer.depth); } });
    new Gauge({
      name: 'skiff_sim_lease_renew_interval_seconds',
      help: 'Lease renewal interval in effect (longer than --lease-renew-interval when the write budget is short).',
      registers: [metrics],
      collect() {
        this.set(sim.leaseRenewIntervalMs / 1000);
      },
    });
    addReadyCheck('nodes-registered', () => sim.notReadyReason());

    nodeInformer.on('add', (n) => sim.onNode(n));
    nodeInformer.on('update', (n) => sim.onNode(n));
    nodeInformer.on('delete', (n) => sim.onNode(n));
    podInformer.on('add', (p) => sim.onPod(p));
    podInformer.on('update', (p) => sim.onPod(p));
    podInformer.on('delete', (p) => sim.onPodDelete(p));
    nodeInformer.start();
    podInformer.start();
    const synced = await Promise.all([nodeInformer.waitForSync(signal), podInformer.waitForSync(signal)]);
    if (synced.every(Boolean)) sim.start();
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    sim.stop();
    await Promise.all([nodeInformer.stop(), podInformer.stop()]);
  },
};
