// The bootstrap policy: the ClusterRoles and ClusterRoleBindings kube-apiserver ships
// (plugin/pkg/auth/authorizer/rbac/bootstrappolicy), the ones skiff's own components run with,
// and the bindings that give each component its role. Reconciled at start (reconcile.ts).

import type { ClusterRole, PolicyRule, RoleBinding, Subject } from '../../../lib/api/rbac/types.js';
import { rbacGroup } from '../../../lib/api/rbac/types.js';
import { controllerClusterRoleBindings, controllerClusterRoles } from './controllerpolicy.js';

/** autoupdateAnnotation set to "false" keeps the apiserver's hands off a bootstrap object. */
export const autoupdateAnnotation = 'rbac.authorization.kubernetes.io/autoupdate';
/** bootstrapLabels mark every bootstrap object, as kube does. */
const bootstrapLabels = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

const read = ['get', 'list', 'watch'];
const readWrite = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const write = ['create', 'delete', 'deletecollection', 'patch', 'update'];

/** rule builds a resource rule. */
function rule(verbs: string[], groups: string[], resources: string[], names?: string[]): PolicyRule {
  const r: PolicyRule = { verbs, apiGroups: groups, resources };
  if (names) r.resourceNames = names;
  return r;
}

/** urls builds a non-resource rule. */
function urls(verbs: string[], paths: string[]): PolicyRule {
  return { verbs, nonResourceURLs: paths };
}

/** eventsRule is kube's eventsRule: write events in both groups. */
const eventsRule = (): PolicyRule => rule(['create', 'update', 'patch'], ['', 'events.k8s.io'], ['events']);

function clusterRole(name: string, rules: PolicyRule[], labels: Record<string, string> = {}, aggregateFrom?: string): ClusterRole {
  const cr: ClusterRole = {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'ClusterRole',
    metadata: { name, labels: { ...bootstrapLabels, ...labels }, annotations: { [autoupdateAnnotation]: 'true' } },
    rules,
  };
  if (aggregateFrom) cr.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [`${rbacGroup}/aggregate-to-${aggregateFrom}`]: 'true' } }] };
  return cr;
}

const user = (name: string): Subject => ({ kind: 'User', apiGroup: rbacGroup, name });
const group = (name: string): Subject => ({ kind: 'Group', apiGroup: rbacGroup, name });

function clusterRoleBinding(name: string, role: string, subjects: Subject[]): RoleBinding {
  return {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...bootstrapLabels }, annotations: { [autoupdateAnnotation]: 'true' } },
    roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: role },
    subjects,
  };
}

const aggregate = (...to: string[]) => Object.fromEntries(to.map((t) => [`${rbacGroup}/aggregate-to-${t}`, 'true']));

