// The node authorizer's graph follows the apiserver's own pods through the watch cache (kube feeds
// it from informers in the same process: plugin/pkg/auth/authorizer/node/graph_populator.go).

import type { KubeObject } from '../../../lib/api/meta.js';
import type { Logger } from '../../../lib/log.js';
import type { GenericStore } from '../../registry/store.js';
import type { Graph } from './graph.js';

/** PodWatchSource is the part of the pod store the populator uses. */
export type PodWatchSource = Pick<GenericStore, 'watch'>;

/**
 * startGraphPopulator fills graph with every pod and keeps it current; when the cache drops its
 * watchers (after losing etcd history) the graph is rebuilt from a fresh watch. It resolves once
 * the existing pods are in the graph and returns the function that stops it.
 */
export async function startGraphPopulator(pods: PodWatchSource, graph: Graph, log: Logger, volumes?: PodWatchSource): Promise<() => void> {
  let stopped = false;
  let cancel: (() => void) | undefined;
  let cancelVolumes: (() => void) | undefined;
  // PersistentVolumes give the pv → pvc edges; a restarted watch re-adds every volume.
  const startVolumes = async (): Promise<void> => {
    if (!volumes) return;
    cancelVolumes = await volumes.watch(undefined, undefined, {
      matches: () => true,
      deliver: (type, obj: KubeObject) => {
        if (type === 'DELETED') graph.deletePV(obj.metadata.name ?? '');
        else if (type === 'ADDED' || type === 'MODIFIED') graph.setPV(obj);
      },
      terminate: () => {
        if (stopped) return;
        cancelVolumes?.();
        void startVolumes().catch((err) => log.error('Could not rebuild the node authorizer graph', { err: err as Error }));
      },
    });
  };
  const start = async (): Promise<void> => {
    graph.clear();
    cancel = await pods.watch(undefined, undefined, {
      matches: () => true,
      deliver: (type, obj: KubeObject) => {
        if (type === 'DELETED') graph.deletePod(obj.metadata.namespace ?? '', obj.metadata.name ?? '');
        else if (type === 'ADDED' || type === 'MODIFIED') graph.setPod(obj);
      },
      terminate: (reason) => {
        if (stopped) return;
        log.info('Rebuilding the node authorizer graph', { reason });
        cancel?.();
        void start().catch((err) => log.error('Could not rebuild the node authorizer graph', { err: err as Error }));
      },
    });
  };
  await start();
  await startVolumes();
  log.v(2).info('Node authorizer graph ready', { pods: graph.size });
  return () => {
    stopped = true;
    cancel?.();
    cancelVolumes?.();
  };
}
