// The kubelet's API end to end without a kubelet process: a containerd of the test's own runs
// busybox containers created by raw CRI with the kubelet's labels and log layout; the kubelet
// server (startKubeletServer) runs in this process with a certificate from the test cluster's
// CA; an apiserver has a Node pointing at it and Pods bound to that node. Then the real kubectl
// runs logs, exec, cp, port-forward and attach through the apiserver, and client-node's Exec,
// Log and PortForward do too. Everything the test made on the machine is removed at the end,
// also when it fails.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { dirname, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { CriClient } from '../kubelet/cri/client.js';
import type { ContainerConfig, PodSandboxConfig } from '../kubelet/cri/types.js';
import { ContainerNameLabel, ContainerRestartCountAnnotation, containerLogPath, PodNameLabel, PodNamespaceLabel, PodUIDLabel, podLogsDirName } from '../kubelet/labels.js';
import { startKubeletServer, type KubeletServer } from '../kubelet/server/server.js';
import { newLogger } from '../lib/log.js';
import { newMetricsRegistry } from '../lib/metrics.js';
import { ensureClientCert, ensureServingCert } from '../lib/pki.js';
import { kubectlBinary, run, startCluster, type Cluster } from './harness.js';
import { containerdFixture, missingNodeTools } from './node-fixture.js';

const skip = missingNodeTools();
// This test's own /24 and bridge name (IFNAMSIZ 15).
const subnet = '10.244.220.0/24';
const fixture = containerdFixture({ skip, name: 'kapi', bridgePrefix: 'sks', subnet });
const { dir, bridge, cgroupRoot } = fixture;
const nodeName = 'kapi-node';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** TestContainer is one container the test runs in a pod: its name, command and earlier attempts. */
interface TestContainer {
  name: string;
  command: string[];
  stdin?: boolean;
  /** attempts > 1 runs the container that often (each to its end but the last), as restarts. */
  attempts?: { command: string[] }[];
}

let cluster: Cluster;
let cri: CriClient;
let kubelet: KubeletServer;
const podLogsDir = join(dir || '/nonexistent', 'pods');
let podIP = '';

/** runPod runs a pod through raw CRI as the kubelet's pod workers would label and lay it out. */
async function runPod(name: string, uid: string, containers: TestContainer[]): Promise<string> {
  const labels = { [PodNameLabel]: name, [PodNamespaceLabel]: 'default', [PodUIDLabel]: uid };
  const sandboxConfig: PodSandboxConfig = {
    metadata: { name, uid, namespace: 'default', attempt: 0 },
    hostname: name,
    log_directory: join(podLogsDir, podLogsDirName('default', name, uid)),
    labels,
    linux: { cgroup_parent: `${cgroupRoot}/pod${uid}` },
  };
  const sandboxId = await cri.runPodSandbox(sandboxConfig);
  for (const c of containers) {
    const runs = [...(c.attempts ?? []), { command: c.command }];
    for (let restart = 0; restart < runs.length; restart++) {
      const config: ContainerConfig = {
        metadata: { name: c.name, attempt: restart },
        image: { image: 'busybox:1.36' },
        command: runs[restart]!.command,
        log_path: containerLogPath(c.name, restart),
        labels: { ...labels, [ContainerNameLabel]: c.name },
        annotations: { [ContainerRestartCountAnnotation]: String(restart) },
        stdin: c.stdin ?? false,
      };
      const id = await cri.createContainer(sandboxId, config, sandboxConfig);
      await cri.startContainer(id);
      if (restart < runs.length - 1) await waitFor(`${c.name} attempt ${restart} to exit`, async () => (await cri.containerStatus(id)).status.state === 'CONTAINER_EXITED');
    }
  }
  return sandboxId;
}

/** createPod writes a Pod bound to the test node, Running with its containers running, so kubectl takes it. */
async function createPod(name: string, uid: string, containers: string[]): Promise<void> {
  const res = await cluster.request('/api/v1/namespaces/default/pods', {
    method: 'POST',
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } }, spec: { nodeName, containers: containers.map((c) => ({ name: c, image: 'busybox:1.36' })) } },
  });
  assert.equal(res.status, 201, res.body);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const st = await cluster.request(`/api/v1/namespaces/default/pods/${name}/status`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/merge-patch+json' },
    body: {
      status: {
        phase: 'Running',
        podIP,
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
        containerStatuses: containers.map((c) => ({ name: c, ready: true, restartCount: 0, image: 'busybox:1.36', imageID: '', started: true, state: { running: { startedAt: now } } })),
      },
    },
  });
  assert.equal(st.status, 200, st.body);
  void uid;
}

