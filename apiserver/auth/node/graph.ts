// The node authorizer's graph: which objects a node may reach through the pods bound to it, as
// kube's plugin/pkg/auth/authorizer/node/graph.go keeps it. Every bound pod has an edge to its
// node, and every secret, configmap, persistentvolumeclaim and serviceaccount it uses has an edge
// to the pod; a node may read an object when a path leads from the object to the node. Only pods
// with spec.nodeName are in the graph (kube's graph populator skips unscheduled pods).
//
// A PersistentVolume leads to the claim its claimRef names (kube's pv → pvc edge), so a kubelet
// may read the volume of a claim its pods use. ResourceClaims are not served: no such edges.

import type { KubeObject } from '../../../lib/api/meta.js';

/** VertexType is a kind the graph holds, by kube's vertex names. */
export type VertexType = 'configmap' | 'node' | 'pod' | 'pv' | 'pvc' | 'secret' | 'serviceAccount';

/** NodeGraphSource answers whether an object is reachable from a node; NodeAuthorizer asks only this. */
export interface NodeGraphSource {
  /** hasPathFrom says whether the object (type, namespace, name) leads to the node named nodeName. */
  hasPathFrom(nodeName: string, type: VertexType, namespace: string, name: string): boolean;
}

/** PodReferences are what one pod uses, by kind (names within the pod's namespace). */
export interface PodReferences {
  secret: string[];
  configmap: string[];
  pvc: string[];
  serviceAccount: string[];
}

const key = (type: VertexType, namespace: string, name: string) => `${type}\u0000${namespace}\u0000${name}`;

/**
 * Graph holds, for each bound pod, its node and the objects it uses, and for each object the
 * pods that use it; both sides change together in setPod and deletePod.
 */
export class Graph implements NodeGraphSource {
  /** pods maps a pod (namespace/name) to its node and the vertex keys of what it uses. */
  private readonly pods = new Map<string, { node: string; uses: string[] }>();
  /** users maps an object's vertex key to the pods (namespace/name) that use it. */
  private readonly users = new Map<string, Set<string>>();
  /** volumeClaims maps a PersistentVolume's name to the vertex key of the claim it is bound to. */
  private readonly volumeClaims = new Map<string, string>();

  /** setPV records the claim a PersistentVolume's claimRef names (none: no edge). */
  setPV(pv: KubeObject): void {
    const name = pv.metadata.name ?? '';
    const ref = (pv.spec as { claimRef?: { namespace?: string; name?: string } } | undefined)?.claimRef;
    if (ref?.namespace && ref.name) this.volumeClaims.set(name, key('pvc', ref.namespace, ref.name));
    else this.volumeClaims.delete(name);
  }

  /** deletePV forgets a PersistentVolume's edge. */
  deletePV(name: string): void {
    this.volumeClaims.delete(name);
  }

  /** setPod records a pod (replacing what was recorded of it); a pod without spec.nodeName is removed. */
  setPod(pod: KubeObject): void {
    const namespace = pod.metadata.namespace ?? '';
    const podKey = `${namespace}/${pod.metadata.name}`;
    this.deletePodKey(podKey);
    const node = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
    if (!node) return;
    const refs = podReferences(pod);
    const uses: string[] = [];
    for (const type of ['secret', 'configmap', 'pvc', 'serviceAccount'] as const) {
      for (const name of new Set(refs[type])) {
        const k = key(type, namespace, name);
        uses.push(k);
        let set = this.users.get(k);
        if (!set) this.users.set(k, (set = new Set()));
        set.add(podKey);
      }
    }
    this.pods.set(podKey, { node, uses });
  }

  /** deletePod forgets a pod and the edges it held. */
  deletePod(namespace: string, name: string): void {
    this.deletePodKey(`${namespace}/${name}`);
  }

  /** clear forgets everything (before a full re-list). */
  clear(): void {
    this.pods.clear();
    this.users.clear();
    this.volumeClaims.clear();
  }

  /** size is the number of pods in the graph (for tests and logs). */
  get size(): number {
    return this.pods.size;
  }

  hasPathFrom(nodeName: string, type: VertexType, namespace: string, name: string): boolean {
    if (type === 'node') return name === nodeName;
    if (type === 'pod') return this.pods.get(`${namespace}/${name}`)?.node === nodeName;
    const vertex = type === 'pv' ? this.volumeClaims.get(name) : key(type, namespace, name);
    if (!vertex) return false;
    for (const podKey of this.users.get(vertex) ?? []) {
      if (this.pods.get(podKey)?.node === nodeName) return true;
    }
    return false;
  }

  private deletePodKey(podKey: string): void {
    const old = this.pods.get(podKey);
    if (!old) return;
    this.pods.delete(podKey);
    for (const k of old.uses) {
      const set = this.users.get(k);
      set?.delete(podKey);
      if (set && set.size === 0) this.users.delete(k);
    }
  }
}

type Obj = Record<string, any>;

/**
 * podReferences lists what a pod uses, as kube's podutil.VisitPodSecretNames and
 * VisitPodConfigmapNames visit them: image pull secrets, env and envFrom of every container
 * (init and ephemeral too), secret/configMap/projected volumes and the secret references of
 * volume plugins, persistentVolumeClaim volumes and the claims of ephemeral volumes
 * (`<pod>-<volume>`), and the service account.
 */
export function podReferences(pod: KubeObject): PodReferences {
  const spec = (pod.spec ?? {}) as Obj;
  const out: PodReferences = { secret: [], configmap: [], pvc: [], serviceAccount: [] };
  const add = (list: string[], name: unknown) => {
    if (typeof name === 'string' && name) list.push(name);
  };
  for (const s of spec.imagePullSecrets ?? []) add(out.secret, s?.name);
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])] as Obj[]) {
    for (const e of c.envFrom ?? []) {
      add(out.secret, e?.secretRef?.name);
      add(out.configmap, e?.configMapRef?.name);
    }
    for (const e of c.env ?? []) {
      add(out.secret, e?.valueFrom?.secretKeyRef?.name);
      add(out.configmap, e?.valueFrom?.configMapKeyRef?.name);
    }
  }
  for (const v of (spec.volumes ?? []) as Obj[]) {
    add(out.secret, v.secret?.secretName);
    add(out.configmap, v.configMap?.name);
    for (const src of v.projected?.sources ?? []) {
      add(out.secret, src?.secret?.name);
      add(out.configmap, src?.configMap?.name);
    }
    // Volume plugins that take credentials from a secret.
    add(out.secret, v.azureFile?.secretName);
    for (const plugin of ['cephfs', 'cinder', 'flexVolume', 'rbd', 'iscsi', 'scaleIO', 'storageos']) add(out.secret, v[plugin]?.secretRef?.name);
    add(out.secret, v.csi?.nodePublishSecretRef?.name);
    add(out.pvc, v.persistentVolumeClaim?.claimName);
    if (v.ephemeral) add(out.pvc, `${pod.metadata.name}-${v.name}`);
  }
  add(out.serviceAccount, spec.serviceAccountName);
  return out;
}
