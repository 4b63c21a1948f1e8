// The pods of one real node. INTERFACE STUB: the signatures are the contract between the
// kubelet's main (kubelet/main.ts) and the pod workers; the bodies are filled in by the pod work.

import type { Pod } from '../../lib/api/core/pod.js';
import type { RestClient } from '../../lib/client/client.js';
import type { Recorder } from '../../lib/client/events.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { Registry } from '../../lib/metrics.js';
import type { CriClient } from '../cri/client.js';
import type { ObjectSources } from '../volumes/volumes.js';

/** PodManagerOptions are what the pod workers need from the kubelet. */
export interface PodManagerOptions {
  nodeName: string;
  client: RestClient;
  runtime: CriClient;
  recorder: Recorder;
  log: Logger;
  metrics: Registry;
  clock: Clock;
  sources: ObjectSources;
  /** rootDir is the kubelet's directory (pods/<uid>/volumes …). */
  rootDir: string;
  /** podLogsDir is where containers log (<ns>_<name>_<uid>/<container>/<restart>.log). */
  podLogsDir: string;
  /** cgroupParent is the cgroup under which pod cgroups are made (e.g. /skiff/<node>). */
  cgroupParent: string;
  clusterDNS: string[];
  clusterDomain: string;
  /** hostIP is the node's InternalIP (status.hostIP). */
  hostIP: string;
  /** nodeAllocatable is the node's allocatable, for admission and resourceFieldRef. */
  nodeAllocatable: () => Record<string, string>;
}

/** PodManager runs the pods bound to this node through CRI and reports their status. */
export class PodManager {
  constructor(readonly opts: PodManagerOptions) {}

  /** start adopts what the runtime already runs (after a kubelet restart) and starts working. */
  async start(): Promise<void> {}

  /** onPod is called for every add/update of a pod bound to this node. */
  onPod(pod: Pod): void {
    void pod;
  }

  /** onPodDelete is called when a pod bound to this node is gone from the API. */
  onPodDelete(pod: Pod): void {
    void pod;
  }

  /** runningPods is how many pods have a sandbox on this node. */
  get runningPods(): number {
    return 0;
  }

  /** stop ends the workers and leaves every container running (a restarted kubelet adopts them). */
  async stop(): Promise<void> {}
}
