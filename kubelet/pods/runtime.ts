// The runtime's side of the pods on this node, as the pod workers see it: every sandbox and
// container the kubelet made, grouped by pod UID through the labels of kubelet/labels.ts, with the
// details of ContainerStatus and PodSandboxStatus read once per state (an exited container never
// changes, so its status, termination message included, is read once). This is the "runtime
// state" half of computePodActions' input; a fake of it is plain data.

import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import {
  ContainerHashAnnotation,
  ContainerRestartCountAnnotation,
  ContainerTerminationMessagePathAnnotation,
  ContainerTerminationMessagePolicyAnnotation,
  ContainerNameLabel,
  InitContainerLabel,
  KubernetesManagedLabel,
  PodNameLabel,
  PodNamespaceLabel,
  PodUIDLabel,
} from '../labels.js';
import type { CriClient } from '../cri/client.js';
import type { Container, ContainerState, PodSandbox, PodSandboxState } from '../cri/types.js';

/** RuntimeContainer is one container instance of a pod; times are epoch milliseconds (0: never). */
export interface RuntimeContainer {
  id: string;
  sandboxId: string;
  /** name is the container's name in the pod spec. */
  name: string;
  init: boolean;
  state: ContainerState;
  restartCount: number;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  /** reason is the runtime's (Completed, Error, OOMKilled), '' while it runs. */
  reason: string;
  /** message is the termination message (file or log fallback), else the runtime's message. */
  message: string;
  /** image is the image as the runtime names it; imageRef its id or digest. */
  image: string;
  imageRef: string;
  hash: string;
}

/** RuntimeSandbox is one sandbox of a pod. */
export interface RuntimeSandbox {
  id: string;
  attempt: number;
  state: PodSandboxState;
  createdAt: number;
  /** ips are the pod's addresses from PodSandboxStatus ([] for hostNetwork or a stopped sandbox). */
  ips: string[];
}

/** RuntimePod is everything the runtime holds of one pod, newest first in each list. */
export interface RuntimePod {
  uid: string;
  name: string;
  namespace: string;
  sandboxes: RuntimeSandbox[];
  containers: RuntimeContainer[];
}

/** nanosToMs converts a CRI nanosecond timestamp (a decimal string) to epoch milliseconds. */
export function nanosToMs(ns: string | number | undefined): number {
  if (ns === undefined || ns === '' || ns === '0' || ns === 0) return 0;
  return Number(BigInt(ns) / 1_000_000n);
}

// The kubelet's bounds on a termination message (kubecontainer.MaxContainerTerminationMessage*).
const maxMessageBytes = 4096;
const maxLogLines = 80;
const maxLogBytes = 2048;

/** logTail is the text of the last lines of a CRI log file (at most 80 lines, 2048 bytes). */
export function logTail(text: string): string {
  // CRI lines: "<time> <stream> <P|F> <text>"; a P chunk continues on the next line.
  const out: string[] = [];
  let partial = '';
  for (const line of text.split('\n')) {
    const m = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/.exec(line);
    if (!m) continue;
    partial += m[2];
    if (m[1] === 'F') {
      out.push(partial);
      partial = '';
    }
  }
  let tail = out.slice(-maxLogLines).join('\n');
  if (out.length) tail += '\n';
  const buf = Buffer.from(tail);
  return buf.length > maxLogBytes ? buf.subarray(buf.length - maxLogBytes).toString() : tail;
}

function readBounded(path: string, maxBytes: number): string | undefined {
  try {
    if (!existsSync(path)) return undefined;
    const buf = readFileSync(path);
    return buf.subarray(0, maxBytes).toString();
  } catch {
    return undefined;
  }
}

