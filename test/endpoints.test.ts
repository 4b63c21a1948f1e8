// Endpoints, EndpointSlices and ServiceAccounts end to end: a real apiserver and controller
// manager (only the endpoint, endpointslice, endpointslicemirroring and serviceaccount controllers), a stand-in kubelet
// that gives pods IPs and readiness, and the real kubectl reading what the controllers wrote.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeKubelet, type FakeKubelet } from './fake-kubelet.js';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers, row, until } from './kubectl-helpers.js';

let cluster: Cluster;
let kubelet: FakeKubelet;
const { ok, k } = kubectlHelpers(() => cluster);
const ns = 'shop';

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager'],
    extraArgs: { 'controller-manager': ['--controllers=endpoint,endpointslice,endpointslicemirroring,serviceaccount'] },
  });
  kubelet = await startFakeKubelet(cluster.kubeconfig, { ready: 'manual', namespace: ns });
});
after(async () => {
  await kubelet?.stop();
  await cluster?.stop();
});

interface Address {
  ip: string;
  targetRef?: { name: string };
}
interface EndpointsJSON {
  metadata: { resourceVersion: string; labels?: Record<string, string> };
  subsets?: { addresses?: Address[]; notReadyAddresses?: Address[]; ports?: { name?: string; port: number }[] }[];
}
interface SliceJSON {
  metadata: { name: string; labels: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  addressType: string;
  ports: { name: string; port: number; protocol: string }[] | null;
  endpoints: { addresses: string[]; conditions: { ready: boolean; serving: boolean; terminating: boolean }; targetRef: { name: string } }[] | null;
}

async function getJSON<T>(args: string[]): Promise<T | undefined> {
  const r = await k([...args, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
}

/** podIPs maps pod name → IP once the fake kubelet has given every named pod one. */
async function podIPs(names: string[]): Promise<Record<string, string>> {
  const ips: Record<string, string> = {};
  await until(async () => {
    const list = await getJSON<{ items: { metadata: { name: string }; status?: { podIP?: string } }[] }>(['get', 'pods', '-n', ns]);
    for (const p of list?.items ?? []) if (p.status?.podIP) ips[p.metadata.name] = p.status.podIP;
    return names.every((n) => ips[n]);
  }, 20_000, `IPs for pods ${names.join(', ')}`);
  return ips;
}

/** summarize flattens Endpoints into "ip:port ready|notready" lines. */
function summarize(ep: EndpointsJSON | undefined): string[] {
  const out: string[] = [];
  for (const ss of ep?.subsets ?? []) {
    for (const p of ss.ports ?? [{ port: 0 }]) {
      for (const a of ss.addresses ?? []) out.push(`${a.targetRef?.name} ${a.ip}:${p.port} ready`);
      for (const a of ss.notReadyAddresses ?? []) out.push(`${a.targetRef?.name} ${a.ip}:${p.port} notready`);
    }
  }
  return out.sort();
}

async function endpointsOf(name: string): Promise<string[]> {
  return summarize(await getJSON<EndpointsJSON>(['get', 'endpoints', name, '-n', ns]));
}

async function slicesOf(service: string): Promise<SliceJSON[]> {
  return (await getJSON<{ items: SliceJSON[] }>(['get', 'endpointslices', '-n', ns, '-l', `kubernetes.io/service-name=${service}`]))?.items ?? [];
}

function pod(name: string, labels: string, port?: { name: string; number: number }): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {${labels}}}
spec:
  containers:
  - name: web
    image: busybox
${port ? `    ports: [{name: ${port.name}, containerPort: ${port.number}}]` : ''}
`;
}

describe('endpoints, endpointslices and serviceaccounts', () => {
  it('gives a new namespace its default ServiceAccount', async () => {
    await ok(['create', 'namespace', ns]);
    await until(async () => (await k(['get', 'serviceaccount', 'default', '-n', ns])).code === 0, 20_000, 'default ServiceAccount');
    const table = await ok(['get', 'sa', '-n', ns]);
    assert.equal(row(table, 'default')[0], 'default');
  });

  it('publishes ready and not-ready pod IPs with each pod\'s named targetPort', async () => {
    const manifest = [
      `apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}, labels: {tier: front}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`,
      pod('web-a', 'app: web', { name: 'http', number: 8080 }),
      pod('web-b', 'app: web', { name: 'http', number: 8080 }),
      pod('web-c', 'app: web', { name: 'http', number: 9090 }),
      pod('web-d', 'app: web', { name: 'metrics', number: 9100 }),
      pod('db', 'app: db', { name: 'http', number: 8080 }),
    ].join('---\n');
    await ok(['apply', '-f', '-'], manifest);
    const ips = await podIPs(['web-a', 'web-b', 'web-c', 'web-d', 'db']);
    const want = (ready: string[]) =>
      [
        `web-a ${ips['web-a']}:8080 ${ready.includes('web-a') ? 'ready' : 'notready'}`,
        `web-b ${ips['web-b']}:8080 ${ready.includes('web-b') ? 'ready' : 'notready'}`,
        `web-c ${ips['web-c']}:9090 ${ready.includes('web-c') ? 'ready' : 'notready'}`,
      ].sort();
    let got: string[] = [];
    await until(async () => JSON.stringify((got = await endpointsOf('web'))) === JSON.stringify(want([])), 20_000, `not-ready endpoints (last: ${JSON.stringify(got)})`);

    await kubelet.markReady([`${ns}/web-a`, `${ns}/web-c`]);
    await until(async () => JSON.stringify((got = await endpointsOf('web'))) === JSON.stringify(want(['web-a', 'web-c'])), 20_000, `ready endpoints (last: ${JSON.stringify(got)})`);

    // kubectl's ENDPOINTS column lists the ready ones only.
    const cells = row(await ok(['get', 'endpoints', 'web', '-n', ns]), 'web');
    assert.deepEqual(cells[1]!.split(',').sort(), [`${ips['web-a']}:8080`, `${ips['web-c']}:9090`].sort());
    const ep = await getJSON<EndpointsJSON>(['get', 'ep', 'web', '-n', ns]);
    assert.deepEqual(ep?.metadata.labels, { tier: 'front' });
  });

  it('writes EndpointSlices with conditions, grouped by resolved port', async () => {
    const ips = await podIPs(['web-a', 'web-b', 'web-c', 'web-d']);
    type Summary = { ports: string; endpoints: string[] };
    const summary = (slices: SliceJSON[]): Summary[] =>
      slices
        .map((s) => ({
          ports: (s.ports ?? []).map((p) => `${p.name}/${p.port}/${p.protocol}`).join(','),
          endpoints: (s.endpoints ?? []).map((e) => `${e.targetRef.name} ${e.addresses.join(',')} ready=${e.conditions.ready} serving=${e.conditions.serving} terminating=${e.conditions.terminating}`).sort(),
        }))
        .sort((a, b) => (a.ports < b.ports ? -1 : 1));
    const want: Summary[] = [
      { ports: '', endpoints: [`web-d ${ips['web-d']} ready=false serving=false terminating=false`] },
      { ports: 'http/8080/TCP', endpoints: [`web-a ${ips['web-a']} ready=true serving=true terminating=false`, `web-b ${ips['web-b']} ready=false serving=false terminating=false`] },
      { ports: 'http/9090/TCP', endpoints: [`web-c ${ips['web-c']} ready=true serving=true terminating=false`] },
    ];
    let got: Summary[] = [];
    await until(async () => JSON.stringify((got = summary(await slicesOf('web')))) === JSON.stringify(want), 20_000, `slices (last: ${JSON.stringify(got)})`);
    for (const s of await slicesOf('web')) {
      assert.match(s.metadata.name, /^web-[a-z0-9]{5}$/);
      assert.equal(s.addressType, 'IPv4');
      assert.equal(s.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
      assert.equal(s.metadata.labels.tier, 'front');
      assert.deepEqual(s.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`), ['Service/web']);
    }
    const table = await ok(['get', 'endpointslices', '-n', ns]);
    assert.ok(table.split('\n')[0]!.includes('ADDRESSTYPE'), table);
  });

  it('publishes not-ready pods as ready with publishNotReadyAddresses', async () => {
    await ok(['apply', '-f', '-'], `apiVersion: v1
kind: Service
metadata: {name: web-all, namespace: ${ns}}
spec:
  selector: {app: web}
  publishNotReadyAddresses: true
  ports: [{port: 80, targetPort: 8080}]
`);
    const ips = await podIPs(['web-a', 'web-b', 'web-c', 'web-d']);
    const want = ['web-a', 'web-b', 'web-c', 'web-d'].map((n) => `${n} ${ips[n]}:8080 ready`).sort();
    let got: string[] = [];
    await until(async () => JSON.stringify((got = await endpointsOf('web-all'))) === JSON.stringify(want), 20_000, `publishNotReadyAddresses endpoints (last: ${JSON.stringify(got)})`);
    await until(async () => (await slicesOf('web-all')).flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions.ready).length === 4, 20_000, 'all slice endpoints ready');
  });

  it('leaves the Endpoints of a Service without a selector alone', async () => {
    await ok(['apply', '-f', '-'], `apiVersion: v1
kind: Service
metadata: {name: external-db, namespace: ${ns}}
spec:
  ports: [{port: 5432}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: external-db, namespace: ${ns}}
subsets: [{addresses: [{ip: 192.0.2.10}], ports: [{port: 5432}]}]
`);
    const before = await getJSON<EndpointsJSON>(['get', 'endpoints', 'external-db', '-n', ns]);
    // A Service created afterwards gets its Endpoints: the controller has worked through its queue.
    await ok(['apply', '-f', '-'], `apiVersion: v1
kind: Service
metadata: {name: marker, namespace: ${ns}}
spec:
  selector: {app: web}
  ports: [{port: 81, targetPort: 8080}]
`);
    await until(async () => (await endpointsOf('marker')).length > 0, 20_000, 'marker Endpoints');
    const after = await getJSON<EndpointsJSON>(['get', 'endpoints', 'external-db', '-n', ns]);
    assert.equal(after?.metadata.resourceVersion, before?.metadata.resourceVersion);
    assert.deepEqual(summarize(after), ['undefined 192.0.2.10:5432 ready']);
  });

  it('mirrors the Endpoints of a Service without a selector to an EndpointSlice, and follows them', async () => {
    const view = (slices: SliceJSON[]) =>
      slices.map((s) => ({ managedBy: s.metadata.labels['endpointslice.kubernetes.io/managed-by'], owner: s.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`), addressType: s.addressType, ports: s.ports, endpoints: s.endpoints }));
    const mirrored = (ips: string[], ready: boolean[]) => [{
      managedBy: 'endpointslicemirroring-controller.k8s.io',
      owner: ['Endpoints/external-db'],
      addressType: 'IPv4',
      ports: [{ name: '', port: 5432, protocol: 'TCP' }],
      endpoints: ips.map((ip, i) => ({ addresses: [ip], conditions: { ready: ready[i] } })),
    }];
    let got: unknown;
    const settles = async (want: unknown, what: string) =>
      until(async () => JSON.stringify((got = view(await slicesOf('external-db')))) === JSON.stringify(want), 20_000, `${what} (last: ${JSON.stringify(got)})`);
    await settles(mirrored(['192.0.2.10'], [true]), 'the mirrored slice');
    const [slice] = await slicesOf('external-db');
    assert.match(slice!.metadata.name, /^external-db-/);

    await ok(['apply', '-f', '-'], `apiVersion: v1
kind: Endpoints
metadata: {name: external-db, namespace: ${ns}}
subsets: [{addresses: [{ip: 192.0.2.10}, {ip: 192.0.2.11}], notReadyAddresses: [{ip: 192.0.2.12}], ports: [{port: 5432}]}]
`);
    await settles(mirrored(['192.0.2.10', '192.0.2.11', '192.0.2.12'], [true, true, false]), 'the slice following the Endpoints');
    assert.equal((await slicesOf('external-db'))[0]!.metadata.name, slice!.metadata.name, 'the slice is updated in place');

    await ok(['label', 'endpoints', 'external-db', '-n', ns, 'endpointslice.kubernetes.io/skip-mirror=true']);
    await settles([], 'the mirrored slice gone after skip-mirror');
    await ok(['label', 'endpoints', 'external-db', '-n', ns, 'endpointslice.kubernetes.io/skip-mirror-']);
    await settles(mirrored(['192.0.2.10', '192.0.2.11', '192.0.2.12'], [true, true, false]), 'the mirrored slice back');

    // A selector hands the Service to the endpoint controllers: the mirrored slice goes.
    await ok(['patch', 'service', 'external-db', '-n', ns, '-p', '{"spec":{"selector":{"app":"nothing"}}}']);
    await until(async () => !(await slicesOf('external-db')).some((s) => s.metadata.labels['endpointslice.kubernetes.io/managed-by'] === 'endpointslicemirroring-controller.k8s.io'), 20_000, 'the mirrored slice gone with a selector');
  });

  it('does not mirror the kubernetes Endpoints, which the apiserver gives a slice itself', async () => {
    const slices = (await getJSON<{ items: SliceJSON[] }>(['get', 'endpointslices', '-n', 'default', '-l', 'kubernetes.io/service-name=kubernetes']))?.items ?? [];
    assert.deepEqual(slices.map((s) => s.metadata.name), ['kubernetes']);
  });

  it('gives the kubernetes Service an EndpointSlice that follows its Endpoints, and writes it again when deleted', async () => {
    const ep = await getJSON<EndpointsJSON>(['get', 'endpoints', 'kubernetes', '-n', 'default']);
    const address = ep?.subsets?.[0]?.addresses?.[0]?.ip;
    const port = ep?.subsets?.[0]?.ports?.[0]?.port;
    assert.ok(address && port, `kubernetes Endpoints: ${JSON.stringify(ep)}`);
    const want = {
      labels: { 'kubernetes.io/service-name': 'kubernetes' },
      addressType: 'IPv4',
      ports: [{ name: 'https', port, protocol: 'TCP' }],
      endpoints: [{ addresses: [address], conditions: { ready: true } }],
    };
    const view = (s: SliceJSON | undefined) => s && { labels: s.metadata.labels, addressType: s.addressType, ports: s.ports, endpoints: s.endpoints };
    const slice = await getJSON<SliceJSON>(['get', 'endpointslice', 'kubernetes', '-n', 'default']);
    assert.deepEqual(view(slice), want);
    await ok(['delete', 'endpointslice', 'kubernetes', '-n', 'default']);
    let got: SliceJSON | undefined;
    await until(async () => !!(got = await getJSON<SliceJSON>(['get', 'endpointslice', 'kubernetes', '-n', 'default'])), 30_000, 'the kubernetes EndpointSlice written again');
    assert.deepEqual(view(got), want);
    // The pass that wrote the slice again found the Endpoints right and left them alone.
    assert.equal((await getJSON<EndpointsJSON>(['get', 'endpoints', 'kubernetes', '-n', 'default']))?.metadata.resourceVersion, ep.metadata.resourceVersion);
  });

  it('drops a deleted pod and removes Endpoints and slices with their Service', async () => {
    const ips = await podIPs(['web-a']);
    await ok(['delete', 'pod', 'web-a', '-n', ns, '--wait=false']);
    await until(async () => !(await endpointsOf('web')).some((l) => l.includes(ips['web-a']!)), 20_000, 'web-a leaves the Endpoints');
    await ok(['delete', 'service', 'web', '-n', ns]);
    await until(async () => (await k(['get', 'endpoints', 'web', '-n', ns])).code !== 0, 20_000, 'Endpoints deleted');
    await until(async () => (await slicesOf('web')).length === 0, 20_000, 'EndpointSlices deleted');
  });
});
