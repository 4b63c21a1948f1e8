// End-to-end: the real kubectl (/usr/bin/kubectl, 1.32 dispatcher) against a real apiserver and
// etcd started by the harness. Every assertion is on what a user sees printed.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startCluster, kubectlBinary, type Cluster } from './harness.js';
import { kubectlHelpers, header, row } from './kubectl-helpers.js';

let cluster: Cluster;
const { k, ok, fails } = kubectlHelpers(() => cluster);






before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
});
after(async () => {
  await cluster?.stop();
});

describe('kubectl: discovery and version', () => {
  it('reports the server version 1.32', async () => {
    const out = await ok(['version', '-o', 'json']);
    const v = JSON.parse(out);
    assert.equal(v.serverVersion.major, '1');
    assert.equal(v.serverVersion.minor, '32');
  });

  it('lists resources with short names, groups and kinds', async () => {
    const out = await ok(['api-resources']);
    assert.deepEqual(header(out), ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
    assert.deepEqual(row(out, 'deployments'), ['deployments', 'deploy', 'apps/v1', 'true', 'Deployment']);
    assert.deepEqual(row(out, 'pods'), ['pods', 'po', 'v1', 'true', 'Pod']);
    assert.deepEqual(row(out, 'namespaces'), ['namespaces', 'ns', 'v1', 'false', 'Namespace']);
    assert.deepEqual(row(out, 'leases'), ['leases', 'coordination.k8s.io/v1', 'true', 'Lease']);
    assert.deepEqual(row(out, 'endpointslices'), ['endpointslices', 'discovery.k8s.io/v1', 'true', 'EndpointSlice']);
  });

  it('serves the system namespaces and the kubernetes Service from the start', async () => {
    const ns = await ok(['get', 'ns']);
    assert.deepEqual(header(ns), ['NAME', 'STATUS', 'AGE']);
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.equal(row(ns, name)[1], 'Active');
    const svc = await ok(['get', 'svc', 'kubernetes', '-n', 'default']);
    assert.deepEqual(header(svc), ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    assert.deepEqual(row(svc, 'kubernetes').slice(0, 5), ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP']);
  });

  it('answers get --raw with the JSON the API serves', async () => {
    const out = await ok(['get', '--raw', '/api/v1/namespaces/default']);
    const ns = JSON.parse(out);
    assert.equal(ns.kind, 'Namespace');
    assert.equal(ns.metadata.name, 'default');
  });
});

describe('kubectl: configmaps and secrets', () => {
  before(async () => {
    await ok(['create', 'namespace', 'cm-test']);
  });

  it('creates a configmap (protobuf body) and prints it in every output form', async () => {
    assert.match(await ok(['create', 'configmap', 'app-config', '-n', 'cm-test', '--from-literal=color=blue', '--from-literal=size=large']), /^configmap\/app-config created$/m);
    const table = await ok(['get', 'cm', 'app-config', '-n', 'cm-test']);
    assert.deepEqual(header(table), ['NAME', 'DATA', 'AGE']);
    assert.deepEqual(row(table, 'app-config').slice(0, 2), ['app-config', '2']);
    const json = JSON.parse(await ok(['get', 'configmap', 'app-config', '-n', 'cm-test', '-o', 'json']));
    assert.deepEqual(json.data, { color: 'blue', size: 'large' });
    assert.match(json.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(await ok(['get', 'cm', 'app-config', '-n', 'cm-test', '-o', 'yaml']), /^ {2}color: blue$/m);
    assert.equal(await ok(['get', 'cm', 'app-config', '-n', 'cm-test', '-o', 'jsonpath={.data.size}']), 'large');
    assert.equal((await ok(['get', 'cm', '-n', 'cm-test', '-o', 'name'])).split('\n').filter((l) => l.includes('app-config'))[0], 'configmap/app-config');
  });

  it('prints the API error lines kubectl users know', async () => {
    assert.match(await fails(['get', 'cm', 'nope', '-n', 'cm-test']), /Error from server \(NotFound\): configmaps "nope" not found/);
    // Typed `create` subcommands wrap the server's message; `create -f` prints it as is.
    assert.match(await fails(['create', 'configmap', 'app-config', '-n', 'cm-test']), /error: failed to create configmap: configmaps "app-config" already exists/);
    const dup = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', namespace: 'cm-test' } });
    assert.match(await fails(['create', '-f', '-', '--validate=false'], dup), /Error from server \(AlreadyExists\).*configmaps "app-config" already exists/);
    assert.match(await fails(['create', 'configmap', 'Bad_Name', '-n', 'cm-test']), /ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    assert.match(await fails(['get', 'cm', '-n', 'nowhere-ns', 'x']), /NotFound/);
  });

  it('filters with label and field selectors and across namespaces', async () => {
    await ok(['create', 'configmap', 'a1', '-n', 'cm-test']);
    await ok(['create', 'configmap', 'a2', '-n', 'cm-test']);
    await ok(['label', 'cm', 'a1', '-n', 'cm-test', 'tier=front']);
    await ok(['label', 'cm', 'a2', '-n', 'cm-test', 'tier=back']);
    const front = await ok(['get', 'cm', '-n', 'cm-test', '-l', 'tier=front', '-o', 'name']);
    assert.equal(front.trim(), 'configmap/a1');
    const notFront = await ok(['get', 'cm', '-n', 'cm-test', '-l', 'tier,tier notin (front)', '-o', 'name']);
    assert.equal(notFront.trim(), 'configmap/a2');
    const byName = await ok(['get', 'cm', '-n', 'cm-test', '--field-selector', 'metadata.name=a2', '-o', 'name']);
    assert.equal(byName.trim(), 'configmap/a2');
    const all = await ok(['get', 'cm', '-A']);
    assert.deepEqual(header(all), ['NAMESPACE', 'NAME', 'DATA', 'AGE']);
    assert.ok(all.split('\n').some((l) => /^cm-test\s+a1\s/.test(l)));
    assert.match(await fails(['get', 'cm', '-n', 'cm-test', '-l', 'tier in (front']), /unable to parse requirement/);
    assert.match(await fails(['get', 'cm', '-n', 'cm-test', '--field-selector', 'spec.foo=bar']), /"spec.foo" is not a known field selector/);
  });

  it('lists in chunks with --chunk-size', async () => {
    for (let i = 0; i < 7; i++) await ok(['create', 'configmap', `chunk-${i}`, '-n', 'cm-test']);
    const out = await ok(['get', 'cm', '-n', 'cm-test', '--chunk-size=2', '-o', 'name']);
    const names = out.trim().split('\n').filter((l) => l.startsWith('configmap/chunk-'));
    assert.equal(names.length, 7);
  });

  it('creates secrets and shows their type', async () => {
    await ok(['create', 'secret', 'generic', 'creds', '-n', 'cm-test', '--from-literal=password=s3cret']);
    const table = await ok(['get', 'secret', 'creds', '-n', 'cm-test']);
    assert.deepEqual(header(table), ['NAME', 'TYPE', 'DATA', 'AGE']);
    assert.deepEqual(row(table, 'creds').slice(0, 3), ['creds', 'Opaque', '1']);
    assert.equal(await ok(['get', 'secret', 'creds', '-n', 'cm-test', '-o', 'jsonpath={.data.password}']), Buffer.from('s3cret').toString('base64'));
    const typed = await ok(['get', 'secrets', '-n', 'cm-test', '--field-selector', 'type=Opaque', '-o', 'name']);
    assert.match(typed, /secret\/creds/);
  });

  it('annotates, patches (merge and json), replaces and deletes', async () => {
    await ok(['annotate', 'cm', 'app-config', '-n', 'cm-test', 'owner=team-a']);
    assert.equal(await ok(['get', 'cm', 'app-config', '-n', 'cm-test', '-o', 'jsonpath={.metadata.annotations.owner}']), 'team-a');
    await ok(['annotate', 'cm', 'app-config', '-n', 'cm-test', 'owner-']);
    assert.equal(await ok(['get', 'cm', 'app-config', '-n', 'cm-test', '-o', 'jsonpath={.metadata.annotations.owner}']), '');
    await ok(['patch', 'cm', 'app-config', '-n', 'cm-test', '--type=merge', '-p', '{"data":{"color":"red","size":null}}']);
    assert.equal(await ok(['get', 'cm', 'app-config', '-n', 'cm-test', '-o', 'jsonpath={.data}']), '{"color":"red"}');
    await ok(['patch', 'cm', 'app-config', '-n', 'cm-test', '--type=json', '-p', '[{"op":"add","path":"/data/shape","value":"round"}]']);
    assert.equal(await ok(['get', 'cm', 'app-config', '-n', 'cm-test', '-o', 'jsonpath={.data.shape}']), 'round');
    assert.match(
      await fails(['patch', 'cm', 'app-config', '-n', 'cm-test', '--type=json', '-p', '[{"op":"test","path":"/data/color","value":"green"}]']),
      /Error from server|testing value failed|Invalid/,
    );
    const current = JSON.parse(await ok(['get', 'cm', 'app-config', '-n', 'cm-test', '-o', 'json']));
    current.data = { replaced: 'yes' };
    await ok(['replace', '-f', '-'], JSON.stringify(current));
    assert.equal(await ok(['get', 'cm', 'app-config', '-n', 'cm-test', '-o', 'jsonpath={.data}']), '{"replaced":"yes"}');
    // A replace based on the old resourceVersion conflicts.
    assert.match(await fails(['replace', '-f', '-'], JSON.stringify(current)), /the object has been modified/);
    assert.match(await ok(['delete', 'cm', 'app-config', '-n', 'cm-test']), /configmap "app-config" deleted/);
    assert.match(await fails(['get', 'cm', 'app-config', '-n', 'cm-test']), /NotFound/);
  });

  it('creates service accounts and deletes a whole collection', async () => {
    assert.match(await ok(['create', 'serviceaccount', 'builder', '-n', 'cm-test']), /serviceaccount\/builder created/);
    const sa = await ok(['get', 'sa', 'builder', '-n', 'cm-test']);
    assert.deepEqual(header(sa), ['NAME', 'SECRETS', 'AGE']);
    await ok(['create', 'namespace', 'bulk']);
    for (const n of ['b1', 'b2', 'b3']) await ok(['create', 'configmap', n, '-n', 'bulk']);
    await ok(['label', 'cm', 'b1', 'b2', '-n', 'bulk', 'batch=yes']);
    assert.match(await ok(['delete', 'cm', '-n', 'bulk', '-l', 'batch=yes']), /configmap "b1" deleted/);
    assert.equal((await ok(['get', 'cm', '-n', 'bulk', '-o', 'name'])).trim(), 'configmap/b3');
    await ok(['delete', 'cm', '--all', '-n', 'bulk']);
    assert.match((await k(['get', 'cm', '-n', 'bulk'])).stderr, /No resources found in bulk namespace/);
  });

  it('describes a configmap', async () => {
    await ok(['create', 'configmap', 'described', '-n', 'cm-test', '--from-literal=k=v']);
    const out = await ok(['describe', 'cm', 'described', '-n', 'cm-test']);
    assert.match(out, /^Name:\s+described$/m);
    assert.match(out, /^Namespace:\s+cm-test$/m);
    assert.match(out, /^k:$/m);
  });
});

describe('kubectl: workloads and services without nodes', () => {
  before(async () => {
    await ok(['create', 'namespace', 'apps-test']);
  });

  it('creates a deployment with Kubernetes defaults and scales it', async () => {
    await ok(['create', 'deployment', 'web', '-n', 'apps-test', '--image=nginx:1.27', '--replicas=2']);
    const d = JSON.parse(await ok(['get', 'deploy', 'web', '-n', 'apps-test', '-o', 'json']));
    assert.equal(d.spec.replicas, 2);
    assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    assert.equal(d.spec.revisionHistoryLimit, 10);
    assert.equal(d.spec.progressDeadlineSeconds, 600);
    assert.equal(d.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.equal(d.spec.template.spec.restartPolicy, 'Always');
    assert.equal(d.metadata.generation, 1);
    const table = await ok(['get', 'deploy', '-n', 'apps-test']);
    assert.deepEqual(header(table), ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    assert.deepEqual(row(table, 'web').slice(0, 4), ['web', '0/2', '0', '0']);
    assert.match(await ok(['scale', 'deploy', 'web', '-n', 'apps-test', '--replicas=5']), /deployment.apps\/web scaled/);
    assert.equal(await ok(['get', 'deploy', 'web', '-n', 'apps-test', '-o', 'jsonpath={.spec.replicas} {.metadata.generation}']), '5 2');
    const scale = JSON.parse(await ok(['get', '--raw', '/apis/apps/v1/namespaces/apps-test/deployments/web/scale']));
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.spec.replicas, 5);
    assert.equal(scale.status.selector, 'app=web');
    const wide = await ok(['get', 'deploy', 'web', '-n', 'apps-test', '-o', 'wide']);
    assert.deepEqual(header(wide), ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
  });

  it('refuses a deployment whose selector does not match its template', async () => {
    const manifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'mismatch', namespace: 'apps-test' },
      spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    };
    assert.match(await fails(['create', '-f', '-'], JSON.stringify(manifest)), /The Deployment "mismatch" is invalid: spec.template.metadata.labels: Invalid value: map\[string\]string\{"app":"b"\}: `selector` does not match template `labels`/);
    assert.match(await fails(['get', 'deploy', 'mismatch', '-n', 'apps-test']), /NotFound/);
  });

  it('creates services with unique ClusterIPs and NodePorts', async () => {
    await ok(['create', 'service', 'clusterip', 'backend', '-n', 'apps-test', '--tcp=80:8080']);
    await ok(['create', 'service', 'nodeport', 'frontend', '-n', 'apps-test', '--tcp=80:8080']);
    const table = await ok(['get', 'svc', '-n', 'apps-test']);
    const backend = row(table, 'backend');
    const frontend = row(table, 'frontend');
    assert.equal(backend[1], 'ClusterIP');
    assert.match(backend[2], /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    assert.equal(backend[4], '80/TCP');
    assert.equal(frontend[1], 'NodePort');
    assert.notEqual(frontend[2], backend[2]);
    const m = /^80:(\d+)\/TCP$/.exec(frontend[4]);
    assert.ok(m, `NodePort column: ${frontend[4]}`);
    assert.ok(Number(m[1]) >= 30000 && Number(m[1]) <= 32767);
    // The same NodePort cannot be requested twice.
    const clash = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'clash', namespace: 'apps-test' }, spec: { type: 'NodePort', selector: { a: 'b' }, ports: [{ port: 81, nodePort: Number(m[1]) }] } };
    assert.match(await fails(['create', '-f', '-'], JSON.stringify(clash)), /provided port is already allocated/);
  });

  it('runs a pod that waits for a node', async () => {
    await ok(['run', 'solo', '-n', 'apps-test', '--image=busybox', '--restart=Never', '--', 'sleep', '3600']);
    const table = await ok(['get', 'pods', '-n', 'apps-test']);
    assert.deepEqual(header(table), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    assert.deepEqual(row(table, 'solo').slice(0, 4), ['solo', '0/1', 'Pending', '0']);
    const wide = await ok(['get', 'pods', '-n', 'apps-test', '-o', 'wide']);
    assert.deepEqual(header(wide), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    const pod = JSON.parse(await ok(['get', 'pod', 'solo', '-n', 'apps-test', '-o', 'json']));
    assert.equal(pod.spec.restartPolicy, 'Never');
    assert.equal(pod.spec.schedulerName, 'default-scheduler');
    assert.equal(pod.spec.dnsPolicy, 'ClusterFirst');
    assert.equal(pod.spec.terminationGracePeriodSeconds, 30);
    assert.equal(pod.status.phase, 'Pending');
    assert.equal(pod.status.qosClass, 'BestEffort');
    const pending = await ok(['get', 'pods', '-n', 'apps-test', '--field-selector', 'status.phase=Pending', '-o', 'name']);
    assert.match(pending, /pod\/solo/);
    // An unbound pod is deleted at once.
    await ok(['delete', 'pod', 'solo', '-n', 'apps-test', '--wait=false']);
    assert.match(await fails(['get', 'pod', 'solo', '-n', 'apps-test']), /NotFound/);
  });

  it('lists the `all` category', async () => {
    const out = await ok(['get', 'all', '-n', 'apps-test']);
    assert.match(out, /^deployment\.apps\/web\s/m);
    assert.match(out, /^service\/backend\s/m);
  });

  it('prints what describe shows for a deployment', async () => {
    const out = await ok(['describe', 'deploy', 'web', '-n', 'apps-test']);
    assert.match(out, /^Name:\s+web$/m);
    assert.match(out, /^Replicas:\s+5 desired/m);
    assert.match(out, /^StrategyType:\s+RollingUpdate$/m);
  });
});

describe('kubectl: namespaces, watch and files', () => {
  it('marks a deleted namespace Terminating and refuses new objects in it', async () => {
    await ok(['create', 'namespace', 'short-lived']);
    await ok(['create', 'configmap', 'inside', '-n', 'short-lived']);
    await ok(['delete', 'namespace', 'short-lived', '--wait=false']);
    const table = await ok(['get', 'ns', 'short-lived']);
    assert.equal(row(table, 'short-lived')[1], 'Terminating');
    assert.match(await fails(['create', 'configmap', 'late', '-n', 'short-lived']), /forbidden: unable to create new content in namespace short-lived because it is being terminated/);
  });

  it('streams changes to kubectl get -w', async () => {
    await ok(['create', 'namespace', 'watched']);
    const child = spawn(kubectlBinary(), ['get', 'cm', '-n', 'watched', '-w', '--request-timeout=0'], { env: cluster.env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      await waitFor(() => out.includes('kube-root-ca.crt') || out.includes('NAME') || out.length > 0 || true, 2000);
      await new Promise((r) => setTimeout(r, 1000));
      await ok(['create', 'configmap', 'seen-by-watch', '-n', 'watched', '--from-literal=a=b']);
      await waitFor(() => /seen-by-watch\s+1\s/.test(out), 15000);
      await ok(['delete', 'configmap', 'seen-by-watch', '-n', 'watched']);
    } finally {
      child.kill();
    }
    assert.match(out, /NAME\s+DATA\s+AGE/);
  });

  it('creates from a YAML file and validates fields strictly by default', async () => {
    const yaml = `apiVersion: v1
kind: ConfigMap
metadata:
  name: from-file
  namespace: default
data:
  key: value
`;
    assert.match(await ok(['create', '-f', '-'], yaml), /configmap\/from-file created/);
    const typo = yaml.replace('from-file', 'typo').replace('\ndata:', '\ndat:');
    assert.match(await fails(["create", "-f", "-"], typo), /Error from server \(BadRequest\).*ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "dat"/);
    assert.match(await fails(['get', 'cm', 'typo']), /NotFound/);
  });
});

describe('kubectl apply with the example manifest', () => {
  const manifest = readFileSync(fileURLToPath(new URL('../../manifests/web.yaml', import.meta.url)), 'utf8');

  it('creates, leaves unchanged, and configures on a changed file', async () => {
    await ok(['create', 'namespace', 'apply-test']);
    const created = await ok(['apply', '-n', 'apply-test', '-f', '-'], manifest);
    assert.match(created, /deployment.apps\/web created/);
    assert.match(created, /service\/web created/);
    const again = await ok(['apply', '-n', 'apply-test', '-f', '-'], manifest);
    assert.match(again, /deployment.apps\/web unchanged/);
    assert.match(again, /service\/web unchanged/);
    const changed = await ok(['apply', '-n', 'apply-test', '-f', '-'], manifest.replace('replicas: 2', 'replicas: 4'));
    assert.match(changed, /deployment.apps\/web configured/);
    assert.match(changed, /service\/web unchanged/);
    assert.equal(await ok(['get', 'deploy', 'web', '-n', 'apply-test', '-o', 'jsonpath={.spec.replicas}']), '4');
    // The NodePort allocated on create survives the re-applies.
    const port = await ok(['get', 'svc', 'web', '-n', 'apply-test', '-o', 'jsonpath={.spec.ports[0].nodePort}']);
    assert.ok(Number(port) >= 30000 && Number(port) <= 32767);
    await ok(['apply', '-n', 'apply-test', '-f', '-'], manifest);
    assert.equal(await ok(['get', 'svc', 'web', '-n', 'apply-test', '-o', 'jsonpath={.spec.ports[0].nodePort}']), port);
    assert.match(await ok(['delete', '-n', 'apply-test', '-f', '-'], manifest), /deployment.apps "web" deleted/);
  });
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
