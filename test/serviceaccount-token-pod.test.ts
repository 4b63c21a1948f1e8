// A pod's own service-account token on a real node, as `skiff up` runs it: the ServiceAccount
// admission mounts kube-api-access-*, the kubelet fills it (a TokenRequest bound to the pod, the
// kube-root-ca.crt ConfigMap, the namespace), a program in the pod presents the token to the
// apiserver and is told who it is, and the token is refused once the pod is deleted.
//
// The pod uses the host's network and runs the host's node binary (chroot into a read-only
// hostPath of /) with the token and CA read from its mount: the test apiserver listens on
// loopback only, so the `kubernetes` Service is not reachable from the pod network here.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { decodeJwt } from 'jose';
import type { Pod } from '../lib/api/core/pod.js';
import { nodeName } from '../lib/process/components.js';
import { type Cluster, startCluster } from './harness.js';
import { missingNodeTools, waitFor } from './node-fixture.js';

const skip = missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'iptables', 'iptables-restore', 'kubectl']);
let cluster: Cluster | undefined;
after(async () => {
  await cluster?.stop();
});

const mountPath = '/var/run/secrets/kubernetes.io/serviceaccount';

/** whoamiScript asks the apiserver who the bearer of $TOKEN is (a SelfSubjectReview, which every authenticated user may create). */
const whoamiScript = (host: string, port: number) => `
const https = require('node:https');
const req = https.request({ host: '${host}', port: ${port}, method: 'POST', path: '/apis/authentication.k8s.io/v1/selfsubjectreviews', ca: process.env.CA,
  headers: { Authorization: 'Bearer ' + process.env.TOKEN, 'Content-Type': 'application/json' } }, (res) => {
  let body = '';
  res.on('data', (d) => (body += d));
  res.on('end', () => console.log('WHOAMI ' + res.statusCode + ' ' + body.replace(/\\n/g, '')));
});
req.on('error', (err) => console.log('WHOAMI error ' + err.message));
req.end(JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));
`;

test('a pod reaches the apiserver with its mounted token, which dies with the pod', { skip: skip || false, timeout: 600_000 }, async () => {
  cluster = await startCluster({ realNode: true, proxy: true });
  const c = cluster;
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const port = Number(new URL(c.server).port);
  const script = whoamiScript(new URL(c.server).hostname, port);
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'whoami' },
    spec: {
      hostNetwork: true,
      containers: [
        {
          name: 'client',
          image: 'busybox:1.36',
          command: ['sh', '-c', `TOKEN="$(cat ${mountPath}/token)" CA="$(cat ${mountPath}/ca.crt)" chroot /host /usr/bin/node -e "$SCRIPT"; exec sleep 3600`],
          env: [{ name: 'SCRIPT', value: script }],
          volumeMounts: [{ name: 'host', mountPath: '/host', readOnly: true }],
        },
      ],
      volumes: [{ name: 'host', hostPath: { path: '/', type: 'Directory' } }],
      terminationGracePeriodSeconds: 1,
    },
  };
  // The default ServiceAccount appears with the namespace controller's first pass.
  await waitFor('the default ServiceAccount', async () => (await c.kubectl(['get', 'sa', 'default'])).code === 0, 60_000);
  await kubectl(['create', '-f', '-'], JSON.stringify(pod));
  const diagnose = async () => `\npod:\n${await kubectl(['describe', 'pod', 'whoami']).catch((e: Error) => e.message)}\nkubelet log tail:\n${c.logs('kubelet').split('\n').slice(-15).join('\n')}`;
  const line = await waitFor('the pod to print who it is', async () => {
    const r = await c.kubectl(['logs', 'whoami']);
    return r.code === 0 && r.stdout.split('\n').find((l) => l.startsWith('WHOAMI '));
  }, 180_000).catch(async (err: Error) => assert.fail(err.message + (await diagnose())));
  const running = JSON.parse(await kubectl(['get', 'pod', 'whoami', '-o', 'json'])) as Pod;
  const [, code, body] = /^WHOAMI (\S+) (.*)$/.exec(line)!;
  assert.equal(code, '201', line);
  const userInfo = JSON.parse(body!).status.userInfo;
  assert.equal(userInfo.username, 'system:serviceaccount:default:default');
  assert.deepEqual(userInfo.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
  assert.deepEqual(userInfo.extra['authentication.kubernetes.io/pod-name'], ['whoami']);
  assert.deepEqual(userInfo.extra['authentication.kubernetes.io/pod-uid'], [running.metadata.uid]);
  assert.deepEqual(userInfo.extra['authentication.kubernetes.io/node-name'], [nodeName(c.config)]);

  // The mount holds the token (bound to the pod and its node, an extended kubelet token), the CA and the namespace.
  const token = (await kubectl(['exec', 'whoami', '--', 'cat', `${mountPath}/token`])).trim();
  assert.equal((await kubectl(['exec', 'whoami', '--', 'cat', `${mountPath}/ca.crt`])), readFileSync(c.caFile, 'utf8'));
  assert.equal((await kubectl(['exec', 'whoami', '--', 'cat', `${mountPath}/namespace`])), 'default');
  const claims = decodeJwt(token) as Record<string, any>;
  assert.deepEqual(claims['kubernetes.io'].pod, { name: 'whoami', uid: running.metadata.uid });
  assert.equal(claims['kubernetes.io'].node.name, nodeName(c.config));
  assert.equal(claims['kubernetes.io'].warnafter - claims.iat, 3607);
  assert.equal(claims.exp - claims.iat, 365 * 24 * 3600);

  const selfReview = () => c.request('/apis/authentication.k8s.io/v1/selfsubjectreviews', { method: 'POST', auth: 'none', headers: { Authorization: `Bearer ${token}` }, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
  assert.equal((await selfReview()).status, 201);
  await kubectl(['delete', 'pod', 'whoami', '--grace-period=0', '--force']);
  const refused = await selfReview();
  assert.equal(refused.status, 401, refused.body);
  assert.equal(JSON.parse(refused.body).reason, 'Unauthorized');
});
