import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Image } from '../kubelet/cri/types.js';
import { humanSize, imageRows } from './image.js';

const image = (id: string, tags: string[], size: number, digests: string[] = []): Image =>
  ({ id, repo_tags: tags, repo_digests: digests, size: String(size), uid: null, username: '' }) as Image;

test('image ls rows are crictl\'s: one per tag, the id cut to 13 hex digits, decimal sizes', () => {
  const rows = imageRows([
    image('sha256:0123456789abcdef0123', ['docker.io/library/busybox:1.36', 'docker.io/library/busybox:latest'], 1_180_000),
    image('sha256:fedcba9876543210fedc', ['localhost/skiff/pause:1.0'], 12_288),
    image('sha256:aaaaaaaaaaaaaaaaaaaa', [], 5_000_000, ['example.com/app@sha256:bbbb']),
  ]);
  assert.deepEqual(rows, [
    ['docker.io/library/busybox', '1.36', '0123456789abc', '1.18MB'],
    ['docker.io/library/busybox', 'latest', '0123456789abc', '1.18MB'],
    ['example.com/app', '<none>', 'aaaaaaaaaaaaa', '5MB'],
    ['localhost/skiff/pause', '1.0', 'fedcba9876543', '12.3kB'],
  ]);
  assert.equal(humanSize(999), '999B');
});
