// The real mount table: tmpfs mounts through mount(8), unmounts through umount(8), mount points
// from /proc/self/mountinfo.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mountsUnder } from '../containerd.js';
import type { Mounter } from './types.js';

const run = promisify(execFile);

/** MountError is a mount or unmount that the host refused. */
export class MountError extends Error {}

async function mountCommand(cmd: string, args: string[]): Promise<void> {
  try {
    await run(cmd, args, { timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new MountError(`${cmd} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`, { cause: err });
  }
}

/** hostMounter mounts on this machine. */
export const hostMounter: Mounter = {
  async mountTmpfs(dir, sizeBytes) {
    const args = ['-t', 'tmpfs'];
    if (sizeBytes !== undefined && sizeBytes > 0n) args.push('-o', `size=${sizeBytes}`);
    await mountCommand('mount', [...args, 'tmpfs', dir]);
  },
  async unmount(dir) {
    await mountCommand('umount', [dir]);
  },
  mountsUnder,
};
