// The controller roles of the bootstrap policy (kube's bootstrappolicy/controller_policy.go and
// the controller Roles of namespace_policy.go): one `system:controller:<account>` ClusterRole per
// controller of the controller manager, bound to the ServiceAccount kube-system/<account> the
// controller runs as when the controller manager has --use-service-account-credentials.
// Rules are Kubernetes 1.32's; where a skiff controller needs more, the extra rule says why.

import type { ClusterRole, PolicyRule, Role, RoleBinding } from '../../../lib/api/rbac/types.js';
import { rbacGroup } from '../../../lib/api/rbac/types.js';

/** controllerRolePrefix starts every controller role's name (kube's saRolePrefix). */
export const controllerRolePrefix = 'system:controller:';
/** controllerAccountNamespace is where every controller's ServiceAccount lives. */
export const controllerAccountNamespace = 'kube-system';

const bootstrapLabels = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const autoupdate = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

const read = ['get', 'list', 'watch'];

function rule(verbs: string[], groups: string[], resources: string[], names?: string[]): PolicyRule {
  const r: PolicyRule = { verbs, apiGroups: groups, resources };
  if (names) r.resourceNames = names;
  return r;
}

/** eventsRule writes events in both groups (kube's eventsRule). */
const eventsRule = (): PolicyRule => rule(['create', 'update', 'patch'], ['', 'events.k8s.io'], ['events']);

/**
 * controllerRoleRules are the rules of each controller's ClusterRole, by ServiceAccount name
 * (the role is `system:controller:<name>`).
 */
