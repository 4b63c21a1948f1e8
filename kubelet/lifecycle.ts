// The node's steps around its processes, for `skiff up`/`down` and the test harness: importing
// skiff's images into a started containerd, stopping every pod sandbox through CRI before the
// containerd stops (CNI DEL then removes veths, CNI's rules and the pods' addresses, and
// containerd its network namespaces), and afterwards removing whatever the node still left on the
// machine (shims, mounts, pod cgroups, the bridge, the sink and its routes, the masquerade rule,
// the conflist), so a stopped node leaves nothing behind while containerd's own store keeps the
// stopped sandboxes for the next start.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cleanupContainerd, containerdPaths, type CleanupReport, importImage, mountsUnder } from './containerd.js';
import { CriClient, isNotFound } from './cri/client.js';
import { buildImages } from './images/build.js';
import { type NodeNetwork, tearDownNodeNetwork } from './network.js';

const run = promisify(execFile);

/** NodeLayout says where a node's pieces are: its containerd's dir, its network and its pod cgroup root. */
export interface NodeLayout {
  containerdDir: string;
  network: NodeNetwork;
  cgroupRoot: string;
  /** kubeletDir is the kubelet's --root-dir, whose pods' memory-backed volumes (tmpfs) are unmounted. */
  kubeletDir?: string;
}

/**
 * importNodeImages builds skiff's images (cached) and imports each one the runtime does not hold
 * yet into the containerd of dir, telling progress one line per step.
 */
export async function importNodeImages(dir: string, progress: (line: string) => void = () => {}): Promise<void> {
  const images = buildImages(progress);
  const runtime = new CriClient(containerdPaths(dir).socket, { timeoutMs: 30_000 });
  try {
    for (const image of images) {
      const held = await runtime.imageStatus(image.name);
      if (held?.id === image.id) continue;
      const t0 = Date.now();
      await importImage(dir, image.file);
      progress(`imported image ${image.name} (${Date.now() - t0} ms)`);
    }
  } finally {
    runtime.close();
  }
}

/**
 * stopPodSandboxes stops every sandbox the containerd of dir runs (StopPodSandbox: containers
 * stopped, network torn down); the sandboxes stay known to containerd. Returns how many it
 * stopped; a containerd that does not answer counts as none (cleanupNode still cleans up).
 */
export async function stopPodSandboxes(dir: string, timeoutMs = 60_000): Promise<number> {
  const runtime = new CriClient(containerdPaths(dir).socket, { timeoutMs });
  try {
    const sandboxes = await runtime.listPodSandbox().catch(() => []);
    let stopped = 0;
    for (const s of sandboxes) {
      if (s.state !== 'SANDBOX_READY') continue;
      try {
        await runtime.stopPodSandbox(s.id);
        stopped++;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return stopped;
  } finally {
    runtime.close();
  }
}

/** cleanupNode removes what the node left on the machine once its containerd has stopped; safe to repeat. */
export async function cleanupNode(layout: NodeLayout, opts: { removeDir?: boolean } = {}): Promise<CleanupReport> {
  const report = await cleanupContainerd(layout.containerdDir, { cgroupParent: layout.cgroupRoot, removeDir: opts.removeDir });
  // A pod still running when its kubelet stopped keeps its secret, configMap and projected
  // (service-account token) tmpfs mounts: the kubelet's directory cannot be removed over them.
  if (layout.kubeletDir) {
    for (const m of mountsUnder(layout.kubeletDir)) {
      await run('umount', [m]).catch(() => run('umount', ['-l', m]));
      report.mounts.push(m);
    }
  }
  await tearDownNodeNetwork(containerdPaths(layout.containerdDir).cniConfDir, layout.network);
  return report;
}
