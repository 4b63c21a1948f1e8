// A cluster's life as `skiff up` runs it (issue 9, defects 9-11), end to end with the real skiff
// command and kubectl in a temporary SKIFF_HOME on free ports: it comes up, and serves, with a
// loopback advertise address; `skiff sim` restarts the simulator through the supervisor; the
// protected namespaces survive `kubectl delete ns --all` (and kube-node-lease comes back); a
// component killed with SIGKILL is started again by the supervisor and `skiff status` shows the
// restart; `skiff down` leaves nothing running.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { contextFor, defaultConfig, loadConfig, saveConfig, stopComponents } from '../lib/process/cluster.js';
import { nodeEntry } from '../lib/process/components.js';
import { freePorts } from '../lib/process/ports.js';
import { isAlive, readState, sleep, type ProcessState } from '../lib/process/supervisor.js';
import { kubectlBinary, run } from './harness.js';
import { until } from './kubectl-helpers.js';

const home = mkdtempSync(join(tmpdir(), 'skiff-lifecycle-'));
const env = { ...process.env, SKIFF_HOME: home, KUBECONFIG: join(home, 'admin.kubeconfig'), KUBECACHEDIR: join(home, 'kubecache') };
const skiff = (args: string[]) => run(process.execPath, [nodeEntry('cli/main.js'), ...args], { env });
const kubectl = (args: string[]) => run(kubectlBinary(), args, { env });
const state = (name: string) => readState(join(home, 'run', `${name}.json`));

/** processesOfHome lists the pids whose command line names the home: every process this cluster runs does. */
function processesOfHome(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(home) && isAlive(Number(entry))) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

let up: { code: number | null; stdout: string; stderr: string };

before(async () => {
  // Every port free, the client processes' health ports too (skiff up has no flags for those).
  const [etcd, peer, api, cm, sched, sim, dns] = await freePorts(7);
  saveConfig({ ...defaultConfig(home), controllerManagerPort: cm!, schedulerPort: sched!, simPort: sim!, dnsPort: dns!, clusterDNSPort: 0 });
  up = await skiff(['up', '--real-node=false', `--etcd-port=${etcd}`, `--etcd-peer-port=${peer}`, `--secure-port=${api}`, '--bind-address=127.0.0.1', '--advertise-address', '127.0.0.1']);
});

after(async () => {
  // Whatever a failed assertion left running goes now (the supervisor first, so nothing comes back).
  const config = loadConfig(home);
  if (config) await stopComponents(contextFor(config));
  rmSync(home, { recursive: true, force: true });
});

