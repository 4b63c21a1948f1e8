// The atomic writer of configMap, secret, downwardAPI and projected volumes (Kubernetes'
// pkg/volume/util/atomic_writer.go, the same on-disk layout):
//
//   <dir>/..2026_12_06_17_04_05.a1b2c3/   the files of one version (mode 0755)
//   <dir>/..data -> ..2026_12_06_17_04_05.a1b2c3
//   <dir>/key    -> ..data/key              one symlink per top-level name
//
// A new version is written to a new timestamped directory, then `..data` is swapped to it by a
// rename of a fresh `..data_tmp` symlink over it, which is atomic: a reader (a running container
// sees the same directory through its bind mount) sees either the whole old version or the
// whole new one. Names starting with `..` are reserved for the writer.

import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';

/** FileProjection is one file of a volume's payload. */
export interface FileProjection {
  data: Buffer;
  mode: number;
}

/** Payload is a volume's files by relative path. */
export type Payload = Map<string, FileProjection>;

/** PayloadError is a payload path the writer refuses (absolute, `..`, too long). */
export class PayloadError extends Error {}

const dataDirName = '..data';
const newDataDirName = '..data_tmp';
const maxFileNameLength = 255;
const maxPathLength = 4096;

/** validatePath refuses a payload path as the writer does, with its messages. */
export function validatePath(p: string): void {
  if (p === '') throw new PayloadError(`invalid path: must not be empty: "${p}"`);
  if (p.startsWith('/')) throw new PayloadError(`invalid path: must be relative path: ${p}`);
  if (p.length > maxPathLength) throw new PayloadError(`invalid path: must be less than or equal to ${maxPathLength} characters`);
  const items = p.split('/');
  for (const item of items) {
    if (item === '..') throw new PayloadError(`invalid path: must not contain '..': ${p}`);
    if (item.length > maxFileNameLength) throw new PayloadError(`invalid path: filenames must be less than or equal to ${maxFileNameLength} characters`);
  }
  if (items[0].startsWith('..') && items[0].length > 2) throw new PayloadError(`invalid path: must not start with '..': ${p}`);
}

/** cleanPath is filepath.Clean for a relative path. */
function cleanPath(p: string): string {
  const c = normalize(p);
  return c.length > 1 && c.endsWith(sep) ? c.slice(0, -1) : c;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** timestampPrefix is the name prefix of a version's directory: `..YYYY_MM_DD_HH_MM_SS.` (UTC). */
function timestampPrefix(now: Date): string {
  return `..${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}.`;
}

const isNotFound = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** walk lists every path (files and directories) below dir, relative to it. */
async function walk(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    out.push(p);
    if (e.isDirectory()) out.push(...(await walk(dir, p)));
  }
  return out;
}

/** fileDiffers tells whether the file at path is absent or holds other bytes or another mode. */
async function fileDiffers(path: string, f: FileProjection): Promise<boolean> {
  try {
    const st = await lstat(path);
    if (!st.isFile() || (st.mode & 0o7777) !== (f.mode & 0o7777)) return true;
    return !(await readFile(path)).equals(f.data);
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

/**
 * atomicWrite projects payload into targetDir (which must exist) as described above. It writes
 * nothing when the current version already holds the payload, and answers whether it wrote.
 * Callers serialize writes to one directory.
 */
export async function atomicWrite(targetDir: string, payload: Payload, now: () => Date = () => new Date()): Promise<boolean> {
  const clean: Payload = new Map();
  for (const [p, f] of payload) {
    validatePath(p);
    clean.set(cleanPath(p), f);
  }

  const dataDirPath = join(targetDir, dataDirName);
  let oldTsDir = '';
  try {
    oldTsDir = await readlink(dataDirPath);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const oldTsPath = oldTsDir ? join(targetDir, oldTsDir) : '';

  let write = true;
  let toRemove: string[] = [];
  if (oldTsPath) {
    toRemove = await pathsToRemove(clean, oldTsPath);
    write = toRemove.length > 0;
    for (const [p, f] of clean) {
      if (write) break;
      write = await fileDiffers(join(oldTsPath, p), f);
    }
  }

  if (write) {
    const tsDir = await mkdtemp(join(targetDir, timestampPrefix(now())));
    // 0755 whatever the umask: group and others must be able to reach the files.
    await chmod(tsDir, 0o755);
    const tsDirName = tsDir.slice(targetDir.length + 1);
    try {
      for (const [p, f] of clean) {
        const full = join(tsDir, p);
        await mkdir(join(full, '..'), { recursive: true, mode: 0o755 });
        await writeFile(full, f.data, { mode: f.mode });
        // The mode exactly as asked, not narrowed by the umask.
        await chmod(full, f.mode);
      }
      const newDataDirPath = join(targetDir, newDataDirName);
      await rm(newDataDirPath, { force: true });
      await symlink(tsDirName, newDataDirPath);
      // The swap: rename(2) replaces ..data in one step.
      await rename(newDataDirPath, dataDirPath);
    } catch (err) {
      await rm(tsDir, { recursive: true, force: true });
      throw err;
    }
  }

  // The visible names are made even when nothing was written: a crash between the swap and
  // here leaves a version without them.
  await createUserVisibleFiles(targetDir, clean);
  if (write) {
    for (const p of toRemove) {
      // Only names in the volume's root are links of ours; deeper paths live in the old version.
      if (p.includes('/')) continue;
      await rm(join(targetDir, p), { force: true });
    }
    if (oldTsPath) await rm(oldTsPath, { recursive: true, force: true });
  }
  return write;
}

/** pathsToRemove lists the paths of the old version that the new payload does not have (files or their parent directories). */
async function pathsToRemove(payload: Payload, oldTsPath: string): Promise<string[]> {
  let old: string[];
  try {
    old = await walk(oldTsPath);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const keep = new Set<string>();
  for (const p of payload.keys()) {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) keep.add(parts.slice(0, i).join('/'));
  }
  return old.filter((p) => !keep.has(p));
}

/** createUserVisibleFiles makes the `name -> ..data/name` link of every top-level name that lacks one. */
async function createUserVisibleFiles(targetDir: string, payload: Payload): Promise<void> {
  const names = new Set([...payload.keys()].map((p) => p.split('/')[0]));
  for (const name of names) {
    const visible = join(targetDir, name);
    try {
      await readlink(visible);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await symlink(join(dataDirName, name), visible);
    }
  }
}

/** currentVersion is the version directory ..data points to, undefined before the first write. */
export async function currentVersion(targetDir: string): Promise<string | undefined> {
  try {
    return await readlink(join(targetDir, dataDirName));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

