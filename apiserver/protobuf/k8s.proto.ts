// k8sProtoFiles: the subset of Kubernetes' generated.proto schemas that skiff's API server needs to
// read request bodies sent as application/vnd.kubernetes.protobuf (kubectl's typed generators,
// client-go based controllers): the kinds decode.ts serves and every message they reach, so no
// field a client can set is lost. Message names, field names and field numbers are the official
// ones (k8s.io/api and k8s.io/apimachinery v0.32); package names are shortened to the Go import
// alias (`core.v1` for k8s.io.api.core.v1) because package names never reach the wire.
//
// Protobuf cannot tell how a field looks in JSON, and the JSON form is what the rest of the API
// server works with, so each field carries the facts of its Go struct tag as custom options:
//   (pointer) = true    the Go field is a pointer (*int32, *bool, *string, *IntOrString): a zero
//                       value on the wire was set on purpose and is kept (`replicas: 0`).
//   (omitempty) = false the Go JSON tag lacks omitempty: the zero value shows in JSON
//                       (`containerPort`, `ServicePort.port`, `Container.name`).
//   (inline) = true     an embedded Go struct (`json:",inline"`): its fields join the parent's
//                       (Volume.volumeSource, Probe.handler, *Selector.localObjectReference).
//   (json) = "name"     the JSON name differs from the proto field name.
// Everything else is a Go value field with omitempty: zero values (empty string, 0, false) are
// left out, as encoding/json leaves them out.
//
// Well-known wrappers (Time, MicroTime, Quantity, IntOrString, FieldsV1, ExtraValue) are decoded
// to their JSON form by decode.ts, which knows them by name.

const header = (pkg: string): string => `syntax = "proto2";\npackage ${pkg};\n`;

/** runtime: the envelope every protobuf body is wrapped in (k8s.io/apimachinery/pkg/runtime). */
const runtime = `${header('runtime')}
message TypeMeta {
  optional string apiVersion = 1;
  optional string kind = 2;
}
message Unknown {
  optional TypeMeta typeMeta = 1;
  optional bytes raw = 2;
  optional string contentEncoding = 3;
  optional string contentType = 4;
}
`;

/** metaV1: messages of k8s.io/apimachinery/pkg/apis/meta/v1. */
const metaV1 = `${header('meta.v1')}
message ObjectMeta {
  optional string name = 1;
  optional string generateName = 2;
  optional string namespace = 3;
  optional string selfLink = 4;
  optional string uid = 5;
  optional string resourceVersion = 6;
  optional int64 generation = 7;
  optional Time creationTimestamp = 8;
  optional Time deletionTimestamp = 9;
  optional int64 deletionGracePeriodSeconds = 10 [(pointer) = true];
  map<string, string> labels = 11;
  map<string, string> annotations = 12;
  repeated OwnerReference ownerReferences = 13;
  repeated string finalizers = 14;
  repeated ManagedFieldsEntry managedFields = 17;
}
message Time {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}
message OwnerReference {
  optional string apiVersion = 5 [(omitempty) = false];
  optional string kind = 1 [(omitempty) = false];
  optional string name = 3 [(omitempty) = false];
  optional string uid = 4 [(omitempty) = false];
  optional bool controller = 6 [(pointer) = true];
  optional bool blockOwnerDeletion = 7 [(pointer) = true];
}
message ManagedFieldsEntry {
  optional string manager = 1;
  optional string operation = 2;
  optional string apiVersion = 3;
  optional Time time = 4;
  optional string fieldsType = 6;
  optional FieldsV1 fieldsV1 = 7;
  optional string subresource = 8;
}
message FieldsV1 {
  optional bytes Raw = 1;
}
message Condition {
  optional string type = 1 [(omitempty) = false];
  optional string status = 2 [(omitempty) = false];
  optional int64 observedGeneration = 3;
  optional Time lastTransitionTime = 4;
  optional string reason = 5 [(omitempty) = false];
  optional string message = 6 [(omitempty) = false];
}
message LabelSelector {
  map<string, string> matchLabels = 1;
  repeated LabelSelectorRequirement matchExpressions = 2;
}
message LabelSelectorRequirement {
  optional string key = 1 [(omitempty) = false];
  optional string operator = 2 [(omitempty) = false];
  repeated string values = 3;
}
message MicroTime {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}
message FieldSelectorRequirement {
  optional string key = 1 [(omitempty) = false];
  optional string operator = 2 [(omitempty) = false];
  repeated string values = 3;
}
message DeleteOptions {
  optional int64 gracePeriodSeconds = 1 [(pointer) = true];
  optional Preconditions preconditions = 2;
  optional bool orphanDependents = 3 [(pointer) = true];
  optional string propagationPolicy = 4 [(pointer) = true];
  repeated string dryRun = 5;
  optional bool ignoreStoreReadErrorWithClusterBreakingPotential = 6 [(pointer) = true];
}
message Preconditions {
  optional string uid = 1 [(pointer) = true];
  optional string resourceVersion = 2 [(pointer) = true];
}
`;

/** resource: messages of k8s.io/apimachinery/pkg/api/resource. */
const resource = `${header('resource')}
message Quantity {
  optional string string = 1;
}
`;

/** intstr: messages of k8s.io/apimachinery/pkg/util/intstr. */
const intstr = `${header('intstr')}
message IntOrString {
  optional int64 type = 1;
  optional int32 intVal = 2;
  optional string strVal = 3;
}
`;