export const controllerRoleRules: Readonly<Record<string, PolicyRule[]>> = {
  'certificate-controller': [
    rule(['get', 'list', 'watch', 'delete'], ['certificates.k8s.io'], ['certificatesigningrequests']),
    rule(['update'], ['certificates.k8s.io'], ['certificatesigningrequests/status', 'certificatesigningrequests/approval']),
    rule(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet']),
    rule(['sign'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/legacy-unknown', 'kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving']),
    rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    eventsRule(),
  ],
  // It must hold every permission on clusterroles to write aggregated rules it does not hold itself.
  'clusterrole-aggregation-controller': [rule(['escalate', 'get', 'list', 'watch', 'update', 'patch'], [rbacGroup], ['clusterroles'])],
  'cronjob-controller': [
    rule(['get', 'list', 'watch', 'update'], ['batch'], ['cronjobs']),
    rule(['get', 'list', 'watch', 'create', 'update', 'delete', 'patch'], ['batch'], ['jobs']),
    rule(['update'], ['batch'], ['cronjobs/status']),
    rule(['update'], ['batch'], ['cronjobs/finalizers']),
    rule(['list', 'watch', 'delete'], [''], ['pods']),
    eventsRule(),
  ],
  'daemon-set-controller': [
    rule(read, ['extensions', 'apps'], ['daemonsets']),
    rule(['update'], ['extensions', 'apps'], ['daemonsets/status']),
    rule(['update'], ['extensions', 'apps'], ['daemonsets/finalizers']),
    rule(['list', 'watch'], [''], ['nodes']),
    rule(['list', 'watch', 'create', 'delete', 'patch'], [''], ['pods']),
    rule(['create'], [''], ['pods/binding']),
    rule(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], ['apps'], ['controllerrevisions']),
    eventsRule(),
  ],
  'deployment-controller': [
    rule(['get', 'list', 'watch', 'update'], ['extensions', 'apps'], ['deployments']),
    rule(['update'], ['extensions', 'apps'], ['deployments/status']),
    rule(['update'], ['extensions', 'apps'], ['deployments/finalizers']),
    rule(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], ['apps', 'extensions'], ['replicasets']),
    rule(['get', 'list', 'watch', 'update'], [''], ['pods']),
    eventsRule(),
  ],
  'disruption-controller': [
    rule(read, ['extensions', 'apps'], ['deployments']),
    rule(read, ['apps', 'extensions'], ['replicasets']),
    rule(read, [''], ['replicationcontrollers']),
    rule(read, ['policy'], ['poddisruptionbudgets']),
    rule(read, ['apps'], ['statefulsets']),
    rule(['update'], ['policy'], ['poddisruptionbudgets/status']),
    rule(['patch', 'update'], [''], ['pods/status']),
    rule(['get'], ['*'], ['*/scale']),
    eventsRule(),
  ],
  'endpoint-controller': [
    rule(read, [''], ['services', 'pods']),
    rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [''], ['endpoints']),
    rule(['create'], [''], ['endpoints/restricted']),
    eventsRule(),
  ],
  'endpointslice-controller': [
    rule(read, [''], ['services', 'pods', 'nodes']),
    rule(['update'], [''], ['services/finalizers']),
    rule(['get', 'list', 'watch', 'create', 'update', 'delete'], ['discovery.k8s.io'], ['endpointslices']),
    eventsRule(),
  ],
  'endpointslicemirroring-controller': [
    rule(read, [''], ['services', 'endpoints']),
    rule(['update'], [''], ['services/finalizers']),
    rule(['update'], [''], ['endpoints/finalizers']),
    rule(['get', 'list', 'watch', 'create', 'update', 'delete'], ['discovery.k8s.io'], ['endpointslices']),
    eventsRule(),
  ],
  // The garbage collector lists and watches every kind, reads owners, and patches or deletes dependents.
  'generic-garbage-collector': [rule(['get', 'list', 'watch', 'patch', 'update', 'delete'], ['*'], ['*']), eventsRule()],
  'horizontal-pod-autoscaler': [
    rule(read, ['autoscaling'], ['horizontalpodautoscalers']),
    rule(['update'], ['autoscaling'], ['horizontalpodautoscalers/status']),
    rule(['get', 'update'], ['*'], ['*/scale']),
    rule(['list', 'watch'], [''], ['pods']),
    rule(['list', 'watch'], ['metrics.k8s.io'], ['pods']),
    rule(read, ['custom.metrics.k8s.io'], ['*']),
    rule(read, ['external.metrics.k8s.io'], ['*']),
    eventsRule(),
  ],
  'job-controller': [
    rule(['get', 'list', 'watch', 'update', 'patch'], ['batch'], ['jobs']),
    rule(['update'], ['batch'], ['jobs/status']),
    rule(['update'], ['batch'], ['jobs/finalizers']),
    rule(['list', 'watch', 'create', 'delete', 'patch'], [''], ['pods']),
    eventsRule(),
  ],
  'namespace-controller': [
    rule(['get', 'list', 'watch', 'delete'], [''], ['namespaces']),
    rule(['update'], [''], ['namespaces/finalize', 'namespaces/status']),
    rule(['get', 'list', 'watch', 'delete', 'deletecollection'], ['*'], ['*']),
  ],
  // node-controller is also the account of the node IPAM and taint eviction controllers, as in kube.
  'node-controller': [
    rule(['get', 'list', 'watch', 'update', 'delete', 'patch'], [''], ['nodes']),
    rule(['patch', 'update'], [''], ['nodes/status']),
    rule(['patch', 'update'], [''], ['pods/status']),
    rule(['list', 'watch', 'get', 'delete'], [''], ['pods']),
    eventsRule(),
  ],
  'persistent-volume-binder': [
    rule(['get', 'list', 'watch', 'update', 'create', 'delete'], [''], ['persistentvolumes']),
    rule(['update'], [''], ['persistentvolumes/status']),
    rule(['get', 'list', 'watch', 'update'], [''], ['persistentvolumeclaims']),
    rule(['update'], [''], ['persistentvolumeclaims/status']),
    rule(['list', 'watch', 'get', 'create', 'delete'], [''], ['pods']),
    rule(read, ['storage.k8s.io'], ['storageclasses']),
    rule(['list', 'watch'], [''], ['nodes']),
    eventsRule(),
    rule(['watch'], [''], ['events']),
    rule(['get'], [''], ['services']),
  ],
  'pod-garbage-collector': [
    rule(['list', 'watch', 'delete'], [''], ['pods']),
    rule(read, [''], ['nodes']),
    rule(['patch'], [''], ['pods/status']),
  ],
  'pvc-protection-controller': [
    rule(['get', 'list', 'watch', 'update'], [''], ['persistentvolumeclaims']),
    rule(['list', 'watch', 'get'], [''], ['pods']),
    eventsRule(),
  ],
  'pv-protection-controller': [rule(['get', 'list', 'watch', 'update'], [''], ['persistentvolumes']), eventsRule()],
  'replicaset-controller': [
    rule(['get', 'list', 'watch', 'update'], ['apps', 'extensions'], ['replicasets']),
    rule(['update'], ['apps', 'extensions'], ['replicasets/status']),
    rule(['update'], ['apps', 'extensions'], ['replicasets/finalizers']),
    rule(['list', 'watch', 'patch', 'create', 'delete'], [''], ['pods']),
    eventsRule(),
  ],
  'replication-controller': [
    rule(['get', 'list', 'watch', 'update'], [''], ['replicationcontrollers']),
    rule(['update'], [''], ['replicationcontrollers/status']),
    rule(['update'], [''], ['replicationcontrollers/finalizers']),
    rule(['list', 'watch', 'patch', 'create', 'delete'], [''], ['pods']),
    eventsRule(),
  ],
  // The quota controller counts every kind, so it may list and watch everything.
  'resourcequota-controller': [rule(['list', 'watch'], ['*'], ['*']), rule(['update'], [''], ['resourcequotas/status']), eventsRule()],
  'root-ca-cert-publisher': [rule(['create', 'update'], [''], ['configmaps']), eventsRule()],
  'service-account-controller': [rule(['create'], [''], ['serviceaccounts']), eventsRule()],
  'statefulset-controller': [
    rule(['list', 'watch'], [''], ['pods']),
    rule(read, ['apps'], ['statefulsets']),
    rule(['update'], ['apps'], ['statefulsets/status']),
    rule(['update'], ['apps'], ['statefulsets/finalizers']),
    rule(['get', 'create', 'delete', 'update', 'patch'], [''], ['pods']),
    rule(['get', 'create', 'delete', 'update', 'patch', 'list', 'watch'], ['apps'], ['controllerrevisions']),
    rule(['get', 'create', 'list', 'watch'], [''], ['persistentvolumeclaims']),
    rule(['update', 'delete'], [''], ['persistentvolumeclaims']),
    rule(['update'], [''], ['pods/finalizers']),
    eventsRule(),
  ],
  'ttl-after-finished-controller': [rule(['get', 'list', 'watch', 'delete'], ['batch'], ['jobs']), eventsRule()],
  // skiff's own: the local-path provisioner (k3s ships it as a Deployment with its own role). It
  // creates and deletes the volumes of its class's claims, runs helper pods in kube-system that
  // make and remove their directories, and creates the default `local-path` StorageClass.
  'local-path-provisioner': [
    rule(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], [''], ['persistentvolumes']),
    rule(['get', 'list', 'watch', 'update', 'patch'], [''], ['persistentvolumeclaims']),
    rule(['get', 'list', 'watch', 'create', 'delete'], [''], ['pods']),
    rule(['list', 'watch'], [''], ['nodes']),
    rule(['get', 'list', 'watch', 'create'], ['storage.k8s.io'], ['storageclasses']),
    eventsRule(),
  ],
};

