import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { stopComponents, contextFor, loadConfig } from '../lib/process/cluster.js';
import { nodeEntry } from '../lib/process/components.js';
import { freePorts } from '../lib/process/ports.js';
import { isAlive, readState } from '../lib/process/supervisor.js';
import { kubectlBinary, run } from './harness.js';

const cli = nodeEntry('cli/main.js');
const apiserverBuilt = existsSync(nodeEntry('apiserver/main.js'));
const skiff = (args: string[]) => run(process.execPath, [cli, ...args]);

describe('skiff command', () => {
  const home = mkdtempSync(join(tmpdir(), 'skiff-cli-e2e-'));
  after(async () => {
    // Whatever a failed assertion left running goes now.
    const config = loadConfig(home);
    if (config) await stopComponents(contextFor(config));
    rmSync(home, { recursive: true, force: true });
  });

  test('--help lists the commands; an unknown command exits 2', async () => {
    const help = await skiff(['--help']);
    assert.equal(help.code, 0);
    for (const c of ['up', 'down', 'status', 'logs']) assert.match(help.stdout, new RegExp(`^  ${c} `, 'm'));
    for (const c of ['up', 'down', 'status', 'logs']) {
      const r = await skiff([c, '--help']);
      assert.equal(r.code, 0, `${c} --help`);
      assert.match(r.stdout, new RegExp(`skiff ${c}`));
    }
    const bad = await skiff(['frobnicate']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command "frobnicate"/);
    const badFlag = await skiff(['up', '--secure-port', 'x']);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /invalid value "x" for --secure-port/);
  });

  test('up, up again, status, logs, down, up on the same data, down --purge', async () => {
    const [etcdPort, peerPort, apiPort] = await freePorts(3);
    const only = apiserverBuilt ? [] : ['--only', 'etcd'];
    const flags = ['--home', home];
    const up = await skiff([
      'up', ...flags, ...only,
      `--etcd-port=${etcdPort}`, `--etcd-peer-port=${peerPort}`, `--secure-port=${apiPort}`,
      '--bind-address=127.0.0.1', '--real-node=false',
    ]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match(up.stdout, /\[1\/\d\] etcd … ready \(\d+\.\ds, pid \d+\)/);
    if (apiserverBuilt) {
      // Started as their dependencies allow: etcd, then the apiserver, then the API clients (in any order among them).
      const at = (name: string) => up.stdout.search(new RegExp(`^\\[\\d+/\\d+\\] ${name} … ready`, 'm'));
      for (const client of ['controller-manager', 'scheduler', 'sim', 'dns']) {
        assert.ok(at('etcd') < at('apiserver') && at('apiserver') < at(client), `${client} after the apiserver after etcd:\n${up.stdout}`);
      }
    }
    assert.match(up.stdout, new RegExp(`export KUBECONFIG=${join(home, 'admin.kubeconfig')}`));
    assert.match(up.stdout, /kubectl get ns/);
    assert.match(up.stdout, new RegExp(`skiff user add jane --home ${home}\n  kubectl create rolebinding jane-edit --clusterrole=edit --user=jane --namespace=default`));
    const etcd = readState(join(home, 'run', 'etcd.json'));
    assert.ok(etcd && isAlive(etcd));

    // The ports were remembered: a bare `up` finds the running processes and leaves them alone.
    const again = await skiff(['up', ...flags, ...only]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, new RegExp(`etcd … already running \\(pid ${etcd.pid}\\)`));

    const status = await skiff(['status', ...flags]);
    assert.match(status.stdout, new RegExp(`^etcd\\s+${etcd.pid}\\s+Running\\s+healthy`, 'm'));
    assert.equal(status.code, apiserverBuilt ? 0 : 1, status.stdout);

    if (apiserverBuilt) {
      const ns = await run(kubectlBinary(), ['get', 'ns', '-o', 'name'], {
        env: { ...process.env, KUBECONFIG: join(home, 'admin.kubeconfig'), KUBECACHEDIR: join(home, 'kubecache') },
      });
      assert.equal(ns.code, 0, ns.stderr);
      assert.match(ns.stdout, /namespace\/default/);
    }

    const logs = await skiff(['logs', 'etcd', ...flags, '--tail', '3']);
    assert.equal(logs.code, 0);
    assert.equal(logs.stdout.trimEnd().split('\n').length, 3);
    assert.equal((await skiff(['logs', 'nope', ...flags])).code, 1);

    if (apiserverBuilt) {
      // A stopped cluster comes back on its own data: same CA, same objects.
      const kubectl = (args: string[]) =>
        run(kubectlBinary(), args, {
          env: { ...process.env, KUBECONFIG: join(home, 'admin.kubeconfig'), KUBECACHEDIR: join(home, 'kubecache') },
        });
      const made = await kubectl(['create', 'namespace', 'survivor']);
      assert.equal(made.code, 0, made.stderr);
      const stop = await skiff(['down', ...flags]);
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal(isAlive(etcd), false);
      assert.equal(readState(join(home, 'run', 'etcd.json')), undefined, 'down removes the state files');
      const restart = await skiff(['up', ...flags]);
      assert.equal(restart.code, 0, restart.stdout + restart.stderr);
      assert.match(restart.stdout, /apiserver … ready/);
      const ns = await kubectl(['get', 'namespace', 'survivor', '-o', 'name']);
      assert.equal(ns.code, 0, ns.stderr);
      assert.equal(ns.stdout.trim(), 'namespace/survivor');
    }

    const down = await skiff(['down', ...flags, '--purge']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /etcd \(pid \d+\) stopped/);
    if (apiserverBuilt) assert.ok(down.stdout.indexOf('apiserver') < down.stdout.indexOf('etcd'), 'stops in reverse order');
    assert.equal(isAlive(etcd), false);
    assert.equal(existsSync(home), false);
  });
});
