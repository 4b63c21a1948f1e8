// Probes and lifecycle hooks. INTERFACE STUB: the signatures are the contract between the pod
// workers (kubelet/pods) and the probe code; the bodies are filled in by the probe work.

import type { Pod } from '../../lib/api/core/pod.js';
import type { Container, LifecycleHandler } from '../../lib/api/core/types.js';
import type { Recorder } from '../../lib/client/events.js';
import type { Logger } from '../../lib/log.js';
import type { CriClient } from '../cri/client.js';

/** ProberOptions wire the probe manager to the runtime and to the pod workers. */
export interface ProberOptions {
  runtime: Pick<CriClient, 'execSync'>;
  recorder: Recorder;
  log: Logger;
  /** onChange is called when a readiness or startup result of a container of the pod changes. */
  onChange(podUID: string): void;
  /** onLivenessFailure is called when a container fails its liveness (or startup) probe: restart it. */
  onLivenessFailure(podUID: string, containerName: string, message: string): void;
}

/** ProbeManager runs the liveness, readiness and startup probes of running containers. */
export class ProbeManager {
  constructor(readonly opts: ProberOptions) {}

  /** addContainer starts probing a running container (pod IP for httpGet/tcpSocket). */
  addContainer(pod: Pod, container: Container, containerId: string, podIP: string | undefined): void {
    void pod;
    void container;
    void containerId;
    void podIP;
  }

  /** removeContainer stops probing it (it exited or is being restarted). */
  removeContainer(podUID: string, containerName: string): void {
    void podUID;
    void containerName;
  }

  /** removePod stops every probe of the pod. */
  removePod(podUID: string): void {
    void podUID;
  }

  /** ready is the container's readiness (true without a readiness probe once started). */
  ready(podUID: string, containerName: string): boolean {
    void podUID;
    void containerName;
    return true;
  }

  /** started is whether the container passed its startup probe (true without one). */
  started(podUID: string, containerName: string): boolean {
    void podUID;
    void containerName;
    return true;
  }

  /** stop ends every probe. */
  stop(): void {}
}

/** HookContext is where a lifecycle hook runs. */
export interface HookContext {
  runtime: Pick<CriClient, 'execSync'>;
  containerId: string;
  podIP: string | undefined;
  /** timeoutSeconds bounds the hook (preStop: the remaining grace period). */
  timeoutSeconds: number;
}

/** runLifecycleHook runs a postStart or preStop handler (exec, httpGet, sleep); it rejects with the failure message. */
export async function runLifecycleHook(handler: LifecycleHandler, container: Container, ctx: HookContext): Promise<void> {
  void handler;
  void container;
  void ctx;
}
