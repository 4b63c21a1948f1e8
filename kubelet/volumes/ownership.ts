// fsGroup ownership of volumes (the kubelet's SetVolumeOwnership): every file and directory of
// the volume gets the pod's fsGroup as its group, files gain group read (and write, unless the
// volume is read-only), directories gain group access and the setgid bit so new files inherit
// the group. Links are chowned but never chmodded: a chmod would reach the file behind them and
// undo the modes the volume asked for.

import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const rwMask = 0o660;
const roMask = 0o440;
const execMask = 0o110;
const setgid = 0o2000;

/** setVolumeOwnership gives dir and everything under it to group fsGroup, as described above. */
export async function setVolumeOwnership(dir: string, fsGroup: number, readOnly: boolean): Promise<void> {
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path);
    await lchown(path, -1, fsGroup);
    if (st.isSymbolicLink()) return;
    let mask = readOnly ? roMask : rwMask;
    if (st.isDirectory()) mask |= setgid | execMask;
    const mode = (st.mode & 0o7777) | mask;
    if (mode !== (st.mode & 0o7777)) await chmod(path, mode);
    if (st.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(dir);
}

/**
 * ownershipMatches is the OnRootMismatch test: the volume's root already has the group and the
 * modes, so the (possibly long) walk can be skipped.
 */
export async function ownershipMatches(dir: string, fsGroup: number, readOnly: boolean): Promise<boolean> {
  const st = await lstat(dir);
  const mask = (readOnly ? roMask : rwMask) | setgid | execMask;
  return st.gid === fsGroup && (st.mode & mask) === mask;
}
