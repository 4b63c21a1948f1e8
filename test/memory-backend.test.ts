// An apiserver started with --storage-backend=memory and no etcd at all: kubectl creates, gets and
// watches through it, and what it stored is gone once it restarts (issue 18's groundwork).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { kubectlBinary, run, startCluster, type Cluster } from './harness.js';

let cluster: Cluster;

before(async () => {
  // No etcd component: an apiserver that tried etcd would never become ready.
  cluster = await startCluster({ components: ['apiserver'], extraArgs: { apiserver: ['--storage-backend=memory'] } });
});
after(async () => {
  await cluster?.stop();
});

async function ok(args: string[]): Promise<string> {
  const r = await cluster.kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function waitFor(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('apiserver with --storage-backend=memory', () => {
  it('serves kubectl create, get and watch with no etcd running', async () => {
    assert.equal(cluster.pid('etcd'), undefined);
    assert.match(await ok(['create', 'namespace', 'mem']), /namespace\/mem created/);
    const child = spawn(kubectlBinary(), ['get', 'configmaps', '-n', 'mem', '-w', '--output-watch-events', '--request-timeout=0'], { env: cluster.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    try {
      // The namespace controller is not running: the root CA ConfigMap never appears, so the
      // watch's first line is the one this test writes.
      await new Promise((r) => setTimeout(r, 1000));
      await ok(['create', 'configmap', 'seen', '-n', 'mem', '--from-literal=k=v1']);
      const got = JSON.parse(await ok(['get', 'configmap', 'seen', '-n', 'mem', '-o', 'json']));
      assert.deepEqual(got.data, { k: 'v1' });
      assert.match(got.metadata.resourceVersion, /^\d+$/);
      await ok(['label', 'configmap', 'seen', '-n', 'mem', 'tier=memory']);
      await ok(['delete', 'configmap', 'seen', '-n', 'mem']);
      await waitFor('the watch showed the delete', () => /DELETED\s+seen\s/.test(out)).catch((e: Error) => {
        throw new Error(`${e.message}; kubectl -w printed:\n${out}${err}`);
      });
      // EVENT NAME DATA AGE: the create, the label, the delete, in order.
      const rows = out.trim().split('\n').map((l) => l.trim().split(/\s+/).slice(0, 3).join(' '));
      assert.deepEqual(rows, ['EVENT NAME DATA', 'ADDED seen 1', 'MODIFIED seen 1', 'DELETED seen 1'], `kubectl -w printed:\n${out}${err}`);
    } finally {
      child.kill();
    }
  });

  it('keeps nothing across a restart', async () => {
    await ok(['create', 'namespace', 'forgotten']);
    await cluster.restart('apiserver');
    const r = await cluster.kubectl(['get', 'namespace', 'forgotten']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /namespaces "forgotten" not found/);
    // The apiserver bootstraps its own namespaces again on the empty store.
    assert.match(await ok(['get', 'namespace', 'default', '-o', 'name']), /namespace\/default/);
  });

  it('refuses a storage backend it does not have, naming the ones it has', async () => {
    const main = fileURLToPath(new URL('../apiserver/main.js', import.meta.url));
    const r = await run(process.execPath, [main, '--storage-backend=etcd2', '--tls-cert-file=x', '--tls-private-key-file=x', '--client-ca-file=x']);
    assert.equal(r.code, 2);
    assert.match(r.stdout + r.stderr, /--storage-backend invalid, allowed values: etcd3, memory/);
  });
});
