// The controller manager as a component: every built-in controller, started from --controllers.
// main.ts runs it as the skiff-controller-manager process; the test kit (kit/) runs it in a test's process.

import { Counter, Histogram } from 'prom-client';
import { type Client, RestClient } from '../lib/client/client.js';
import { ServiceAccountClientBuilder } from '../lib/client/serviceaccount.js';
import type { ControllerMetrics } from '../lib/controller/controller.js';
import { InformerFactory } from '../lib/controller/factory.js';
import type { Controller } from '../lib/controller/controller.js';
import type { ComponentSpec } from '../lib/process/component.js';
import { promQueueMetrics } from '../lib/workqueue/metrics.js';
import { parseDuration } from '../lib/machinery/duration.js';
import { type ControllerContext, type ControllerStarter, managedRunController, newRecorderFactory } from './context.js';
import { startBootstrapSignerController, startTokenCleanerController } from './bootstrap/controller.js';
import { startCSRApprovingController, startCSRSigningController } from './certificates/controller.js';
import { startClusterRoleAggregationController } from './clusterroleaggregation/controller.js';
import { startDaemonSetController } from './daemonset/controller.js';
import { startCronJobController } from './cronjob/controller.js';
import { startDeploymentController } from './deployment/controller.js';
import { startDisruptionController } from './disruption/controller.js';
import { startEndpointsController } from './endpoints/controller.js';
import { startEndpointSliceController } from './endpointslice/controller.js';
import { startEndpointSliceMirroringController } from './endpointslicemirroring/controller.js';
import { startGarbageCollector } from './garbagecollector/controller.js';
import { startJobController } from './job/controller.js';
import { startNamespaceController } from './namespace/controller.js';
import { startNodeIpamController } from './nodeipam/controller.js';
import { startNodeLifecycleController } from './nodelifecycle/controller.js';
import { startPodGCController } from './podgc/controller.js';
import { startReplicaSetController } from './replicaset/controller.js';
import { startHPAController } from './podautoscaler/controller.js';
import { startResourceQuotaController } from './resourcequota/controller.js';
import { startReplicationControllerController } from './replicaset/replicationcontroller.js';
import { startRootCACertPublisher } from './rootcacertpublisher/controller.js';
import { startServiceAccountController } from './serviceaccount/controller.js';
import { startStatefulSetController } from './statefulset/controller.js';
import { startTokensController } from './serviceaccounttoken/controller.js';
import { startTTLAfterFinishedController } from './ttlafterfinished/controller.js';
import { startLocalPathProvisioner } from './volume/localpath/controller.js';
import { startPersistentVolumeBinderController } from './volume/persistentvolume/controller.js';
import { startPVCProtectionController } from './volume/pvcprotection/controller.js';
import { startPVProtectionController } from './volume/pvprotection/controller.js';

/** starters are the controllers by the names --controllers takes (kube-controller-manager's). */
const starters: Record<string, ControllerStarter> = {
  csrapproving: startCSRApprovingController,
  csrsigning: startCSRSigningController,
  'clusterrole-aggregation': startClusterRoleAggregationController,
  daemonset: startDaemonSetController,
  deployment: startDeploymentController,
  replicaset: startReplicaSetController,
  statefulset: startStatefulSetController,
  resourcequota: startResourceQuotaController,
  replicationcontroller: startReplicationControllerController,
  disruption: startDisruptionController,
  job: startJobController,
  cronjob: startCronJobController,
  'ttl-after-finished': startTTLAfterFinishedController,
  endpoint: startEndpointsController,
  endpointslice: startEndpointSliceController,
  endpointslicemirroring: startEndpointSliceMirroringController,
  garbagecollector: startGarbageCollector,
  namespace: startNamespaceController,
  nodeipam: startNodeIpamController,
  nodelifecycle: startNodeLifecycleController,
  podgc: startPodGCController,
  serviceaccount: startServiceAccountController,
  bootstrapsigner: startBootstrapSignerController,
  tokencleaner: startTokenCleanerController,
  'root-ca-cert-publisher': startRootCACertPublisher,
  'serviceaccount-token': startTokensController,
  'horizontal-pod-autoscaler': startHPAController,
  'persistentvolume-binder': startPersistentVolumeBinderController,
  'local-path-provisioner': startLocalPathProvisioner,
  'pvc-protection': startPVCProtectionController,
  'pv-protection': startPVProtectionController,
};

/**
 * controllerAccounts are the ServiceAccounts (in kube-system) the controllers run as with
 * --use-service-account-credentials, kube-controller-manager's names; each has the ClusterRole
 * system:controller:<account> (apiserver/auth/rbac/controllerpolicy.ts). A controller without an
 * entry runs as the controller manager itself, as kube's tokens controller does: it writes the
 * token Secrets of every account, which only the controller manager's own role allows.
 */
