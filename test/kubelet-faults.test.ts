// Faults on a real node (containerd + kubelet of the test's own, through the harness): containerd
// SIGKILLed and started again leaves a running container running (same container, same host
// process, restartCount unchanged) and the kubelet recovers (Node Ready, a new pod runs); the
// apiserver stopped for 25 s while a container crash-loops: the kubelet keeps restarting it
// meanwhile and the pod's status catches up when the apiserver is back. Then `kubectl run -i
// --rm`, client-node's Attach, and a pod naming a missing imagePullSecret (ErrImagePull as
// before, the kubelet keeps running). Cleanup runs when the test fails too. The scheduler and
// the controller manager exit when they lose their lease with the apiserver away; the test
// starts them again as a supervisor would.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { containerdPaths } from '../kubelet/containerd.js';
import { CriClient } from '../kubelet/cri/client.js';
import { PodUIDLabel } from '../kubelet/labels.js';
import type { Node } from '../lib/api/core/node.js';
import type { Pod } from '../lib/api/core/pod.js';
import { nodeName } from '../lib/process/components.js';
import { type Cluster, startCluster } from './harness.js';
import { missingNodeTools, sleep } from './node-fixture.js';

const skip = missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'iptables', 'kubectl']) || false;
let cluster: Cluster | undefined;
const c = (): Cluster => cluster!;

before(async () => {
  if (!skip) cluster = await startCluster({ realNode: true });
});
after(async () => {
  await cluster?.stop();
});

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}\nkubelet log tail:\n${c().logs('kubelet').split('\n').slice(-30).join('\n')}`);
    await sleep(300);
  }
}

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await c().kubectl(args, { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const getPod = async (name: string) => JSON.parse(await kubectl(['get', 'pod', name, '-o', 'json'])) as Pod;

async function nodeReady(): Promise<boolean> {
  const n = JSON.parse(await kubectl(['get', 'node', nodeName(c().config), '-o', 'json'])) as Node;
  return n.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';
}

async function running(name: string): Promise<Pod> {
  return waitFor(`pod ${name} Running`, async () => {
    const p = await getPod(name);
    return p.status?.containerStatuses?.[0]?.state?.running !== undefined && p;
  });
}

/** hostPids are the host's processes whose command line is exactly argv. */
function hostPids(argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8') === want;
    } catch {
      return false;
    }
  }).map(Number);
}

test('containerd SIGKILLed and started again: the container keeps running, the kubelet recovers', { skip, timeout: 240_000 }, async () => {
  await waitFor('the Node Ready', nodeReady);
  const argv = ['sleep', String(86_000 + Math.floor(Math.random() * 400))];
  await kubectl(['run', 'sleeper', '--image=busybox:1.36', '--restart=Always', '--command', '--', ...argv]);
  const before = (await running('sleeper')).status!.containerStatuses![0]!;
  const [pid] = hostPids(argv);
  assert.ok(pid, `the container's process ${argv.join(' ')} runs on the host`);

  await c().killHard('containerd');
  await sleep(3_000);
  assert.deepEqual(hostPids(argv), [pid], 'the container outlives containerd (its shim holds it)');
  await c().restart('containerd');

  // The kubelet reconnects: the same container, not restarted, and exec reaches it again.
  const out = await waitFor('kubectl exec after the restart', async () => {
    const r = await c().kubectl(['exec', 'sleeper', '--', 'sh', '-c', 'echo alive']);
    return r.code === 0 && r.stdout;
  });
  assert.equal(out, 'alive\n');
  const after = (await getPod('sleeper')).status!.containerStatuses![0]!;
  assert.equal(after.containerID, before.containerID, 'same container');
  assert.equal(after.restartCount, before.restartCount, 'restartCount unchanged');
  assert.ok(after.state?.running, 'still running');
  assert.deepEqual(hostPids(argv), [pid], 'the same host process');
  assert.ok(await nodeReady(), 'the Node is Ready');

  // A new pod runs after the restart.
  await kubectl(['run', 'after-containerd', '--image=busybox:1.36', '--restart=Never', '--command', '--', 'sleep', '3600']);
  await running('after-containerd');
  await kubectl(['delete', 'pod', 'sleeper', 'after-containerd', '--grace-period=1', '--timeout=60s']);
});