/** coreV1: messages of k8s.io/api/core/v1. */
const coreV1 = `${header('core.v1')}
message Namespace {
  optional meta.v1.ObjectMeta metadata = 1;
  optional NamespaceSpec spec = 2;
  optional NamespaceStatus status = 3;
}
message NamespaceSpec {
  repeated string finalizers = 1;
}
message NamespaceStatus {
  optional string phase = 1;
  repeated NamespaceCondition conditions = 2;
}
message NamespaceCondition {
  optional string type = 1 [(omitempty) = false];
  optional string status = 2 [(omitempty) = false];
  optional meta.v1.Time lastTransitionTime = 4;
  optional string reason = 5;
  optional string message = 6;
}
message ConfigMap {
  optional meta.v1.ObjectMeta metadata = 1;
  optional bool immutable = 4 [(pointer) = true];
  map<string, string> data = 2;
  map<string, bytes> binaryData = 3;
}
message Secret {
  optional meta.v1.ObjectMeta metadata = 1;
  optional bool immutable = 5 [(pointer) = true];
  map<string, bytes> data = 2;
  map<string, string> stringData = 4;
  optional string type = 3;
}
message ServiceAccount {
  optional meta.v1.ObjectMeta metadata = 1;
  repeated ObjectReference secrets = 2;
  repeated LocalObjectReference imagePullSecrets = 3;
  optional bool automountServiceAccountToken = 4 [(pointer) = true];
}
message ObjectReference {
  optional string kind = 1;
  optional string namespace = 2;
  optional string name = 3;
  optional string uid = 4;
  optional string apiVersion = 5;
  optional string resourceVersion = 6;
  optional string fieldPath = 7;
}
message LocalObjectReference {
  optional string name = 1;
}
message Service {
  optional meta.v1.ObjectMeta metadata = 1;
  optional ServiceSpec spec = 2;
  optional ServiceStatus status = 3;
}
message ServiceSpec {
  repeated ServicePort ports = 1;
  map<string, string> selector = 2;
  optional string clusterIP = 3;
  repeated string clusterIPs = 18;
  optional string type = 4;
  repeated string externalIPs = 5;
  optional string sessionAffinity = 7;
  optional string loadBalancerIP = 8;
  repeated string loadBalancerSourceRanges = 9;
  optional string externalName = 10;
  optional string externalTrafficPolicy = 11;
  optional int32 healthCheckNodePort = 12;
  optional bool publishNotReadyAddresses = 13;
  optional SessionAffinityConfig sessionAffinityConfig = 14;
  repeated string ipFamilies = 19;
  optional string ipFamilyPolicy = 17 [(pointer) = true];
  optional bool allocateLoadBalancerNodePorts = 20 [(pointer) = true];
  optional string loadBalancerClass = 21 [(pointer) = true];
  optional string internalTrafficPolicy = 22 [(pointer) = true];
  optional string trafficDistribution = 23 [(pointer) = true];
}
message ServicePort {
  optional string name = 1;
  optional string protocol = 2;
  optional string appProtocol = 6 [(pointer) = true];
  optional int32 port = 3 [(omitempty) = false];
  optional intstr.IntOrString targetPort = 4;
  optional int32 nodePort = 5;
}
message SessionAffinityConfig {
  optional ClientIPConfig clientIP = 1;
}
message ClientIPConfig {
  optional int32 timeoutSeconds = 1 [(pointer) = true];
}
message ServiceStatus {
  optional LoadBalancerStatus loadBalancer = 1;
  repeated meta.v1.Condition conditions = 2;
}
message LoadBalancerStatus {
  repeated LoadBalancerIngress ingress = 1;
}
message LoadBalancerIngress {
  optional string ip = 1;
  optional string hostname = 2;
  optional string ipMode = 3 [(pointer) = true];
  repeated PortStatus ports = 4;
}
message PortStatus {
  optional int32 port = 1 [(omitempty) = false];
  optional string protocol = 2 [(omitempty) = false];
  optional string error = 3 [(pointer) = true];
}
message Pod {
  optional meta.v1.ObjectMeta metadata = 1;
  optional PodSpec spec = 2;
  optional PodStatus status = 3;
}
message PodSpec {
  repeated Volume volumes = 1;
  repeated Container initContainers = 20;
  repeated Container containers = 2;
  repeated EphemeralContainer ephemeralContainers = 34;
  optional string restartPolicy = 3;
  optional int64 terminationGracePeriodSeconds = 4 [(pointer) = true];
  optional int64 activeDeadlineSeconds = 5 [(pointer) = true];
  optional string dnsPolicy = 6;
  map<string, string> nodeSelector = 7;
  optional string serviceAccountName = 8;
  optional string serviceAccount = 9;
  optional bool automountServiceAccountToken = 21 [(pointer) = true];
  optional string nodeName = 10;
  optional bool hostNetwork = 11;
  optional bool hostPID = 12;
  optional bool hostIPC = 13;
  optional bool shareProcessNamespace = 27 [(pointer) = true];
  optional PodSecurityContext securityContext = 14;
  repeated LocalObjectReference imagePullSecrets = 15;
  optional string hostname = 16;
  optional string subdomain = 17;
  optional Affinity affinity = 18;
  optional string schedulerName = 19;
  repeated Toleration tolerations = 22;
  repeated HostAlias hostAliases = 23;
  optional string priorityClassName = 24;
  optional int32 priority = 25 [(pointer) = true];
  optional PodDNSConfig dnsConfig = 26;
  repeated PodReadinessGate readinessGates = 28;
  optional string runtimeClassName = 29 [(pointer) = true];
  optional bool enableServiceLinks = 30 [(pointer) = true];
  optional string preemptionPolicy = 31 [(pointer) = true];
  map<string, resource.Quantity> overhead = 32;
  repeated TopologySpreadConstraint topologySpreadConstraints = 33;
  optional bool setHostnameAsFQDN = 35 [(pointer) = true];
  optional PodOS os = 36;
  optional bool hostUsers = 37 [(pointer) = true];
  repeated PodSchedulingGate schedulingGates = 38;
  repeated PodResourceClaim resourceClaims = 39;
  optional ResourceRequirements resources = 40;
}
message Volume {
  optional string name = 1 [(omitempty) = false];
  optional VolumeSource volumeSource = 2 [(inline) = true];
}
message VolumeSource {
  optional HostPathVolumeSource hostPath = 1;
  optional EmptyDirVolumeSource emptyDir = 2;
  optional GCEPersistentDiskVolumeSource gcePersistentDisk = 3;
  optional AWSElasticBlockStoreVolumeSource awsElasticBlockStore = 4;
  optional GitRepoVolumeSource gitRepo = 5;
  optional SecretVolumeSource secret = 6;
  optional NFSVolumeSource nfs = 7;
  optional ISCSIVolumeSource iscsi = 8;
  optional GlusterfsVolumeSource glusterfs = 9;
  optional PersistentVolumeClaimVolumeSource persistentVolumeClaim = 10;
  optional RBDVolumeSource rbd = 11;
  optional FlexVolumeSource flexVolume = 12;
  optional CinderVolumeSource cinder = 13;
  optional CephFSVolumeSource cephfs = 14;
  optional FlockerVolumeSource flocker = 15;
  optional DownwardAPIVolumeSource downwardAPI = 16;
  optional FCVolumeSource fc = 17;
  optional AzureFileVolumeSource azureFile = 18;
  optional ConfigMapVolumeSource configMap = 19;
  optional VsphereVirtualDiskVolumeSource vsphereVolume = 20;
  optional QuobyteVolumeSource quobyte = 21;
  optional AzureDiskVolumeSource azureDisk = 22;
  optional PhotonPersistentDiskVolumeSource photonPersistentDisk = 23;
  optional ProjectedVolumeSource projected = 26;
  optional PortworxVolumeSource portworxVolume = 24;
  optional ScaleIOVolumeSource scaleIO = 25;
  optional StorageOSVolumeSource storageos = 27;
  optional CSIVolumeSource csi = 28;
  optional EphemeralVolumeSource ephemeral = 29;
  optional ImageVolumeSource image = 30;
}
message HostPathVolumeSource {
  optional string path = 1 [(omitempty) = false];
  optional string type = 2 [(pointer) = true];
}
message EmptyDirVolumeSource {
  optional string medium = 1;
  optional resource.Quantity sizeLimit = 2;
}
message GCEPersistentDiskVolumeSource {
  optional string pdName = 1 [(omitempty) = false];
  optional string fsType = 2;
  optional int32 partition = 3;
  optional bool readOnly = 4;
}
message AWSElasticBlockStoreVolumeSource {
  optional string volumeID = 1 [(omitempty) = false];
  optional string fsType = 2;
  optional int32 partition = 3;
  optional bool readOnly = 4;
}
message GitRepoVolumeSource {
  optional string repository = 1 [(omitempty) = false];
  optional string revision = 2;
  optional string directory = 3;
}
message SecretVolumeSource {
  optional string secretName = 1;
  repeated KeyToPath items = 2;
  optional int32 defaultMode = 3 [(pointer) = true];
  optional bool optional = 4 [(pointer) = true];
}
message KeyToPath {
  optional string key = 1 [(omitempty) = false];
  optional string path = 2 [(omitempty) = false];
  optional int32 mode = 3 [(pointer) = true];
}
message NFSVolumeSource {
  optional string server = 1 [(omitempty) = false];
  optional string path = 2 [(omitempty) = false];
  optional bool readOnly = 3;
}
message ISCSIVolumeSource {
  optional string targetPortal = 1 [(omitempty) = false];
  optional string iqn = 2 [(omitempty) = false];
  optional int32 lun = 3 [(omitempty) = false];
  optional string iscsiInterface = 4;
  optional string fsType = 5;
  optional bool readOnly = 6;
  repeated string portals = 7;
  optional bool chapAuthDiscovery = 8;
  optional bool chapAuthSession = 11;
  optional LocalObjectReference secretRef = 10;
  optional string initiatorName = 12 [(pointer) = true];
}
message GlusterfsVolumeSource {
  optional string endpoints = 1 [(omitempty) = false];
  optional string path = 2 [(omitempty) = false];
  optional bool readOnly = 3;
}
message PersistentVolumeClaimVolumeSource {
  optional string claimName = 1 [(omitempty) = false];
  optional bool readOnly = 2;
}
message RBDVolumeSource {
  repeated string monitors = 1;
  optional string image = 2 [(omitempty) = false];
  optional string fsType = 3;
  optional string pool = 4;
  optional string user = 5;
  optional string keyring = 6;
  optional LocalObjectReference secretRef = 7;
  optional bool readOnly = 8;
}
message FlexVolumeSource {
  optional string driver = 1 [(omitempty) = false];
  optional string fsType = 2;
  optional LocalObjectReference secretRef = 3;
  optional bool readOnly = 4;
  map<string, string> options = 5;
}
message CinderVolumeSource {
  optional string volumeID = 1 [(omitempty) = false];
  optional string fsType = 2;
  optional bool readOnly = 3;
  optional LocalObjectReference secretRef = 4;
}
message CephFSVolumeSource {
  repeated string monitors = 1;
  optional string path = 2;
  optional string user = 3;
  optional string secretFile = 4;
  optional LocalObjectReference secretRef = 5;
  optional bool readOnly = 6;
}
message FlockerVolumeSource {
  optional string datasetName = 1;
  optional string datasetUUID = 2;
}
message DownwardAPIVolumeSource {
  repeated DownwardAPIVolumeFile items = 1;
  optional int32 defaultMode = 2 [(pointer) = true];
}
message DownwardAPIVolumeFile {
  optional string path = 1 [(omitempty) = false];
  optional ObjectFieldSelector fieldRef = 2;
  optional ResourceFieldSelector resourceFieldRef = 3;
  optional int32 mode = 4 [(pointer) = true];
}
message ObjectFieldSelector {
  optional string apiVersion = 1;
  optional string fieldPath = 2 [(omitempty) = false];
}
message ResourceFieldSelector {
  optional string containerName = 1;
  optional string resource = 2 [(omitempty) = false];
  optional resource.Quantity divisor = 3;
}
message FCVolumeSource {
  repeated string targetWWNs = 1;
  optional int32 lun = 2 [(pointer) = true];
  optional string fsType = 3;
  optional bool readOnly = 4;
  repeated string wwids = 5;
}
message AzureFileVolumeSource {
  optional string secretName = 1 [(omitempty) = false];
  optional string shareName = 2 [(omitempty) = false];
  optional bool readOnly = 3;
}
message ConfigMapVolumeSource {
  optional LocalObjectReference localObjectReference = 1 [(inline) = true];
  repeated KeyToPath items = 2;
  optional int32 defaultMode = 3 [(pointer) = true];
  optional bool optional = 4 [(pointer) = true];
}
message VsphereVirtualDiskVolumeSource {
  optional string volumePath = 1 [(omitempty) = false];
  optional string fsType = 2;
  optional string storagePolicyName = 3;
  optional string storagePolicyID = 4;
}
message QuobyteVolumeSource {
  optional string registry = 1 [(omitempty) = false];
  optional string volume = 2 [(omitempty) = false];
  optional bool readOnly = 3;
  optional string user = 4;
  optional string group = 5;
  optional string tenant = 6;
}
message AzureDiskVolumeSource {
  optional string diskName = 1 [(omitempty) = false];
  optional string diskURI = 2 [(omitempty) = false];
  optional string cachingMode = 3 [(pointer) = true];
  optional string fsType = 4 [(pointer) = true];
  optional bool readOnly = 5 [(pointer) = true];
  optional string kind = 6 [(pointer) = true];
}
message PhotonPersistentDiskVolumeSource {
  optional string pdID = 1 [(omitempty) = false];
  optional string fsType = 2;
}
message ProjectedVolumeSource {
  repeated VolumeProjection sources = 1;
  optional int32 defaultMode = 2 [(pointer) = true];
}
message VolumeProjection {
  optional SecretProjection secret = 1;
  optional DownwardAPIProjection downwardAPI = 2;
  optional ConfigMapProjection configMap = 3;
  optional ServiceAccountTokenProjection serviceAccountToken = 4;
  optional ClusterTrustBundleProjection clusterTrustBundle = 5;
}
message SecretProjection {
  optional LocalObjectReference localObjectReference = 1 [(inline) = true];
  repeated KeyToPath items = 2;
  optional bool optional = 4 [(pointer) = true];
}
message DownwardAPIProjection {
  repeated DownwardAPIVolumeFile items = 1;
}
message ConfigMapProjection {
  optional LocalObjectReference localObjectReference = 1 [(inline) = true];
  repeated KeyToPath items = 2;
  optional bool optional = 4 [(pointer) = true];
}
message ServiceAccountTokenProjection {
  optional string audience = 1;
  optional int64 expirationSeconds = 2 [(pointer) = true];
  optional string path = 3 [(omitempty) = false];
}
message ClusterTrustBundleProjection {
  optional string name = 1 [(pointer) = true];
  optional string signerName = 2 [(pointer) = true];
  optional meta.v1.LabelSelector labelSelector = 3;
  optional bool optional = 5 [(pointer) = true];
  optional string path = 4 [(omitempty) = false];
}
message PortworxVolumeSource {
  optional string volumeID = 1 [(omitempty) = false];
  optional string fsType = 2;
  optional bool readOnly = 3;
}
message ScaleIOVolumeSource {
  optional string gateway = 1 [(omitempty) = false];
  optional string system = 2 [(omitempty) = false];
  optional LocalObjectReference secretRef = 3;
  optional bool sslEnabled = 4;
  optional string protectionDomain = 5;
  optional string storagePool = 6;
  optional string storageMode = 7;
  optional string volumeName = 8;
  optional string fsType = 9;
  optional bool readOnly = 10;
}
message StorageOSVolumeSource {
  optional string volumeName = 1;
  optional string volumeNamespace = 2;
  optional string fsType = 3;
  optional bool readOnly = 4;
  optional LocalObjectReference secretRef = 5;
}
message CSIVolumeSource {
  optional string driver = 1 [(omitempty) = false];
  optional bool readOnly = 2 [(pointer) = true];
  optional string fsType = 3 [(pointer) = true];
  map<string, string> volumeAttributes = 4;
  optional LocalObjectReference nodePublishSecretRef = 5;
}
message EphemeralVolumeSource {
  optional PersistentVolumeClaimTemplate volumeClaimTemplate = 1;
}
message PersistentVolumeClaimTemplate {
  optional meta.v1.ObjectMeta metadata = 1;
  optional PersistentVolumeClaimSpec spec = 2;
}
message PersistentVolumeClaimSpec {
  repeated string accessModes = 1;
  optional meta.v1.LabelSelector selector = 4;
  optional VolumeResourceRequirements resources = 2;
  optional string volumeName = 3;
  optional string storageClassName = 5 [(pointer) = true];
  optional string volumeMode = 6 [(pointer) = true];
  optional TypedLocalObjectReference dataSource = 7;
  optional TypedObjectReference dataSourceRef = 8;
  optional string volumeAttributesClassName = 9 [(pointer) = true];
}
message VolumeResourceRequirements {
  map<string, resource.Quantity> limits = 1;
  map<string, resource.Quantity> requests = 2;
}
message TypedLocalObjectReference {
  optional string apiGroup = 1 [(pointer) = true];
  optional string kind = 2 [(omitempty) = false];
  optional string name = 3 [(omitempty) = false];
}
message TypedObjectReference {
  optional string apiGroup = 1 [(pointer) = true];
  optional string kind = 2 [(omitempty) = false];
  optional string name = 3 [(omitempty) = false];
  optional string namespace = 4 [(pointer) = true];
}
message ImageVolumeSource {
  optional string reference = 1;
  optional string pullPolicy = 2;
}
message Container {
  optional string name = 1 [(omitempty) = false];
  optional string image = 2;
  repeated string command = 3;
  repeated string args = 4;
  optional string workingDir = 5;
  repeated ContainerPort ports = 6;
  repeated EnvFromSource envFrom = 19;
  repeated EnvVar env = 7;
  optional ResourceRequirements resources = 8;
  repeated ContainerResizePolicy resizePolicy = 23;
  optional string restartPolicy = 24 [(pointer) = true];
  repeated VolumeMount volumeMounts = 9;
  repeated VolumeDevice volumeDevices = 21;
  optional Probe livenessProbe = 10;
  optional Probe readinessProbe = 11;
  optional Probe startupProbe = 22;
  optional Lifecycle lifecycle = 12;
  optional string terminationMessagePath = 13;
  optional string terminationMessagePolicy = 20;
  optional string imagePullPolicy = 14;
  optional SecurityContext securityContext = 15;
  optional bool stdin = 16;
  optional bool stdinOnce = 17;
  optional bool tty = 18;
}
message ContainerPort {
  optional string name = 1;
  optional int32 hostPort = 2;
  optional int32 containerPort = 3 [(omitempty) = false];
  optional string protocol = 4;
  optional string hostIP = 5;
}
message EnvFromSource {
  optional string prefix = 1;
  optional ConfigMapEnvSource configMapRef = 2;
  optional SecretEnvSource secretRef = 3;
}
message ConfigMapEnvSource {
  optional LocalObjectReference localObjectReference = 1 [(inline) = true];
  optional bool optional = 2 [(pointer) = true];
}
message SecretEnvSource {
  optional LocalObjectReference localObjectReference = 1 [(inline) = true];
  optional bool optional = 2 [(pointer) = true];
}
message EnvVar {
  optional string name = 1 [(omitempty) = false];
  optional string value = 2;
  optional EnvVarSource valueFrom = 3;
}
message EnvVarSource {
  optional ObjectFieldSelector fieldRef = 1;
  optional ResourceFieldSelector resourceFieldRef = 2;
  optional ConfigMapKeySelector configMapKeyRef = 3;
  optional SecretKeySelector secretKeyRef = 4;
}
message ConfigMapKeySelector {
  optional LocalObjectReference localObjectReference = 1 [(inline) = true];
  optional string key = 2 [(omitempty) = false];
  optional bool optional = 3 [(pointer) = true];
}
message SecretKeySelector {
  optional LocalObjectReference localObjectReference = 1 [(inline) = true];
  optional string key = 2 [(omitempty) = false];
  optional bool optional = 3 [(pointer) = true];
}
message ResourceRequirements {
  map<string, resource.Quantity> limits = 1;
  map<string, resource.Quantity> requests = 2;
  repeated ResourceClaim claims = 3;
}
message ResourceClaim {
  optional string name = 1 [(omitempty) = false];
  optional string request = 2;
}
message ContainerResizePolicy {
  optional string resourceName = 1 [(omitempty) = false];
  optional string restartPolicy = 2 [(omitempty) = false];
}
message VolumeMount {
  optional string name = 1 [(omitempty) = false];
  optional bool readOnly = 2;
  optional string recursiveReadOnly = 7 [(pointer) = true];
  optional string mountPath = 3 [(omitempty) = false];
  optional string subPath = 4;
  optional string mountPropagation = 5 [(pointer) = true];
  optional string subPathExpr = 6;
}
message VolumeDevice {
  optional string name = 1 [(omitempty) = false];
  optional string devicePath = 2 [(omitempty) = false];
}
message Probe {
  optional ProbeHandler handler = 1 [(inline) = true];
  optional int32 initialDelaySeconds = 2;
  optional int32 timeoutSeconds = 3;
  optional int32 periodSeconds = 4;
  optional int32 successThreshold = 5;
  optional int32 failureThreshold = 6;
  optional int64 terminationGracePeriodSeconds = 7 [(pointer) = true];
}
message ProbeHandler {
  optional ExecAction exec = 1;
  optional HTTPGetAction httpGet = 2;
  optional TCPSocketAction tcpSocket = 3;
  optional GRPCAction grpc = 4;
}
message ExecAction {
  repeated string command = 1;
}
message HTTPGetAction {
  optional string path = 1;
  optional intstr.IntOrString port = 2 [(omitempty) = false];
  optional string host = 3;
  optional string scheme = 4;
  repeated HTTPHeader httpHeaders = 5;
}
message HTTPHeader {
  optional string name = 1 [(omitempty) = false];
  optional string value = 2 [(omitempty) = false];
}
message TCPSocketAction {
  optional intstr.IntOrString port = 1 [(omitempty) = false];
  optional string host = 2;
}
message GRPCAction {
  optional int32 port = 1 [(omitempty) = false];
  optional string service = 2 [(pointer) = true];
}
message Lifecycle {
  optional LifecycleHandler postStart = 1;
  optional LifecycleHandler preStop = 2;
}
message LifecycleHandler {
  optional ExecAction exec = 1;
  optional HTTPGetAction httpGet = 2;
  optional TCPSocketAction tcpSocket = 3;
  optional SleepAction sleep = 4;
}
message SleepAction {
  optional int64 seconds = 1 [(omitempty) = false];
}
message SecurityContext {
  optional Capabilities capabilities = 1;
  optional bool privileged = 2 [(pointer) = true];
  optional SELinuxOptions seLinuxOptions = 3;
  optional WindowsSecurityContextOptions windowsOptions = 10;
  optional int64 runAsUser = 4 [(pointer) = true];
  optional int64 runAsGroup = 8 [(pointer) = true];
  optional bool runAsNonRoot = 5 [(pointer) = true];
  optional bool readOnlyRootFilesystem = 6 [(pointer) = true];
  optional bool allowPrivilegeEscalation = 7 [(pointer) = true];
  optional string procMount = 9 [(pointer) = true];
  optional SeccompProfile seccompProfile = 11;
  optional AppArmorProfile appArmorProfile = 12;
}
message Capabilities {
  repeated string add = 1;
  repeated string drop = 2;
}
message SELinuxOptions {
  optional string user = 1;
  optional string role = 2;
  optional string type = 3;
  optional string level = 4;
}
message WindowsSecurityContextOptions {
  optional string gmsaCredentialSpecName = 1 [(pointer) = true];
  optional string gmsaCredentialSpec = 2 [(pointer) = true];
  optional string runAsUserName = 3 [(pointer) = true];
  optional bool hostProcess = 4 [(pointer) = true];
}
message SeccompProfile {
  optional string type = 1 [(omitempty) = false];
  optional string localhostProfile = 2 [(pointer) = true];
}
message AppArmorProfile {
  optional string type = 1 [(omitempty) = false];
  optional string localhostProfile = 2 [(pointer) = true];
}
message EphemeralContainer {
  optional EphemeralContainerCommon ephemeralContainerCommon = 1 [(inline) = true];
  optional string targetContainerName = 2;
}
message EphemeralContainerCommon {
  optional string name = 1 [(omitempty) = false];
  optional string image = 2;
  repeated string command = 3;
  repeated string args = 4;
  optional string workingDir = 5;
  repeated ContainerPort ports = 6;
  repeated EnvFromSource envFrom = 19;
  repeated EnvVar env = 7;
  optional ResourceRequirements resources = 8;
  repeated ContainerResizePolicy resizePolicy = 23;
  optional string restartPolicy = 24 [(pointer) = true];
  repeated VolumeMount volumeMounts = 9;
  repeated VolumeDevice volumeDevices = 21;
  optional Probe livenessProbe = 10;
  optional Probe readinessProbe = 11;
  optional Probe startupProbe = 22;
  optional Lifecycle lifecycle = 12;
  optional string terminationMessagePath = 13;
  optional string terminationMessagePolicy = 20;
  optional string imagePullPolicy = 14;
  optional SecurityContext securityContext = 15;
  optional bool stdin = 16;
  optional bool stdinOnce = 17;
  optional bool tty = 18;
}
message PodSecurityContext {
  optional SELinuxOptions seLinuxOptions = 1;
  optional WindowsSecurityContextOptions windowsOptions = 8;
  optional int64 runAsUser = 2 [(pointer) = true];
  optional int64 runAsGroup = 6 [(pointer) = true];
  optional bool runAsNonRoot = 3 [(pointer) = true];
  repeated int64 supplementalGroups = 4;
  optional string supplementalGroupsPolicy = 12 [(pointer) = true];
  optional int64 fsGroup = 5 [(pointer) = true];
  repeated Sysctl sysctls = 7;
  optional string fsGroupChangePolicy = 9 [(pointer) = true];
  optional SeccompProfile seccompProfile = 10;
  optional AppArmorProfile appArmorProfile = 11;
  optional string seLinuxChangePolicy = 13 [(pointer) = true];
}
message Sysctl {
  optional string name = 1 [(omitempty) = false];
  optional string value = 2 [(omitempty) = false];
}
message Affinity {
  optional NodeAffinity nodeAffinity = 1;
  optional PodAffinity podAffinity = 2;
  optional PodAntiAffinity podAntiAffinity = 3;
}
message NodeAffinity {
  optional NodeSelector requiredDuringSchedulingIgnoredDuringExecution = 1;
  repeated PreferredSchedulingTerm preferredDuringSchedulingIgnoredDuringExecution = 2;
}
message NodeSelector {
  repeated NodeSelectorTerm nodeSelectorTerms = 1;
}
message NodeSelectorTerm {
  repeated NodeSelectorRequirement matchExpressions = 1;
  repeated NodeSelectorRequirement matchFields = 2;
}
message NodeSelectorRequirement {
  optional string key = 1 [(omitempty) = false];
  optional string operator = 2 [(omitempty) = false];
  repeated string values = 3;
}
message PreferredSchedulingTerm {
  optional int32 weight = 1 [(omitempty) = false];
  optional NodeSelectorTerm preference = 2;
}
message PodAffinity {
  repeated PodAffinityTerm requiredDuringSchedulingIgnoredDuringExecution = 1;
  repeated WeightedPodAffinityTerm preferredDuringSchedulingIgnoredDuringExecution = 2;
}
message PodAffinityTerm {
  optional meta.v1.LabelSelector labelSelector = 1;
  repeated string namespaces = 2;
  optional string topologyKey = 3 [(omitempty) = false];
  optional meta.v1.LabelSelector namespaceSelector = 4;
  repeated string matchLabelKeys = 5;
  repeated string mismatchLabelKeys = 6;
}
message WeightedPodAffinityTerm {
  optional int32 weight = 1 [(omitempty) = false];
  optional PodAffinityTerm podAffinityTerm = 2;
}
message PodAntiAffinity {
  repeated PodAffinityTerm requiredDuringSchedulingIgnoredDuringExecution = 1;
  repeated WeightedPodAffinityTerm preferredDuringSchedulingIgnoredDuringExecution = 2;
}
message Toleration {
  optional string key = 1;
  optional string operator = 2;
  optional string value = 3;
  optional string effect = 4;
  optional int64 tolerationSeconds = 5 [(pointer) = true];
}
message HostAlias {
  optional string ip = 1 [(omitempty) = false];
  repeated string hostnames = 2;
}
message PodDNSConfig {
  repeated string nameservers = 1;
  repeated string searches = 2;
  repeated PodDNSConfigOption options = 3;
}
message PodDNSConfigOption {
  optional string name = 1;
  optional string value = 2 [(pointer) = true];
}
message PodReadinessGate {
  optional string conditionType = 1 [(omitempty) = false];
}
message TopologySpreadConstraint {
  optional int32 maxSkew = 1 [(omitempty) = false];
  optional string topologyKey = 2 [(omitempty) = false];
  optional string whenUnsatisfiable = 3 [(omitempty) = false];
  optional meta.v1.LabelSelector labelSelector = 4;
  optional int32 minDomains = 5 [(pointer) = true];
  optional string nodeAffinityPolicy = 6 [(pointer) = true];
  optional string nodeTaintsPolicy = 7 [(pointer) = true];
  repeated string matchLabelKeys = 8;
}
message PodOS {
  optional string name = 1 [(omitempty) = false];
}
message PodSchedulingGate {
  optional string name = 1 [(omitempty) = false];
}
message PodResourceClaim {
  optional string name = 1 [(omitempty) = false];
  optional string resourceClaimName = 3 [(pointer) = true];
  optional string resourceClaimTemplateName = 4 [(pointer) = true];
}
message PodStatus {
  optional string phase = 1;
  repeated PodCondition conditions = 2;
  optional string message = 3;
  optional string reason = 4;
  optional string nominatedNodeName = 11;
  optional string hostIP = 5;
  repeated HostIP hostIPs = 16;
  optional string podIP = 6;
  repeated PodIP podIPs = 12;
  optional meta.v1.Time startTime = 7;
  repeated ContainerStatus initContainerStatuses = 10;
  repeated ContainerStatus containerStatuses = 8;
  optional string qosClass = 9;
  repeated ContainerStatus ephemeralContainerStatuses = 13;
  optional string resize = 14;
  repeated PodResourceClaimStatus resourceClaimStatuses = 15;
}
message PodCondition {
  optional string type = 1 [(omitempty) = false];
  optional string status = 2 [(omitempty) = false];
  optional meta.v1.Time lastProbeTime = 3;
  optional meta.v1.Time lastTransitionTime = 4;
  optional string reason = 5;
  optional string message = 6;
}
message HostIP {
  optional string ip = 1 [(omitempty) = false];
}
message PodIP {
  optional string ip = 1 [(omitempty) = false];
}
message ContainerStatus {
  optional string name = 1 [(omitempty) = false];
  optional ContainerState state = 2;
  optional ContainerState lastState = 3;
  optional bool ready = 4 [(omitempty) = false];
  optional int32 restartCount = 5 [(omitempty) = false];
  optional string image = 6 [(omitempty) = false];
  optional string imageID = 7 [(omitempty) = false];
  optional string containerID = 8;
  optional bool started = 9 [(pointer) = true];
  map<string, resource.Quantity> allocatedResources = 10;
  optional ResourceRequirements resources = 11;
  repeated VolumeMountStatus volumeMounts = 12;
  optional ContainerUser user = 13;
  repeated ResourceStatus allocatedResourcesStatus = 14;
}
message ContainerState {
  optional ContainerStateWaiting waiting = 1;
  optional ContainerStateRunning running = 2;
  optional ContainerStateTerminated terminated = 3;
}
message ContainerStateWaiting {
  optional string reason = 1;
  optional string message = 2;
}
message ContainerStateRunning {
  optional meta.v1.Time startedAt = 1;
}
message ContainerStateTerminated {
  optional int32 exitCode = 1 [(omitempty) = false];
  optional int32 signal = 2;
  optional string reason = 3;
  optional string message = 4;
  optional meta.v1.Time startedAt = 5;
  optional meta.v1.Time finishedAt = 6;
  optional string containerID = 7;
}
message VolumeMountStatus {
  optional string name = 1 [(omitempty) = false];
  optional string mountPath = 2 [(omitempty) = false];
  optional bool readOnly = 3;
  optional string recursiveReadOnly = 4 [(pointer) = true];
}
message ContainerUser {
  optional LinuxContainerUser linux = 1;
}
message LinuxContainerUser {
  optional int64 uid = 1 [(omitempty) = false];
  optional int64 gid = 2 [(omitempty) = false];
  repeated int64 supplementalGroups = 3;
}
message ResourceStatus {
  optional string name = 1 [(omitempty) = false];
  repeated ResourceHealth resources = 2;
}
message ResourceHealth {
  optional string resourceID = 1 [(omitempty) = false];
  optional string health = 2;
}
message PodResourceClaimStatus {
  optional string name = 1 [(omitempty) = false];
  optional string resourceClaimName = 2 [(pointer) = true];
}
message Endpoints {
  optional meta.v1.ObjectMeta metadata = 1;
  repeated EndpointSubset subsets = 2;
}
message EndpointSubset {
  repeated EndpointAddress addresses = 1;
  repeated EndpointAddress notReadyAddresses = 2;
  repeated EndpointPort ports = 3;
}
message EndpointAddress {
  optional string ip = 1 [(omitempty) = false];
  optional string hostname = 3;
  optional string nodeName = 4 [(pointer) = true];
  optional ObjectReference targetRef = 2;
}
message EndpointPort {
  optional string name = 1;
  optional int32 port = 2 [(omitempty) = false];
  optional string protocol = 3;
  optional string appProtocol = 4 [(pointer) = true];
}
message Node {
  optional meta.v1.ObjectMeta metadata = 1;
  optional NodeSpec spec = 2;
  optional NodeStatus status = 3;
}
message NodeSpec {
  optional string podCIDR = 1;
  repeated string podCIDRs = 7;
  optional string providerID = 3;
  optional bool unschedulable = 4;
  repeated Taint taints = 5;
  optional NodeConfigSource configSource = 6;
  optional string externalID = 2;
}
message Taint {
  optional string key = 1 [(omitempty) = false];
  optional string value = 2;
  optional string effect = 3 [(omitempty) = false];
  optional meta.v1.Time timeAdded = 4;
}
message NodeConfigSource {
  optional ConfigMapNodeConfigSource configMap = 2;
}
message ConfigMapNodeConfigSource {
  optional string namespace = 1 [(omitempty) = false];
  optional string name = 2 [(omitempty) = false];
  optional string uid = 3;
  optional string resourceVersion = 4;
  optional string kubeletConfigKey = 5 [(omitempty) = false];
}
message NodeStatus {
  map<string, resource.Quantity> capacity = 1;
  map<string, resource.Quantity> allocatable = 2;
  optional string phase = 3;
  repeated NodeCondition conditions = 4;
  repeated NodeAddress addresses = 5;
  optional NodeDaemonEndpoints daemonEndpoints = 6;
  optional NodeSystemInfo nodeInfo = 7;
  repeated ContainerImage images = 8;
  repeated string volumesInUse = 9;
  repeated AttachedVolume volumesAttached = 10;
  optional NodeConfigStatus config = 11;
  repeated NodeRuntimeHandler runtimeHandlers = 12;
  optional NodeFeatures features = 13;
}
message NodeCondition {
  optional string type = 1 [(omitempty) = false];
  optional string status = 2 [(omitempty) = false];
  optional meta.v1.Time lastHeartbeatTime = 3;
  optional meta.v1.Time lastTransitionTime = 4;
  optional string reason = 5;
  optional string message = 6;
}
message NodeAddress {
  optional string type = 1 [(omitempty) = false];
  optional string address = 2 [(omitempty) = false];
}
message NodeDaemonEndpoints {
  optional DaemonEndpoint kubeletEndpoint = 1;
}
message DaemonEndpoint {
  optional int32 Port = 1 [(omitempty) = false];
}
message NodeSystemInfo {
  optional string machineID = 1 [(omitempty) = false];
  optional string systemUUID = 2 [(omitempty) = false];
  optional string bootID = 3 [(omitempty) = false];
  optional string kernelVersion = 4 [(omitempty) = false];
  optional string osImage = 5 [(omitempty) = false];
  optional string containerRuntimeVersion = 6 [(omitempty) = false];
  optional string kubeletVersion = 7 [(omitempty) = false];
  optional string kubeProxyVersion = 8 [(omitempty) = false];
  optional string operatingSystem = 9 [(omitempty) = false];
  optional string architecture = 10 [(omitempty) = false];
}
message ContainerImage {
  repeated string names = 1;
  optional int64 sizeBytes = 2;
}
message AttachedVolume {
  optional string name = 1 [(omitempty) = false];
  optional string devicePath = 2 [(omitempty) = false];
}
message NodeConfigStatus {
  optional NodeConfigSource assigned = 1;
  optional NodeConfigSource active = 2;
  optional NodeConfigSource lastKnownGood = 3;
  optional string error = 4;
}
message NodeRuntimeHandler {
  optional string name = 1 [(omitempty) = false];
  optional NodeRuntimeHandlerFeatures features = 2;
}
message NodeRuntimeHandlerFeatures {
  optional bool recursiveReadOnlyMounts = 1 [(pointer) = true];
  optional bool userNamespaces = 2 [(pointer) = true];
}
message NodeFeatures {
  optional bool supplementalGroupsPolicy = 1 [(pointer) = true];
}
message Event {
  optional meta.v1.ObjectMeta metadata = 1;
  optional ObjectReference involvedObject = 2;
  optional string reason = 3;
  optional string message = 4;
  optional EventSource source = 5;
  optional meta.v1.Time firstTimestamp = 6;
  optional meta.v1.Time lastTimestamp = 7;
  optional int32 count = 8;
  optional string type = 9;
  optional meta.v1.MicroTime eventTime = 10;
  optional EventSeries series = 11;
  optional string action = 12;
  optional ObjectReference related = 13;
  optional string reportingComponent = 14 [(omitempty) = false];
  optional string reportingInstance = 15 [(omitempty) = false];
}
message EventSource {
  optional string component = 1;
  optional string host = 2;
}
message EventSeries {
  optional int32 count = 1;
  optional meta.v1.MicroTime lastObservedTime = 2;
}
message Binding {
  optional meta.v1.ObjectMeta metadata = 1;
  optional ObjectReference target = 2;
}
message PodTemplateSpec {
  optional meta.v1.ObjectMeta metadata = 1;
  optional PodSpec spec = 2;
}
message PersistentVolumeClaim {
  optional meta.v1.ObjectMeta metadata = 1;
  optional PersistentVolumeClaimSpec spec = 2;
  optional PersistentVolumeClaimStatus status = 3;
}
message PersistentVolumeClaimStatus {
  optional string phase = 1;
  repeated string accessModes = 2;
  map<string, resource.Quantity> capacity = 3;
  repeated PersistentVolumeClaimCondition conditions = 4;
  map<string, resource.Quantity> allocatedResources = 5;
  map<string, string> allocatedResourceStatuses = 7;
  optional string currentVolumeAttributesClassName = 8 [(pointer) = true];
  optional ModifyVolumeStatus modifyVolumeStatus = 9;
}
message PersistentVolumeClaimCondition {
  optional string type = 1 [(omitempty) = false];
  optional string status = 2 [(omitempty) = false];
  optional meta.v1.Time lastProbeTime = 3;
  optional meta.v1.Time lastTransitionTime = 4;
  optional string reason = 5;
  optional string message = 6;
}
message ModifyVolumeStatus {
  optional string targetVolumeAttributesClassName = 1;
  optional string status = 2 [(omitempty) = false];
}
`;

