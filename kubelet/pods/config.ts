// The CRI configs of a pod's sandbox and containers, as pure functions of the pod and the node
// (kuberuntime_sandbox.go generatePodSandboxConfig, kuberuntime_container.go
// generateContainerConfig, kuberuntime_container_linux.go, dns.go GetPodDNS): hostname, DNS,
// port mappings, cgroup parent, log directory, namespaces, labels and annotations, resources as
// the kubelet turns them into cgroup settings, and the security context basics.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { computeQOSClass, type Pod } from '../../lib/api/core/pod.js';
import { quantityNanos } from '../../lib/api/core/quantity.js';
import type { Container } from '../../lib/api/core/types.js';
import type { ContainerConfig, DNSConfig, LinuxContainerResources, LinuxContainerSecurityContext, Mount, NamespaceOption, PodSandboxConfig, PortMapping } from '../cri/types.js';
import {
  ContainerHashAnnotation,
  ContainerNameLabel,
  ContainerPreStopHandlerAnnotation,
  ContainerRestartCountAnnotation,
  ContainerTerminationMessagePathAnnotation,
  ContainerTerminationMessagePolicyAnnotation,
  InitContainerLabel,
  KubernetesManagedLabel,
  PodNameLabel,
  PodNamespaceLabel,
  PodTerminationGracePeriodAnnotation,
  PodUIDLabel,
  containerLogPath,
  podLogsDirName,
} from '../labels.js';

/** NodeConfig is what the configs need to know of the node. */
export interface NodeConfig {
  podLogsDir: string;
  cgroupParent: string;
  clusterDNS: readonly string[];
  clusterDomain: string;
  /** nodeHostname is the node's hostname (the hostname of hostNetwork pods). */
  nodeHostname: string;
  /** memoryCapacity is the node's memory in bytes (for the OOM score of Burstable pods). */
  memoryCapacity: number;
}

/** podLogDirectory is the pod's log directory: <podLogsDir>/<ns>_<name>_<uid>. */
export function podLogDirectory(pod: Pod, podLogsDir: string): string {
  return join(podLogsDir, podLogsDirName(pod.metadata.namespace ?? 'default', (pod.metadata.name ?? ''), pod.metadata.uid ?? ''));
}

/** podCgroupParent is the pod's cgroup: pod<uid> under the node's cgroup parent. */
export function podCgroupParent(pod: Pod, cgroupParent: string): string {
  return `${cgroupParent.replace(/\/+$/, '')}/pod${pod.metadata.uid}`;
}

// The kubelet's resolv.conf limits (validation.MaxDNSSearchPaths): glibc's 6 search paths of old
// were raised to 32; we keep the order and drop duplicates.
const maxDNSSearchPaths = 32;

function mergeDNSOptions(base: string[], extra: { name?: string; value?: string }[] | undefined): string[] {
  const byName = new Map<string, string>();
  for (const o of base) {
    const [name, ...rest] = o.split(':');
    byName.set(name!, rest.length ? `${name}:${rest.join(':')}` : name!);
  }
  for (const o of extra ?? []) {
    if (!o.name) continue;
    byName.set(o.name, o.value !== undefined && o.value !== '' ? `${o.name}:${o.value}` : o.name);
  }
  return [...byName.values()];
}

const unique = (xs: string[]) => [...new Set(xs)];

/**
 * podDNSConfig is GetPodDNS: ClusterFirst (the default) gives the cluster DNS servers, the
 * searches <ns>.svc.<domain> svc.<domain> <domain> and ndots:5; a hostNetwork pod under
 * ClusterFirst, or a cluster without DNS, gets the node's resolv.conf (undefined: containerd
 * copies the host's); None takes only spec.dnsConfig; dnsConfig adds to any policy.
 */
export function podDNSConfig(pod: Pod, node: Pick<NodeConfig, 'clusterDNS' | 'clusterDomain'>): DNSConfig | undefined {
  const policy = pod.spec.dnsPolicy ?? 'ClusterFirst';
  const extra = pod.spec.dnsConfig;
  let base: DNSConfig | undefined;
  const clusterFirst = (policy === 'ClusterFirst' && !pod.spec.hostNetwork) || policy === 'ClusterFirstWithHostNet';
  if (policy === 'None') base = { servers: [], searches: [], options: [] };
  else if (clusterFirst && node.clusterDNS.length > 0) {
    const ns = pod.metadata.namespace ?? 'default';
    const d = node.clusterDomain;
    base = { servers: [...node.clusterDNS], searches: [`${ns}.svc.${d}`, `svc.${d}`, d], options: ['ndots:5'] };
  }
  if (!extra) return base;
  // dnsConfig on top of the node's resolv.conf cannot be merged without reading it; the host's
  // file is taken as it is then (left out, README).
  if (!base) return undefined;
  return {
    servers: unique([...(base.servers ?? []), ...(extra.nameservers ?? [])]),
    searches: unique([...(base.searches ?? []), ...(extra.searches ?? [])]).slice(0, maxDNSSearchPaths),
    options: mergeDNSOptions(base.options ?? [], extra.options),
  };
}

