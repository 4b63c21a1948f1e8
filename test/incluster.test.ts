// The proxy's in-cluster side on a real node, as `skiff up` runs it (one cluster for both tests).
//
// In-cluster clients: a pod runs a Node program that uses @kubernetes/client-node's
// `KubeConfig.loadFromCluster()` and lists Pods through the `kubernetes` Service, first by the
// KUBERNETES_SERVICE_HOST/PORT the kubelet sets (the service CIDR's first address, port 443),
// then by the name `kubernetes.default.svc` through skiff-dns. Its credentials are mounted from a
// Secret at /var/run/secrets/kubernetes.io/serviceaccount (token, ca.crt, namespace): the admin
// token until service-account tokens exist. So the apiserver's serving certificate must cover
// that ClusterIP and name, the `kubernetes` EndpointSlice must hold an address a pod reaches
// through the proxy's DNAT, and the proxy must carry it.
//
// Health check node ports: a LoadBalancer Service with externalTrafficPolicy Local gets a
// healthCheckNodePort, and skiff-proxy answers on it 200 while this node has a ready endpoint of
// the Service, 503 once it has none.
//
// The images are busybox and pause only, so the pod runs the host's own `node` binary and the
// repository's node_modules, mounted read-only through hostPath volumes, with the directories of
// the shared libraries `ldd` names for the binary (Debian's node is dynamically linked to glibc).

import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Pod } from '../lib/api/core/pod.js';
import type { Service } from '../lib/api/core/service.js';
import { kubernetesServiceIP, nodeEntry } from '../lib/process/components.js';
import { type Cluster, startCluster } from './harness.js';
import { missingNodeTools, nodeRuntimeMounts, waitFor } from './node-fixture.js';

const skip = missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'iptables', 'iptables-restore', 'kubectl', 'ldd']);
let cluster: Cluster | undefined;
let starting: Promise<Cluster> | undefined;
/** theCluster starts the one cluster of this file on first use. */
const theCluster = () => (starting ??= startCluster({ realNode: true, proxy: true }).then((c) => (cluster = c)));
after(async () => {
  await starting?.catch(() => undefined);
  await cluster?.stop();
});

// The program the pod runs: list the Pods of its namespace through the kubernetes Service, by the
// address the kubelet put in its environment, then by the Service's DNS name.
const program = `
const k8s = await import('/app/node_modules/@kubernetes/client-node/dist/index.js');
const kc = new k8s.KubeConfig();
kc.loadFromCluster();
const out = { server: kc.getCurrentCluster().server, namespace: kc.getContextObject(kc.getCurrentContext()).namespace };
const api = kc.makeApiClient(k8s.CoreV1Api);
out.pods = (await api.listNamespacedPod({ namespace: out.namespace })).items.map((p) => p.metadata.name).sort();
const byName = new k8s.KubeConfig();
byName.loadFromClusterAndUser({ ...kc.getCurrentCluster(), server: 'https://kubernetes.default.svc:' + process.env.KUBERNETES_SERVICE_PORT }, kc.getCurrentUser());
out.byNameServer = byName.getCurrentCluster().server;
out.byNamePods = (await byName.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: out.namespace })).items.length;
console.log('RESULT ' + JSON.stringify(out));
`;

