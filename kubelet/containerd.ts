// A containerd of the node's own: its config (version 2) under one directory (root, state, socket,
// opt, runc root, CNI config dir: never the machine's /etc/containerd or /run/containerd), its
// start in a session of its own with its own log, its stop, the import of image tarballs through
// `ctr`, and a cleanup that leaves no process, mount, network namespace, bridge or pod cgroup of
// it behind. The facts behind each setting are in ../shared/NODE-FACTS.md.

import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pauseImage } from './images/build.js';

const run = promisify(execFile);

/** ContainerdOptions says where a node's containerd lives and what it serves. */
export interface ContainerdOptions {
  /** dir holds everything of this containerd: config, root, state, socket, log, CNI config. */
  dir: string;
  /** streamPort is the CRI stream server's port on 127.0.0.1 (exec, attach, port-forward). */
  streamPort: number;
  /** sandboxImage is the pause image; skiff's own by default. */
  sandboxImage?: string;
  /** cniBinDir holds the CNI plugins; Debian's /usr/lib/cni by default. */
  cniBinDir?: string;
  /** metricsAddress (host:port) serves /v1/metrics over plain HTTP: the health check of a supervised containerd. */
  metricsAddress?: string;
}

/** ContainerdPaths are the files and directories of one containerd under its dir. */
export interface ContainerdPaths {
  config: string;
  root: string;
  state: string;
  socket: string;
  opt: string;
  runcRoot: string;
  cniConfDir: string;
  log: string;
  pidFile: string;
}

