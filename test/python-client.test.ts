// End-to-end: the official Python client (Debian's python3-kubernetes 22.6, installed by
// scripts/setup.sh) runs its own suite, test/python/test_client.py, against a real apiserver:
// typed calls, watches, the dynamic client over discovery, ApiException bodies and paging.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, startCluster, type Cluster } from './harness.js';

// Debian's package installs for the system Python; a `python3` earlier on PATH (pyenv) lacks it.
const python = process.env.SKIFF_PYTHON ?? '/usr/bin/python3';
const suiteDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'python');

let cluster: Cluster;

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
});
after(async () => {
  await cluster?.stop();
});

describe('the Python client', () => {
  it('passes test/python against skiff', async () => {
    const r = await run(python, ['-m', 'unittest', 'discover', '-v', '-s', suiteDir, '-p', 'test_*.py'], {
      env: { ...cluster.env, SKIFF_KUBECONFIG: cluster.kubeconfig, PYTHONDONTWRITEBYTECODE: '1' },
      timeoutMs: 240_000,
    });
    process.stdout.write(`${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^Ran \d+ tests/m, "unittest ran no tests");
    assert.equal(r.code, 0, `python -m unittest exited ${r.code}:\n${r.stderr.slice(-6000)}`);
  });
});