/** appsV1: messages of k8s.io/api/apps/v1. */
const appsV1 = `${header('apps.v1')}
message Deployment {
  optional meta.v1.ObjectMeta metadata = 1;
  optional DeploymentSpec spec = 2;
  optional DeploymentStatus status = 3;
}
message DeploymentSpec {
  optional int32 replicas = 1 [(pointer) = true];
  optional meta.v1.LabelSelector selector = 2;
  optional core.v1.PodTemplateSpec template = 3;
  optional DeploymentStrategy strategy = 4;
  optional int32 minReadySeconds = 5;
  optional int32 revisionHistoryLimit = 6 [(pointer) = true];
  optional bool paused = 7;
  optional int32 progressDeadlineSeconds = 9 [(pointer) = true];
}
message DeploymentStrategy {
  optional string type = 1;
  optional RollingUpdateDeployment rollingUpdate = 2;
}
message RollingUpdateDeployment {
  optional intstr.IntOrString maxUnavailable = 1 [(pointer) = true];
  optional intstr.IntOrString maxSurge = 2 [(pointer) = true];
}
message DeploymentStatus {
  optional int64 observedGeneration = 1;
  optional int32 replicas = 2;
  optional int32 updatedReplicas = 3;
  optional int32 readyReplicas = 7;
  optional int32 availableReplicas = 4;
  optional int32 unavailableReplicas = 5;
  repeated DeploymentCondition conditions = 6;
  optional int32 collisionCount = 8 [(pointer) = true];
}
message DeploymentCondition {
  optional string type = 1 [(omitempty) = false];
  optional string status = 2 [(omitempty) = false];
  optional meta.v1.Time lastUpdateTime = 6;
  optional meta.v1.Time lastTransitionTime = 7;
  optional string reason = 4;
  optional string message = 5;
}
message ReplicaSet {
  optional meta.v1.ObjectMeta metadata = 1;
  optional ReplicaSetSpec spec = 2;
  optional ReplicaSetStatus status = 3;
}
message ReplicaSetSpec {
  optional int32 replicas = 1 [(pointer) = true];
  optional int32 minReadySeconds = 4;
  optional meta.v1.LabelSelector selector = 2;
  optional core.v1.PodTemplateSpec template = 3;
}
message ReplicaSetStatus {
  optional int32 replicas = 1 [(omitempty) = false];
  optional int32 fullyLabeledReplicas = 2;
  optional int32 readyReplicas = 4;
  optional int32 availableReplicas = 5;
  optional int64 observedGeneration = 3;
  repeated ReplicaSetCondition conditions = 6;
}
message ReplicaSetCondition {
  optional string type = 1 [(omitempty) = false];
  optional string status = 2 [(omitempty) = false];
  optional meta.v1.Time lastTransitionTime = 3;
  optional string reason = 4;
  optional string message = 5;
}
message StatefulSet {
  optional meta.v1.ObjectMeta metadata = 1;
  optional StatefulSetSpec spec = 2;
  optional StatefulSetStatus status = 3;
}
message StatefulSetSpec {
  optional int32 replicas = 1 [(pointer) = true];
  optional meta.v1.LabelSelector selector = 2;
  optional core.v1.PodTemplateSpec template = 3;
  repeated core.v1.PersistentVolumeClaim volumeClaimTemplates = 4;
  optional string serviceName = 5 [(omitempty) = false];
  optional string podManagementPolicy = 6;
  optional StatefulSetUpdateStrategy updateStrategy = 7;
  optional int32 revisionHistoryLimit = 8 [(pointer) = true];
  optional int32 minReadySeconds = 9;
  optional StatefulSetPersistentVolumeClaimRetentionPolicy persistentVolumeClaimRetentionPolicy = 10;
  optional StatefulSetOrdinals ordinals = 11;
}
message StatefulSetUpdateStrategy {
  optional string type = 1;
  optional RollingUpdateStatefulSetStrategy rollingUpdate = 2;
}
message RollingUpdateStatefulSetStrategy {
  optional int32 partition = 1 [(pointer) = true];
  optional intstr.IntOrString maxUnavailable = 2 [(pointer) = true];
}
message StatefulSetPersistentVolumeClaimRetentionPolicy {
  optional string whenDeleted = 1;
  optional string whenScaled = 2;
}
message StatefulSetOrdinals {
  optional int32 start = 1 [(omitempty) = false];
}
message StatefulSetStatus {
  optional int64 observedGeneration = 1;
  optional int32 replicas = 2 [(omitempty) = false];
  optional int32 readyReplicas = 3;
  optional int32 currentReplicas = 4;
  optional int32 updatedReplicas = 5;
  optional string currentRevision = 6;
  optional string updateRevision = 7;
  optional int32 collisionCount = 9 [(pointer) = true];
  repeated StatefulSetCondition conditions = 10;
  optional int32 availableReplicas = 11 [(omitempty) = false];
}
message StatefulSetCondition {
  optional string type = 1 [(omitempty) = false];
  optional string status = 2 [(omitempty) = false];
  optional meta.v1.Time lastTransitionTime = 3;
  optional string reason = 4;
  optional string message = 5;
}
message DaemonSet {
  optional meta.v1.ObjectMeta metadata = 1;
  optional DaemonSetSpec spec = 2;
  optional DaemonSetStatus status = 3;
}
message DaemonSetSpec {
  optional meta.v1.LabelSelector selector = 1;
  optional core.v1.PodTemplateSpec template = 2;
  optional DaemonSetUpdateStrategy updateStrategy = 3;
  optional int32 minReadySeconds = 4;
  optional int32 revisionHistoryLimit = 6 [(pointer) = true];
}
message DaemonSetUpdateStrategy {
  optional string type = 1;
  optional RollingUpdateDaemonSet rollingUpdate = 2;
}
message RollingUpdateDaemonSet {
  optional intstr.IntOrString maxUnavailable = 1 [(pointer) = true];
  optional intstr.IntOrString maxSurge = 2 [(pointer) = true];
}
message DaemonSetStatus {
  optional int32 currentNumberScheduled = 1 [(omitempty) = false];
  optional int32 numberMisscheduled = 2 [(omitempty) = false];
  optional int32 desiredNumberScheduled = 3 [(omitempty) = false];
  optional int32 numberReady = 4 [(omitempty) = false];
  optional int64 observedGeneration = 5;
  optional int32 updatedNumberScheduled = 6;
  optional int32 numberAvailable = 7;
  optional int32 numberUnavailable = 8;
  optional int32 collisionCount = 9 [(pointer) = true];
  repeated DaemonSetCondition conditions = 10;
}
message DaemonSetCondition {
  optional string type = 1 [(omitempty) = false];
  optional string status = 2 [(omitempty) = false];
  optional meta.v1.Time lastTransitionTime = 3;
  optional string reason = 4;
  optional string message = 5;
}
`;

