// Test-only fixture for the Deployment controller's unit tests: builders for Deployments,
// ReplicaSets and pods, and a small "world" that runs syncDeployment against a FakeClient and
// then plays the ReplicaSet controller and kubelet (RS status follows spec, pods become
// available when the test lets them), so a rollout can be stepped through sync by sync.

import type { Deployment, DeploymentStatus, IntOrString, PodTemplateSpec, ReplicaSet } from '../../lib/api/apps/types.js';
import { DefaultDeploymentUniqueLabelKey, RevisionAnnotation } from '../../lib/api/apps/types.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Condition } from '../../lib/api/meta.js';
import { type Action, FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { Deployments, Pods, ReplicaSets } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import type { SyncResult } from './rollout.js';
import { DeploymentSyncer } from './sync.js';
import { computeHash, setReplicasAnnotations, maxSurge } from './util.js';

export const T0 = Date.parse('2024-05-01T10:00:00Z');
export const at = (ms: number) => new Date(T0 + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** template is the pod template of the fixture's Deployments, with image as given. */
export function template(image = 'web:1', extra: Record<string, string> = {}): PodTemplateSpec {
  return { metadata: { labels: { app: 'web', ...extra } }, spec: { containers: [{ name: 'web', image }] } };
}

export interface DeploymentOptions {
  name?: string;
  replicas?: number;
  image?: string;
  strategy?: 'RollingUpdate' | 'Recreate';
  maxSurge?: IntOrString;
  maxUnavailable?: IntOrString;
  paused?: boolean;
  progressDeadlineSeconds?: number | null;
  revisionHistoryLimit?: number;
  generation?: number;
  annotations?: Record<string, string>;
  status?: DeploymentStatus;
  minReadySeconds?: number;
}

/** deployment builds a defaulted apps/v1 Deployment (uid `d-uid`, generation observed unless status says otherwise). */
export function deployment(o: DeploymentOptions = {}): Deployment {
  const strategy = o.strategy ?? 'RollingUpdate';
  const d: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: o.name ?? 'web',
      namespace: 'default',
      uid: 'd-uid',
      resourceVersion: '10',
      generation: o.generation ?? 1,
      creationTimestamp: at(0),
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: 'web' } },
      template: template(o.image),
      strategy:
        strategy === 'Recreate'
          ? { type: 'Recreate' }
          : { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.maxSurge ?? '25%', maxUnavailable: o.maxUnavailable ?? '25%' } },
      revisionHistoryLimit: o.revisionHistoryLimit ?? 10,
      ...(o.progressDeadlineSeconds === null ? {} : { progressDeadlineSeconds: o.progressDeadlineSeconds ?? 600 }),
      ...(o.paused ? { paused: true } : {}),
      ...(o.minReadySeconds ? { minReadySeconds: o.minReadySeconds } : {}),
    },
    status: o.status ?? { observedGeneration: o.generation ?? 1 },
  };
  return d;
}

export interface RSOptions {
  image?: string;
  replicas?: number;
  /** available defaults to replicas (a settled, healthy ReplicaSet). */
  available?: number;
  /** statusReplicas defaults to replicas. */
  statusReplicas?: number;
  /** revision is the revision annotation (a string for one past a double's 53 bits). */
  revision?: number | string;
  /** createdAt is ms after T0. */
  createdAt?: number;
  /** desired/max are the replica annotations; by default those of d. */
  desired?: number;
  max?: number;
  owner?: Deployment | null;
  name?: string;
  conditions?: Condition[];
}

/** replicaSet builds a ReplicaSet of d as the controller would have made it for image. */
export function replicaSet(d: Deployment, o: RSOptions = {}): ReplicaSet {
  const t = template(o.image ?? 'web:1');
  const hash = computeHash(t);
  t.metadata!.labels![DefaultDeploymentUniqueLabelKey] = hash;
  const replicas = o.replicas ?? 0;
  const name = o.name ?? `${d.metadata.name}-${hash}`;
  const rs: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      resourceVersion: '20',
      generation: 1,
      creationTimestamp: at(o.createdAt ?? 0),
      labels: { ...t.metadata!.labels },
      annotations: { [RevisionAnnotation]: String(o.revision ?? 1) },
      ...(o.owner === null
        ? {}
        : { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: (o.owner ?? d).metadata.name!, uid: (o.owner ?? d).metadata.uid!, controller: true, blockOwnerDeletion: true }] }),
    },
    spec: { replicas, selector: { matchLabels: { app: 'web', [DefaultDeploymentUniqueLabelKey]: hash } }, template: t },
    status: {
      replicas: o.statusReplicas ?? replicas,
      readyReplicas: o.available ?? replicas,
      availableReplicas: o.available ?? replicas,
      observedGeneration: 1,
      ...(o.conditions ? { conditions: o.conditions } : {}),
    },
  };
  setReplicasAnnotations(rs, o.desired ?? d.spec.replicas!, o.max ?? (o.desired ?? d.spec.replicas!) + maxSurge(d));
  return rs;
}