/** spawnKubectl starts a long-running kubectl (logs -f, port-forward, attach) and collects its output. */
function spawnKubectl(args: string[]) {
  const child = spawn(kubectlBinary(), args, { env: cluster.env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out, exited, stop: async () => { child.kill('SIGKILL'); await exited; } };
}

describe('the kubelet API through the apiserver', { skip: skip || false, timeout: 600_000 }, () => {
  before(async () => {
    cluster = await startCluster({ components: ['etcd', 'apiserver'] });
    ({ cri } = await fixture.start());

    const pki = dirname(cluster.caFile);
    const serving = await ensureServingCert(pki, { name: 'kapi-kubelet-serving', commonName: nodeName, hosts: ['127.0.0.1'] });
    kubelet = await startKubeletServer({
      address: '127.0.0.1',
      port: 0,
      tls: { cert: readFileSync(serving.cert, 'utf8'), key: readFileSync(serving.key, 'utf8'), clientCA: readFileSync(cluster.caFile, 'utf8') },
      runtime: cri,
      log: newLogger('kubelet', Number(process.env.SKIFF_TEST_V ?? 0)),
      metrics: newMetricsRegistry('kubelet'),
    });

    const node = await cluster.request('/api/v1/nodes', { method: 'POST', body: { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName } } });
    assert.equal(node.status, 201, node.body);
    const ns = await cluster.request(`/api/v1/nodes/${nodeName}/status`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } } },
    });
    assert.equal(ns.status, 200, ns.body);

    const longLine = 'x'.repeat(20_000);
    const sandbox = await runPod('web', 'uid-web-0001', [
      { name: 'main', command: ['sh', '-c', `echo one; echo two; sleep 1; echo three >&2; sleep 1; printf '${longLine}\\n'; mkdir -p /www; echo hello-pf > /www/index.html; exec httpd -f -p 8080 -h /www`] },
      { name: 'ticker', command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done'] },
      { name: 'crash', attempts: [{ command: ['sh', '-c', 'echo first-run; exit 1'] }], command: ['sh', '-c', 'echo second-run; exec sleep 3600'] },
      { name: 'echoer', stdin: true, command: ['sh', '-c', 'while read l; do echo got:$l; done'] },
    ]);
    podIP = (await cri.podSandboxStatus(sandbox)).status.network?.ip ?? '';
    await createPod('web', 'uid-web-0001', ['main', 'ticker', 'crash', 'echoer']);
    // The pod's output is in its log files before the tests read them. (stdout and stderr are
    // copied to the file separately, so a line of one may overtake the other's: main sleeps
    // before and after its stderr line to keep the order the assertions read.)
    await waitFor('main to listen', async () => (await cri.execSync((await cri.listContainers({ label_selector: { [ContainerNameLabel]: 'main' } }))[0]!.id, ['sh', '-c', 'netstat -ltn | grep -q :8080'], 5)).exit_code === 0);
  });

  after(async () => {
    await kubelet?.close();
    cri?.close();
    await cluster?.stop();
    {
      await fixture.cleanup();
    }
  });

  test('kubectl logs: a container, --tail, --timestamps, --since-time, --limit-bytes, --previous, long lines joined', async () => {
    const all = await cluster.kubectl(['logs', 'web', '-c', 'main']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, `one\ntwo\nthree\n${'x'.repeat(20_000)}\n`);
    const tail = await cluster.kubectl(['logs', 'web', '-c', 'main', '--tail=2']);
    assert.equal(tail.stdout, `three\n${'x'.repeat(20_000)}\n`);
    const ts = await cluster.kubectl(['logs', 'web', '-c', 'main', '--timestamps', '--tail=3']);
    assert.match(ts.stdout.split('\n')[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z two$/);
    const future = await cluster.kubectl(['logs', 'web', '-c', 'main', '--since-time=2099-01-01T00:00:00Z']);
    assert.equal(future.code, 0, future.stderr);
    assert.equal(future.stdout, '');
    const recent = await cluster.kubectl(['logs', 'web', '-c', 'main', '--since=1h', '--tail=1']);
    assert.equal(recent.stdout, `${'x'.repeat(20_000)}\n`);
    const limited = await cluster.kubectl(['logs', 'web', '-c', 'main', '--limit-bytes=6']);
    assert.equal(limited.stdout, 'one\ntw');
    const current = await cluster.kubectl(['logs', 'web', '-c', 'crash']);
    assert.equal(current.stdout, 'second-run\n');
    const previous = await cluster.kubectl(['logs', 'web', '-c', 'crash', '--previous']);
    assert.equal(previous.code, 0, previous.stderr);
    assert.equal(previous.stdout, 'first-run\n');
    const noPrevious = await cluster.kubectl(['logs', 'web', '-c', 'main', '--previous']);
    assert.notEqual(noPrevious.code, 0);
    assert.match(noPrevious.stderr, /previous terminated container "main" in pod "web" not found/);
    const bad = await cluster.kubectl(['logs', 'web', '-c', 'nope']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /container nope is not valid for pod web/);
  });

  test('kubectl logs -f follows new lines', async () => {
    const k = spawnKubectl(['logs', '-f', 'web', '-c', 'ticker', '--tail=1']);
    try {
      const first = await waitFor('a first tick', () => /tick (\d+)/.exec(k.out.stdout)?.[1]);
      await waitFor('a later tick', () => new RegExp(`tick ${Number(first) + 2}\\n`).test(k.out.stdout));
      assert.equal(k.out.stdout.split('\n').filter(Boolean).every((l) => /^tick \d+$/.test(l)), true, k.out.stdout);
    } finally {
      await k.stop();
    }
  });

  test('kubectl exec: output, stderr, exit codes, stdin to its end', async () => {
    const out = await cluster.kubectl(['exec', 'web', '-c', 'main', '--', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'out\n');
    assert.equal(out.stderr, 'err\n');
    const seven = await cluster.kubectl(['exec', 'web', '-c', 'main', '--', 'sh', '-c', 'exit 7']);
    assert.equal(seven.code, 7, seven.stderr);
    const stdin = await cluster.kubectl(['exec', '-i', 'web', '-c', 'main', '--', 'sh', '-c', 'wc -c; echo done'], { input: 'a'.repeat(100_000) });
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.equal(stdin.stdout, '100000\ndone\n');
    const missing = await cluster.kubectl(['exec', 'web', '-c', 'main', '--', 'nothere']);
    assert.notEqual(missing.code, 0);
  });

  test('kubectl exec -it runs with a terminal', async () => {
    // script(1) gives kubectl a terminal, as a user's shell would.
    const cmd = `${kubectlBinary()} exec -it web -c main -- sh -c 'tty; test -t 0 && echo is-a-tty; exit 3'`;
    // (Never spawnSync here: the kubelet server runs in this process.)
    const res = await run('script', ['-qec', cmd, '/dev/null'], { env: cluster.env, timeoutMs: 60_000 });
    assert.match(res.stdout, /\/dev\/pts\/\d+/);
    assert.match(res.stdout, /is-a-tty/);
    assert.equal(res.code, 3, res.stdout + res.stderr);
  });

  test('kubectl cp into the pod and out of it', async () => {
    const local = mkdtempSync('/tmp/skiff-kapi-cp-');
    const payload = randomBytes(300_000).toString('base64');
    writeFileSync(join(local, 'in.txt'), payload);
    const up = await cluster.kubectl(['cp', join(local, 'in.txt'), 'default/web:/tmp/in.txt', '-c', 'main']);
    assert.equal(up.code, 0, up.stderr);
    const check = await cluster.kubectl(['exec', 'web', '-c', 'main', '--', 'md5sum', '/tmp/in.txt']);
    const md5 = createHash('md5').update(payload).digest('hex');
    assert.equal(check.stdout.split(' ')[0], md5);
    const down = await cluster.kubectl(['cp', 'default/web:/tmp/in.txt', join(local, 'out.txt'), '-c', 'main']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(readFileSync(join(local, 'out.txt'), 'utf8'), payload);
    rmSync(local, { recursive: true, force: true });
  });

  test('kubectl port-forward reaches a port in the pod', async () => {
    const k = spawnKubectl(['port-forward', 'pod/web', ':8080', '--address=127.0.0.1']);
    try {
      const port = Number(await waitFor('the forwarding line', () => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(k.out.stdout)?.[1]));
      for (let i = 0; i < 3; i++) assert.equal(await httpGet(`http://127.0.0.1:${port}/`), 'hello-pf\n');
    } finally {
      await k.stop();
    }
  });

  test('kubectl port-forward to a service resolves it to its pod and target port', async () => {
    const svc = await cluster.request('/api/v1/namespaces/default/services', {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'websvc' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
    });
    assert.equal(svc.status, 201, svc.body);
    const k = spawnKubectl(['port-forward', 'svc/websvc', ':80', '--address=127.0.0.1']);
    try {
      const port = Number(await waitFor('the forwarding line', () => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(k.out.stdout)?.[1]));
      assert.equal(await httpGet(`http://127.0.0.1:${port}/`), 'hello-pf\n');
    } finally {
      await k.stop();
    }
  });

  test('kubectl attach streams a running container, with stdin', async () => {
    const k = spawnKubectl(['attach', '-i', 'web', '-c', 'echoer']);
    try {
      // attach takes a moment to connect; lines written before are read by nobody but the shell.
      await new Promise((r) => setTimeout(r, 2000));
      k.child.stdin.write('hello\n');
      await waitFor('the echo', () => k.out.stdout.includes('got:hello'));
      const t = spawnKubectl(['attach', 'web', '-c', 'ticker']);
      try {
        await waitFor('a tick through attach', () => /tick \d+/.test(t.out.stdout));
      } finally {
        await t.stop();
      }
    } finally {
      await k.stop();
    }
  });

  test('nodes/proxy reaches the kubelet: healthz and pods', async () => {
    const healthz = await cluster.request(`/api/v1/nodes/${nodeName}/proxy/healthz`);
    assert.equal(healthz.status, 200, healthz.body);
    assert.equal(healthz.body, 'ok');
    const pods = await cluster.kubectl(['get', '--raw', `/api/v1/nodes/${nodeName}/proxy/pods`]);
    assert.equal(pods.code, 0, pods.stderr);
    const list = JSON.parse(pods.stdout) as { items: { metadata: { name: string } }[] };
    assert.deepEqual(list.items.map((p) => p.metadata.name), ['web']);
  });

  test('the kubelet refuses clients other than the apiserver', async () => {
    const pki = dirname(cluster.caFile);
    const other = await ensureClientCert(pki, { name: 'kapi-someone', commonName: 'someone', organizations: ['system:masters'] });
    const ask = (cert?: { cert: string; key: string }) =>
      new Promise<number>((resolve, reject) => {
        const req = https.request(`https://127.0.0.1:${kubelet.port}/pods`, { ca: readFileSync(cluster.caFile), cert: cert && readFileSync(cert.cert), key: cert && readFileSync(cert.key), agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    assert.equal(await ask(), 401);
    assert.equal(await ask(other), 403);
  });

  test("client-node's Exec, Log and PortForward", async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);

    const stdout = collect();
    const status = await new Promise<k8s.V1Status>((resolve, reject) => {
      new k8s.Exec(kc).exec('default', 'web', 'main', ['sh', '-c', 'echo from-client-node; exit 4'], stdout.stream, null, null, false, resolve).catch(reject);
    });
    assert.equal(status.status, 'Failure');
    assert.equal(status.reason, 'NonZeroExitCode');
    assert.equal(status.details?.causes?.[0]?.message, '4');
    await waitFor('the output', () => stdout.text().includes('from-client-node'));

    const logs = collect();
    await new k8s.Log(kc).log('default', 'web', 'main', logs.stream, { tailLines: 3 });
    await waitFor('the log lines', () => logs.text().startsWith('two\nthree\n')).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(logs.text().replace(/x{100,}/, (m) => `<${m.length} x>`))}`));

    const pfOut = collect();
    const input = new PassThrough();
    const ws = (await new k8s.PortForward(kc).portForward('default', 'web', [8080], pfOut.stream, null, input)) as unknown as { close(): void };
    input.write('GET / HTTP/1.0\r\n\r\n');
    await waitFor('the HTTP answer through port-forward', () => pfOut.text().includes('hello-pf')).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(pfOut.text().slice(0, 300))}`));
    ws.close();

  });
});

/** collect gathers what is written to a stream. */
function collect(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

/** httpGet fetches a loopback URL's body. */
function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}