/** viewRules are system:aggregate-to-view's: read what an application is made of, never secrets. */
const viewRules: PolicyRule[] = [
  rule(read, [''], ['pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'configmaps']),
  rule(read, [''], ['limitranges', 'resourcequotas', 'bindings', 'events', 'pods/status', 'resourcequotas/status', 'namespaces/status', 'replicationcontrollers/status', 'pods/log']),
  rule(read, [''], ['namespaces']),
  rule(read, ['discovery.k8s.io'], ['endpointslices']),
  rule(read, ['apps'], ['controllerrevisions', 'statefulsets', 'statefulsets/scale', 'statefulsets/status', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status']),
  rule(read, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  rule(read, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
  rule(read, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
  rule(read, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
];

/** editRules are system:aggregate-to-edit's: change an application, read its secrets, act as its service accounts. */
const editRules: PolicyRule[] = [
  rule(['impersonate'], [''], ['serviceaccounts']),
  rule(write, [''], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
  rule(['create'], [''], ['pods/eviction']),
  rule(write, [''], ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'persistentvolumeclaims', 'configmaps', 'secrets']),
  rule(['create'], [''], ['serviceaccounts/token']),
  rule(write, ['apps'], ['statefulsets', 'statefulsets/scale', 'daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale']),
  rule(write, ['autoscaling'], ['horizontalpodautoscalers']),
  rule(write, ['batch'], ['cronjobs', 'jobs']),
  rule(write, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
  rule(write, ['policy'], ['poddisruptionbudgets']),
  rule(read, [''], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
];

/** adminRules are system:aggregate-to-admin's: a namespace's roles and bindings too. */
const adminRules: PolicyRule[] = [
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
  rule(readWrite, [rbacGroup], ['rolebindings', 'roles']),
];

/** nodeRules are system:node's (kube's NodeRules); the Node authorizer narrows them to a kubelet's own objects. */
export const nodeRules: PolicyRule[] = [
  rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
  rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews', 'localsubjectaccessreviews']),
  rule(read, [''], ['services']),
  rule(['create', 'get', 'list', 'watch'], [''], ['nodes']),
  rule(['update', 'patch'], [''], ['nodes/status']),
  rule(['update', 'patch'], [''], ['nodes']),
  rule(['create', 'update', 'patch'], [''], ['events']),
  rule(read, [''], ['pods']),
  rule(['create', 'delete'], [''], ['pods']),
  rule(['update', 'patch'], [''], ['pods/status']),
  rule(['create'], [''], ['pods/eviction']),
  rule(read, [''], ['secrets', 'configmaps']),
  rule(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
  rule(['get'], [''], ['endpoints']),
  rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
  rule(['get', 'create', 'update', 'patch', 'delete'], ['coordination.k8s.io'], ['leases']),
  rule(['get'], ['storage.k8s.io'], ['volumeattachments']),
  rule(['create'], [''], ['serviceaccounts/token']),
  rule(['update', 'patch'], [''], ['persistentvolumeclaims/status']),
  rule(read, ['storage.k8s.io'], ['csidrivers']),
  rule(['get', 'create', 'update', 'patch', 'delete'], ['storage.k8s.io'], ['csinodes']),
  rule(read, ['node.k8s.io'], ['runtimeclasses']),
];

/** leaderElection is what a component needs to hold its own Lease in kube-system. */
const leaderElection = (lease: string): PolicyRule[] => [rule(['create'], ['coordination.k8s.io'], ['leases']), rule(['get', 'update'], ['coordination.k8s.io'], ['leases'], [lease])];

/**
 * skiffControllerManagerRules are what skiff's controllers need beyond kube's
 * system:kube-controller-manager when the controller manager runs without
 * --use-service-account-credentials (then every controller shares its one identity, so this is
 * the union of the controller roles of the controllers it runs: deployment, replicaset, statefulset,
 * daemonset, replicationcontroller, disruption, job, cronjob, ttl-after-finished, endpoint,
 * endpointslice, endpointslicemirroring, garbagecollector, namespace, nodeipam, nodelifecycle,
 * podgc, serviceaccount, clusterrole-aggregation, root-ca-cert-publisher, resourcequota,
 * horizontal-pod-autoscaler (which reads metrics.k8s.io, and updates scales and HPA status: all
 * within the first rule), and pvc-protection and pv-protection (list and watch pods, update claims
 * and volumes to add or remove their finalizers: the first rule too).
 */
const skiffControllerManagerRules: PolicyRule[] = [
  // garbagecollector: every kind's owners and dependents; namespace: empty a namespace.
  rule(['get', 'list', 'watch', 'patch', 'update', 'delete', 'deletecollection'], ['*'], ['*']),
  // deployment, replicaset
  rule(['create'], ['apps'], ['replicasets']),
  rule(['update'], ['apps'], ['deployments/status', 'deployments/finalizers', 'replicasets/status', 'replicasets/finalizers']),
  rule(['create'], [''], ['pods']),
  // statefulset: its pods (above), their claims and its ControllerRevisions
  rule(['create'], ['apps'], ['controllerrevisions']),
  rule(['update'], ['apps'], ['statefulsets/status', 'statefulsets/finalizers']),
  rule(['create'], [''], ['persistentvolumeclaims']),
  // replicationcontroller, disruption
  rule(['update'], [''], ['replicationcontrollers/status', 'replicationcontrollers/finalizers']),
  rule(['update'], ['policy'], ['poddisruptionbudgets/status']),
  rule(['get'], ['*'], ['*/scale']),
  // daemonset: its pods (above), their history, and its status.
  rule(['update'], ['apps'], ['daemonsets/status', 'daemonsets/finalizers']),
  // job, cronjob, ttl-after-finished (pods' tracking finalizers go by the patch above)
  rule(['create'], ['batch'], ['jobs']),
  rule(['update'], ['batch'], ['jobs/status', 'jobs/finalizers', 'cronjobs/status', 'cronjobs/finalizers']),
  // endpoint, endpointslice, endpointslicemirroring
  rule(['create'], [''], ['endpoints', 'endpoints/restricted']),
  rule(['create'], ['discovery.k8s.io'], ['endpointslices']),
  // namespace
  rule(['update'], [''], ['namespaces/finalize', 'namespaces/status']),
  // nodeipam, nodelifecycle, podgc
  rule(['patch', 'update'], [''], ['nodes/status', 'pods/status']),
  // serviceaccount, root-ca-cert-publisher
  rule(['create'], [''], ['serviceaccounts', 'configmaps']),
  // resourcequota: counts every kind (the first rule) and writes quotas' usage.
  rule(['update'], [''], ['resourcequotas/status']),
  // clusterrole-aggregation writes aggregated rules it does not hold itself.
  rule(['escalate'], [rbacGroup], ['clusterroles']),
  // persistent-volume-binder and the local-path provisioner (which also creates the default class).
  rule(['create'], [''], ['persistentvolumes']),
  rule(['update'], [''], ['persistentvolumes/status', 'persistentvolumeclaims/status']),
  rule(['create'], ['storage.k8s.io'], ['storageclasses']),
];

/** skiffNodeSimulatorRules are the node simulator's: it registers and runs its simulated Nodes, their Leases and pods. */
const skiffNodeSimulatorRules: PolicyRule[] = [
  rule([...read, 'create', 'update', 'patch', 'delete'], [''], ['nodes']),
  rule(['update', 'patch'], [''], ['nodes/status']),
  rule([...read, 'create', 'update', 'patch', 'delete'], ['coordination.k8s.io'], ['leases']),
  rule([...read, 'delete'], [''], ['pods']),
  rule(['update', 'patch'], [''], ['pods/status']),
  rule(read, [''], ['services', 'endpoints', 'namespaces', 'configmaps', 'secrets']),
  eventsRule(),
];

/** skiffDNSRules are skiff-dns's beyond kube's system:kube-dns: EndpointSlices, pods and namespaces it answers names from. */
const skiffDNSRules: PolicyRule[] = [
  rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
  rule(['list', 'watch'], [''], ['pods', 'namespaces']),
  // skiff-dns publishes itself: the kube-dns Service, its Endpoints and EndpointSlice.
  rule(['create'], [''], ['services', 'endpoints']),
  rule(['create'], ['discovery.k8s.io'], ['endpointslices']),
  rule(['get', 'update'], [''], ['services', 'endpoints'], ['kube-dns']),
  rule(['get', 'update'], ['discovery.k8s.io'], ['endpointslices'], ['kube-dns-skiff-dns']),
];

/** bootstrapClusterRoles are the ClusterRoles reconciled at start. */
export function bootstrapClusterRoles(): ClusterRole[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('system:discovery', [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])]),
    clusterRole('system:monitoring', [urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'])]),
    clusterRole('system:basic-user', [rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']), rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews'])]),
    clusterRole('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    clusterRole('system:service-account-issuer-discovery', [urls(['get'], ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'])]),
    clusterRole('admin', [], {}, 'admin'),
    clusterRole('edit', [], aggregate('admin'), 'edit'),
    clusterRole('view', [], aggregate('edit'), 'view'),
    clusterRole('system:aggregate-to-admin', adminRules, aggregate('admin')),
    clusterRole('system:aggregate-to-edit', editRules, aggregate('admin', 'edit')),
    clusterRole('system:aggregate-to-view', viewRules, aggregate('admin', 'edit', 'view')),
    // metrics-server's manifest ships this role; skiff's apiserver serves metrics.k8s.io itself.
    clusterRole('system:aggregated-metrics-reader', [rule(['get', 'list', 'watch'], ['metrics.k8s.io'], ['pods', 'nodes'])], aggregate('admin', 'edit', 'view')),
    clusterRole('system:heapster', [rule(read, [''], ['events', 'pods', 'nodes', 'namespaces']), rule(read, ['apps'], ['deployments'])]),
    clusterRole('system:node', nodeRules),
    clusterRole('system:node-proxier', [
      rule(['list', 'watch'], [''], ['services', 'endpoints']),
      rule(read, [''], ['nodes']),
      eventsRule(),
      rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    ]),
    clusterRole('system:kube-dns', [rule(['list', 'watch'], [''], ['endpoints', 'services'])]),
    clusterRole('system:kube-controller-manager', [
      eventsRule(),
      ...leaderElection('kube-controller-manager'),
      rule(['create'], [''], ['secrets', 'serviceaccounts']),
      rule(['delete'], [''], ['secrets']),
      rule(['get'], [''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts']),
      rule(['update'], [''], ['secrets', 'serviceaccounts']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['create'], [''], ['serviceaccounts/token']),
    ]),
    clusterRole('system:kube-scheduler', [
      eventsRule(),
      ...leaderElection('kube-scheduler'),
      rule(read, [''], ['nodes']),
      rule(['get', 'list', 'watch', 'delete'], [''], ['pods']),
      rule(['create'], [''], ['pods/binding', 'bindings']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(read, [''], ['services', 'replicationcontrollers']),
      rule(read, ['apps', 'extensions'], ['replicasets']),
      rule(read, ['apps'], ['statefulsets']),
      rule(read, ['policy'], ['poddisruptionbudgets']),
      rule(read, [''], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      rule(read, ['storage.k8s.io'], ['csinodes']),
      rule(read, [''], ['namespaces']),
      rule(read, ['storage.k8s.io'], ['csidrivers', 'csistoragecapacities']),
    ]),
    clusterRole('system:volume-scheduler', [
      rule(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumes']),
      rule(read, ['storage.k8s.io'], ['storageclasses']),
      rule(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumeclaims']),
    ]),
    // skiff's own components.
    clusterRole('system:skiff:controller-manager', skiffControllerManagerRules),
    clusterRole('system:skiff:scheduler', [rule(read, ['scheduling.k8s.io'], ['priorityclasses'])]),
    clusterRole('system:skiff:node-simulator', [...skiffNodeSimulatorRules, ...leaderElection('skiff-node-simulator')]),
    clusterRole('system:skiff:dns', skiffDNSRules),
    // Each controller's own role, for --use-service-account-credentials (controllerpolicy.ts).
    ...controllerClusterRoles(),
  ];
}

/** bootstrapClusterRoleBindings are the ClusterRoleBindings reconciled at start. */
export function bootstrapClusterRoleBindings(): RoleBinding[] {
  return [
    clusterRoleBinding('cluster-admin', 'cluster-admin', [group('system:masters')]),
    clusterRoleBinding('system:monitoring', 'system:monitoring', [group('system:monitoring')]),
    clusterRoleBinding('system:discovery', 'system:discovery', [group('system:authenticated')]),
    clusterRoleBinding('system:basic-user', 'system:basic-user', [group('system:authenticated')]),
    clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    clusterRoleBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [group('system:serviceaccounts')]),
    clusterRoleBinding('system:node-proxier', 'system:node-proxier', [user('system:kube-proxy')]),
    clusterRoleBinding('system:kube-controller-manager', 'system:kube-controller-manager', [user('system:kube-controller-manager')]),
    clusterRoleBinding('system:kube-dns', 'system:kube-dns', [{ kind: 'ServiceAccount', name: 'kube-dns', namespace: 'kube-system' }, user('system:skiff-dns')]),
    clusterRoleBinding('system:kube-scheduler', 'system:kube-scheduler', [user('system:kube-scheduler')]),
    clusterRoleBinding('system:volume-scheduler', 'system:volume-scheduler', [user('system:kube-scheduler')]),
    clusterRoleBinding('system:skiff:controller-manager', 'system:skiff:controller-manager', [user('system:kube-controller-manager')]),
    clusterRoleBinding('system:skiff:scheduler', 'system:skiff:scheduler', [user('system:kube-scheduler')]),
    clusterRoleBinding('system:skiff:node-simulator', 'system:skiff:node-simulator', [user('system:node-simulator')]),
    clusterRoleBinding('system:skiff:dns', 'system:skiff:dns', [user('system:skiff-dns')]),
    ...controllerClusterRoleBindings(),
  ];
}
