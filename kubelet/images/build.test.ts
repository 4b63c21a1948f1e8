import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ociLayout, tar } from './build.js';

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

test('tar writes an archive GNU tar reads back: modes, symlinks, long paths, contents', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-tar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const longDir = 'usr/' + 'd'.repeat(90) + '/' + 'e'.repeat(40);
  const archive = tar([
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'dir', path: 'bin', mode: 0o755 },
    { type: 'file', path: 'bin/tool', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
    { type: 'symlink', path: 'bin/sh', target: '/bin/tool' },
    { type: 'dir', path: longDir, mode: 0o755 },
    { type: 'file', path: `${longDir}/file.txt`, mode: 0o644, data: Buffer.alloc(1000, 'x') },
  ]);
  assert.equal(archive.length % 512, 0);
  writeFileSync(join(dir, 'a.tar'), archive);
  const listing = execFileSync('tar', ['tvf', join(dir, 'a.tar')], { encoding: 'utf8' });
  assert.match(listing, /^drwxrwxrwt root\/root +0 .* tmp\/$/m);
  assert.match(listing, /^lrwxrwxrwx .* bin\/sh -> \/bin\/tool$/m);
  assert.ok(listing.includes(`${longDir}/file.txt`), listing);
  execFileSync('tar', ['xf', join(dir, 'a.tar'), '-C', dir]);
  assert.equal(readFileSync(join(dir, 'bin/tool'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.equal(readFileSync(join(dir, longDir, 'file.txt')).length, 1000);
});

test('ociLayout links index, manifest, config and layer by digest, and is reproducible', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-oci-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spec = {
    name: 'docker.io/library/x:1',
    entries: [{ type: 'file' as const, path: 'x', mode: 0o755, data: Buffer.from('x') }],
    config: { Cmd: ['/x'], Env: ['PATH=/bin'] },
  };
  const { archive, id } = ociLayout(spec, 'amd64');
  assert.deepEqual(ociLayout(spec, 'amd64').archive, archive, 'the same inputs give the same bytes');
  writeFileSync(join(dir, 'img.tar'), archive);
  execFileSync('tar', ['xf', join(dir, 'img.tar'), '-C', dir]);
  const blob = (digest: string) => readFileSync(join(dir, 'blobs/sha256', digest.slice(7)));
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'docker.io/library/x:1');
  const manifestBytes = blob(index.manifests[0].digest);
  assert.equal(sha(manifestBytes), index.manifests[0].digest);
  const manifest = JSON.parse(manifestBytes.toString());
  assert.equal(manifest.config.digest, id);
  const config = JSON.parse(blob(id).toString());
  const layer = blob(manifest.layers[0].digest);
  assert.equal(manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar');
  assert.equal(manifest.layers[0].size, layer.length);
  assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: [sha(layer)] });
  assert.deepEqual(config.config.Cmd, ['/x']);
  assert.equal(config.architecture, 'amd64');
});
