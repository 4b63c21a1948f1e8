// A pod whose config map is missing, on a real node: a missing config map volume keeps the pod
// ContainerCreating with a FailedMount event (kube's text), a missing key of an env var's config
// map gives CreateContainerConfigError; both are retried with back-off, and once the config map
// exists both pods run, with the value inside. The kubelet stays up throughout.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Pod } from '../lib/api/core/pod.js';
import { type Cluster, startCluster } from './harness.js';
import { row } from './kubectl-helpers.js';
import { missingNodeTools, sleep, waitFor } from './node-fixture.js';

const skip = missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'kubectl']);
let cluster: Cluster | undefined;
after(async () => {
  await cluster?.stop();
});

const manifests = `
apiVersion: v1
kind: Pod
metadata:
  name: vol
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox:1.36
      command: ["sh", "-c", "cat /cfg/color; echo; sleep 3600"]
      volumeMounts:
        - name: cfg
          mountPath: /cfg
  volumes:
    - name: cfg
      configMap:
        name: settings
---
apiVersion: v1
kind: Pod
metadata:
  name: env
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox:1.36
      command: ["sh", "-c", "echo color=$COLOR; sleep 3600"]
      env:
        - name: COLOR
          valueFrom:
            configMapKeyRef:
              name: settings
              key: color
`;

test('a missing config map: FailedMount and CreateContainerConfigError on a real node, then Running once it exists', { skip: skip || false, timeout: 600_000 }, async () => {
  cluster = await startCluster({ realNode: true });
  const c = cluster;
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const getPod = async (name: string) => JSON.parse(await kubectl(['get', 'pod', name, '-o', 'json'])) as Pod;
  const events = async (name: string) =>
    (JSON.parse(await kubectl(['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'json'])) as { items: { reason: string; message: string; type: string; count?: number }[] }).items;

  await waitFor('a Ready node', async () => (await kubectl(['get', 'nodes'])).includes(' Ready '));
  await kubectl(['apply', '-f', '-'], manifests);

  // The volume: ContainerCreating, with kube's FailedMount text.
  const failedMount = await waitFor('a FailedMount event for vol', async () => (await events('vol')).find((e) => e.reason === 'FailedMount'));
  assert.equal(failedMount.type, 'Warning');
  assert.match(failedMount.message, /^MountVolume\.SetUp failed for volume "cfg" : configmap "settings" not found$/);
  assert.equal(row(await kubectl(['get', 'pods']), 'vol')[2], 'ContainerCreating');

  // The env var: CreateContainerConfigError, with kube's message.
  const envPod = await waitFor('env to wait with CreateContainerConfigError', async () => {
    const p = await getPod('env');
    return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError' && p;
  });
  assert.match(envPod.status!.containerStatuses![0]!.state!.waiting!.message!, /configmap "settings" not found/);
  assert.equal(row(await kubectl(['get', 'pods']), 'env')[2], 'CreateContainerConfigError');
  const failed = await waitFor('a Failed event for env', async () => (await events('env')).find((e) => e.reason === 'Failed'));
  assert.match(failed.message, /configmap "settings" not found/);

  // Retried with back-off, not in a hot loop, and the kubelet is still the same process.
  const kubeletPid = c.pid('kubelet');
  await sleep(5_000);
  const mounts = (await events('vol')).filter((e) => e.reason === 'FailedMount').reduce((n, e) => n + (e.count ?? 1), 0);
  assert.ok(mounts < 10, `FailedMount retried with back-off, not in a loop (${mounts} in about 10 s)`);
  assert.equal(c.pid('kubelet'), kubeletPid, 'the kubelet did not restart');

  // The config map appears: both pods run and see the value.
  await kubectl(['create', 'configmap', 'settings', '--from-literal=color=blue']);
  for (const name of ['vol', 'env']) {
    await waitFor(`${name} Running`, async () => (await getPod(name)).status?.phase === 'Running', 120_000);
  }
  await waitFor('vol to print the file', async () => (await kubectl(['logs', 'vol'])).includes('blue'), 30_000).catch(async (err: Error) =>
    assert.fail(`${err.message}\nlogs: ${JSON.stringify(await kubectl(['logs', 'vol']))}\nstatus: ${JSON.stringify((await getPod('vol')).status?.containerStatuses)}\nevents: ${JSON.stringify(await events('vol'))}`),
  );
  await waitFor('env to print the variable', async () => (await kubectl(['logs', 'env'])).includes('color=blue'));
});