/** batchV1: messages of k8s.io/api/batch/v1. */
const batchV1 = `${header('batch.v1')}
message Job {
  optional meta.v1.ObjectMeta metadata = 1;
  optional JobSpec spec = 2;
  optional JobStatus status = 3;
}
message JobSpec {
  optional int32 parallelism = 1 [(pointer) = true];
  optional int32 completions = 2 [(pointer) = true];
  optional int64 activeDeadlineSeconds = 3 [(pointer) = true];
  optional PodFailurePolicy podFailurePolicy = 11;
  optional SuccessPolicy successPolicy = 16;
  optional int32 backoffLimit = 7 [(pointer) = true];
  optional int32 backoffLimitPerIndex = 12 [(pointer) = true];
  optional int32 maxFailedIndexes = 13 [(pointer) = true];
  optional meta.v1.LabelSelector selector = 4;
  optional bool manualSelector = 5 [(pointer) = true];
  optional core.v1.PodTemplateSpec template = 6;
  optional int32 ttlSecondsAfterFinished = 8 [(pointer) = true];
  optional string completionMode = 9 [(pointer) = true];
  optional bool suspend = 10 [(pointer) = true];
  optional string podReplacementPolicy = 14 [(pointer) = true];
  optional string managedBy = 15 [(pointer) = true];
}
message PodFailurePolicy {
  repeated PodFailurePolicyRule rules = 1;
}
message PodFailurePolicyRule {
  optional string action = 1 [(omitempty) = false];
  optional PodFailurePolicyOnExitCodesRequirement onExitCodes = 2;
  repeated PodFailurePolicyOnPodConditionsPattern onPodConditions = 3;
}
message PodFailurePolicyOnExitCodesRequirement {
  optional string containerName = 1 [(pointer) = true];
  optional string operator = 2 [(omitempty) = false];
  repeated int32 values = 3;
}
message PodFailurePolicyOnPodConditionsPattern {
  optional string type = 1 [(omitempty) = false];
  optional string status = 2 [(omitempty) = false];
}
message SuccessPolicy {
  repeated SuccessPolicyRule rules = 1;
}
message SuccessPolicyRule {
  optional string succeededIndexes = 1 [(pointer) = true];
  optional int32 succeededCount = 2 [(pointer) = true];
}
message JobStatus {
  repeated JobCondition conditions = 1;
  optional meta.v1.Time startTime = 2;
  optional meta.v1.Time completionTime = 3;
  optional int32 active = 4;
  optional int32 succeeded = 5;
  optional int32 failed = 6;
  optional int32 terminating = 11 [(pointer) = true];
  optional string completedIndexes = 7;
  optional string failedIndexes = 10 [(pointer) = true];
  optional UncountedTerminatedPods uncountedTerminatedPods = 8;
  optional int32 ready = 9 [(pointer) = true];
}
message JobCondition {
  optional string type = 1 [(omitempty) = false];
  optional string status = 2 [(omitempty) = false];
  optional meta.v1.Time lastProbeTime = 3;
  optional meta.v1.Time lastTransitionTime = 4;
  optional string reason = 5;
  optional string message = 6;
}
message UncountedTerminatedPods {
  repeated string succeeded = 1;
  repeated string failed = 2;
}
message CronJob {
  optional meta.v1.ObjectMeta metadata = 1;
  optional CronJobSpec spec = 2;
  optional CronJobStatus status = 3;
}
message CronJobSpec {
  optional string schedule = 1 [(omitempty) = false];
  optional string timeZone = 8 [(pointer) = true];
  optional int64 startingDeadlineSeconds = 2 [(pointer) = true];
  optional string concurrencyPolicy = 3;
  optional bool suspend = 4 [(pointer) = true];
  optional JobTemplateSpec jobTemplate = 5;
  optional int32 successfulJobsHistoryLimit = 6 [(pointer) = true];
  optional int32 failedJobsHistoryLimit = 7 [(pointer) = true];
}
message JobTemplateSpec {
  optional meta.v1.ObjectMeta metadata = 1;
  optional JobSpec spec = 2;
}
message CronJobStatus {
  repeated core.v1.ObjectReference active = 1;
  optional meta.v1.Time lastScheduleTime = 4;
  optional meta.v1.Time lastSuccessfulTime = 5;
}
`;

