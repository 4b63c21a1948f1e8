// NodeRestriction (plugin/pkg/admission/noderestriction): what the node authorizer allows a kubelet
// without seeing the object, narrowed to the kubelet's own node. A node may create, update and
// delete only its own Node (and neither change its taints nor set labels outside the kubelet's
// set), only its own Lease in kube-node-lease, only mirror pods bound to itself, delete and evict
// only pods bound to itself, and update the status only of pods bound to itself.
//
// Everyone who is not a node identity passes untouched (the node simulator among them: see
// apiserver/auth/node/authorizer.ts).

import type { KubeObject } from '../../lib/api/meta.js';
import { forbidden, notFound, type GroupResource } from '../../lib/machinery/status.js';
import { nodeIdentity } from '../auth/node/authorizer.js';
import { podReferences } from '../auth/node/graph.js';
import type { AdmissionRequest, DeleteAdmissionRequest } from '../registry/store.js';

/** ObjectGetter reads one stored object of a kind, undefined when there is none. */
export type ObjectGetter = (namespace: string | undefined, name: string) => Promise<KubeObject | undefined>;

const podsGR: GroupResource = { group: '', resource: 'pods' };
const nodesGR: GroupResource = { group: '', resource: 'nodes' };
const leasesGR: GroupResource = { group: 'coordination.k8s.io', resource: 'leases' };
const mirrorPodAnnotation = 'kubernetes.io/config.mirror';

/** kubeletLabels and kubeletLabelNamespaces are what a kubelet may set on its Node (k8s.io/kubelet/pkg/apis). */
const kubeletLabels = new Set([
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'kubernetes.io/os',
  'kubernetes.io/arch',
]);
const kubeletLabelNamespaces = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

const labelNamespace = (key: string) => (key.includes('/') ? key.slice(0, key.indexOf('/')) : '');
const inNamespace = (ns: string, base: string) => ns === base || ns.endsWith(`.${base}`);

/** isKubeletLabel says whether a kubelet may set the label key on its Node. */
export function isKubeletLabel(key: string): boolean {
  if (kubeletLabels.has(key)) return true;
  const ns = labelNamespace(key);
  return kubeletLabelNamespaces.some((base) => inNamespace(ns, base));
}

/** forbiddenNodeLabels lists, sorted, the changed label keys a node may not set (node-restriction.kubernetes.io and unknown kubernetes.io/k8s.io keys). */
export function forbiddenNodeLabels(labels: Record<string, string> = {}, old: Record<string, string> = {}): string[] {
  const modified = new Set<string>();
  for (const [k, v] of Object.entries(labels)) if (old[k] !== v) modified.add(k);
  for (const [k, v] of Object.entries(old)) if (labels[k] !== v) modified.add(k);
  const out: string[] = [];
  for (const key of modified) {
    const ns = labelNamespace(key);
    const restricted = inNamespace(ns, 'node-restriction.kubernetes.io');
    const kubernetes = inNamespace(ns, 'kubernetes.io') || inNamespace(ns, 'k8s.io');
    if (restricted || (kubernetes && !isKubeletLabel(key))) out.push(key);
  }
  return out.sort();
}

const canonical = (v: unknown) => JSON.stringify(v ?? null);
const spec = (o: KubeObject | undefined) => (o?.spec ?? {}) as Record<string, any>;

/** NodeRestriction holds the readers the plugin needs for deletes (which see only a name). */
export class NodeRestriction {
  constructor(private readonly getPod: ObjectGetter) {}

