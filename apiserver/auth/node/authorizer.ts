// NodeAuthorizer: kube's Node authorization mode (plugin/pkg/auth/authorizer/node). A kubelet
// (user `system:node:<name>` in group `system:nodes`) may read only the secrets, configmaps and
// persistentvolumeclaims of pods bound to its node, create tokens only for their service accounts,
// touch only its own Lease, read only its own Node and list pods only with the
// `spec.nodeName=<name>` field selector (AuthorizeNodeWithSelectors, on by default in 1.32); every
// other request a node makes is checked against the system:node role's rules (NodeRules).
// Writes the authorizer cannot check without the object (node updates, mirror pod creates, pod
// status) are allowed here and narrowed by the NodeRestriction admission plugin.
//
// Anything but a node identity gets no opinion. The node simulator (`system:node-simulator`) is
// in system:nodes but its name lacks the `system:node:` prefix, so, as with kube's
// nodeidentifier, it is not a node here and the next authorizer decides for it.

import { fieldRequirements, parseFieldSelector } from '../../../lib/machinery/fields.js';
import type { Attributes, Authorizer, Decision } from '../authz.js';
import type { NodeGraphSource, VertexType } from './graph.js';

/** nodeUserNamePrefix and nodesGroup make a node identity (k8s.io/apiserver's user.NodesGroup). */
export const nodeUserNamePrefix = 'system:node:';
export const nodesGroup = 'system:nodes';

/** nodeIdentity returns the node a user speaks for, '' for a node whose name is empty, or undefined for a non-node (kube's nodeidentifier). */
export function nodeIdentity(user: { name: string; groups: string[] }): string | undefined {
  if (!user.name.startsWith(nodeUserNamePrefix)) return undefined;
  if (!user.groups.includes(nodesGroup)) return undefined;
  return user.name.slice(nodeUserNamePrefix.length);
}

/** PolicyRule is the part of an RBAC rule the static node rules use. */
export interface PolicyRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
}

const read = ['get', 'list', 'watch'];

