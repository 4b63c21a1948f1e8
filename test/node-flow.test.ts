// The seed's flow on a real node, every process the real one as `skiff up` starts it (etcd,
// apiserver, controller manager, scheduler, containerd, kubelet): `kubectl apply -f
// manifests/web.yaml` gives two pods Running and Ready with IPs from the Node's podCIDR, and
// busybox httpd answers on each pod IP from the host with the page of the ConfigMap volume. Then
// the STATUS column of `kubectl get pods` for a failed and a crash-looping container, env from a
// ConfigMap seen inside, a readiness probe holding a pod NotReady (and its EndpointSlice endpoint
// not ready) until the probe passes, the kubelet SIGKILLed and restarted without restarting any
// container, the Deployment deleted with its sandboxes, and nothing left after stop.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cgroupHierarchies, containerdPaths, mountsUnder } from '../kubelet/containerd.js';
import { CriClient } from '../kubelet/cri/client.js';
import { PodUIDLabel } from '../kubelet/labels.js';
import type { Node } from '../lib/api/core/node.js';
import type { Pod } from '../lib/api/core/pod.js';
import { nodeEntry, nodeName } from '../lib/process/components.js';
import { type Cluster, startCluster } from './harness.js';
import { row } from './kubectl-helpers.js';
import { httpGet, linkExists, missingNodeTools, routeOf, sleep, waitFor } from './node-fixture.js';

const skip = missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'iptables', 'kubectl']);
let cluster: Cluster | undefined;
let cri: CriClient | undefined;
after(async () => {
  cri?.close();
  await cluster?.stop();
});

const isReady = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