/** podHostname is the pod's hostname: spec.hostname or its name (at most 63 characters), the node's for hostNetwork. */
export function podHostname(pod: Pod, nodeHostname: string): string {
  if (pod.spec.hostNetwork) return nodeHostname;
  return (pod.spec.hostname || (pod.metadata.name ?? '')).slice(0, 63).replace(/[-.]+$/, '');
}

/** portMappings are the pod's hostPorts. */
export function portMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      const m: PortMapping = { protocol: (p.protocol ?? 'TCP') as PortMapping['protocol'], container_port: p.containerPort, host_port: p.hostPort };
      if (p.hostIP) m.host_ip = p.hostIP;
      out.push(m);
    }
  }
  return out;
}

/** namespaceOptions are the pod's namespaces: the node's for hostNetwork/hostPID/hostIPC, the pod's otherwise (pid per container unless shared). */
export function namespaceOptions(pod: Pod): NamespaceOption {
  return {
    network: pod.spec.hostNetwork ? 'NODE' : 'POD',
    pid: pod.spec.hostPID ? 'NODE' : pod.spec.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: pod.spec.hostIPC ? 'NODE' : 'POD',
  };
}

/** podLabels are the labels of the pod's sandbox: the pod's own plus the kubelet's keys. */
function podLabels(pod: Pod): Record<string, string> {
  return {
    ...(pod.metadata.labels ?? {}),
    [PodNameLabel]: (pod.metadata.name ?? ''),
    [PodNamespaceLabel]: pod.metadata.namespace ?? 'default',
    [PodUIDLabel]: pod.metadata.uid ?? '',
    [KubernetesManagedLabel]: 'true',
  };
}

/** anyPrivileged: a privileged container needs a privileged sandbox. */
function anyPrivileged(pod: Pod): boolean {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers].some((c) => c.securityContext?.privileged === true);
}

/** sandboxConfig is the RunPodSandbox config of the pod's sandbox number attempt. */
export function sandboxConfig(pod: Pod, attempt: number, node: NodeConfig): PodSandboxConfig {
  const psc = pod.spec.securityContext ?? {};
  const config: PodSandboxConfig = {
    metadata: { name: (pod.metadata.name ?? ''), uid: pod.metadata.uid ?? '', namespace: pod.metadata.namespace ?? 'default', attempt },
    hostname: podHostname(pod, node.nodeHostname),
    log_directory: podLogDirectory(pod, node.podLogsDir),
    port_mappings: portMappings(pod),
    labels: podLabels(pod),
    annotations: { ...(pod.metadata.annotations ?? {}) },
    linux: {
      cgroup_parent: podCgroupParent(pod, node.cgroupParent),
      security_context: {
        namespace_options: namespaceOptions(pod),
        privileged: anyPrivileged(pod),
        ...(psc.runAsUser !== undefined ? { run_as_user: { value: psc.runAsUser } } : {}),
        // containerd refuses a group without a user ("user group … is specified without user").
        ...(psc.runAsGroup !== undefined && psc.runAsUser !== undefined ? { run_as_group: { value: psc.runAsGroup } } : {}),
        ...(psc.supplementalGroups?.length ? { supplemental_groups: psc.supplementalGroups } : {}),
      },
      sysctls: Object.fromEntries((psc.sysctls ?? []).map((s) => [s.name, s.value])),
    },
  };
  const dns = podDNSConfig(pod, node);
  if (dns) config.dns_config = dns;
  return config;
}

// cgroup CPU arithmetic (pkg/kubelet/cm/helpers_linux.go).
const minShares = 2;
const sharesPerCPU = 1024;
const quotaPeriod = 100_000;
const minQuotaPeriod = 1_000;

/** milliCPUToShares is the cpu.shares of a cpu request in millicores (at least 2). */
export function milliCPUToShares(milli: number): number {
  if (milli === 0) return minShares;
  return Math.max(minShares, Math.floor((milli * sharesPerCPU) / 1000));
}

/** milliCPUToQuota is the CFS quota of a cpu limit in millicores per 100 ms period (0: no limit). */
export function milliCPUToQuota(milli: number): number {
  if (milli === 0) return 0;
  return Math.max(minQuotaPeriod, Math.floor((milli * quotaPeriod) / 1000));
}

const milliOf = (q: string | number | undefined) => Number(quantityNanos(q as string) / 1_000_000n);
const bytesOf = (q: string | number | undefined) => Number(quantityNanos(q as string) / 1_000_000_000n);

/** oomScoreAdj is GetContainerOOMScoreAdjust: Guaranteed -997, BestEffort 1000, Burstable by memory request. */
export function oomScoreAdj(pod: Pod, c: Container, memoryCapacity: number): number {
  const qos = computeQOSClass(pod);
  if (qos === 'Guaranteed') return -997;
  if (qos === 'BestEffort') return 1000;
  const request = bytesOf(c.resources?.requests?.memory);
  if (!memoryCapacity) return 999;
  const adj = 1000 - Math.floor((1000 * request) / memoryCapacity);
  return Math.min(999, Math.max(2, adj));
}