  /** admitPod checks a node's create of a (mirror) pod and its pod status updates. */
  async admitPod(req: AdmissionRequest & { subresource?: string }): Promise<void> {
    const nodeName = this.node(req, podsGR);
    if (nodeName === undefined) return;
    const name = req.name || req.object.metadata.name || '';
    const deny = (why: string) => forbidden(podsGR, name, why);
    if (req.subresource === 'status') {
      if (req.operation !== 'UPDATE') throw deny(`unexpected operation "${req.operation}"`);
      if (spec(req.oldObject).nodeName !== nodeName) throw deny(`node "${nodeName}" can only update pod status for pods with spec.nodeName set to itself`);
      if (canonical(req.oldObject?.metadata.labels ?? {}) !== canonical(req.object.metadata.labels ?? {})) throw deny(`node "${nodeName}" cannot update labels through pod status`);
      return;
    }
    if (req.subresource) throw deny(`unexpected pod subresource "${req.subresource}", only 'status' and 'eviction' are allowed`);
    if (req.operation !== 'CREATE') throw deny(`unexpected operation "${req.operation}", node "${nodeName}" can only create and delete mirror pods`);
    const pod = req.object;
    if (!(mirrorPodAnnotation in (pod.metadata.annotations ?? {}))) throw deny(`pod does not have "${mirrorPodAnnotation}" annotation, node "${nodeName}" can only create mirror pods`);
    if (spec(pod).nodeName !== nodeName) throw deny(`node "${nodeName}" can only create pods with spec.nodeName set to itself`);
    const owners = pod.metadata.ownerReferences ?? [];
    if (owners.length > 1) throw deny(`node "${nodeName}" can only create pods with a single owner reference set to itself`);
    const owner = owners[0];
    if (!owner || owner.apiVersion !== 'v1' || owner.kind !== 'Node' || owner.name !== nodeName) throw deny(`node "${nodeName}" can only create pods with an owner reference set to itself`);
    if (owner.controller !== true) throw deny(`node "${nodeName}" can only create pods with a controller owner reference set to itself`);
    if (owner.blockOwnerDeletion === true) throw deny(`node "${nodeName}" must not set blockOwnerDeletion on an owner reference`);
    if (spec(pod).serviceAccountName) throw deny(`node "${nodeName}" can not create pods that reference a service account`);
    const refs = podReferences(pod);
    if (refs.secret.length) throw deny(`node "${nodeName}" can not create pods that reference secrets`);
    if (refs.configmap.length) throw deny(`node "${nodeName}" can not create pods that reference configmaps`);
    if ((spec(pod).volumes ?? []).some((v: any) => v?.persistentVolumeClaim)) throw deny(`node "${nodeName}" can not create pods that reference persistentvolumeclaims`);
  }

  /** admitPodDelete lets a node delete (or evict) only pods bound to itself. */
  async admitPodDelete(req: DeleteAdmissionRequest): Promise<void> {
    const nodeName = this.node(req, podsGR);
    if (nodeName === undefined) return;
    const pod = await this.getPod(req.namespace, req.name);
    if (!pod) throw notFound(podsGR, req.name);
    if (spec(pod).nodeName !== nodeName) throw forbidden(podsGR, req.name, `node "${nodeName}" can only delete pods with spec.nodeName set to itself`);
  }

  /** admitNode lets a node create, change and delete only its own Node, without new taints or restricted labels. */
  async admitNode(req: (AdmissionRequest & { subresource?: string }) | DeleteAdmissionRequest): Promise<void> {
    const nodeName = this.node(req, nodesGR);
    if (nodeName === undefined) return;
    const requested = ('object' in req ? req.name || req.object.metadata.name : req.name) ?? '';
    const deny = (why: string) => forbidden(nodesGR, requested, why);
    if (requested !== nodeName) throw deny(`node "${nodeName}" is not allowed to modify node "${requested}"`);
    if (!('object' in req)) return;
    const node = req.object;
    if (req.operation === 'CREATE') {
      if (spec(node).configSource) throw deny(`node "${nodeName}" is not allowed to create pods with a non-nil configSource`);
      const labels = forbiddenNodeLabels(node.metadata.labels, {});
      if (labels.length) throw deny(`node "${nodeName}" is not allowed to set the following labels: ${labels.join(', ')}`);
      return;
    }
    const old = req.oldObject;
    if (spec(node).configSource && canonical(spec(node).configSource) !== canonical(spec(old).configSource)) throw deny(`node "${nodeName}" is not allowed to update configSource to a new non-nil configSource`);
    if (canonical(spec(node).taints ?? null) !== canonical(spec(old).taints ?? null)) throw deny(`node "${nodeName}" is not allowed to modify taints`);
    const labels = forbiddenNodeLabels(node.metadata.labels, old?.metadata.labels);
    if (labels.length) throw deny(`is not allowed to modify labels: ${labels.join(', ')}`);
  }

  /** admitLease lets a node write only the Lease named after it in kube-node-lease. */
  async admitLease(req: AdmissionRequest | DeleteAdmissionRequest): Promise<void> {
    const nodeName = this.node(req, leasesGR);
    if (nodeName === undefined) return;
    const name = ('object' in req && req.operation === 'CREATE' ? req.object.metadata.name : req.name) ?? '';
    if (req.namespace !== 'kube-node-lease') throw forbidden(leasesGR, name, 'can only access leases in the "kube-node-lease" system namespace');
    if (name !== nodeName) throw forbidden(leasesGR, name, 'can only access node lease with the same name as the requesting node');
  }

  /** node returns the requesting node's name, undefined for a non-node; a node without a name is refused. */
  private node(req: { ctx: { user?: { name: string; groups: string[] } }; name: string }, gr: GroupResource): string | undefined {
    const user = req.ctx.user;
    if (!user) return undefined;
    const nodeName = nodeIdentity(user);
    if (nodeName === '') throw forbidden(gr, req.name, `could not determine node from user "${user.name}"`);
    return nodeName;
  }
}