/** nodeRules are kube 1.32's bootstrappolicy.NodeRules (the system:node ClusterRole), for what the graph does not subdivide. */
export const nodeRules: readonly PolicyRule[] = [
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'] },
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews', 'localsubjectaccessreviews'] },
  { verbs: read, apiGroups: [''], resources: ['services'] },
  { verbs: ['create', 'get', 'list', 'watch'], apiGroups: [''], resources: ['nodes'] },
  { verbs: ['update', 'patch'], apiGroups: [''], resources: ['nodes/status'] },
  { verbs: ['update', 'patch'], apiGroups: [''], resources: ['nodes'] },
  { verbs: ['create', 'update', 'patch'], apiGroups: [''], resources: ['events'] },
  { verbs: read, apiGroups: [''], resources: ['pods'] },
  { verbs: ['create', 'delete'], apiGroups: [''], resources: ['pods'] },
  { verbs: ['update', 'patch'], apiGroups: [''], resources: ['pods/status'] },
  { verbs: ['create'], apiGroups: [''], resources: ['pods/eviction'] },
  { verbs: read, apiGroups: [''], resources: ['secrets', 'configmaps'] },
  { verbs: ['get'], apiGroups: [''], resources: ['persistentvolumeclaims', 'persistentvolumes'] },
  { verbs: ['get'], apiGroups: [''], resources: ['endpoints'] },
  { verbs: ['create', 'get', 'list', 'watch'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'] },
  { verbs: ['get', 'create', 'update', 'patch', 'delete'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] },
  { verbs: ['get'], apiGroups: ['storage.k8s.io'], resources: ['volumeattachments'] },
  { verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts/token'] },
  { verbs: ['get', 'update', 'patch'], apiGroups: [''], resources: ['persistentvolumeclaims/status'] },
  { verbs: read, apiGroups: ['storage.k8s.io'], resources: ['csidrivers'] },
  { verbs: ['get', 'create', 'update', 'patch', 'delete'], apiGroups: ['storage.k8s.io'], resources: ['csinodes'] },
  { verbs: read, apiGroups: ['node.k8s.io'], resources: ['runtimeclasses'] },
];

/** rulesAllow is RBAC's RuleAllows for resource requests against rules without resourceNames. */
export function rulesAllow(a: Attributes, rules: readonly PolicyRule[]): boolean {
  if (!a.resourceRequest) return false;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : (a.resource ?? '');
  const group = a.group ?? '';
  return rules.some(
    (r) =>
      (r.verbs.includes(a.verb) || r.verbs.includes('*')) &&
      (r.apiGroups.includes(group) || r.apiGroups.includes('*')) &&
      (r.resources.includes(resource) || r.resources.includes('*')),
  );
}

const noOpinion = (reason = ''): Decision => ({ allowed: false, reason });
const allow: Decision = { allowed: true };

/** NodeAuthorizer authorizes kubelets by the graph of what is bound to their node; see the file comment. */
export class NodeAuthorizer implements Authorizer {
  constructor(
    private readonly graph: NodeGraphSource,
    private readonly rules: readonly PolicyRule[] = nodeRules,
  ) {}

  authorize(a: Attributes): Decision {
    const nodeName = nodeIdentity(a.user);
    if (nodeName === undefined) return noOpinion();
    if (!nodeName) return noOpinion(`unknown node for user "${a.user.name}"`);
    if (a.resourceRequest) {
      const group = a.group ?? '';
      switch (`${group}/${a.resource}`) {
        case '/secrets':
          return this.readNamespacedObject(nodeName, 'secret', a);
        case '/configmaps':
          return this.readNamespacedObject(nodeName, 'configmap', a);
        case '/persistentvolumeclaims':
          if (a.subresource === 'status') return this.statusUpdate(nodeName, 'pvc', a);
          return this.get(nodeName, 'pvc', a);
        case '/persistentvolumes':
          return this.get(nodeName, 'pv', a);
        case '/serviceaccounts':
          return this.createToken(nodeName, a);
        case 'coordination.k8s.io/leases':
          return this.lease(nodeName, a);
        case '/nodes':
          return this.node(nodeName, a);
        case '/pods':
          return this.pod(nodeName, a);
      }
    }
    return rulesAllow(a, this.rules) ? allow : noOpinion();
  }

  private statusUpdate(nodeName: string, type: VertexType, a: Attributes): Decision {
    if (a.verb !== 'update' && a.verb !== 'patch') return noOpinion('can only get/update/patch this type');
    if (a.subresource !== 'status') return noOpinion('can only update status subresource');
    return this.related(nodeName, type, a);
  }

  private get(nodeName: string, type: VertexType, a: Attributes): Decision {
    if (a.verb !== 'get') return noOpinion('can only get individual resources of this type');
    if (a.subresource) return noOpinion('cannot get subresource');
    return this.related(nodeName, type, a);
  }

  private readNamespacedObject(nodeName: string, type: VertexType, a: Attributes): Decision {
    if (!read.includes(a.verb)) return noOpinion('can only read resources of this type');
    if (a.subresource) return noOpinion('cannot read subresource');
    if (!a.namespace) return noOpinion('can only read namespaced object of this type');
    return this.related(nodeName, type, a);
  }

  private createToken(nodeName: string, a: Attributes): Decision {
    if (a.verb !== 'create' || !a.name) return noOpinion('can only create tokens for individual service accounts');
    if (a.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
    return this.related(nodeName, 'serviceAccount', a);
  }

  private lease(nodeName: string, a: Attributes): Decision {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return noOpinion('can only get, create, update, patch, or delete a node lease');
    if (a.namespace !== 'kube-node-lease') return noOpinion('can only access leases in the "kube-node-lease" system namespace');
    // The name of a create is in the body: NodeRestriction checks it.
    if (a.verb !== 'create' && a.name !== nodeName) return noOpinion('can only access node lease with the same name as the requesting node');
    return allow;
  }

  private node(nodeName: string, a: Attributes): Decision {
    if (!a.subresource) {
      switch (a.verb) {
        case 'create':
        case 'update':
        case 'patch':
          // NodeRestriction limits a node to its own Node object.
          return allow;
        case 'get':
        case 'list':
        case 'watch': {
          // The name is compared directly, not through the graph, so a kubelet can read its Node before creating it.
          const name = a.name || selectorValue(a.fieldSelector, 'metadata.name');
          if (name === nodeName) return allow;
          if (!name) return noOpinion(`node '${nodeName}' cannot read all nodes, only its own Node object`);
          return noOpinion(`node '${nodeName}' cannot read '${name}', only its own Node object`);
        }
      }
    } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) {
      return allow;
    }
    return noOpinion();
  }

  private pod(nodeName: string, a: Attributes): Decision {
    switch (a.subresource ?? '') {
      case '':
        switch (a.verb) {
          case 'get':
            return this.get(nodeName, 'pod', a);
          case 'list':
          case 'watch': {
            if (selectorValue(a.fieldSelector, 'spec.nodeName') === nodeName) return allow;
            const name = a.name || selectorValue(a.fieldSelector, 'metadata.name');
            if (name) return this.related(nodeName, 'pod', { ...a, name });
            return noOpinion('can only list/watch pods with spec.nodeName field selector');
          }
          case 'create':
          case 'delete':
            // Mirror pods; NodeRestriction limits them to pods bound to this node.
            return allow;
        }
        break;
      case 'status':
        if (a.verb === 'update' || a.verb === 'patch') return allow;
        break;
      case 'eviction':
        if (a.verb === 'create') return allow;
        break;
    }
    return noOpinion();
  }

  private related(nodeName: string, type: VertexType, a: Attributes): Decision {
    if (!a.name) return noOpinion('No Object name found');
    if (!this.graph.hasPathFrom(nodeName, type, a.namespace ?? '', a.name)) return noOpinion(`no relationship found between node '${nodeName}' and this object`);
    return allow;
  }
}

/** selectorValue is the value an `=` requirement of a field selector gives field, if any. */
function selectorValue(selector: string | undefined, field: string): string | undefined {
  if (!selector) return undefined;
  try {
    for (const r of fieldRequirements(parseFieldSelector(selector))) {
      if (r.field === field && r.operator === '=') return r.value;
    }
  } catch {
    // A malformed selector grants nothing; the handler answers it with 400.
  }
  return undefined;
}
