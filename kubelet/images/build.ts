// The node's images, built from Debian's packages with no registry: a pause image (the sandbox's
// PID 1, compiled from pause.c) and busybox:1.36 (Debian's static busybox with a link per applet).
// Each is written as an OCI image layout tarball (oci-layout, index.json with the
// org.opencontainers.image.ref.name annotation, blobs: one uncompressed layer, its config with the
// layer's diff_id, a manifest) that `ctr images import` takes, into imagesDir (.skiff-images/ in
// the source tree, ignored by git). A build is skipped while its inputs are unchanged.
//
//   node dist/kubelet/images/build.js [--quiet]     (scripts/setup.sh runs it)

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** sourceRoot is the repository's top directory, from both kubelet/images and dist/kubelet/images. */
function sourceRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return existsSync(join(here, 'pause.c')) ? join(here, '../..') : join(here, '../../..');
}

/** imagesDir is where the image tarballs are written and cached. */
export const imagesDir = join(sourceRoot(), '.skiff-images');

/** pauseImage is the sandbox image's name: skiff's own, so no registry's pause is ever shadowed. */
export const pauseImage = 'localhost/skiff/pause:1.0';

/** busyboxImage is busybox's full name; CRI also finds it as `busybox:1.36`. */
export const busyboxImage = 'docker.io/library/busybox:1.36';

/** BuiltImage is one image tarball: its name, its file, and its config's digest (the image ID). */
export interface BuiltImage {
  name: string;
  file: string;
  id: string;
}

/** TarEntry is one member of a tar archive. */
export type TarEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; data: Buffer }
  | { type: 'symlink'; path: string; target: string };

// Every member gets this modification time, so the same inputs give the same bytes and digests.
const fixedMtime = 1_700_000_000;

/** tarHeader is one 512-byte ustar header; a long path is split into prefix and name. */
function tarHeader(path: string, mode: number, size: number, typeflag: string, linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  let name = path;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = path.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(path.slice(cut + 1)) > 100) throw new Error(`tar: path too long: ${path}`);
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
  }
  const octal = (v: number, width: number) => v.toString(8).padStart(width - 1, '0') + '\0';
  h.write(name, 0, 100);
  h.write(octal(mode, 8), 100);
  h.write(octal(0, 8), 108); // uid
  h.write(octal(0, 8), 116); // gid
  h.write(octal(size, 12), 124);
  h.write(octal(fixedMtime, 12), 136);
  h.write('        ', 148); // the checksum counts its own field as spaces
  h.write(typeflag, 156);
  h.write(linkname, 157, 100);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write('root', 265);
  h.write('root', 297);
  h.write(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** tar writes entries as one ustar archive, with the two zero blocks that end it. */
export function tar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.type === 'dir') parts.push(tarHeader(e.path.endsWith('/') ? e.path : e.path + '/', e.mode, 0, '5'));
    else if (e.type === 'symlink') parts.push(tarHeader(e.path, 0o777, 0, '2', e.target));
    else {
      parts.push(tarHeader(e.path, e.mode, e.data.length, '0'), e.data);
      const pad = (512 - (e.data.length % 512)) % 512;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** ImageSpec is what an image is made of: its root filesystem and its default process. */
interface ImageSpec {
  name: string;
  entries: TarEntry[];
  config: { Entrypoint?: string[]; Cmd?: string[]; Env: string[]; WorkingDir?: string };
}

/** ociLayout turns an image into its OCI image layout tarball; returns it and the config digest. */
export function ociLayout(spec: ImageSpec, arch: string): { archive: Buffer; id: string } {
  const layer = tar(spec.entries);
  const layerDigest = sha256(layer);
  const created = new Date(fixedMtime * 1000).toISOString();
  const config = Buffer.from(
    JSON.stringify({
      created,
      architecture: arch,
      os: 'linux',
      config: spec.config,
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
      history: [{ created, created_by: 'skiff kubelet/images/build.ts' }],
    }),
  );
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    }),
  );
  const manifestDigest = sha256(manifest);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': spec.name },
          platform: { architecture: arch, os: 'linux' },
        },
      ],
    }),
  );
  const blob = (digest: string, data: Buffer): TarEntry => ({ type: 'file', path: `blobs/sha256/${digest.slice(7)}`, mode: 0o644, data });
  const archive = tar([
    { type: 'file', path: 'oci-layout', mode: 0o644, data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    { type: 'file', path: 'index.json', mode: 0o644, data: index },
    { type: 'dir', path: 'blobs', mode: 0o755 },
    { type: 'dir', path: 'blobs/sha256', mode: 0o755 },
    blob(layerDigest, layer),
    blob(configDigest, config),
    blob(manifestDigest, manifest),
  ]);
  return { archive, id: configDigest };
}