export const controllerAccounts: Readonly<Record<string, string>> = {
  csrapproving: 'certificate-controller',
  csrsigning: 'certificate-controller',
  'clusterrole-aggregation': 'clusterrole-aggregation-controller',
  daemonset: 'daemon-set-controller',
  deployment: 'deployment-controller',
  replicaset: 'replicaset-controller',
  statefulset: 'statefulset-controller',
  resourcequota: 'resourcequota-controller',
  replicationcontroller: 'replication-controller',
  disruption: 'disruption-controller',
  job: 'job-controller',
  cronjob: 'cronjob-controller',
  'ttl-after-finished': 'ttl-after-finished-controller',
  endpoint: 'endpoint-controller',
  endpointslice: 'endpointslice-controller',
  endpointslicemirroring: 'endpointslicemirroring-controller',
  garbagecollector: 'generic-garbage-collector',
  namespace: 'namespace-controller',
  nodeipam: 'node-controller',
  nodelifecycle: 'node-controller',
  podgc: 'pod-garbage-collector',
  serviceaccount: 'service-account-controller',
  bootstrapsigner: 'bootstrap-signer',
  tokencleaner: 'token-cleaner',
  'root-ca-cert-publisher': 'root-ca-cert-publisher',
  'horizontal-pod-autoscaler': 'horizontal-pod-autoscaler',
  'persistentvolume-binder': 'persistent-volume-binder',
  'local-path-provisioner': 'local-path-provisioner',
  // Registered on another branch; their accounts are here so the merge needs no edit.
  'pvc-protection': 'pvc-protection-controller',
  'pv-protection': 'pv-protection-controller',
};

/** controllerNames are the controllers --controllers knows, by kube-controller-manager's names. */
export const controllerNames: readonly string[] = Object.keys(starters);

/** enabledControllers reads --controllers: `*` is all, `-name` disables, `name` enables (kcm's syntax). */
export function enabledControllers(spec: string): string[] {
  const items = spec.split(',').map((s) => s.trim()).filter(Boolean);
  const all = Object.keys(starters);
  for (const item of items) {
    const name = item.replace(/^-/, '');
    if (name !== '*' && !all.includes(name)) throw new Error(`unknown controller "${name}" in --controllers (known: ${all.join(', ')})`);
  }
  const star = items.includes('*');
  return all.filter((name) => (items.includes(name) || (star && !items.includes(`-${name}`))) && !items.includes(`-${name}`));
}

function controllerMetrics(registry: import('prom-client').Registry): ControllerMetrics {
  const queue = promQueueMetrics(registry);
  const total = new Counter({ name: 'controller_runtime_reconcile_total', help: 'Reconciles per controller and result.', labelNames: ['controller', 'result'], registers: [registry] });
  const time = new Histogram({ name: 'controller_runtime_reconcile_time_seconds', help: 'Time per reconcile.', labelNames: ['controller'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] });
  return {
    ...queue,
    reconcile: (controller, outcome, seconds) => {
      total.inc({ controller, result: outcome });
      time.observe({ controller }, seconds);
    },
  };
}