/** discoveryV1: messages of k8s.io/api/discovery/v1. */
const discoveryV1 = `${header('discovery.v1')}
message EndpointSlice {
  optional meta.v1.ObjectMeta metadata = 1;
  optional string addressType = 4 [(omitempty) = false];
  repeated Endpoint endpoints = 2;
  repeated EndpointPort ports = 3;
}
message Endpoint {
  repeated string addresses = 1;
  optional EndpointConditions conditions = 2;
  optional string hostname = 3 [(pointer) = true];
  optional core.v1.ObjectReference targetRef = 4;
  map<string, string> deprecatedTopology = 5;
  optional string nodeName = 6 [(pointer) = true];
  optional string zone = 7 [(pointer) = true];
  optional EndpointHints hints = 8;
}
message EndpointConditions {
  optional bool ready = 1 [(pointer) = true];
  optional bool serving = 2 [(pointer) = true];
  optional bool terminating = 3 [(pointer) = true];
}
message EndpointHints {
  repeated ForZone forZones = 1;
}
message ForZone {
  optional string name = 1 [(omitempty) = false];
}
message EndpointPort {
  optional string name = 1 [(pointer) = true];
  optional string protocol = 2 [(pointer) = true];
  optional int32 port = 3 [(pointer) = true];
  optional string appProtocol = 4 [(pointer) = true];
}
`;