/** pod builds a pod controlled by rs. */
export function pod(rs: ReplicaSet, i: number, phase = 'Running'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${rs.metadata.name}-${i}`,
      namespace: 'default',
      uid: `uid-${rs.metadata.name}-${i}`,
      labels: { ...rs.spec.template!.metadata!.labels },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name!, uid: rs.metadata.uid!, controller: true }],
    },
    spec: { containers: [{ name: 'web', image: 'x' }] },
    status: { phase },
  };
}

/** World is a FakeClient store plus a clock; each sync reads fresh listers over the store. */
export class World {
  readonly client = new FakeClient();
  readonly recorder = new FakeRecorder();
  now = T0;
  private seq = 0;

  constructor(d: Deployment, rss: ReplicaSet[] = [], pods: Pod[] = []) {
    this.client.add(Deployments, d);
    if (rss.length) this.client.add(ReplicaSets, ...rss);
    if (pods.length) this.client.add(Pods, ...pods);
  }

  async list<T>(r: typeof Deployments): Promise<T[]> {
    const out = (await this.client.list<T>(r)).items;
    this.client.actions.pop();
    return out;
  }

  deployment(name = 'web'): Deployment {
    return this.client.stored<Deployment>(Deployments, 'default', name)!;
  }

  async replicaSets(): Promise<ReplicaSet[]> {
    return (await this.list<ReplicaSet>(ReplicaSets)).sort((a, b) => Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  }

  /** sync runs one syncDeployment over listers of the current store; returns its result and its writes. */
  async sync(name = 'web'): Promise<{ result: SyncResult; writes: Action[]; events: string[] }> {
    const [ds, rss, pods] = [await this.list<Deployment>(Deployments), await this.list<ReplicaSet>(ReplicaSets), await this.list<Pod>(Pods)];
    this.client.clearActions();
    this.recorder.events.length = 0;
    const dc = new DeploymentSyncer({
      client: this.client,
      recorder: this.recorder,
      deployments: listerOf(ds),
      replicaSets: listerOf(rss),
      pods: listerOf(pods),
      now: () => new Date(this.now),
    });
    const result = await dc.syncDeployment(`default/${name}`);
    // Creation order is what the controller sorts by: stamp new ReplicaSets on the fixture's clock.
    for (const a of this.client.actions) {
      if (a.verb !== 'create' || a.resource !== 'replicasets') continue;
      const rs = this.client.stored<ReplicaSet>(ReplicaSets, 'default', a.name);
      if (!rs) continue;
      rs.metadata.creationTimestamp = new Date(this.now + ++this.seq).toISOString();
      this.client.add(ReplicaSets, rs);
    }
    return { result, writes: this.client.writes(), events: [...this.recorder.events] };
  }

  /**
   * settle plays the ReplicaSet controller and kubelet: each RS's status follows its spec, and
   * its available replicas are min(spec, ready(rs)) where ready says how many of its pods
   * passed readiness (default: all). New ReplicaSets get creationTimestamps in creation order.
   */
  async settle(ready: (rs: ReplicaSet) => number = (rs) => rs.spec.replicas ?? 0): Promise<void> {
    for (const rs of await this.replicaSets()) {
      const n = rs.spec.replicas ?? 0;
      const available = Math.min(n, ready(rs));
      rs.status = { ...(rs.status ?? {}), replicas: n, readyReplicas: available, availableReplicas: available, observedGeneration: rs.metadata.generation ?? 1 };
      this.client.add(ReplicaSets, rs);
    }
  }

  /** rsWrites are the ReplicaSet writes of actions as `<verb> <name> <replicas>`. */
  static rsWrites(writes: Action[]): string[] {
    return writes
      .filter((a) => a.resource === 'replicasets')
      .map((a) => `${a.verb} ${a.name} ${(a.object as ReplicaSet | undefined)?.spec?.replicas ?? ''}`.trim());
  }
}
