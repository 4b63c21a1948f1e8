import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerdConfig, containerdPaths } from './containerd.js';

test('containerdConfig keeps every path of the instance under its dir and sets what CRI needs here', () => {
  const config = containerdConfig({ dir: '/var/lib/skiff/node0/containerd', streamPort: 10010 });
  assert.match(config, /^version = 2$/m);
  assert.match(config, /^root = "\/var\/lib\/skiff\/node0\/containerd\/root"$/m);
  assert.match(config, /^state = "\/var\/lib\/skiff\/node0\/containerd\/state"$/m);
  assert.match(config, /^ {2}address = "\/var\/lib\/skiff\/node0\/containerd\/containerd.sock"$/m);
  assert.match(config, /^ {2}Root = "\/var\/lib\/skiff\/node0\/containerd\/runc"$/m);
  assert.match(config, /^ {2}restrict_oom_score_adj = true$/m);
  assert.match(config, /^ {2}stream_server_address = "127.0.0.1"$/m);
  assert.match(config, /^ {2}stream_server_port = "10010"$/m);
  assert.match(config, /^ {2}SystemdCgroup = false$/m);
  assert.match(config, /^ {2}sandbox_image = "localhost\/skiff\/pause:1.0"$/m);
  assert.match(config, /^ {2}conf_dir = "\/var\/lib\/skiff\/node0\/containerd\/cni\/net.d"$/m);
  const settings = config.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
  assert.doesNotMatch(settings, /\/run\/containerd|\/etc\/containerd/);
});

test('containerdPaths refuses a dir whose socket path does not fit a unix socket', () => {
  assert.throws(() => containerdPaths('/tmp/' + 'x'.repeat(100)), /socket path too long/);
  assert.equal(containerdPaths('/tmp/n').socket, '/tmp/n/containerd.sock');
});
