// `skiff image import FILE` loads an OCI archive or a `docker save` tarball into the containerd of
// every real node of a home (no registry needed), and `skiff image ls` lists what the nodes hold,
// in the columns of `crictl images`.

import { existsSync, statSync } from 'node:fs';
import { containerdPaths, importImage } from '../kubelet/containerd.js';
import { CriClient } from '../kubelet/cri/client.js';
import type { Image } from '../kubelet/cri/types.js';
import { contextFor, defaultConfig, loadConfig } from '../lib/process/cluster.js';
import { nodeName, type ComponentContext } from '../lib/process/components.js';
import { homeFlag, parseFlags, resolveHome, UsageError, type CommandSpec } from './options.js';

const usage = `Import images into the cluster's real node, or list what it holds.

Usage:
  skiff image import FILE... [flags]   load OCI archives or \`docker save\` tarballs into every node
  skiff image ls [flags]               list the images the nodes hold (as \`crictl images\`)

Flags:
      --home DIR   cluster home (env SKIFF_HOME, default ~/.skiff)
  -h, --help       show this help

Images go into containerd's k8s.io namespace, where the kubelet finds them at once; a pod
whose imagePullPolicy is IfNotPresent (the default for tags other than :latest) uses them
without asking a registry.
`;

/** NodeRuntime is one real node of a home and the socket of its containerd. */
interface NodeRuntime {
  name: string;
  dir: string;
  socket: string;
}

/** nodesOf lists the real nodes of a home (one per home today), failing when none runs. */
function nodesOf(ctx: ComponentContext): NodeRuntime[] {
  if (!ctx.config.realNode) throw new Error(`the cluster of ${ctx.config.home} has no real node (it was started with --real-node=false)`);
  const socket = containerdPaths(ctx.paths.containerd).socket;
  if (!existsSync(socket)) throw new Error(`the node's containerd is not running (no ${socket}); start it with: skiff up --home ${ctx.config.home}`);
  return [{ name: nodeName(ctx.config), dir: ctx.paths.containerd, socket }];
}

/** humanSize prints a byte count as crictl does (decimal units, 3 significant digits). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** imageRows are `crictl images` rows: one per tag (or one <none> row), the id shortened to 13 hex digits. */
export function imageRows(images: Image[]): string[][] {
  const rows: string[][] = [];
  for (const img of images) {
    const id = img.id.replace(/^sha256:/, '').slice(0, 13);
    const size = humanSize(Number(img.size));
    const tags = img.repo_tags.length ? img.repo_tags : img.repo_digests.map((d) => `${d.split('@')[0]}:<none>`);
    for (const tag of tags) {
      const colon = tag.lastIndexOf(':');
      rows.push([tag.slice(0, colon), tag.slice(colon + 1), id, size]);
    }
  }
  return rows.sort((a, b) => a[0]!.localeCompare(b[0]!) || a[1]!.localeCompare(b[1]!));
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

async function imageCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { ...homeFlag } as const, true);
  if (values.help || positionals.length === 0) {
    process.stdout.write(usage);
    return values.help ? 0 : 2;
  }
  const [verb, ...args] = positionals;
  const home = resolveHome(values.home);
  const ctx = contextFor(loadConfig(home) ?? defaultConfig(home));
  if (verb === 'import') {
    if (args.length === 0) throw new UsageError('image import: expected at least one FILE');
    for (const file of args) {
      if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`image import: ${file}: no such file`);
    }
    const nodes = nodesOf(ctx);
    for (const file of args) {
      const mb = (statSync(file).size / 1e6).toFixed(1);
      for (const node of nodes) {
        process.stdout.write(`Importing ${file} (${mb} MB) into node ${node.name} … `);
        const t0 = Date.now();
        await importImage(node.dir, file);
        process.stdout.write(`done (${((Date.now() - t0) / 1000).toFixed(1)}s)\n`);
      }
    }
    return 0;
  }
  if (verb === 'ls' || verb === 'list') {
    if (args.length) throw new UsageError(`image ls: unexpected argument ${JSON.stringify(args[0])}`);
    const nodes = nodesOf(ctx);
    for (const node of nodes) {
      const runtime = new CriClient(node.socket, { timeoutMs: 10_000 });
      try {
        const rows = imageRows(await runtime.listImages());
        if (nodes.length > 1) process.stdout.write(`Node ${node.name}:\n`);
        process.stdout.write(table(['IMAGE', 'TAG', 'IMAGE ID', 'SIZE'], rows));
      } finally {
        runtime.close();
      }
    }
    return 0;
  }
  throw new UsageError(`unknown image command "${verb}" (want import or ls)`);
}

/** imageCommandSpec is `skiff image`. */
export const imageCommandSpec: CommandSpec = { name: 'image', summary: 'Import images into the node, list what it holds', usage, run: imageCommand };
