// ControllerContext is what every controller of the controller-manager is started with: one
// client, one shared informer per kind, an event recorder per controller, and the signal that
// ends the work when leadership is lost or the process stops.

import type { Client } from '../lib/client/client.js';
import type { ClusterAccess } from '../lib/client/kubeconfig.js';
import { EventRecorder, type Recorder } from '../lib/client/events.js';
import { type Controller, type ControllerMetrics, type ControllerOptions, runController } from '../lib/controller/controller.js';
import type { InformerFactory } from '../lib/controller/factory.js';
import type { Logger } from '../lib/log.js';

/** ControllerManagerConfig are the controller-manager flags controllers read. */
export interface ControllerManagerConfig {
  /** clusterCIDR is the pod network Nodes' /24 podCIDRs are cut from (--cluster-cidr). */
  clusterCIDR: string;
  /** nodeMonitorGracePeriodMs: a Node whose Lease is older than this becomes Ready=Unknown (--node-monitor-grace-period). */
  nodeMonitorGracePeriodMs: number;
  /** terminatedPodGCThreshold: terminated pods beyond this many are deleted, oldest first (--terminated-pod-gc-threshold). */
  terminatedPodGCThreshold: number;
  /** podGCOrphanGraceMs: a pod bound to a missing Node is deleted once the Node has been missing this long (kube's 40 s quarantine). */
  podGCOrphanGraceMs: number;
  /** workers per controller (--concurrent-*-syncs collapsed into one). */
  workers: number;
  /** clusterSigning is the CA csrsigning signs with (--cluster-signing-cert-file, -key-file, -duration), when given. */
  clusterSigning?: { certFile: string; keyFile: string; durationMs: number };
  /** serviceAccountPrivateKeyFile signs legacy service account tokens (--service-account-private-key-file). */
  serviceAccountPrivateKeyFile?: string;
  /** hpaSyncPeriodMs and hpaDownscaleStabilizationMs are --horizontal-pod-autoscaler-sync-period and -downscale-stabilization. */
  hpaSyncPeriodMs?: number;
  hpaDownscaleStabilizationMs?: number;
  /** resourceQuotaSyncPeriodMs is how often every quota's usage is recounted (--resource-quota-sync-period). */
  resourceQuotaSyncPeriodMs?: number;
}

export interface ControllerContext {
  client: Client;
  kubeConfig: ClusterAccess;
  informers: InformerFactory;
  log: Logger;
  metrics?: ControllerMetrics;
  config: ControllerManagerConfig;
  signal: AbortSignal;
  /** recorder makes the EventRecorder for one controller (source.component). */
  recorder(component: string): Recorder;
  /** runController is lib/controller's runController with this manager's workers, log, metrics and signal as defaults. */
  runController(opts: ManagedControllerOptions): Controller;
}

/** ManagedControllerOptions are runController's options; what every controller shares comes from the context. */
export type ManagedControllerOptions = Omit<ControllerOptions, 'workers' | 'log' | 'metrics' | 'signal'> & Partial<Pick<ControllerOptions, 'workers' | 'log' | 'metrics' | 'signal'>>;

/** managedRunController binds runController to a context's shared options. */
export function managedRunController(ctx: Omit<ControllerContext, 'runController'>): (opts: ManagedControllerOptions) => Controller {
  return (opts) => runController({ workers: ctx.config.workers, log: ctx.log, metrics: ctx.metrics, signal: ctx.signal, ...opts });
}

/** ControllerStarter starts one controller (or a few that belong together) and returns them. */
export type ControllerStarter = (ctx: ControllerContext) => Controller[] | Promise<Controller[]>;

/** newRecorderFactory makes recorders over client. */
export function newRecorderFactory(client: Client, log: Logger): (component: string) => Recorder {
  return (component) => new EventRecorder(client, { component, log });
}
