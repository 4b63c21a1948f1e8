// hostPath volumes: the path checks of Kubernetes' hostPath plugin, by type, with its messages.
// An empty type checks nothing; the *OrCreate types make what is missing (a directory 0755 with
// its parents, or an empty file 0644 whose parent must exist).

import { constants } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';

/** HostPathError is a hostPath whose type check failed. */
export class HostPathError extends Error {}

/** HostPathType names the values of hostPath.type. */
export const HostPathType = {
  Unset: '',
  DirectoryOrCreate: 'DirectoryOrCreate',
  Directory: 'Directory',
  FileOrCreate: 'FileOrCreate',
  File: 'File',
  Socket: 'Socket',
  CharDevice: 'CharDevice',
  BlockDevice: 'BlockDevice',
} as const;

/** fileType is what is at path (following links), or undefined when nothing is. */
async function fileType(path: string): Promise<string | undefined> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (st.isSocket()) return HostPathType.Socket;
  if (st.isBlockDevice()) return HostPathType.BlockDevice;
  if (st.isCharacterDevice()) return HostPathType.CharDevice;
  if (st.isDirectory()) return HostPathType.Directory;
  if (st.isFile()) return HostPathType.File;
  return 'unknown';
}

/** validatePathNoBacksteps refuses a path with a `..` element, as volume validation does. */
export function validatePathNoBacksteps(p: string): string | undefined {
  return p.split('/').includes('..') ? "must not contain '..'" : undefined;
}

/** checkHostPath runs the type check of a hostPath volume (SetUp of the hostPath plugin). */
export async function checkHostPath(path: string, type: string | undefined): Promise<void> {
  const backsteps = validatePathNoBacksteps(path);
  if (backsteps) throw new HostPathError(`invalid HostPath \`${path}\`: ${backsteps}`);
  const t = type ?? '';
  if (t === HostPathType.Unset) return;
  const actual = await fileType(path);
  const want = (what: string, ok: boolean): void => {
    if (!ok) throw new HostPathError(`hostPath type check failed: ${path} is not a ${what}`);
  };
  switch (t) {
    case HostPathType.DirectoryOrCreate:
      if (actual === undefined) {
        await mkdir(path, { recursive: true, mode: 0o755 });
        return;
      }
      return want('directory', actual === HostPathType.Directory);
    case HostPathType.Directory:
      return want('directory', actual === HostPathType.Directory);
    case HostPathType.FileOrCreate:
      if (actual === undefined) {
        // O_CREAT without O_EXCL: a file made meanwhile by someone else is fine.
        const fh = await open(path, constants.O_CREAT | constants.O_RDONLY, 0o644);
        await fh.close();
        return;
      }
      return want('file', actual === HostPathType.File);
    case HostPathType.File:
      return want('file', actual === HostPathType.File);
    case HostPathType.Socket:
      return want('socket file', actual === HostPathType.Socket);
    case HostPathType.CharDevice:
      return want('character device', actual === HostPathType.CharDevice);
    case HostPathType.BlockDevice:
      return want('block device', actual === HostPathType.BlockDevice);
    default:
      throw new HostPathError(`${t} is an invalid volume type`);
  }
}