/** containerResources is the kubelet's LinuxContainerResources for a container's requests and limits. */
export function containerResources(pod: Pod, c: Container, memoryCapacity: number): LinuxContainerResources {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  const cpuRequest = milliOf(req.cpu);
  const cpuLimit = milliOf(lim.cpu);
  const memoryLimit = bytesOf(lim.memory);
  const r: LinuxContainerResources = {
    // A limit without a request: the request defaults to the limit.
    cpu_shares: milliCPUToShares(cpuRequest === 0 && cpuLimit !== 0 ? cpuLimit : cpuRequest),
    cpu_quota: milliCPUToQuota(cpuLimit),
    cpu_period: quotaPeriod,
    oom_score_adj: oomScoreAdj(pod, c, memoryCapacity),
  };
  if (memoryLimit > 0) r.memory_limit_in_bytes = memoryLimit;
  return r;
}

// The paths runc hides from unprivileged containers (the kubelet's defaults, securitycontext.DefaultProcMount).
const maskedPaths = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
const readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** containerSecurityContext merges the pod's and the container's security context into CRI's. */
export function containerSecurityContext(pod: Pod, c: Container): LinuxContainerSecurityContext {
  const psc = pod.spec.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const out: LinuxContainerSecurityContext = { namespace_options: namespaceOptions(pod) };
  const user = sc.runAsUser ?? psc.runAsUser;
  const group = sc.runAsGroup ?? psc.runAsGroup;
  if (user !== undefined) out.run_as_user = { value: user };
  if (group !== undefined) out.run_as_group = { value: group };
  if (psc.supplementalGroups?.length) out.supplemental_groups = psc.supplementalGroups;
  if (sc.readOnlyRootFilesystem) out.readonly_rootfs = true;
  if (sc.privileged) out.privileged = true;
  if (sc.allowPrivilegeEscalation === false) out.no_new_privs = true;
  if (sc.capabilities?.add?.length || sc.capabilities?.drop?.length) {
    // As the API names them (NET_ADMIN): containerd adds the CAP_ prefix itself.
    out.capabilities = { add_capabilities: sc.capabilities.add ?? [], drop_capabilities: sc.capabilities.drop ?? [] };
  }
  if (!sc.privileged && sc.procMount !== 'Unmasked') {
    out.masked_paths = maskedPaths;
    out.readonly_paths = readonlyPaths;
  }
  return out;
}

/** containerHash is a short hash of the container's spec (to tell a changed spec apart). */
export function containerHash(c: Container): string {
  return createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 8);
}

/** DefaultTerminationMessagePath is where a container writes its termination message unless its spec says otherwise. */
export const DefaultTerminationMessagePath = '/dev/termination-log';

/** ContainerInputs are what a container's config is made from besides the pod and its spec. */
export interface ContainerInputs {
  /** imageRef is the image's id from ImageStatus/PullImage. */
  imageRef: string;
  restartCount: number;
  init: boolean;
  env: { key: string; value: string }[];
  command: string[];
  args: string[];
  mounts: Mount[];
  /** terminationMessageHostPath is the file mounted at the container's terminationMessagePath. */
  terminationMessageHostPath?: string;
  memoryCapacity: number;
}

/** containerConfig is the CreateContainer config of one container instance. */
export function containerConfig(pod: Pod, c: Container, input: ContainerInputs): ContainerConfig {
  const messagePath = c.terminationMessagePath || DefaultTerminationMessagePath;
  const mounts = [...input.mounts];
  if (input.terminationMessageHostPath) mounts.push({ container_path: messagePath, host_path: input.terminationMessageHostPath });
  const annotations: Record<string, string> = {
    [ContainerHashAnnotation]: containerHash(c),
    [ContainerRestartCountAnnotation]: String(input.restartCount),
    [ContainerTerminationMessagePathAnnotation]: messagePath,
    [ContainerTerminationMessagePolicyAnnotation]: c.terminationMessagePolicy || 'File',
    [PodTerminationGracePeriodAnnotation]: String(pod.spec.terminationGracePeriodSeconds ?? 30),
  };
  if (c.lifecycle?.preStop) annotations[ContainerPreStopHandlerAnnotation] = JSON.stringify(c.lifecycle.preStop);
  const labels: Record<string, string> = {
    [PodNameLabel]: (pod.metadata.name ?? ''),
    [PodNamespaceLabel]: pod.metadata.namespace ?? 'default',
    [PodUIDLabel]: pod.metadata.uid ?? '',
    [ContainerNameLabel]: c.name,
  };
  if (input.init) labels[InitContainerLabel] = 'true';
  const config: ContainerConfig = {
    metadata: { name: c.name, attempt: input.restartCount },
    image: { image: input.imageRef, user_specified_image: c.image ?? '' },
    command: input.command,
    args: input.args,
    working_dir: c.workingDir ?? '',
    envs: input.env,
    mounts,
    labels,
    annotations,
    log_path: containerLogPath(c.name, input.restartCount),
    stdin: !!c.stdin,
    stdin_once: !!c.stdinOnce,
    tty: !!c.tty,
    linux: { resources: containerResources(pod, c, input.memoryCapacity), security_context: containerSecurityContext(pod, c) },
  };
  return config;
}
