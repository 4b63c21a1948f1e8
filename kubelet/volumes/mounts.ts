// A container's CRI mounts, as the kubelet's makeMounts and the runtime manager's makeMounts
// build them: one bind mount per volumeMount (subPath and subPathExpr resolved and checked),
// then the pod's managed /etc/hosts, then the termination-message file of this container
// instance. Failures throw ConfigError: the container waits in CreateContainerConfigError.

import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Container, HostAlias } from '../../lib/api/core/types.js';
import type { Mount } from '../cri/types.js';
import { ConfigError } from '../env/errors.js';
import { expand } from '../env/expansion.js';
import { validatePathNoBacksteps } from './hostpath.js';

/** ContainerMountOptions are what makeMounts needs beyond the pod and its volumes. */
export interface ContainerMountOptions {
  /** podDir is the pod's directory (default: the one setUpPodVolumes recorded on the volumes). */
  podDir?: string;
  /** podIPs are the sandbox's IPs (default: status.podIPs); /etc/hosts is managed only once the pod has one. */
  podIPs?: string[];
  /** env is the container's resolved env, for subPathExpr. */
  env?: { key: string; value: string }[];
  /** clusterDomain makes the pod's FQDN in /etc/hosts when it has a subdomain (default cluster.local). */
  clusterDomain?: string;
  /** nodeHostsFile is the node's hosts file, copied for hostNetwork pods (default /etc/hosts). */
  nodeHostsFile?: string;
}

/** etcHostsPath is where a container sees its hosts file. */
export const etcHostsPath = '/etc/hosts';

/** truncatePodHostname cuts a hostname to 63 characters, then drops trailing '-' and '.'. */
function truncatePodHostname(hostname: string): string {
  if (hostname.length <= 63) return hostname;
  return hostname.slice(0, 63).replace(/[-.]+$/, '');
}

/**
 * podHostnameAndDomain is GeneratePodHostNameAndDomain: spec.hostname or the pod's name (63
 * characters at most), and `<subdomain>.<namespace>.svc.<clusterDomain>` when a subdomain is set.
 */
export function podHostnameAndDomain(pod: Pod, clusterDomain = 'cluster.local'): { hostname: string; domain: string } {
  const hostname = truncatePodHostname(pod.spec.hostname || pod.metadata.name || '');
  const domain = pod.spec.subdomain ? `${pod.spec.subdomain}.${pod.metadata.namespace ?? 'default'}.svc.${clusterDomain}` : '';
  return { hostname, domain };
}

function hostAliasLines(aliases: HostAlias[] | undefined): string {
  if (!aliases || aliases.length === 0) return '';
  return '\n# Entries added by HostAliases.\n' + aliases.map((a) => `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`).join('');
}

/** managedHostsContent is the hosts file of a pod on the pod network. */
export function managedHostsContent(podIPs: string[], hostname: string, domain: string, aliases: HostAlias[] | undefined): string {
  let out = '# Kubernetes-managed hosts file.\n';
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return out + hostAliasLines(aliases);
}

/** nodeHostsContent is the hosts file of a hostNetwork pod: the node's, plus the pod's aliases. */
export function nodeHostsContent(nodeHosts: string, aliases: HostAlias[] | undefined): string {
  return '# Kubernetes-managed hosts file (host network).\n' + nodeHosts + hostAliasLines(aliases);
}

/**
 * ensureHostsFile writes <podDir>/etc-hosts once: like the kubelet, it never rewrites it, so the
 * file every container of the pod sees stays the same (and a restart keeps what a user changed).
 */
function ensureHostsFile(pod: Pod, podDir: string, podIPs: string[], opts: ContainerMountOptions): string {
  const file = join(podDir, 'etc-hosts');
  if (existsSync(file)) return file;
  let content: string;
  if (pod.spec.hostNetwork) {
    content = nodeHostsContent(readFileSync(opts.nodeHostsFile ?? '/etc/hosts', 'utf8'), pod.spec.hostAliases);
  } else {
    const { hostname, domain } = podHostnameAndDomain(pod, opts.clusterDomain);
    content = managedHostsContent(podIPs, hostname, domain, pod.spec.hostAliases);
  }
  mkdirSync(podDir, { recursive: true, mode: 0o750 });
  writeFileSync(file, content, { mode: 0o644 });
  return file;
}

/** propagationOf is translateMountPropagation: None, HostToContainer, Bidirectional (privileged only). */
function propagationOf(mode: string | undefined, privileged: boolean): Mount['propagation'] {
  switch (mode ?? 'None') {
    case 'None':
      return 'PROPAGATION_PRIVATE';
    case 'HostToContainer':
      return 'PROPAGATION_HOST_TO_CONTAINER';
    case 'Bidirectional':
      if (!privileged) throw new ConfigError('Bidirectional mount propagation is available only to privileged containers');
      return 'PROPAGATION_BIDIRECTIONAL';
    default:
      throw new ConfigError(`invalid MountPropagation mode: "${mode}"`);
  }
}

