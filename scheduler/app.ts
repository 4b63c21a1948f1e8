// The scheduler as a component. main.ts runs it as the skiff-scheduler process; the test kit
// (kit/) runs it in a test's process.

import { InformerFactory } from '../lib/controller/factory.js';
import type { ComponentSpec } from '../lib/process/component.js';
import { SchedulerConfigError, loadSchedulerConfig } from './config.js';
import { newSchedulerMetrics } from './metrics.js';
import { Scheduler } from './scheduler.js';

/** scheduler is the skiff-scheduler component: main.ts runs it as a process, the test kit in its own. */
export const scheduler: ComponentSpec = {
  name: 'skiff-scheduler',
  summary:
    'The skiff scheduler: watches pods without a node and binds each to the node that fits it best, ' +
    'as kube-scheduler does (filter, score, preemption of lower-priority pods).',
  defaultPort: 10259,
  leaseName: 'kube-scheduler',
  userAgent: 'skiff-scheduler',
  flags: [
    {
      name: 'config',
      description:
        'Path to a KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1, YAML or JSON): ' +
        'percentageOfNodesToScore, podInitialBackoffSeconds, podMaxBackoffSeconds, and the profiles, ' +
        'one per schedulerName, each with the plugins enabled or disabled per extension point ' +
        '(multiPoint, preFilter, filter, postFilter, preScore, score with weights) and pluginConfig args. ' +
        'Without it: one profile, default-scheduler, with the default plugins and bin packing (MostAllocated).',
    },
  ],
  run: async (ctx) => {
    let config;
    try {
      config = loadSchedulerConfig(ctx.flags.config || undefined);
    } catch (err) {
      if (err instanceof SchedulerConfigError) {
        ctx.log.error('Invalid configuration', { err: err.message });
        process.exit(2);
      }
      throw err;
    }
    const sched = new Scheduler({
      client: ctx.client,
      profiles: config.profiles,
      log: ctx.log,
      metrics: newSchedulerMetrics(ctx.metrics),
      percentageOfNodesToScore: config.percentageOfNodesToScore,
      podInitialBackoffSeconds: config.podInitialBackoffSeconds,
      podMaxBackoffSeconds: config.podMaxBackoffSeconds,
    });
    ctx.log.info('Starting scheduler', { profiles: config.profiles.map((p) => p.schedulerName) });
    const informers = new InformerFactory(ctx.kubeConfig, ctx.client, ctx.log);
    let synced = false;
    ctx.addReadyCheck('informer-sync', () => (synced ? undefined : 'caches not synced'));
    try {
      await sched.run(informers, ctx.signal, () => (synced = true));
    } finally {
      await informers.stop();
    }
  },
};