/** ociArch is the OCI name of this machine's architecture. */
function ociArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}

const defaultPath = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** pauseSpec compiles pause.c into a freestanding static binary: the image's only file. */
function pauseSpec(workDir: string): ImageSpec {
  const out = join(workDir, 'pause');
  const src = join(sourceRoot(), 'kubelet/images/pause.c');
  execFileSync('gcc', ['-Os', '-static', '-nostdlib', '-ffreestanding', '-fno-stack-protector', '-s', '-Wl,--build-id=none', '-o', out, src], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return {
    name: pauseImage,
    entries: [{ type: 'file', path: 'pause', mode: 0o755, data: readFileSync(out) }],
    config: { Entrypoint: ['/pause'], Env: [defaultPath] },
  };
}

const busyboxBinary = '/bin/busybox';

/** busyboxSpec is Debian's static busybox with a symlink per applet at its usual path. */
function busyboxSpec(): ImageSpec {
  const applets = execFileSync(busyboxBinary, ['--list-full'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l !== 'bin/busybox' && l !== 'linuxrc');
  const dirs = new Set(['bin', 'etc', 'root', 'tmp', 'var', 'home', 'usr', 'usr/bin', 'usr/sbin', 'sbin']);
  for (const a of applets) {
    const parts = a.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const entries: TarEntry[] = [...dirs].sort().map((d) => ({ type: 'dir', path: d, mode: d === 'tmp' ? 0o1777 : d === 'root' ? 0o700 : 0o755 }));
  entries.push({ type: 'file', path: 'bin/busybox', mode: 0o755, data: readFileSync(busyboxBinary) });
  for (const a of applets.sort()) entries.push({ type: 'symlink', path: a, target: '/bin/busybox' });
  const text = (path: string, s: string): TarEntry => ({ type: 'file', path, mode: 0o644, data: Buffer.from(s) });
  entries.push(
    text('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n'),
    text('etc/group', 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n'),
  );
  return { name: busyboxImage, entries, config: { Cmd: ['sh'], Env: [defaultPath] } };
}

/** inputsDigest names what an image is built from, so a changed input triggers a rebuild. */
function inputsDigest(name: string): string {
  const h = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url)));
  if (name === 'pause') h.update(readFileSync(join(sourceRoot(), 'kubelet/images/pause.c')));
  else h.update(readFileSync(busyboxBinary));
  return h.digest('hex');
}

/** buildImages writes (or finds up to date) the pause and busybox tarballs in imagesDir. */
export function buildImages(progress: (line: string) => void = () => {}): BuiltImage[] {
  mkdirSync(imagesDir, { recursive: true });
  const built: BuiltImage[] = [];
  for (const short of ['pause', 'busybox'] as const) {
    const file = join(imagesDir, `${short}.oci.tar`);
    const stampFile = `${file}.inputs`;
    const stamp = inputsDigest(short);
    const meta = `${file}.id`;
    if (existsSync(file) && existsSync(meta) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
      built.push({ name: short === 'pause' ? pauseImage : busyboxImage, file, id: readFileSync(meta, 'utf8') });
      continue;
    }
    const started = Date.now();
    const work = join(tmpdir(), `skiff-image-${process.pid}-${short}`);
    mkdirSync(work, { recursive: true });
    try {
      const spec = short === 'pause' ? pauseSpec(work) : busyboxSpec();
      const { archive, id } = ociLayout(spec, ociArch());
      writeFileSync(`${file}.tmp`, archive);
      renameSync(`${file}.tmp`, file);
      writeFileSync(meta, id);
      writeFileSync(stampFile, stamp);
      built.push({ name: spec.name, file, id });
      progress(`built image ${spec.name} (${(archive.length / 1024).toFixed(0)} KiB, ${Date.now() - started} ms)`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return built;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quiet = process.argv.includes('--quiet');
  const images = buildImages((line) => process.stderr.write(`[setup] ${line}\n`));
  if (!quiet) process.stderr.write(`[setup] images in ${imagesDir}: ${images.map((i) => i.name).join(', ')}\n`);
}
