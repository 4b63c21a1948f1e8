// TypeScript shapes of the CRI v1 messages in api.proto, as @grpc/proto-loader hands them over
// with keepCase: field names in snake_case, int64 and uint64 as decimal strings, enums as their
// names, bytes as Buffers. Requests may leave any field out (proto3 defaults); answers carry every
// scalar field (defaults: true).

/** Int64 is a protobuf int64 as proto-loader gives it (a decimal string); requests also take numbers. */
export type Int64 = string | number;

/** VersionResponse names the runtime and the CRI version it speaks. */
export interface VersionResponse {
  version: string;
  runtime_name: string;
  runtime_version: string;
  runtime_api_version: string;
}

/** Protocol is a port mapping's protocol. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** NamespaceMode: POD shares the pod's namespace, CONTAINER its own, NODE the host's. */
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

/** DNSConfig is the pod's resolv.conf. */
export interface DNSConfig {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

/** PortMapping is a hostPort of the pod. */
export interface PortMapping {
  protocol?: Protocol;
  container_port?: number;
  host_port?: number;
  host_ip?: string;
}

/** Mount is a bind mount into a container. */
export interface Mount {
  container_path: string;
  host_path: string;
  readonly?: boolean;
  selinux_relabel?: boolean;
  propagation?: 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
}

/** NamespaceOption says which namespaces a sandbox or container shares. */
export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  target_id?: string;
}

/** Int64Value is an optional int64 (unset differs from 0). */
export interface Int64Value {
  value: Int64;
}

/** SecurityProfile is a seccomp or AppArmor profile. */
export interface SecurityProfile {
  profile_type?: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  localhost_ref?: string;
}

/** LinuxContainerResources are the cgroup limits of a container or a pod. */
export interface LinuxContainerResources {
  cpu_period?: Int64;
  cpu_quota?: Int64;
  cpu_shares?: Int64;
  memory_limit_in_bytes?: Int64;
  oom_score_adj?: Int64;
  cpuset_cpus?: string;
  cpuset_mems?: string;
  unified?: Record<string, string>;
  memory_swap_limit_in_bytes?: Int64;
}

/** ImageSpec names an image. */
export interface ImageSpec {
  image: string;
  annotations?: Record<string, string>;
  user_specified_image?: string;
  runtime_handler?: string;
  image_ref?: string;
}

/** LinuxSandboxSecurityContext is the pod-level security context. */
export interface LinuxSandboxSecurityContext {
  namespace_options?: NamespaceOption;
  run_as_user?: Int64Value;
  run_as_group?: Int64Value;
  readonly_rootfs?: boolean;
  supplemental_groups?: Int64[];
  privileged?: boolean;
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
}

/** PodSandboxMetadata identifies a sandbox: the pod and its attempt. */
export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt?: number;
}

/** PodSandboxConfig is what RunPodSandbox creates. */
export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  log_directory?: string;
  dns_config?: DNSConfig;
  port_mappings?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: {
    cgroup_parent?: string;
    security_context?: LinuxSandboxSecurityContext;
    sysctls?: Record<string, string>;
    overhead?: LinuxContainerResources;
    resources?: LinuxContainerResources;
  };
}

/** PodSandboxState is a sandbox's state. */
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

/** PodSandboxStatus is a sandbox as the runtime reports it. */
export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  created_at: string;
  network: { ip: string; additional_ips: { ip: string }[] } | null;
  linux: { namespaces: { options: NamespaceOption | null } | null } | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtime_handler: string;
}

/** PodSandboxStatusResponse is a sandbox's status, and with verbose the runtime's details. */
export interface PodSandboxStatusResponse {
  status: PodSandboxStatus;
  info: Record<string, string>;
  containers_statuses: ContainerStatus[];
  timestamp: string;
}

/** PodSandboxFilter selects sandboxes to list. */
export interface PodSandboxFilter {
  id?: string;
  state?: { state: PodSandboxState };
  label_selector?: Record<string, string>;
}

/** PodSandbox is one item of ListPodSandbox. */
export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  created_at: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtime_handler: string;
}

/** LinuxContainerSecurityContext is a container's security context. */
export interface LinuxContainerSecurityContext {
  capabilities?: { add_capabilities?: string[]; drop_capabilities?: string[]; add_ambient_capabilities?: string[] };
  privileged?: boolean;
  namespace_options?: NamespaceOption;
  run_as_user?: Int64Value;
  run_as_username?: string;
  run_as_group?: Int64Value;
  readonly_rootfs?: boolean;
  supplemental_groups?: Int64[];
  no_new_privs?: boolean;
  masked_paths?: string[];
  readonly_paths?: string[];
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
}

/** ContainerMetadata identifies a container in its sandbox: its name and attempt. */
export interface ContainerMetadata {
  name: string;
  attempt?: number;
}

/** ContainerConfig is what CreateContainer creates. */
export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: ImageSpec;
  command?: string[];
  args?: string[];
  working_dir?: string;
  envs?: { key: string; value: string }[];
  mounts?: Mount[];
  devices?: { container_path: string; host_path: string; permissions: string }[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** log_path is relative to the sandbox's log_directory. */
  log_path?: string;
  stdin?: boolean;
  stdin_once?: boolean;
  tty?: boolean;
  linux?: { resources?: LinuxContainerResources; security_context?: LinuxContainerSecurityContext };
}

/** ContainerState is a container's state. */
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

/** ContainerFilter selects containers to list. */
export interface ContainerFilter {
  id?: string;
  state?: { state: ContainerState };
  pod_sandbox_id?: string;
  label_selector?: Record<string, string>;
}

/** Container is one item of ListContainers. */
export interface Container {
  id: string;
  pod_sandbox_id: string;
  metadata: ContainerMetadata;
  image: ImageSpec | null;
  image_ref: string;
  state: ContainerState;
  created_at: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  image_id: string;
}

/** ContainerStatus is a container as the runtime reports it; times are nanoseconds since the epoch. */
export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerState;
  created_at: string;
  started_at: string;
  finished_at: string;
  exit_code: number;
  image: ImageSpec | null;
  image_ref: string;
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  mounts: Mount[];
  log_path: string;
  image_id: string;
}

/** ExecSyncResponse is the outcome of a command run to its end in a container. */
export interface ExecSyncResponse {
  stdout: Buffer;
  stderr: Buffer;
  exit_code: number;
}

/** Image is an image the runtime holds. */
export interface Image {
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  size: string;
  uid: Int64Value | null;
  username: string;
  spec: ImageSpec | null;
  pinned: boolean;
}

/** AuthConfig is a registry credential for PullImage. */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  server_address?: string;
  identity_token?: string;
  registry_token?: string;
}

/** RuntimeCondition is one of a runtime's conditions (RuntimeReady, NetworkReady). */
export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

/** StatusResponse is the runtime's status: its conditions and, when verbose, its details. */
export interface StatusResponse {
  status: { conditions: RuntimeCondition[] } | null;
  info: Record<string, string>;
}

/** ContainerStats is a CRI ContainerStats (uint64 and int64 values arrive as strings). */
export interface ContainerStats {
  attributes: { id: string; metadata: { name: string; attempt: number }; labels: Record<string, string>; annotations: Record<string, string> };
  cpu?: { timestamp: Int64; usage_core_nano_seconds?: { value: Int64 } };
  memory?: { timestamp: Int64; working_set_bytes?: { value: Int64 } };
}