describe('skiff up, supervised', () => {
  test('with a loopback advertise address the cluster comes up, says why the kubernetes Service has no Endpoints, and serves', async () => {
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match(up.stdout, /Warning: the advertise address 127\.0\.0\.1 cannot be an endpoint address: it may not be in the loopback range/);
    assert.match(up.stdout, /\[\d+\/\d+\] sim … ready/);
    const svc = await kubectl(['get', 'service', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.equal(svc.code, 0, svc.stderr);
    assert.equal(svc.stdout, '10.96.0.1');
    const ep = await kubectl(['get', 'endpoints', 'kubernetes', '-n', 'default']);
    assert.match(ep.stderr, /NotFound/);
    const slice = await kubectl(['get', 'endpointslice', 'kubernetes', '-n', 'default']);
    assert.match(slice.stderr, /NotFound/);
    assert.match(readFileSync(join(home, 'logs', 'apiserver.log'), 'utf8'), /Not publishing the kubernetes Endpoints/);
    const made = await kubectl(['create', 'configmap', 'hello', '--from-literal=a=b']);
    assert.equal(made.code, 0, made.stderr);
  });

  test('skiff sim restarts the simulator through the supervisor: one simulator, with the new flags, and no restart counted', async () => {
    const before = state('sim')!;
    const r = await run(process.execPath, [nodeEntry('cli/main.js'), 'sim', '--nodes', '1'], { env, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const after = state('sim')!;
    assert.notEqual(after.pid, before.pid);
    assert.ok(after.args.includes('--nodes=1'), after.args.join(' '));
    // Past the first back-off: a stop behind the supervisor's back would have started a second simulator.
    await sleep(2_000);
    const simulators = processesOfHome().filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sim/main.js'));
    assert.deepEqual(simulators, [after.pid]);
    assert.equal(state('sim')!.restarts ?? 0, 0);
  });

  test('kubectl delete ns --all deletes the others and reports default, kube-system and kube-public as forbidden', async () => {
    assert.equal((await kubectl(['create', 'namespace', 'team'])).code, 0);
    const del = await kubectl(['delete', 'namespace', '--all', '--wait=false']);
    assert.notEqual(del.code, 0, del.stdout);
    for (const ns of ['default', 'kube-system', 'kube-public']) {
      assert.match(del.stderr, new RegExp(`Error from server \\(Forbidden\\): namespaces "${ns}" is forbidden: this namespace may not be deleted`));
    }
    assert.match(del.stdout, /namespace "team" deleted/);
    assert.match(del.stdout, /namespace "kube-node-lease" deleted/);
    const kept = await kubectl(['get', 'namespaces', 'default', 'kube-system', 'kube-public', '-o', 'jsonpath={range .items[*]}{.status.phase} {end}']);
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(kept.stdout.trim(), 'Active Active Active');
    // The namespace controller still finishes deletions: the one it depends on is still there.
    await until(async () => (await kubectl(['get', 'namespace', 'team'])).stderr.includes('NotFound'), 60_000, 'namespace team to be gone');
    // kube-node-lease is not protected, but the apiserver creates it again (within a minute) once it is gone, as kube's does.
    await until(async () => (await kubectl(['get', 'namespace', 'kube-node-lease', '-o', 'jsonpath={.status.phase}'])).stdout === 'Active', 150_000, 'kube-node-lease to be back');
  });

  test('a component killed with SIGKILL is started again, and skiff status shows the restart', async () => {
    const before = state('controller-manager');
    assert.ok(before && isAlive(before), 'controller-manager runs');
    process.kill(before.pid, 'SIGKILL');
    let after: ProcessState | undefined;
    await until(() => {
      after = state('controller-manager');
      return !!after && after.pid !== before.pid && isAlive(after);
    }, 60_000, 'the supervisor to start controller-manager again');
    let status = await skiff(['status']);
    await until(async () => {
      status = await skiff(['status']);
      return status.code === 0;
    }, 120_000, 'every component to be healthy again');
    assert.match(status.stdout, /^NAME\s+PID\s+STATUS\s+HEALTH\s+UPTIME\s+RESTARTS\s+LAST EXIT$/m);
    assert.match(status.stdout, new RegExp(`^controller-manager\\s+${after!.pid}\\s+Running\\s+healthy\\s+\\S+\\s+1 \\(\\S+ ago\\)\\s+signal SIGKILL$`, 'm'));
    assert.match(status.stdout, /^etcd\s+\d+\s+Running\s+healthy\s+\S+\s+0\s+-$/m);
    assert.match(status.stdout, /Supervisor: running \(pid \d+\)/);

    // skiff up again finds the same supervisor and the running components.
    const again = await skiff(['up']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, new RegExp(`Supervisor already running \\(pid ${state('supervisor')!.pid}\\)`));
    assert.match(again.stdout, new RegExp(`controller-manager … already running \\(pid ${after!.pid}\\)`));
  });

  test('skiff down stops the supervisor first and leaves nothing running', async () => {
    const pids = ['supervisor', 'etcd', 'apiserver', 'controller-manager', 'scheduler', 'sim'].map((n) => state(n)!);
    for (const p of pids) assert.ok(p && isAlive(p), `${p?.name} runs before down`);
    const down = await skiff(['down']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /^supervisor \(pid \d+\) stopped\n/);
    for (const p of pids) assert.equal(isAlive(p), false, `${p.name} (pid ${p.pid}) still runs`);
    // Past the first back-off: a supervisor still watching would have started something again.
    await sleep(2_000);
    assert.deepEqual(processesOfHome(), []);
    assert.deepEqual(readdirSync(join(home, 'run')), []);
    const status = await skiff(['status']);
    assert.equal(status.code, 1);
    assert.match(status.stdout, /Supervisor: not running/);
    assert.equal(existsSync(join(home, 'run', 'supervisor.sock')), false);
  });
});
