// What a pod leaves on the node outside the runtime and its own directories: its cgroup.

import { readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupHierarchies } from '../containerd.js';

/** removePodCgroup removes a pod's cgroup directory (and any empty child) in every hierarchy: cgroupfs keeps them after the pod (NODE-FACTS). */
export function removePodCgroup(cgroup: string): void {
  const rel = cgroup.replace(/^\/+/, '');
  if (!rel || rel.includes('..')) return;
  for (const h of cgroupHierarchies()) {
    const top = join(h, rel);
    const dirs: string[] = [];
    const walk = (d: string) => {
      let entries;
      try {
        entries = readdirSync(d, { withFileTypes: true });
      } catch {
        return;
      }
      dirs.push(d);
      for (const e of entries) if (e.isDirectory()) walk(join(d, e.name));
    };
    walk(top);
    dirs.sort((a, b) => b.length - a.length);
    for (const d of dirs) {
      try {
        rmdirSync(d);
      } catch {
        // busy or gone: a later cleanup (or the node's) takes it
      }
    }
  }
}