/** eventsV1: messages of k8s.io/api/events/v1. */
const eventsV1 = `${header('events.v1')}
message Event {
  optional meta.v1.ObjectMeta metadata = 1;
  optional meta.v1.MicroTime eventTime = 2;
  optional EventSeries series = 3;
  optional string reportingController = 4;
  optional string reportingInstance = 5;
  optional string action = 6;
  optional string reason = 7;
  optional core.v1.ObjectReference regarding = 8;
  optional core.v1.ObjectReference related = 9;
  optional string note = 10;
  optional string type = 11;
  optional core.v1.EventSource deprecatedSource = 12;
  optional meta.v1.Time deprecatedFirstTimestamp = 13;
  optional meta.v1.Time deprecatedLastTimestamp = 14;
  optional int32 deprecatedCount = 15;
}
message EventSeries {
  optional int32 count = 1 [(omitempty) = false];
  optional meta.v1.MicroTime lastObservedTime = 2;
}
`;

/** coordinationV1: messages of k8s.io/api/coordination/v1. */
const coordinationV1 = `${header('coordination.v1')}
message Lease {
  optional meta.v1.ObjectMeta metadata = 1;
  optional LeaseSpec spec = 2;
}
message LeaseSpec {
  optional string holderIdentity = 1 [(pointer) = true];
  optional int32 leaseDurationSeconds = 2 [(pointer) = true];
  optional meta.v1.MicroTime acquireTime = 3;
  optional meta.v1.MicroTime renewTime = 4;
  optional int32 leaseTransitions = 5 [(pointer) = true];
  optional string strategy = 6 [(pointer) = true];
  optional string preferredHolder = 7 [(pointer) = true];
}
`;