test('the seed\'s flow on a real node: web.yaml serves HTTP on the pod IPs, statuses, config maps, readiness, kubelet restart, deletion, nothing left', { skip: skip || false, timeout: 600_000 }, async (t) => {
  cluster = await startCluster({ realNode: true });
  const c = cluster;
  const { config } = c;
  const name = nodeName(config);
  t.diagnostic(`cluster CIDR ${config.clusterCIDR}, bridge ${config.cniBridge}`);
  cri = new CriClient(containerdPaths(join(c.home, 'containerd')).socket);

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const getPod = async (pod: string) => JSON.parse(await kubectl(['get', 'pod', pod, '-o', 'json'])) as Pod;
  const webPods = async () => (JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: Pod[] }).items;
  /** statusColumn is the STATUS column of `kubectl get pods` for one pod. */
  const statusColumn = async (pod: string) => row(await kubectl(['get', 'pods']), pod)[2];
  const diagnose = async () => `\nkubelet log tail:\n${c.logs('kubelet').split('\n').slice(-40).join('\n')}\npods:\n${await kubectl(['get', 'pods', '-o', 'wide'])}`;

  const node = await waitFor('the Node to be Ready with a podCIDR', async () => {
    const n = JSON.parse(await kubectl(['get', 'node', name, '-o', 'json'])) as Node;
    return n.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True' && !!n.spec?.podCIDR ? n : undefined;
  });
  const podCIDR = node.spec!.podCIDR!;
  const podPrefix = podCIDR.split('.').slice(0, 3).join('.') + '.';

  // kubectl apply -f manifests/web.yaml: two pods Running and Ready on the node, serving the ConfigMap's page.
  const applied = await kubectl(['apply', '-f', '-'], readFileSync(nodeEntry('../manifests/web.yaml'), 'utf8'));
  assert.match(applied, /deployment.apps\/web created/);
  const web = await waitFor('both web pods Running and Ready', async () => {
    const pods = await webPods();
    return pods.length === 2 && pods.every((p) => p.status?.phase === 'Running' && isReady(p)) && pods;
  }, 120_000).catch(async (err: Error) => assert.fail(err.message + (await diagnose())));
  for (const p of web) {
    const ip = p.status!.podIP!;
    assert.equal(p.spec?.nodeName, name);
    assert.equal(p.status?.hostIP, node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address);
    assert.ok(ip.startsWith(podPrefix), `pod IP ${ip} is in ${podCIDR}`);
    // Only to an address this machine routes itself: the pod's bridge, no gateway.
    const route = routeOf(ip);
    assert.doesNotMatch(route, / via /, route);
    assert.match(route, new RegExp(`dev ${config.cniBridge}\\b`), route);
    assert.equal(await httpGet(`http://${ip}:8080/`), 'hello from skiff\n');
    assert.deepEqual(row(await kubectl(['get', 'pods']), p.metadata!.name!).slice(1, 4), ['1/1', 'Running', '0']);
  }
  await kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);

  // The STATUS column: a container that exits non-zero is Error (restartPolicy Never) or CrashLoopBackOff (Always).
  await kubectl(['run', 'fails', '--image=busybox:1.36', '--restart=Never', '--command', '--', 'sh', '-c', 'echo bye > /dev/termination-log; exit 3']);
  await kubectl(['run', 'crashes', '--image=busybox:1.36', '--restart=Always', '--command', '--', 'sh', '-c', 'exit 1']);
  await waitFor('fails to show Error', async () => (await statusColumn('fails')) === 'Error');
  const failed = await getPod('fails');
  assert.equal(failed.status?.phase, 'Failed');
  assert.equal(failed.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
  assert.equal(failed.status?.containerStatuses?.[0]?.state?.terminated?.message?.trim(), 'bye', 'the termination message is read back');
  await waitFor('crashes to show CrashLoopBackOff', async () => (await statusColumn('crashes')) === 'CrashLoopBackOff');
  const crashing = await getPod('crashes');
  assert.equal(crashing.status?.containerStatuses?.[0]?.lastState?.terminated?.reason, 'Error');
  assert.equal(crashing.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'CrashLoopBackOff');

  // A ConfigMap as a volume and as env, and a readiness probe that holds the pod NotReady until it passes.
  await kubectl(['create', 'configmap', 'settings', '--from-literal=greeting=hi-from-configmap', '--from-literal=page.html=<p>from a volume</p>']);
  await kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'gated', labels: { app: 'gated' } },
        spec: {
          containers: [{
            name: 'httpd',
            image: 'busybox:1.36',
            command: ['sh', '-c', 'mkdir -p /tmp/www && echo "$GREETING" > /tmp/www/env.txt && echo "$WEB_SERVICE_HOST:$WEB_SERVICE_PORT" > /tmp/www/svc.txt && cp /etc/settings/page.html /tmp/www/ && exec httpd -f -p 8080 -h /tmp/www'],
            env: [{ name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'greeting' } } }],
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 },
            volumeMounts: [{ name: 'settings', mountPath: '/etc/settings' }],
          }],
          volumes: [{ name: 'settings', configMap: { name: 'settings' } }],
        },
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gated' }, spec: { selector: { app: 'gated' }, ports: [{ port: 80, targetPort: 'http' }] } },
    ],
  }));
  const gated = await waitFor('gated Running', async () => {
    const p = await getPod('gated');
    return p.status?.phase === 'Running' && !!p.status.podIP && !!p.status.containerStatuses?.[0]?.state?.running ? p : undefined;
  });
  const gatedIP = gated.status!.podIP!;
  assert.doesNotMatch(routeOf(gatedIP), / via /);
  assert.equal(await waitFor('gated to serve env.txt', () => httpGet(`http://${gatedIP}:8080/env.txt`)), 'hi-from-configmap\n');
  assert.equal(await httpGet(`http://${gatedIP}:8080/page.html`), '<p>from a volume</p>');
  // The service link env vars of the web Service made before the pod.
  const webIP = (await kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  assert.equal(await httpGet(`http://${gatedIP}:8080/svc.txt`), `${webIP}:80\n`);
  type Slice = { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] };
  const sliceReady = async () => {
    const list = JSON.parse(await kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=gated', '-o', 'json'])) as { items: Slice[] };
    const eps = list.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.addresses.includes(gatedIP));
    return eps.length === 1 ? eps[0]!.conditions?.ready : undefined;
  };
  await waitFor('the EndpointSlice to list gated as not ready', async () => (await sliceReady()) === false);
  await sleep(3_000); // three probe periods: still failing, still NotReady
  const notReady = await getPod('gated');
  assert.equal(isReady(notReady), false);
  assert.equal(notReady.status?.containerStatuses?.[0]?.ready, false);
  assert.deepEqual(row(await kubectl(['get', 'pods']), 'gated').slice(1, 3), ['0/1', 'Running']);
  const gatedContainer = notReady.status!.containerStatuses![0]!.containerID!.replace(/^containerd:\/\//, '');
  const touched = await cri.execSync(gatedContainer, ['touch', '/tmp/ready'], 10);
  assert.equal(touched.exit_code, 0);
  await waitFor('gated to become Ready', async () => isReady(await getPod('gated')));
  await waitFor('the EndpointSlice to list gated as ready', async () => (await sliceReady()) === true);

  // SIGKILL the kubelet and start it again: every container keeps running, none is restarted.
  const before = new Map((await webPods()).map((p) => [p.metadata!.name!, p.status!.containerStatuses![0]!]));
  const startsBefore = c.logs('kubelet').split('Kubelet started').length;
  await c.killHard('kubelet');
  await c.restart('kubelet');
  await waitFor('the restarted kubelet to start its pod workers', async () => c.logs('kubelet').split('Kubelet started').length > startsBefore, 60_000);
  await sleep(5_000); // a few relists of the runtime (every second) and a status sync of every pod
  for (const p of await webPods()) {
    const s = p.status!.containerStatuses![0]!;
    const old = before.get(p.metadata!.name!);
    assert.ok(old, `${p.metadata!.name} is one of the pods from before`);
    assert.equal(s.containerID, old!.containerID, 'same container');
    assert.equal(s.restartCount, old!.restartCount, 'restartCount unchanged');
    assert.ok(s.state?.running && s.ready && isReady(p), `${p.metadata!.name} still running and Ready`);
    assert.equal(await httpGet(`http://${p.status!.podIP}:8080/`), 'hello from skiff\n');
  }

  // Deleting the Deployment: the pods go, and so do their sandboxes.
  const uids = (await webPods()).map((p) => p.metadata!.uid!);
  await kubectl(['delete', 'deployment', 'web', '--timeout=90s']);
  await waitFor('the web pods to be gone', async () => (await webPods()).length === 0, 120_000);
  await waitFor('their sandboxes to be removed', async () => {
    const sandboxes = await cri!.listPodSandbox();
    return !sandboxes.some((s) => uids.includes(s.labels?.[PodUIDLabel] ?? ''));
  }, 60_000);
  assert.equal(readdirSync(join(c.home, 'kubelet', 'pods')).filter((d) => uids.includes(d)).length, 0, 'the pods\' directories are gone');

  // Stopping the cluster leaves nothing of the node behind.
  cri.close();
  cri = undefined;
  const home = c.home;
  await c.stop();
  cluster = undefined;
  assert.equal(linkExists(config.cniBridge), false, 'the bridge is gone');
  assert.equal(linkExists(config.sinkDevice), false, 'the sink is gone');
  assert.ok(!spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout.includes(config.cniNetworkName), 'no nat rule of the network');
  assert.deepEqual(cgroupHierarchies().filter((h) => existsSync(join(h, config.cgroupRoot))), [], 'no pod cgroup is left');
  assert.deepEqual(mountsUnder(home), [], 'no mount under the home');
  const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(home);
    } catch {
      return false;
    }
  });
  assert.deepEqual(procs, [], 'no process of the home is left');
});
