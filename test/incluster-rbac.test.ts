// A controller in a pod with exactly the rights its Role grants, as `skiff up` runs it: the
// ServiceAccount `lister` in namespace `team` is bound to a Role that allows get/list on pods in
// `team`. A pod running as `lister` gets the kube-api-access-* projected volume from the
// ServiceAccount admission (token, ca.crt from kube-root-ca.crt, namespace), which the kubelet
// fills with a TokenRequest bound to the pod. A Node program in it uses @kubernetes/client-node's
// `loadFromCluster()` through the `kubernetes` Service: it may list the pods of `team`, is refused
// those of `default` with kube's 403 and message, and once the RoleBinding is deleted it is
// refused in `team` too.
//
// As in test/incluster.test.ts, the busybox pod runs the host's node binary and the repository's
// node_modules through read-only hostPath volumes.

import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { after, test } from 'node:test';
import type { Pod } from '../lib/api/core/pod.js';
import { kubernetesServiceIP, nodeEntry } from '../lib/process/components.js';
import { type Cluster, startCluster } from './harness.js';
import { missingNodeTools, nodeRuntimeMounts, waitFor } from './node-fixture.js';

const skip = missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'iptables', 'iptables-restore', 'kubectl', 'ldd']);
let cluster: Cluster | undefined;
after(async () => {
  await cluster?.stop();
});

// The controller: list pods in its own namespace and in `default`, print both outcomes, then keep
// listing its own namespace until it is refused (the test deletes the RoleBinding meanwhile).
const program = `
const k8s = await import('/app/node_modules/@kubernetes/client-node/dist/index.js');
const kc = new k8s.KubeConfig();
kc.loadFromCluster();
const namespace = kc.getContextObject(kc.getCurrentContext()).namespace;
const api = kc.makeApiClient(k8s.CoreV1Api);
const list = async (ns) => {
  try {
    return { ok: true, pods: (await api.listNamespacedPod({ namespace: ns })).items.map((p) => p.metadata.name).sort() };
  } catch (err) {
    let body = err.body;
    try { if (typeof body === 'string') body = JSON.parse(body); } catch {}
    return { ok: false, code: err.code, body, error: err.code ? undefined : String(err) };
  }
};
const out = { server: kc.getCurrentCluster().server, namespace, own: await list(namespace), other: await list('default') };
console.log('RESULT ' + JSON.stringify(out));
for (let i = 0; i < 240; i++) {
  const r = await list(namespace);
  if (!r.ok) { console.log('REVOKED ' + JSON.stringify(r)); process.exit(0); }
  await new Promise((res) => setTimeout(res, 500));
}
console.log('REVOKED never');
`;

interface Listing {
  ok: boolean;
  pods?: string[];
  code?: number;
  body?: { kind?: string; reason?: string; message?: string; code?: number };
  error?: string;
}

test('a controller in a pod with loadFromCluster() has exactly the rights its Role grants', { skip: skip || false, timeout: 600_000 }, async (t) => {
  cluster = await startCluster({ realNode: true, proxy: true });
  const c = cluster;
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const diagnose = async () =>
    `\nkubelet log tail:\n${c.logs('kubelet').split('\n').slice(-20).join('\n')}\npod:\n${(await c.kubectl(['describe', 'pod', 'lister', '-n', 'team'])).stdout}\nlogs:\n${(await c.kubectl(['logs', 'lister', '-n', 'team'])).stdout}`;

  await kubectl(['create', 'namespace', 'team']);
  await kubectl(['create', 'serviceaccount', 'lister', '-n', 'team']);
  await kubectl(['create', 'role', 'pod-lister', '-n', 'team', '--verb=get,list', '--resource=pods']);
  await kubectl(['create', 'rolebinding', 'lister-lists-pods', '-n', 'team', '--role=pod-lister', '--serviceaccount=team:lister']);
  // The root CA publisher fills the new namespace before the kubelet needs its ca.crt.
  await waitFor('kube-root-ca.crt in team', async () => (await c.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'team'])).code === 0, 60_000);

  const mounts = [...nodeRuntimeMounts(process.execPath), { name: 'node-modules', hostPath: realpathSync(nodeEntry('../node_modules')), mountPath: '/app/node_modules', type: 'Directory' as const }];
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'lister', namespace: 'team' },
    spec: {
      serviceAccountName: 'lister',
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'controller',
          image: 'busybox:1.36',
          command: ['/usr/local/bin/node', '--input-type=module', '-e', program],
          volumeMounts: mounts.map((m) => ({ name: m.name, mountPath: m.mountPath, readOnly: true })),
        },
      ],
      volumes: mounts.map((m) => ({ name: m.name, hostPath: { path: m.hostPath, type: m.type } })),
    },
  };
  await kubectl(['create', '-f', '-'], JSON.stringify(pod));

  // The admission gave it the projected service-account volume, nothing hand-made.
  const created = JSON.parse(await kubectl(['get', 'pod', 'lister', '-n', 'team', '-o', 'json'])) as Pod;
  const access = created.spec.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
  assert.ok(access?.projected, `a kube-api-access volume: ${JSON.stringify(created.spec.volumes)}`);
  assert.deepEqual(created.spec.containers[0]!.volumeMounts?.find((m) => m.name === access.name), { name: access.name, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true });

  const logs = async () => (await c.kubectl(['logs', 'lister', '-n', 'team'])).stdout;
  const resultLine = await waitFor('the controller to report its listings', async () => (await logs()).split('\n').find((l) => l.startsWith('RESULT ')), 180_000).catch(async (err: Error) =>
    assert.fail(err.message + (await diagnose())),
  );
  const result = JSON.parse(resultLine.slice('RESULT '.length)) as { server: string; namespace: string; own: Listing; other: Listing };
  t.diagnostic(resultLine);
  assert.equal(result.server, `https://${kubernetesServiceIP(c.config)}:443`);
  assert.equal(result.namespace, 'team');
  assert.ok(result.own.ok, `listing pods in team: ${JSON.stringify(result.own)}${await diagnose()}`);
  assert.deepEqual(result.own.pods, ['lister']);
  assert.equal(result.other.code, 403, JSON.stringify(result.other));
  assert.equal(result.other.body?.reason, 'Forbidden');
  assert.equal(result.other.body?.message, 'pods is forbidden: User "system:serviceaccount:team:lister" cannot list resource "pods" in API group "" in the namespace "default"');

  // The binding gone, the same token is refused in its own namespace.
  await kubectl(['delete', 'rolebinding', 'lister-lists-pods', '-n', 'team']);
  const revokedLine = await waitFor('the controller to be refused in team', async () => (await logs()).split('\n').find((l) => l.startsWith('REVOKED ')), 180_000).catch(async (err: Error) =>
    assert.fail(err.message + (await diagnose())),
  );
  assert.notEqual(revokedLine, 'REVOKED never', await diagnose());
  const revoked = JSON.parse(revokedLine.slice('REVOKED '.length)) as Listing;
  assert.equal(revoked.code, 403, revokedLine);
  assert.equal(revoked.body?.message, 'pods is forbidden: User "system:serviceaccount:team:lister" cannot list resource "pods" in API group "" in the namespace "team"');
  const done = await waitFor('the controller to exit', async () => {
    const p = JSON.parse(await kubectl(['get', 'pod', 'lister', '-n', 'team', '-o', 'json'])) as Pod;
    return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
  }, 60_000);
  assert.equal(done.status?.phase, 'Succeeded');
});