/** schedulingV1: messages of k8s.io/api/scheduling/v1. */
const schedulingV1 = `${header('scheduling.v1')}
message PriorityClass {
  optional meta.v1.ObjectMeta metadata = 1;
  optional int32 value = 2 [(omitempty) = false];
  optional bool globalDefault = 3;
  optional string description = 4;
  optional string preemptionPolicy = 5 [(pointer) = true];
}
`;

/** autoscalingV1: messages of k8s.io/api/autoscaling/v1. */
const autoscalingV1 = `${header('autoscaling.v1')}
message Scale {
  optional meta.v1.ObjectMeta metadata = 1;
  optional ScaleSpec spec = 2;
  optional ScaleStatus status = 3;
}
message ScaleSpec {
  optional int32 replicas = 1;
}
message ScaleStatus {
  optional int32 replicas = 1 [(omitempty) = false];
  optional string selector = 2;
}
`;

/** authorizationV1: messages of k8s.io/api/authorization/v1. */
const authorizationV1 = `${header('authorization.v1')}
message SelfSubjectAccessReview {
  optional meta.v1.ObjectMeta metadata = 1;
  optional SelfSubjectAccessReviewSpec spec = 2;
  optional SubjectAccessReviewStatus status = 3;
}
message SelfSubjectAccessReviewSpec {
  optional ResourceAttributes resourceAttributes = 1;
  optional NonResourceAttributes nonResourceAttributes = 2;
}
message ResourceAttributes {
  optional string namespace = 1;
  optional string verb = 2;
  optional string group = 3;
  optional string version = 4;
  optional string resource = 5;
  optional string subresource = 6;
  optional string name = 7;
  optional FieldSelectorAttributes fieldSelector = 8;
  optional LabelSelectorAttributes labelSelector = 9;
}
message FieldSelectorAttributes {
  optional string rawSelector = 1;
  repeated meta.v1.FieldSelectorRequirement requirements = 2;
}
message LabelSelectorAttributes {
  optional string rawSelector = 1;
  repeated meta.v1.LabelSelectorRequirement requirements = 2;
}
message NonResourceAttributes {
  optional string path = 1;
  optional string verb = 2;
}
message SubjectAccessReviewStatus {
  optional bool allowed = 1 [(omitempty) = false];
  optional bool denied = 4;
  optional string reason = 2;
  optional string evaluationError = 3;
}
message SelfSubjectRulesReview {
  optional meta.v1.ObjectMeta metadata = 1;
  optional SelfSubjectRulesReviewSpec spec = 2;
  optional SubjectRulesReviewStatus status = 3;
}
message SelfSubjectRulesReviewSpec {
  optional string namespace = 1;
}
message SubjectRulesReviewStatus {
  repeated ResourceRule resourceRules = 1;
  repeated NonResourceRule nonResourceRules = 2;
  optional bool incomplete = 3 [(omitempty) = false];
  optional string evaluationError = 4;
}
message ResourceRule {
  repeated string verbs = 1;
  repeated string apiGroups = 2;
  repeated string resources = 3;
  repeated string resourceNames = 4;
}
message NonResourceRule {
  repeated string verbs = 1;
  repeated string nonResourceURLs = 2;
}
`;

