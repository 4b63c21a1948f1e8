// What the tests that drive a containerd of their own share (test-only): the check that this
// machine can run them, and a containerd directory whose cleanup (processes, mounts, network
// namespaces, the bridge, pod cgroups) runs however the test ends — after its own hooks, on
// process exit, or on SIGINT/SIGTERM/SIGHUP.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CleanupReport, type ContainerdPaths, cleanupContainerd, importImage, startContainerd, writeContainerdConfig } from '../kubelet/containerd.js';
import { CriClient } from '../kubelet/cri/client.js';
import { buildImages } from '../kubelet/images/build.js';
import { freePort } from '../lib/process/ports.js';

/** missingNodeTools says why this machine cannot run a node test (not root, a missing program, no CNI plugins), or ''. */
export function missingNodeTools(bins: readonly string[] = ['containerd', 'ctr', 'runc', 'gcc']): string {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const bin of bins) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `needs ${bin} (scripts/setup.sh installs it)`;
  }
  if (!existsSync('/usr/lib/cni/bridge')) return 'needs the CNI plugins in /usr/lib/cni';
  return '';
}

/** ContainerdFixture is a test's containerd directory and the names of what its pods make on the machine. */
export interface ContainerdFixture {
  /** dir is the containerd's directory ('' when the test is skipped). */
  dir: string;
  /** bridge is the CNI bridge's name (the test's prefix and a random suffix, within IFNAMSIZ). */
  bridge: string;
  /** cgroupRoot is the cgroup the pods live under. */
  cgroupRoot: string;
  suffix: string;
  /** cleanedUp says whether cleanup already ran. */
  readonly cleanedUp: boolean;
  /** cleanup removes everything (once; later calls answer undefined); removeDir false keeps the directory. */
  cleanup(opts?: { removeDir?: boolean }): Promise<CleanupReport | undefined>;
  /**
   * start writes the containerd config and a CNI conflist (bridge without masquerade, so no NAT
   * rule is left to clean; host-local on the test's subnet; portmap unless told not to; loopback),
   * starts containerd, imports skiff's images and connects a CRI client (the caller closes it).
   */
  start(opts?: { portmap?: boolean }): Promise<{ paths: ContainerdPaths; cri: CriClient }>;
}

/**
 * containerdFixture makes a test's containerd directory (/tmp/skiff-<name>-…) and names, and
 * makes sure they are cleaned up on process exit and on signals; the test's own after() should
 * await cleanup() too.
 */
export function containerdFixture(opts: { skip: string; name: string; bridgePrefix: string; subnet: string }): ContainerdFixture {
  const suffix = randomBytes(3).toString('hex');
  const bridge = `${opts.bridgePrefix}${suffix}`;
  const cgroupRoot = `/skiff-${opts.name}-${suffix}`;
  const dir = opts.skip ? '' : mkdtempSync(`/tmp/skiff-${opts.name}-`);
  let cleanedUp = false;
  // The synchronous 'exit' event cannot await: run the cleanup in a child process.
  const cleanupSync = () => {
    if (cleanedUp || !dir) return;
    cleanedUp = true;
    const mod = fileURLToPath(new URL('../kubelet/containerd.js', import.meta.url));
    spawnSync(process.execPath, [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(mod)}); await m.cleanupContainerd(${JSON.stringify(dir)}, ${JSON.stringify({ cgroupParent: cgroupRoot, bridge, removeDir: true })});`,
    ], { stdio: 'inherit', timeout: 60_000 });
  };
  if (dir) {
    process.on('exit', cleanupSync);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        cleanupSync();
        process.kill(process.pid, sig);
      });
    }
  }
  return {
    dir,
    bridge,
    cgroupRoot,
    suffix,
    get cleanedUp() {
      return cleanedUp;
    },
    async cleanup(o = {}) {
      if (cleanedUp || !dir) return undefined;
      cleanedUp = true;
      return cleanupContainerd(dir, { cgroupParent: cgroupRoot, bridge, removeDir: o.removeDir ?? true });
    },
    async start(o = {}) {
      const paths = writeContainerdConfig({ dir, streamPort: await freePort() });
      const plugins: object[] = [
        { type: 'bridge', bridge, isGateway: true, ipMasq: false, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet: opts.subnet }]], dataDir: join(dir, 'cni', 'ipam') } },
      ];
      if (o.portmap ?? true) plugins.push({ type: 'portmap', capabilities: { portMappings: true } });
      plugins.push({ type: 'loopback' });
      writeFileSync(join(paths.cniConfDir, '10-skiff.conflist'), JSON.stringify({ cniVersion: '0.4.0', name: `skiff-${opts.name}-${suffix}`, plugins }));
      await startContainerd(dir);
      for (const image of buildImages()) await importImage(dir, image.file);
      return { paths, cri: new CriClient(paths.socket) };
    },
  };
}

/** sleep resolves after ms. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** waitFor polls fn until it answers something truthy, and fails with what it waited for (and fn's last error) after timeoutMs. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(300);
  }
}

/** routeOf is `ip route get ADDR`'s first line (tests check it before sending: no `via` hop). */
export function routeOf(addr: string): string {
  return spawnSync('ip', ['route', 'get', addr], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
}

/** linkExists reports whether a network interface exists on the host. */
export function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' }).status === 0;
}

/** httpGet fetches url over plain HTTP within 5 s and answers the body of a 200 (anything else rejects). */
export function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** HostMount is a host directory or file the pod sees read-only at the same (or another) path. */
export interface HostMount {
  name: string;
  hostPath: string;
  mountPath: string;
  type: 'Directory' | 'File';
}

/**
 * nodeRuntimeMounts are what running the host's node inside a busybox container needs: the binary
 * at /usr/local/bin/node, the directory of each shared library `ldd` resolves (at the path ldd
 * names, so the loader's default search finds them) and of the program interpreter.
 */
export function nodeRuntimeMounts(nodeBinary: string): HostMount[] {
  const ldd = spawnSync('ldd', [nodeBinary], { encoding: 'utf8' });
  if (ldd.status !== 0) throw new Error(`ldd ${nodeBinary}: ${ldd.stderr}`);
  const dirs = new Set<string>();
  for (const line of ldd.stdout.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) dirs.add(dirname(m[1]!));
  }
  const mounts: HostMount[] = [{ name: 'node-binary', hostPath: realpathSync(nodeBinary), mountPath: '/usr/local/bin/node', type: 'File' }];
  // busybox's image has /bin, /usr/bin and /usr/sbin of its own: never cover them.
  const own = new Set(['/bin', '/sbin', '/usr/bin', '/usr/sbin']);
  [...dirs].sort().forEach((d, i) => {
    if (own.has(d)) throw new Error(`a library of ${nodeBinary} lives in ${d}, which the busybox image owns`);
    mounts.push({ name: `libs-${i}`, hostPath: realpathSync(d), mountPath: d, type: 'Directory' });
  });
  return mounts;
}
