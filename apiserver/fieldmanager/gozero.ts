// The Go zero value of each built-in API type, as far as server-side apply can see it.
//
// kube-apiserver computes an Update's managed fields by comparing typed objects converted from Go
// structs, and a Go struct serializes some fields even when they are empty: a non-pointer struct
// field always appears (`"strategy": {}`), and a pointer, slice or map field without `omitempty`
// appears as `null` (`"containers": null`). A field already present that way is "modified", not
// "added", when a request fills it, so FieldsV1 marks it without `.` (`f:spec`, `f:containers`)
// where a field that was truly absent gets one (`f:labels: {.: {}, …}`). Custom resources are
// plain JSON and have no such fields, which is why their sets read `f:spec: {.: {}, …}`.
//
// Facts taken from kubernetes/api and kubernetes/apimachinery v0.32 (Go struct fields and their
// json tags). Per OpenAPI definition package and type: `structs|nulls`, the JSON names of the
// fields whose zero value is `{}` and of those whose zero value is `null`.

const goZeroFields: Record<string, Record<string, string>> = {
  'io.k8s.api.admissionregistration.v1': {
    MutatingWebhook: 'clientConfig|admissionReviewVersions', MutatingWebhookConfiguration: 'metadata',
    ValidatingAdmissionPolicy: 'metadata spec status', ValidatingAdmissionPolicyBinding: 'metadata spec',
    ValidatingWebhook: 'clientConfig|admissionReviewVersions', ValidatingWebhookConfiguration: 'metadata',
  },
  'io.k8s.api.apps.v1': {
    ControllerRevision: 'metadata', DaemonSet: 'metadata spec status',
    DaemonSetSpec: 'template updateStrategy|selector', Deployment: 'metadata spec status',
    DeploymentSpec: 'template strategy|selector', ReplicaSet: 'metadata spec status',
    ReplicaSetSpec: 'template|selector', StatefulSet: 'metadata spec status',
    StatefulSetSpec: 'template updateStrategy|selector',
  },
  'io.k8s.api.authentication.v1': {
    SelfSubjectReview: 'metadata status', SelfSubjectReviewStatus: 'userInfo',
    TokenRequest: 'metadata spec status', TokenRequestSpec: '|audiences boundObjectRef',
    TokenReview: 'metadata spec status', TokenReviewStatus: 'user',
  },
  'io.k8s.api.authorization.v1': {
    LocalSubjectAccessReview: 'metadata spec status', NonResourceRule: '|verbs', ResourceRule: '|verbs',
    SelfSubjectAccessReview: 'metadata spec status', SelfSubjectRulesReview: 'metadata spec status',
    SubjectAccessReview: 'metadata spec status', SubjectRulesReviewStatus: '|resourceRules nonResourceRules',
  },
  'io.k8s.api.autoscaling.v1': {
    HorizontalPodAutoscaler: 'metadata spec status', HorizontalPodAutoscalerSpec: 'scaleTargetRef',
    ObjectMetricSource: 'target', ObjectMetricStatus: 'target', Scale: 'metadata spec status',
  },
  'io.k8s.api.autoscaling.v2': {
    ContainerResourceMetricSource: 'target', ContainerResourceMetricStatus: 'current',
    ExternalMetricSource: 'metric target', ExternalMetricStatus: 'metric current',
    HorizontalPodAutoscaler: 'metadata spec status', HorizontalPodAutoscalerSpec: 'scaleTargetRef',
    HorizontalPodAutoscalerStatus: '|currentMetrics', ObjectMetricSource: 'describedObject target metric',
    ObjectMetricStatus: 'metric current describedObject', PodsMetricSource: 'metric target',
    PodsMetricStatus: 'metric current', ResourceMetricSource: 'target', ResourceMetricStatus: 'current',
  },
  'io.k8s.api.batch.v1': {
    CronJob: 'metadata spec status', CronJobSpec: 'jobTemplate', Job: 'metadata spec status',
    JobSpec: 'template', JobTemplateSpec: 'metadata spec', PodFailurePolicy: '|rules',
    PodFailurePolicyOnExitCodesRequirement: '|values', SuccessPolicy: '|rules',
  },
  'io.k8s.api.certificates.v1': {
    CertificateSigningRequest: 'metadata spec status', CertificateSigningRequestSpec: '|request',
  },
  'io.k8s.api.coordination.v1': {
    Lease: 'metadata spec',
  },
  'io.k8s.api.core.v1': {
    Binding: 'metadata target', CephFSPersistentVolumeSource: '|monitors', CephFSVolumeSource: '|monitors',
    ComponentStatus: 'metadata', ConfigMap: 'metadata', Container: 'resources', ContainerImage: '|names',
    ContainerStatus: 'state lastState', Endpoints: 'metadata', EphemeralContainer: 'resources',
    Event: 'metadata involvedObject source', LimitRange: 'metadata spec', LimitRangeSpec: '|limits',
    Namespace: 'metadata spec status', Node: 'metadata spec status', NodeDaemonEndpoints: 'kubeletEndpoint',
    NodeSelector: '|nodeSelectorTerms', NodeStatus: 'daemonEndpoints nodeInfo',
    PersistentVolume: 'metadata spec status', PersistentVolumeClaim: 'metadata spec status',
    PersistentVolumeClaimSpec: 'resources', PersistentVolumeClaimTemplate: 'metadata spec',
    Pod: 'metadata spec status', PodExecOptions: '|command', PodSpec: '|containers',
    PodStatusResult: 'metadata status', PodTemplate: 'metadata template', PodTemplateSpec: 'metadata spec',
    PreferAvoidPodsEntry: 'podSignature', PreferredSchedulingTerm: 'preference',
    ProjectedVolumeSource: '|sources', RBDPersistentVolumeSource: '|monitors', RBDVolumeSource: '|monitors',
    RangeAllocation: 'metadata|data', ReplicationController: 'metadata spec status',
    ResourceQuota: 'metadata spec status', ScaleIOPersistentVolumeSource: '|secretRef',
    ScaleIOVolumeSource: '|secretRef', Secret: 'metadata', SerializedReference: 'reference',
    Service: 'metadata spec status', ServiceAccount: 'metadata', ServiceStatus: 'loadBalancer',
    TopologySelectorLabelRequirement: '|values', WeightedPodAffinityTerm: 'podAffinityTerm',
  },
  'io.k8s.api.discovery.v1': {
    Endpoint: 'conditions|addresses', EndpointSlice: 'metadata|endpoints ports',
  },
  'io.k8s.api.events.v1': {
    Event: 'metadata regarding deprecatedSource',
  },
  'io.k8s.api.flowcontrol.v1': {
    FlowSchema: 'metadata spec status', FlowSchemaSpec: 'priorityLevelConfiguration',
    LimitedPriorityLevelConfiguration: 'limitResponse', NonResourcePolicyRule: '|verbs nonResourceURLs',
    PolicyRulesWithSubjects: '|subjects', PriorityLevelConfiguration: 'metadata spec status',
    ResourcePolicyRule: '|verbs apiGroups resources namespaces',
  },
  'io.k8s.api.networking.v1': {
    HTTPIngressPath: 'backend', HTTPIngressRuleValue: '|paths', Ingress: 'metadata spec status',
    IngressClass: 'metadata spec', IngressServiceBackend: 'port', IngressStatus: 'loadBalancer',
    NetworkPolicy: 'metadata spec', NetworkPolicySpec: 'podSelector',
  },
  'io.k8s.api.node.v1': {
    RuntimeClass: 'metadata',
  },
  'io.k8s.api.policy.v1': {
    Eviction: 'metadata', PodDisruptionBudget: 'metadata spec status',
  },
  'io.k8s.api.rbac.v1': {
    ClusterRole: 'metadata|rules', ClusterRoleBinding: 'metadata roleRef', PolicyRule: '|verbs',
    Role: 'metadata|rules', RoleBinding: 'metadata roleRef',
  },
  'io.k8s.api.scheduling.v1': {
    PriorityClass: 'metadata',
  },
  'io.k8s.api.storage.v1': {
    CSIDriver: 'metadata spec', CSINode: 'metadata spec', CSINodeDriver: '|topologyKeys',
    CSINodeSpec: '|drivers', CSIStorageCapacity: 'metadata', StorageClass: 'metadata',
    VolumeAttachment: 'metadata spec status', VolumeAttachmentSpec: 'source',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1': {
    APIGroup: 'preferredVersion|versions', APIGroupList: '|groups', APIResourceList: '|resources',
    APIVersions: '|versions serverAddressByClientCIDRs', PartialObjectMetadata: 'metadata',
    RootPaths: '|paths', Table: '|columnDefinitions rows',
  },
};

/** ZeroFields lists the fields a type's Go zero value serializes anyway. */
export interface ZeroFields {
  /** structs are non-pointer struct fields: present as `{}` (and filled the same way, recursively). */
  structs: readonly string[];
  /** nulls are pointer, slice and map fields without `omitempty`: present as `null`. */
  nulls: readonly string[];
}

const cache = new Map<string, ZeroFields | null>();

/** zeroFieldsOf returns the always-serialized fields of an OpenAPI definition, if it names a built-in Go type that has any. */
export function zeroFieldsOf(definition: string): ZeroFields | undefined {
  let z = cache.get(definition);
  if (z === undefined) {
    const i = definition.lastIndexOf('.');
    const text = goZeroFields[definition.slice(0, i)]?.[definition.slice(i + 1)];
    if (text === undefined) z = null;
    else {
      const [structs, nulls = ''] = text.split('|');
      z = { structs: structs.split(' ').filter(Boolean), nulls: nulls.split(' ').filter(Boolean) };
    }
    cache.set(definition, z);
  }
  return z ?? undefined;
}