/** authenticationV1: messages of k8s.io/api/authentication/v1. */
const authenticationV1 = `${header('authentication.v1')}
message SelfSubjectReview {
  optional meta.v1.ObjectMeta metadata = 1;
  optional SelfSubjectReviewStatus status = 2;
}
message SelfSubjectReviewStatus {
  optional UserInfo userInfo = 1;
}
message UserInfo {
  optional string username = 1;
  optional string uid = 2;
  repeated string groups = 3;
  map<string, ExtraValue> extra = 4;
}
message ExtraValue {
  repeated string items = 1;
}
message TokenRequest {
  optional meta.v1.ObjectMeta metadata = 1;
  optional TokenRequestSpec spec = 2;
  optional TokenRequestStatus status = 3;
}
message TokenRequestSpec {
  repeated string audiences = 1;
  optional int64 expirationSeconds = 4 [(pointer) = true];
  optional BoundObjectReference boundObjectRef = 3;
}
message BoundObjectReference {
  optional string kind = 1;
  optional string apiVersion = 2;
  optional string name = 3;
  optional string uID = 4 [(json) = "uid"];
}
message TokenRequestStatus {
  optional string token = 1 [(omitempty) = false];
  optional meta.v1.Time expirationTimestamp = 2;
}
`;

/** policyV1: messages of k8s.io/api/policy/v1. */
const policyV1 = `${header('policy.v1')}
message Eviction {
  optional meta.v1.ObjectMeta metadata = 1;
  optional meta.v1.DeleteOptions deleteOptions = 2;
}
`;

/** rbacV1: messages of k8s.io/api/rbac/v1. */
const rbacV1 = `${header('rbac.v1')}
message Role {
  optional meta.v1.ObjectMeta metadata = 1;
  repeated PolicyRule rules = 2;
}
message PolicyRule {
  repeated string verbs = 1;
  repeated string apiGroups = 2;
  repeated string resources = 3;
  repeated string resourceNames = 4;
  repeated string nonResourceURLs = 5;
}
message ClusterRole {
  optional meta.v1.ObjectMeta metadata = 1;
  repeated PolicyRule rules = 2;
  optional AggregationRule aggregationRule = 3;
}
message AggregationRule {
  repeated meta.v1.LabelSelector clusterRoleSelectors = 1;
}
message RoleBinding {
  optional meta.v1.ObjectMeta metadata = 1;
  repeated Subject subjects = 2;
  optional RoleRef roleRef = 3;
}
message Subject {
  optional string kind = 1 [(omitempty) = false];
  optional string apiGroup = 2;
  optional string name = 3 [(omitempty) = false];
  optional string namespace = 4;
}
message RoleRef {
  optional string apiGroup = 1 [(omitempty) = false];
  optional string kind = 2 [(omitempty) = false];
  optional string name = 3 [(omitempty) = false];
}
message ClusterRoleBinding {
  optional meta.v1.ObjectMeta metadata = 1;
  repeated Subject subjects = 2;
  optional RoleRef roleRef = 3;
}
`;

/** k8sProtoFiles lists the schema texts, one package each, to be parsed into one shared Root. */
export const k8sProtoFiles: readonly string[] = [
  runtime,
  metaV1,
  resource,
  intstr,
  coreV1,
  appsV1,
  batchV1,
  discoveryV1,
  eventsV1,
  coordinationV1,
  schedulingV1,
  autoscalingV1,
  authorizationV1,
  authenticationV1,
  policyV1,
  rbacV1,
];