/** containerdPaths lays out a containerd's files under dir. */
export function containerdPaths(dir: string): ContainerdPaths {
  const paths = {
    config: join(dir, 'config.toml'),
    root: join(dir, 'root'),
    state: join(dir, 'state'),
    socket: join(dir, 'containerd.sock'),
    opt: join(dir, 'opt'),
    runcRoot: join(dir, 'runc'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    log: join(dir, 'containerd.log'),
    pidFile: join(dir, 'containerd.pid'),
  };
  // A unix socket's path is limited to 107 bytes (sun_path); the ttrpc socket adds ".ttrpc".
  if (Buffer.byteLength(paths.socket) + 6 > 107) throw new Error(`containerd: socket path too long for a unix socket: ${paths.socket}`);
  return paths;
}

/** tomlString quotes a string for TOML. */
function tomlString(s: string): string {
  return JSON.stringify(s);
}

/** containerdConfig is the config.toml (version 2) of a node's containerd. */
export function containerdConfig(opts: ContainerdOptions): string {
  const p = containerdPaths(opts.dir);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Written by skiff (kubelet/containerd.ts): one containerd per node, everything under its dir.
version = 2
root = ${tomlString(p.root)}
state = ${tomlString(p.state)}

[grpc]
  address = ${tomlString(p.socket)}

[ttrpc]
  address = ${tomlString(p.socket + '.ttrpc')}

[debug]
  address = ""
  level = "info"

[metrics]
  address = ${tomlString(opts.metricsAddress ?? '')}

[plugins."io.containerd.internal.v1.opt"]
  path = ${tomlString(p.opt)}

[${cri}]
  sandbox_image = ${tomlString(opts.sandboxImage ?? pauseImage)}
  stream_server_address = "127.0.0.1"
  stream_server_port = ${tomlString(String(opts.streamPort))}
  enable_tls_streaming = false
  # Root here lacks CAP_SYS_RESOURCE: without this every RunPodSandbox fails writing oom_score_adj.
  restrict_oom_score_adj = true

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  # Without its own Root every containerd on the machine shares /run/containerd/runc/<namespace>.
  Root = ${tomlString(p.runcRoot)}

[${cri}.cni]
  bin_dir = ${tomlString(opts.cniBinDir ?? '/usr/lib/cni')}
  conf_dir = ${tomlString(p.cniConfDir)}
  max_conf_num = 1
`;
}

/** writeContainerdConfig creates the directories of a containerd and writes its config.toml. */
export function writeContainerdConfig(opts: ContainerdOptions): ContainerdPaths {
  const p = containerdPaths(opts.dir);
  for (const d of [opts.dir, p.root, p.state, p.opt, p.runcRoot, p.cniConfDir]) mkdirSync(d, { recursive: true, mode: 0o711 });
  writeFileSync(p.config, containerdConfig(opts));
  return p;
}

/** alive reports whether a process exists and has not exited. A zombie counts as exited: its
 * parent (the test or kubelet that started it) may be blocked and unable to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** socketAccepts reports whether a unix socket takes a connection. */
function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** ContainerdError is a containerd that did not start, stop or import as asked. */
export class ContainerdError extends Error {
  override name = 'ContainerdError';
}

/** containerdPid is the pid of the containerd running under dir, if any. */
export function containerdPid(dir: string): number | undefined {
  const p = containerdPaths(dir);
  if (!existsSync(p.pidFile)) return undefined;
  const pid = Number(readFileSync(p.pidFile, 'utf8').trim());
  return pid > 0 && alive(pid) ? pid : undefined;
}

/** startContainerd starts the containerd of dir in a session of its own (its config must be
 * written), appending to its log, and resolves with its pid once its socket accepts. */
export async function startContainerd(dir: string, timeoutMs = 30_000): Promise<number> {
  const p = containerdPaths(dir);
  const running = containerdPid(dir);
  if (running) throw new ContainerdError(`containerd of ${dir} already runs as pid ${running}`);
  const log = openSync(p.log, 'a');
  let child;
  try {
    // detached: setsid(), so a terminal's ^C or the parent's exit does not reach it.
    child = spawn('containerd', ['--config', p.config], { detached: true, stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code ?? null)));
  const failed = new Promise<Error>((resolve) => child.once('error', resolve));
  child.unref();
  const pid = child.pid;
  if (!pid) throw new ContainerdError(`containerd did not start: ${String(await failed)}`);
  writeFileSync(p.pidFile, `${pid}\n`);
  const deadline = Date.now() + timeoutMs;
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  while (Date.now() < deadline) {
    if (gone !== undefined) throw new ContainerdError(`containerd exited with code ${gone} before serving; see ${p.log}`);
    if (existsSync(p.socket) && (await socketAccepts(p.socket))) return pid;
    await sleep(50);
  }
  process.kill(pid, 'SIGKILL');
  throw new ContainerdError(`containerd did not serve ${p.socket} within ${timeoutMs} ms; see ${p.log}`);
}

/** stopContainerd stops the containerd of dir: SIGTERM, then SIGKILL after graceMs. Pods keep
 * running (their shims outlive it); cleanupContainerd removes them. */
export async function stopContainerd(dir: string, graceMs = 10_000): Promise<'terminated' | 'killed' | 'not-running'> {
  const pid = containerdPid(dir);
  if (!pid) return 'not-running';
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) {
      rmSync(containerdPaths(dir).pidFile, { force: true });
      return 'terminated';
    }
    await sleep(50);
  }
  process.kill(pid, 'SIGKILL');
  while (alive(pid)) await sleep(20);
  rmSync(containerdPaths(dir).pidFile, { force: true });
  return 'killed';
}

/** importImage imports an OCI layout or `docker save` tarball into the CRI namespace (k8s.io),
 * where CRI sees it at once. */
export async function importImage(dir: string, file: string): Promise<void> {
  const p = containerdPaths(dir);
  try {
    await run('ctr', ['-a', p.socket, '-n', 'k8s.io', 'images', 'import', file], { timeout: 120_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new ContainerdError(`ctr images import ${file}: ${(e.stderr || e.message).trim()}`);
  }
}

/** CleanupOptions names what of a node lives outside its containerd's dir. */
export interface CleanupOptions {
  /** cgroupParent is the cgroup under which the node's pods live ("/skiff-node0"), removed in every hierarchy. */
  cgroupParent?: string;
  /** bridge is the node's CNI bridge, deleted. */
  bridge?: string;
  /** removeDir deletes the containerd's dir at the end. */
  removeDir?: boolean;
}

/** CleanupReport lists what cleanupContainerd found and removed. */
export interface CleanupReport {
  containers: string[];
  shims: number[];
  netns: string[];
  mounts: string[];
  cgroups: string[];
}

/** runcContainers lists the containers in a runc root (one sub-directory per namespace) with the
 * network namespace each joined. */
function runcContainers(runcRoot: string): { root: string; id: string; netns?: string }[] {
  const out: { root: string; id: string; netns?: string }[] = [];
  if (!existsSync(runcRoot)) return out;
  for (const ns of readdirSync(runcRoot)) {
    const root = join(runcRoot, ns);
    if (!statSync(root).isDirectory()) continue;
    for (const id of readdirSync(root)) {
      let netns: string | undefined;
      try {
        const state = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')) as { config?: { namespaces?: { type: string; path?: string }[] } };
        netns = state.config?.namespaces?.find((n) => n.type === 'NEWNET')?.path || undefined;
      } catch {
        // a container half created: runc delete --force still removes it
      }
      out.push({ root, id, netns });
    }
  }
  return out;
}

/** processesWith lists the pids whose command line contains every one of words. */
function processesWith(words: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (words.every((w) => argv.includes(w))) pids.push(Number(entry));
  }
  return pids;
}

/** mountsUnder lists the mount points at or below dir, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(prefix)))
    .map((m) => m.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
}

/** cgroupHierarchies lists the mount points of the machine's cgroup hierarchies (v1 and v2). */
export function cgroupHierarchies(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => {
      const dash = f.indexOf('-');
      return dash > 0 && (f[dash + 1] === 'cgroup' || f[dash + 1] === 'cgroup2');
    })
    .map((f) => f[4]);
}

/** removeCgroupTree kills what still runs in a cgroup tree and removes its directories, deepest
 * first; returns the directories removed. */
async function removeCgroupTree(top: string): Promise<string[]> {
  if (!existsSync(top)) return [];
  const dirs: string[] = [];
  const walk = (d: string) => {
    dirs.push(d);
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
  };
  walk(top);
  dirs.sort((a, b) => b.length - a.length);
  const removed: string[] = [];
  for (const d of dirs) {
    for (let attempt = 0; ; attempt++) {
      try {
        for (const pid of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
        rmdirSync(d);
        removed.push(d);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
        if (attempt >= 50) throw new ContainerdError(`cannot remove cgroup ${d}: ${(err as Error).message}`);
        await sleep(20);
      }
    }
  }
  return removed;
}

/** cleanupContainerd removes every trace of the containerd of dir: its containers (through
 * runc), its shims, the containerd itself, the pods' cgroups, the network namespaces its pods
 * held, the mounts under dir, and the node's bridge. Safe to repeat. The orderly way down is
 * StopPodSandbox/RemovePodSandbox through CRI first (which also runs CNI DEL); this is what
 * remains to do after, or instead when containerd is gone. */
export async function cleanupContainerd(dir: string, opts: CleanupOptions = {}): Promise<CleanupReport> {
  const p = containerdPaths(dir);
  const report: CleanupReport = { containers: [], shims: [], netns: [], mounts: [], cgroups: [] };
  const netns = new Set<string>();
  for (const c of runcContainers(p.runcRoot)) {
    if (c.netns) netns.add(c.netns);
    await run('runc', ['--root', c.root, 'delete', '--force', c.id]).catch(() => undefined);
    report.containers.push(c.id);
  }
  for (const pid of processesWith(['-address', p.socket])) {
    try {
      process.kill(pid, 'SIGKILL');
      report.shims.push(pid);
    } catch {
      // already gone
    }
  }
  await stopContainerd(dir, 5_000);
  if (opts.cgroupParent) {
    const rel = opts.cgroupParent.replace(/^\/+/, '');
    if (!rel || rel.includes('..')) throw new ContainerdError(`cleanup: refusing cgroup parent ${JSON.stringify(opts.cgroupParent)}`);
    for (const h of cgroupHierarchies()) report.cgroups.push(...(await removeCgroupTree(join(h, rel))));
  }
  for (const ns of netns) {
    if (!existsSync(ns)) continue;
    await run('umount', [ns]).catch(() => run('umount', ['-l', ns]).catch(() => undefined));
    rmSync(ns, { force: true });
    report.netns.push(ns);
  }
  for (const m of mountsUnder(dir)) {
    await run('umount', [m]).catch(() => run('umount', ['-l', m]));
    report.mounts.push(m);
  }
  // libcni caches each attachment as <network>-<sandbox id>-<ifname> in a directory every
  // containerd shares; CNI DEL removes it, so only a pod that never got one leaves its files.
  const cniCache = '/var/lib/cni/results';
  if (existsSync(cniCache) && report.containers.length > 0) {
    for (const f of readdirSync(cniCache)) {
      if (report.containers.some((id) => f.includes(`-${id}-`))) rmSync(join(cniCache, f), { force: true });
    }
  }
  if (opts.bridge) await run('ip', ['link', 'del', opts.bridge]).catch(() => undefined);
  if (opts.removeDir) rmSync(dir, { recursive: true, force: true });
  return report;
}