/**
 * controllerNamespacedRoleRules are the controller Roles kube keeps in a namespace rather than
 * cluster-wide, by namespace and then account: the bootstrap signer reads the bootstrap token
 * Secrets of kube-system and signs kube-public's cluster-info; the token cleaner deletes expired tokens.
 */
export const controllerNamespacedRoleRules: Readonly<Record<string, Readonly<Record<string, PolicyRule[]>>>> = {
  'kube-system': {
    'bootstrap-signer': [rule(read, [''], ['secrets'])],
    'token-cleaner': [rule(['get', 'list', 'watch', 'delete'], [''], ['secrets']), eventsRule()],
  },
  'kube-public': {
    'bootstrap-signer': [rule(read, [''], ['configmaps']), rule(['update'], [''], ['configmaps'], ['cluster-info']), eventsRule()],
  },
};

function meta(name: string, namespace?: string) {
  return { name, ...(namespace ? { namespace } : {}), labels: { ...bootstrapLabels }, annotations: { ...autoupdate } };
}

function accountSubject(account: string) {
  return [{ kind: 'ServiceAccount', name: account, namespace: controllerAccountNamespace }];
}

/** controllerClusterRoles are the `system:controller:*` ClusterRoles. */
export function controllerClusterRoles(): ClusterRole[] {
  return Object.entries(controllerRoleRules).map(([account, rules]) => ({
    apiVersion: `${rbacGroup}/v1`,
    kind: 'ClusterRole',
    metadata: meta(controllerRolePrefix + account),
    rules: structuredClone(rules),
  }));
}

/** controllerClusterRoleBindings bind each controller ClusterRole to its ServiceAccount in kube-system. */
export function controllerClusterRoleBindings(): RoleBinding[] {
  return Object.keys(controllerRoleRules).map((account) => ({
    apiVersion: `${rbacGroup}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: meta(controllerRolePrefix + account),
    roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: controllerRolePrefix + account },
    subjects: accountSubject(account),
  }));
}

/** controllerRoles are the namespaced controller Roles. */
export function controllerRoles(): Role[] {
  return Object.entries(controllerNamespacedRoleRules).flatMap(([namespace, byAccount]) =>
    Object.entries(byAccount).map(([account, rules]) => ({
      apiVersion: `${rbacGroup}/v1`,
      kind: 'Role',
      metadata: meta(controllerRolePrefix + account, namespace),
      rules: structuredClone(rules),
    })),
  );
}

/** controllerRoleBindings bind each namespaced controller Role to its ServiceAccount (in kube-system). */
export function controllerRoleBindings(): RoleBinding[] {
  return Object.entries(controllerNamespacedRoleRules).flatMap(([namespace, byAccount]) =>
    Object.keys(byAccount).map((account) => ({
      apiVersion: `${rbacGroup}/v1`,
      kind: 'RoleBinding',
      metadata: meta(controllerRolePrefix + account, namespace),
      roleRef: { apiGroup: rbacGroup, kind: 'Role', name: controllerRolePrefix + account },
      subjects: accountSubject(account),
    })),
  );
}