/** expandSubPathExpr is ExpandContainerVolumeMounts: every referenced variable must have a non-empty value. */
export function expandSubPathExpr(expr: string, env: { key: string; value: string }[]): string {
  const vars = new Map(env.map((e) => [e.key, e.value]));
  const missing = new Set<string>();
  const out = expand(expr, (name) => {
    const v = vars.get(name);
    if (!v) missing.add(name);
    return v ?? '';
  });
  if (missing.size > 0) throw new ConfigError(`missing value for ${[...missing].sort().join(', ')}`);
  return out;
}

/** within tells whether path is base or below it. */
function within(base: string, path: string): boolean {
  const rel = relative(base, path);
  // Not startsWith('..'): the atomic writer's version directories are named `..2026_…`.
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel));
}

/**
 * subPathHostPath resolves a subPath inside a volume as the kubelet does: refused when absolute
 * or with `..`, made as a directory (with the volume's mode) when missing, and refused when a
 * link in it leads out of the volume. The answer is the resolved path, so what is bind-mounted
 * is what was checked (a subPath of a configMap volume is therefore the file of the version
 * current now: like on Kubernetes, subPath mounts do not follow updates).
 */
function subPathHostPath(volumePath: string, subPath: string, mountName: string, containerName: string): string {
  if (isAbsolute(subPath)) throw new ConfigError(`error SubPath \`${subPath}\` must not be an absolute path`);
  const backsteps = validatePathNoBacksteps(subPath);
  if (backsteps) throw new ConfigError(`unable to provision SubPath \`${subPath}\`: ${backsteps}`);
  const hostPath = join(volumePath, subPath);
  let exists = true;
  try {
    lstatSync(hostPath);
  } catch {
    exists = false;
  }
  let base: string;
  try {
    base = realpathSync(volumePath);
  } catch {
    throw new ConfigError(`failed to prepare subPath for volumeMount "${mountName}" of container "${containerName}"`);
  }
  if (!exists) {
    try {
      const mode = statSync(volumePath).mode & 0o7777;
      // Make one level at a time and check each: a link planted in the volume must not lead the
      // kubelet to create directories outside it.
      let cur = base;
      for (const part of subPath.split('/').filter((p) => p && p !== '.')) {
        const next = join(cur, part);
        if (!existsSync(next)) {
          mkdirSync(next, { mode });
          chmodSync(next, mode);
        }
        cur = realpathSync(next);
        if (!within(base, cur)) throw new Error('escapes the volume');
      }
    } catch {
      throw new ConfigError(`failed to create subPath directory for volumeMount "${mountName}" of container "${containerName}"`);
    }
  }
  let resolved: string;
  try {
    resolved = realpathSync(hostPath);
  } catch {
    throw new ConfigError(`failed to prepare subPath for volumeMount "${mountName}" of container "${containerName}"`);
  }
  if (!within(base, resolved)) throw new ConfigError(`failed to prepare subPath for volumeMount "${mountName}" of container "${containerName}"`);
  return resolved;
}

/** terminationMessageFile makes the empty file (0666) that holds one container instance's termination message. */
function terminationMessageFile(podDir: string, containerName: string): string {
  const dir = join(podDir, 'containers', containerName);
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  // The container's ID is not known before CreateContainer: a random name per instance.
  const file = join(dir, randomBytes(4).toString('hex'));
  closeSync(openSync(file, 'w'));
  chmodSync(file, 0o666);
  return file;
}

/** makeMounts builds the mounts of one container (see the file's comment). */
export function makeMounts(pod: Pod, container: Container, volumes: ReadonlyMap<string, { hostPath: string; readOnly: boolean }>, podDir: string | undefined, opts: ContainerMountOptions): Mount[] {
  const mounts: Mount[] = [];
  const privileged = container.securityContext?.privileged === true;
  let etcHostsMounted = false;
  for (const vm of container.volumeMounts ?? []) {
    const vol = volumes.get(vm.name);
    if (!vol) throw new ConfigError(`cannot find volume "${vm.name}" to mount into container "${container.name}"`);
    if (vm.mountPath === etcHostsPath) etcHostsMounted = true;
    let subPath = vm.subPath ?? '';
    if (vm.subPathExpr) subPath = expandSubPathExpr(vm.subPathExpr, opts.env ?? []);
    const hostPath = subPath ? subPathHostPath(vol.hostPath, subPath, vm.name, container.name) : vol.hostPath;
    if (vm.recursiveReadOnly === 'Enabled') {
      throw new ConfigError(`volume mount "${vm.name}" of container "${container.name}" asks for recursiveReadOnly: Enabled, which this kubelet does not support`);
    }
    mounts.push({
      container_path: vm.mountPath,
      host_path: hostPath,
      readonly: vm.readOnly === true || vol.readOnly,
      propagation: propagationOf(vm.mountPropagation, privileged),
    });
  }

  const podIPs = opts.podIPs ?? (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  if (podDir && !etcHostsMounted && (podIPs.length > 0 || pod.spec.hostNetwork)) {
    mounts.push({ container_path: etcHostsPath, host_path: ensureHostsFile(pod, podDir, podIPs, opts), readonly: false });
  }

  if (podDir && container.terminationMessagePath) {
    mounts.push({ container_path: container.terminationMessagePath, host_path: terminationMessageFile(podDir, container.name) });
  }
  return mounts;
}
