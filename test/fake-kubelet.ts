// A stand-in kubelet for controller tests (test-only): it watches pods and writes the status a
// kubelet would, without running anything. With `ready: 'auto'` every pod becomes Running and
// Ready at once; with 'manual' pods become Running but stay not Ready until markReady(), so a
// rollout test can hold a rollout at any step and check its bounds. Pods it is told to fail
// (failPods) end in phase Failed. It writes through /status like the real kubelet.

import { KubeConfig } from '@kubernetes/client-node';
import { RestClient } from '../lib/client/client.js';
import { Pods } from '../lib/client/resources.js';
import { newSharedInformer } from '../lib/controller/informer.js';
import type { Pod } from '../lib/api/core/pod.js';

export interface FakeKubeletOptions {
  /** ready: 'auto' (default) makes every pod Ready; 'manual' waits for markReady. */
  ready?: 'auto' | 'manual';
  /** namespace limits the pods it acts on (default: all). */
  namespace?: string;
}

export interface FakeKubelet {
  /** markReady makes the named pods (namespace/name keys) Ready. */
  markReady(keys: string[]): Promise<void>;
  /** setReadyMode switches between auto and manual readiness (auto also readies every current pod). */
  setReadyMode(mode: 'auto' | 'manual'): Promise<void>;
  /** failPods makes the named pods (namespace/name keys) Failed. */
  failPods(keys: string[]): Promise<void>;
  stop(): Promise<void>;
}

let ipCounter = 2;

/** startFakeKubelet starts acting on pods of the cluster whose admin kubeconfig is given. */
export async function startFakeKubelet(kubeconfig: string, opts: FakeKubeletOptions = {}): Promise<FakeKubelet> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new RestClient(kc, { userAgent: 'fake-kubelet' });
  let mode = opts.ready ?? 'auto';
  const ready = new Set<string>();
  const failed = new Set<string>();
  const inflight = new Set<Promise<unknown>>();
  const informer = newSharedInformer<Pod>(kc, '/api/v1/pods', () => client.list<Pod>(Pods, opts.namespace));
  const key = (p: Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

  const sync = (pod: Pod): void => {
    if (opts.namespace && pod.metadata?.namespace !== opts.namespace) return;
    if (pod.metadata?.deletionTimestamp) return;
    const k = key(pod);
    const wantReady = mode === 'auto' || ready.has(k);
    const wantPhase = failed.has(k) ? 'Failed' : 'Running';
    const status = (pod.status ?? {}) as NonNullable<Pod['status']>;
    const isReady = status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    if (status.phase === wantPhase && (wantPhase === 'Failed' || isReady === wantReady)) return;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const cond = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now });
    const ip = status.podIP ?? `10.244.${Math.floor(ipCounter / 250) % 250}.${(ipCounter++ % 250) + 2}`;
    const running = wantPhase === 'Running';
    const body = {
      ...pod,
      status: {
        ...status,
        phase: wantPhase,
        podIP: ip,
        podIPs: [{ ip }],
        hostIP: '10.0.0.1',
        startTime: status.startTime ?? now,
        conditions: [cond('PodScheduled', true), cond('Initialized', true), cond('ContainersReady', running && wantReady), cond('Ready', running && wantReady)],
        containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
          name: c.name,
          image: c.image,
          imageID: '',
          ready: running && wantReady,
          restartCount: 0,
          started: running,
          state: running ? { running: { startedAt: now } } : { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now } },
        })),
      },
    };
    const p = client.update(Pods, body, { subresource: 'status' }).catch(() => {
      // A conflict or a deleted pod: the next event brings the latest version.
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  informer.on('add', sync);
  informer.on('update', sync);
  informer.start();
  await informer.waitForSync();
  const resync = () => {
    for (const p of informer.lister().list()) sync(p);
  };
  return {
    markReady: async (keys) => {
      for (const k of keys) ready.add(k);
      resync();
      await Promise.all([...inflight]);
    },
    setReadyMode: async (m) => {
      mode = m;
      resync();
      await Promise.all([...inflight]);
    },
    failPods: async (keys) => {
      for (const k of keys) failed.add(k);
      resync();
      await Promise.all([...inflight]);
    },
    stop: async () => {
      await informer.stop();
      await Promise.all([...inflight]);
    },
  };
}