/** readTail reads the last maxBytes of a file ('' when it cannot). */
function readTail(path: string, maxBytes: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString();
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * RuntimeState reads the runtime's pods through CRI, caching what cannot change: the status of an
 * exited container and the address of a sandbox.
 */
export class RuntimeState {
  private readonly statuses = new Map<string, RuntimeContainer>();
  private readonly sandboxIPs = new Map<string, string[]>();

  constructor(private readonly cri: Pick<CriClient, 'listPodSandbox' | 'listContainers' | 'containerStatus' | 'podSandboxStatus'>) {}

  /** fingerprints lists the kubelet's pods as a string per pod UID that changes whenever one of its sandboxes or containers changes state. */
  async fingerprints(): Promise<Map<string, { fingerprint: string; name: string; namespace: string }>> {
    const [sandboxes, containers] = await Promise.all([
      this.cri.listPodSandbox({ label_selector: { [KubernetesManagedLabel]: 'true' } }),
      this.cri.listContainers(),
    ]);
    const out = new Map<string, { parts: string[]; name: string; namespace: string }>();
    const entry = (uid: string, labels: Record<string, string>) => {
      let e = out.get(uid);
      if (!e) out.set(uid, (e = { parts: [], name: labels[PodNameLabel] ?? '', namespace: labels[PodNamespaceLabel] ?? '' }));
      return e;
    };
    for (const s of sandboxes) {
      const uid = s.labels[PodUIDLabel];
      if (uid) entry(uid, s.labels).parts.push(`s${s.id}=${s.state}`);
    }
    for (const c of containers) {
      const uid = c.labels[PodUIDLabel];
      if (uid && out.has(uid)) entry(uid, c.labels).parts.push(`c${c.id}=${c.state}`);
    }
    const live = new Set(containers.map((c) => c.id));
    for (const id of this.statuses.keys()) if (!live.has(id)) this.statuses.delete(id);
    const liveSandboxes = new Set(sandboxes.map((s) => s.id));
    for (const id of this.sandboxIPs.keys()) if (!liveSandboxes.has(id)) this.sandboxIPs.delete(id);
    return new Map([...out].map(([uid, e]) => [uid, { fingerprint: e.parts.sort().join(','), name: e.name, namespace: e.namespace }]));
  }

  /** pod reads one pod's sandboxes and containers (undefined: the runtime holds none). */
  async pod(uid: string): Promise<RuntimePod | undefined> {
    const selector = { [PodUIDLabel]: uid };
    const [sandboxes, containers] = await Promise.all([this.cri.listPodSandbox({ label_selector: selector }), this.cri.listContainers({ label_selector: selector })]);
    if (sandboxes.length === 0 && containers.length === 0) return undefined;
    const labels = sandboxes[0]?.labels ?? containers[0]?.labels ?? {};
    const pod: RuntimePod = {
      uid,
      name: labels[PodNameLabel] ?? '',
      namespace: labels[PodNamespaceLabel] ?? '',
      sandboxes: await Promise.all(sandboxes.map((s) => this.sandbox(s))),
      containers: (await Promise.all(containers.map((c) => this.container(c)))).filter((c): c is RuntimeContainer => !!c),
    };
    pod.sandboxes.sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
    pod.containers.sort((a, b) => b.createdAt - a.createdAt);
    return pod;
  }

  private async sandbox(s: PodSandbox): Promise<RuntimeSandbox> {
    let ips: string[] = [];
    if (s.state === 'SANDBOX_READY') {
      const cached = this.sandboxIPs.get(s.id);
      if (cached) ips = cached;
      else {
        try {
          const st = await this.cri.podSandboxStatus(s.id);
          const net = st.status.network;
          ips = net?.ip ? [net.ip, ...(net.additional_ips ?? []).map((a) => a.ip).filter(Boolean)] : [];
          this.sandboxIPs.set(s.id, ips);
        } catch {
          // gone meanwhile: it reads as a sandbox without an address
        }
      }
    }
    return { id: s.id, attempt: s.metadata?.attempt ?? 0, state: s.state, createdAt: nanosToMs(s.created_at), ips };
  }

  private async container(c: Container): Promise<RuntimeContainer | undefined> {
    const cached = this.statuses.get(c.id);
    if (cached && cached.state === c.state) return cached;
    let st;
    try {
      st = (await this.cri.containerStatus(c.id)).status;
    } catch {
      return undefined; // removed meanwhile
    }
    const a = st.annotations ?? c.annotations ?? {};
    const rc: RuntimeContainer = {
      id: c.id,
      sandboxId: c.pod_sandbox_id,
      name: c.labels[ContainerNameLabel] ?? st.metadata?.name ?? '',
      init: c.labels[InitContainerLabel] === 'true',
      state: st.state,
      restartCount: Number(a[ContainerRestartCountAnnotation] ?? c.metadata?.attempt ?? 0) || 0,
      createdAt: nanosToMs(st.created_at),
      startedAt: nanosToMs(st.started_at),
      finishedAt: nanosToMs(st.finished_at),
      exitCode: st.exit_code ?? 0,
      reason: st.state === 'CONTAINER_EXITED' ? st.reason ?? '' : '',
      message: st.message ?? '',
      image: st.image?.image ?? c.image?.image ?? '',
      imageRef: st.image_ref ?? c.image_ref ?? '',
      hash: a[ContainerHashAnnotation] ?? '',
    };
    if (st.state === 'CONTAINER_EXITED') {
      // The termination message: the file the container wrote, else (FallbackToLogsOnError and a
      // failure) the tail of its log.
      const path = a[ContainerTerminationMessagePathAnnotation];
      const mount = path ? st.mounts?.find((m) => m.container_path === path) : undefined;
      let message = mount ? readBounded(mount.host_path, maxMessageBytes) ?? '' : '';
      if (!message && a[ContainerTerminationMessagePolicyAnnotation] === 'FallbackToLogsOnError' && rc.exitCode !== 0 && st.log_path) {
        message = logTail(readTail(st.log_path, 64 * 1024));
      }
      if (message) rc.message = message;
    }
    this.statuses.set(c.id, rc);
    return rc;
  }
}