test('a pod lists Pods through the kubernetes Service with client-node loadFromCluster()', { skip: skip || false, timeout: 600_000 }, async (t) => {
  const c = await theCluster();
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const diagnose = async () =>
    `\nproxy log tail:\n${c.logs('proxy').split('\n').slice(-15).join('\n')}\nkubelet log tail:\n${c.logs('kubelet').split('\n').slice(-15).join('\n')}\npod:\n${(await c.kubectl(['describe', 'pod', 'incluster'])).stdout}\nlogs:\n${(await c.kubectl(['logs', 'incluster'])).stdout}`;

  // The serving certificate covers the ClusterIP of this cluster's kubernetes Service and its names.
  const serviceIP = kubernetesServiceIP(c.config);
  const cert = new X509Certificate(readFileSync(join(c.home, 'pki', 'apiserver.crt')));
  assert.ok(cert.checkIP(serviceIP), `apiserver certificate lacks ${serviceIP}: ${cert.subjectAltName}`);
  for (const host of ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']) {
    assert.ok(cert.checkHost(host), `apiserver certificate lacks ${host}`);
  }
  const svc = JSON.parse(await kubectl(['get', 'service', 'kubernetes', '-o', 'json'])) as Service;
  assert.equal(svc.spec.clusterIP, serviceIP);
  // The kubernetes EndpointSlice holds the advertise address, which the apiserver listens on.
  const slice = await waitFor('the kubernetes EndpointSlice', async () => {
    const s = JSON.parse(await kubectl(['get', 'endpointslice', 'kubernetes', '-o', 'json'])) as { endpoints?: { addresses: string[] }[]; ports?: { port: number }[] };
    return s.endpoints?.length ? s : undefined;
  });
  assert.deepEqual(slice.endpoints!.map((e) => e.addresses[0]), [c.config.advertiseAddress]);
  assert.equal(slice.ports?.[0]?.port, c.config.apiserverPort);
  t.diagnostic(`kubernetes Service ${serviceIP}:443 → ${c.config.advertiseAddress}:${c.config.apiserverPort}`);

  // The admin credentials as a service account's would be mounted.
  await kubectl(['create', 'secret', 'generic', 'admin-credentials', `--from-literal=token=${c.token}`, `--from-file=ca.crt=${c.caFile}`, '--from-literal=namespace=default']);

  const mounts = [...nodeRuntimeMounts(process.execPath), { name: 'node-modules', hostPath: realpathSync(nodeEntry('../node_modules')), mountPath: '/app/node_modules', type: 'Directory' as const }];
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'incluster', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      // The Secret takes the service account's place: nothing else may claim the path.
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'client',
          image: 'busybox:1.36',
          command: ['/usr/local/bin/node', '--input-type=module', '-e', program],
          volumeMounts: [
            { name: 'credentials', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
            ...mounts.map((m) => ({ name: m.name, mountPath: m.mountPath, readOnly: true })),
          ],
        },
      ],
      volumes: [
        { name: 'credentials', secret: { secretName: 'admin-credentials' } },
        ...mounts.map((m) => ({ name: m.name, hostPath: { path: m.hostPath, type: m.type } })),
      ],
    },
  } as Pod;
  await kubectl(['apply', '-f', '-'], JSON.stringify(pod));
  const done = await waitFor('the in-cluster client to finish', async () => {
    const p = JSON.parse(await kubectl(['get', 'pod', 'incluster', '-o', 'json'])) as Pod;
    return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
  }, 180_000).catch(async (err: Error) => assert.fail(err.message + (await diagnose())));
  const logs = await kubectl(['logs', 'incluster']);
  assert.equal(done.status?.phase, 'Succeeded', `the client failed:\n${logs}${await diagnose()}`);
  const line = logs.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no result in the client's output:\n${logs}`);
  const result = JSON.parse(line.slice('RESULT '.length)) as { server: string; namespace: string; pods: string[]; byNameServer: string; byNamePods: number };
  // loadFromCluster took the address and port the kubelet set, and the namespace from the Secret.
  assert.equal(result.server, `https://${serviceIP}:443`);
  assert.equal(result.namespace, 'default');
  assert.ok(result.pods.includes('incluster'), `the listed pods hold the client itself: ${result.pods.join(', ')}`);
  assert.equal(result.byNameServer, 'https://kubernetes.default.svc:443');
  assert.ok(result.byNamePods >= 1);
});

/** getStatus GETs a loopback URL and resolves its status and body (any status). */
function getStatus(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, timeout: 5_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error('timeout'));
      })
      .on('error', reject);
  });
}

test('a LoadBalancer Service with externalTrafficPolicy Local answers its health check node port', { skip: skip || false, timeout: 600_000 }, async () => {
  const c = await theCluster();
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await kubectl(['run', 'hc-backend', '--image=busybox:1.36', '--labels=app=hc-backend', '--command', '--', 'httpd', '-f', '-p', '8080']);
  const svc: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'hc', namespace: 'default' },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', selector: { app: 'hc-backend' }, ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP' }] },
  } as Service;
  await kubectl(['apply', '-f', '-'], JSON.stringify(svc));
  const port = (JSON.parse(await kubectl(['get', 'service', 'hc', '-o', 'json'])) as Service).spec.healthCheckNodePort!;
  assert.ok(port > 0, 'the apiserver allocates a healthCheckNodePort');
  const url = `http://127.0.0.1:${port}/healthz`;
  const diagnose = () => `\nproxy log tail:\n${c.logs('proxy').split('\n').slice(-15).join('\n')}`;

  // The pod is Ready on this node: 200 and one local endpoint.
  const ok = await waitFor('the health check to answer 200', async () => {
    const r = await getStatus(url).catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  }, 120_000).catch((err: Error) => assert.fail(err.message + diagnose()));
  assert.deepEqual(JSON.parse(ok.body), { service: { namespace: 'default', name: 'hc' }, localEndpoints: 1, serviceProxyHealthy: true });

  // No endpoint left on this node: 503.
  await kubectl(['delete', 'pod', 'hc-backend', '--wait=true']);
  const gone = await waitFor('the health check to answer 503', async () => {
    const r = await getStatus(url).catch(() => undefined);
    return r?.status === 503 ? r : undefined;
  }, 120_000).catch((err: Error) => assert.fail(err.message + diagnose()));
  assert.deepEqual(JSON.parse(gone.body), { service: { namespace: 'default', name: 'hc' }, localEndpoints: 0, serviceProxyHealthy: true });

  // The Service gone: the port closes.
  await kubectl(['delete', 'service', 'hc']);
  await waitFor('the health check port to close', async () => (await getStatus(url).then(() => false, (err: Error) => /ECONNREFUSED/.test(err.message))) || undefined, 60_000);
});