/** controllerManager is the skiff-controller-manager component: main.ts runs it as a process, the test kit in its own. */
export const controllerManager: ComponentSpec = {
  name: 'skiff-controller-manager',
  summary: 'The skiff controller manager: ClusterRole aggregation, CSR approving and signing, bootstrap signer and token cleaner, Deployment, ReplicaSet, StatefulSet, DaemonSet, ReplicationController, disruption, Job, CronJob, TTL-after-finished, Endpoints, EndpointSlice, EndpointSlice mirroring, garbage collector, namespace, node IPAM and lifecycle, pod GC, ServiceAccount, service account token, root CA publisher, resource quota, horizontal pod autoscaler, PersistentVolume binder, local-path provisioner, pvc-protection and pv-protection controllers in one process.',
  defaultPort: 10257,
  leaseName: 'kube-controller-manager',
  userAgent: 'skiff-controller-manager',
  flags: [
    { name: 'controllers', description: `Controllers to run: "*" for all, "name" to enable, "-name" to disable (known: ${Object.keys(starters).join(', ')}).`, default: '*' },
    { name: 'cluster-cidr', description: 'Pod network that each Node\'s /24 spec.podCIDR is allocated from.', default: '10.244.0.0/16' },
    { name: 'node-monitor-grace-period', description: 'How long a Node may go without renewing its Lease before it is marked Ready=Unknown.', default: '40s' },
    { name: 'terminated-pod-gc-threshold', description: 'Terminated pods kept before the pod GC deletes the oldest.', default: '12500' },
    { name: 'pod-gc-orphan-grace', description: 'How long a pod\'s Node must be missing before the pod GC deletes the pod.', default: '40s' },
    { name: 'cluster-signing-cert-file', description: 'PEM CA certificate the CSR signing controller issues kubernetes.io/* certificates with.', default: '' },
    { name: 'cluster-signing-key-file', description: 'PEM private key of --cluster-signing-cert-file.', default: '' },
    { name: 'cluster-signing-duration', description: 'Longest lifetime of a signed certificate (a CSR\'s expirationSeconds may ask for less).', default: '8760h' },
    { name: 'resource-quota-sync-period', description: 'How often every ResourceQuota\'s usage is recounted from the objects it counts.', default: '5m' },
    { name: 'concurrent-syncs', description: 'Workers per controller.', default: '5' },
    { name: 'horizontal-pod-autoscaler-sync-period', description: 'How often each HorizontalPodAutoscaler reads its metrics and rescales.', default: '15s' },
    { name: 'horizontal-pod-autoscaler-downscale-stabilization', description: 'How far back an HPA without spec.behavior looks for a higher recommendation before scaling down.', default: '5m' },
    { name: 'use-service-account-credentials', description: 'Run each controller as its own ServiceAccount in kube-system (system:controller:<name> roles), with tokens from the TokenRequest API; the shared informers stay on the controller manager\'s own identity.', default: 'false', boolean: true },
    { name: 'service-account-private-key-file', description: 'PEM private key that signs the legacy tokens of kubernetes.io/service-account-token Secrets (the serviceaccount-token controller runs only with it).' },
  ],
  run: async ({ flags, log, metrics, kubeConfig, signal, addReadyCheck }) => {
    const enabled = enabledControllers(flags.controllers);
    // A client of its own with more sockets: the ReplicaSet controller's slow-start batches run in parallel.
    const client = new RestClient(kubeConfig, { userAgent: 'skiff-controller-manager', maxSockets: 64 });
    const informers = new InformerFactory(kubeConfig, client, log);
    const shared: Omit<ControllerContext, 'runController'> = {
      client,
      kubeConfig,
      informers,
      log,
      metrics: controllerMetrics(metrics),
      signal,
      recorder: newRecorderFactory(client, log),
      config: {
        clusterCIDR: flags['cluster-cidr'],
        nodeMonitorGracePeriodMs: parseDuration(flags['node-monitor-grace-period']),
        terminatedPodGCThreshold: Number(flags['terminated-pod-gc-threshold']),
        podGCOrphanGraceMs: parseDuration(flags['pod-gc-orphan-grace']),
        workers: Math.max(1, Number(flags['concurrent-syncs'])),
        clusterSigning: flags['cluster-signing-cert-file'] && flags['cluster-signing-key-file']
          ? { certFile: flags['cluster-signing-cert-file'], keyFile: flags['cluster-signing-key-file'], durationMs: parseDuration(flags['cluster-signing-duration']) }
          : undefined,
        serviceAccountPrivateKeyFile: flags['service-account-private-key-file'] || undefined,
        hpaSyncPeriodMs: parseDuration(flags['horizontal-pod-autoscaler-sync-period']),
        hpaDownscaleStabilizationMs: parseDuration(flags['horizontal-pod-autoscaler-downscale-stabilization']),
        resourceQuotaSyncPeriodMs: parseDuration(flags['resource-quota-sync-period']),
      },
    };
    const ctx: ControllerContext = { ...shared, runController: managedRunController(shared) };
    // With --use-service-account-credentials each controller writes (and lists for itself) as
    // its account; the shared informers keep the controller manager's identity, as in kube.
    const accounts = flags['use-service-account-credentials'] === 'true'
      ? new ServiceAccountClientBuilder(client, kubeConfig, { namespace: 'kube-system', log, signal, userAgent: 'skiff-controller-manager', maxSockets: 64 })
      : undefined;
    // Every account's first token comes before any controller starts: a controller that
    // registered its handlers late would miss the shared informers' first adds.
    const accountClients = new Map<string, Client>();
    if (accounts) {
      const wanted = [...new Set(enabled.map((name) => controllerAccounts[name]).filter((a): a is string => !!a))];
      const clients = await Promise.all(wanted.map((account) => accounts.clientFor(account)));
      wanted.forEach((account, i) => accountClients.set(account, clients[i]!));
    }
    const contextFor = (name: string): ControllerContext => {
      const own = accountClients.get(controllerAccounts[name] ?? '');
      if (!own) return ctx;
      const mine = { ...shared, client: own, recorder: newRecorderFactory(own, log) };
      return { ...mine, runController: managedRunController(mine) };
    };
    const running: Controller[] = [];
    for (const name of enabled) {
      log.info('Starting controller', { controller: name, serviceAccount: accounts ? controllerAccounts[name] : undefined });
      running.push(...(await starters[name]!(contextFor(name))));
    }
    let synced = false;
    void Promise.all(running.map((c) => c.synced)).then(() => (synced = true));
    addReadyCheck('informer-sync', () => (synced ? undefined : 'caches not synced'));
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    await Promise.all(running.map((c) => c.stop()));
    await informers.stop();
  },
};