test('the apiserver away for 25 s: the kubelet keeps restarting a crashing container, status catches up', { skip, timeout: 240_000 }, async () => {
  await waitFor('the Node Ready', nodeReady);
  await kubectl(['run', 'crasher', '--image=busybox:1.36', '--restart=Always', '--command', '--', 'sh', '-c', 'sleep 5; exit 1']);
  const started = await running('crasher');
  assert.equal(started.status!.containerStatuses![0]!.restartCount, 0);
  const uid = started.metadata!.uid!;
  const cri = new CriClient(containerdPaths(join(c().home, 'containerd')).socket);
  try {
    const attempts = async () => (await cri.listContainers({ label_selector: { [PodUIDLabel]: uid } })).map((x) => x.metadata?.attempt ?? 0);
    assert.deepEqual(await attempts(), [0]);

    await c().kill('apiserver');
    let whileAway: number[];
    try {
      // Exit after 5 s, back-off 10 s, restarted at ~15 s: attempt 1 exists well inside 25 s.
      await sleep(25_000);
      whileAway = await attempts();
    } finally {
      await c().restart('apiserver');
      // The scheduler and the controller manager lose their leader lease after 10 s without the
      // apiserver and exit, as Kubernetes' do ("leader election lost"); a supervisor starts them again.
      await c().restart('scheduler');
      await c().restart('controller-manager');
    }
    assert.ok(Math.max(...whileAway) >= 1, `the kubelet restarted the container while the apiserver was away (attempts ${whileAway.join(',')})\n${c().logs('kubelet').split('\n').slice(-60).join('\n')}`);

    const caughtUp = await waitFor('the pod status to catch up', async () => {
      const p = await getPod('crasher');
      const s = p.status?.containerStatuses?.[0];
      return s && s.restartCount !== undefined && s.restartCount >= 1 && p;
    });
    const s = caughtUp.status!.containerStatuses![0]!;
    assert.equal(s.lastState?.terminated?.exitCode, 1);
    assert.equal(s.lastState?.terminated?.reason, 'Error');
    await waitFor('the Node Ready again', nodeReady);
  } finally {
    cri.close();
  }
  await kubectl(['delete', 'pod', 'crasher', '--grace-period=1', '--timeout=60s']);
});

test('kubectl run -i --rm prints the output and deletes the pod', { skip, timeout: 120_000 }, async () => {
  const r = await c().kubectl(['run', 't', '--image=busybox:1.36', '--restart=Never', '-i', '--rm', '--', 'sh', '-c', 'echo hi'], { input: '', timeoutMs: 90_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^hi$/m);
  assert.match(r.stdout + r.stderr, /pod "t" deleted/);
  const gone = await c().kubectl(['get', 'pod', 't']);
  assert.match(gone.stderr, /pods "t" not found/);
});

test("client-node's Attach reaches a running container's stdin and stdout", { skip, timeout: 120_000 }, async () => {
  await kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'echoer' },
    spec: {
      containers: [{ name: 'main', image: 'busybox:1.36', stdin: true, command: ['sh', '-c', 'while read l; do echo "got:$l"; done'] }],
    },
  }));
  await running('echoer');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(c().kubeconfig);
  const chunks: Buffer[] = [];
  const stdout = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  const stdin = new PassThrough();
  const ws = (await new k8s.Attach(kc).attach('default', 'echoer', 'main', stdout, null, stdin, false)) as unknown as { close(): void };
  try {
    // Lines written before the attach is wired reach nobody: write until the answer comes.
    await waitFor('the echo through Attach', async () => {
      stdin.write('from-attach\n');
      await sleep(500);
      return Buffer.concat(chunks).toString().includes('got:from-attach');
    }, 30_000);
  } finally {
    ws.close();
  }
  await kubectl(['delete', 'pod', 'echoer', '--grace-period=1', '--timeout=60s']);
});

test('a pod naming a missing imagePullSecret gets ErrImagePull as before; the kubelet keeps running', { skip, timeout: 120_000 }, async () => {
  // 127.0.0.1:1 refuses at once: the pull never leaves the machine.
  await kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'secretive' },
    spec: {
      imagePullSecrets: [{ name: 'no-such-secret' }],
      containers: [{ name: 'main', image: '127.0.0.1:1/private/app:1', command: ['true'] }],
    },
  }));
  const waiting = await waitFor('ErrImagePull or ImagePullBackOff', async () => {
    const w = (await getPod('secretive')).status?.containerStatuses?.[0]?.state?.waiting;
    return w && (w.reason === 'ErrImagePull' || w.reason === 'ImagePullBackOff') && w;
  });
  assert.match(waiting.message ?? '', /127\.0\.0\.1:1\/private\/app:1/);
  const events = await kubectl(['get', 'events', '--field-selector', 'involvedObject.name=secretive', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']);
  assert.match(events, /^FailedToRetrieveImagePullSecret$/m);
  await kubectl(['delete', 'pod', 'secretive', '--grace-period=1', '--timeout=60s']);
  assert.ok(c().pid('kubelet'), 'the kubelet still runs');
  assert.ok(await nodeReady());
});
