import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../../machinery/field-errors.js';
import { type Service, services, servicePortsNeedingNodePorts, serviceNeedsClusterIPAllocation } from './service.js';

const now = new Date('2024-05-01T12:00:00Z');
const ctx = { now };

function create(obj: Service): { svc: Service; errs: string[] } {
  const svc = structuredClone(obj);
  services.defaults!(svc);
  services.prepareForCreate!(svc, ctx);
  return { svc, errs: services.validate!(svc).map((e) => fieldErrorMessage(e)) };
}

/** allocate stands in for the registry: a cluster IP and node ports for what needs them. */
function allocate(svc: Service): Service {
  if (serviceNeedsClusterIPAllocation(svc) && !svc.spec.clusterIP) {
    svc.spec.clusterIP = '10.96.0.10';
    svc.spec.clusterIPs = ['10.96.0.10'];
  }
  let next = 30080;
  for (const p of servicePortsNeedingNodePorts(svc)) if (!p.nodePort) p.nodePort = next++;
  svc.metadata.resourceVersion = '4';
  svc.metadata.creationTimestamp = '2024-05-01T11:00:00Z';
  return svc;
}

function update(old: Service, next: Service): { svc: Service; errs: string[] } {
  const svc = structuredClone(next);
  svc.metadata.resourceVersion = old.metadata.resourceVersion;
  svc.status = structuredClone(old.status);
  services.defaults!(svc);
  services.prepareForUpdate!(svc, old, ctx);
  return { svc, errs: [...services.validate!(svc), ...services.validateUpdate!(svc, old)].map((e) => fieldErrorMessage(e)) };
}

function svc(spec: Service['spec'], name = 'web'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec };
}

const cells = (s: Service) => services.printerColumns!.map((c) => c.cell(s, now));

test('a minimal ClusterIP service gets exactly the Kubernetes defaults', () => {
  const { svc: s, errs } = create(svc({ selector: { app: 'web' }, ports: [{ port: 80 }] }));
  assert.deepEqual(errs, []);
  assert.deepEqual(s.spec, {
    selector: { app: 'web' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    sessionAffinity: 'None',
    type: 'ClusterIP',
    internalTrafficPolicy: 'Cluster',
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  });
  assert.deepEqual(s.status, { loadBalancer: {} });
});

test('NodePort and LoadBalancer defaults: externalTrafficPolicy Cluster, allocateLoadBalancerNodePorts', () => {
  const np = create(svc({ type: 'NodePort', ports: [{ port: 80, targetPort: 'http' }] })).svc;
  assert.equal(np.spec.externalTrafficPolicy, 'Cluster');
  assert.equal(np.spec.ports![0].targetPort, 'http');
  assert.equal(np.spec.allocateLoadBalancerNodePorts, undefined);
  const lb = create(svc({ type: 'LoadBalancer', ports: [{ port: 443 }] })).svc;
  assert.equal(lb.spec.externalTrafficPolicy, 'Cluster');
  assert.equal(lb.spec.allocateLoadBalancerNodePorts, true);
  const withExternalIP = create(svc({ ports: [{ port: 80 }], externalIPs: ['192.0.2.10'] })).svc;
  assert.equal(withExternalIP.spec.externalTrafficPolicy, 'Cluster');
  const affinity = create(svc({ ports: [{ port: 80 }], sessionAffinity: 'ClientIP' })).svc;
  assert.deepEqual(affinity.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
});

test('headless services: clusterIPs follow clusterIP; selectorless ones may be dual-stack', () => {
  const withSelector = create(svc({ clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] }));
  assert.deepEqual(withSelector.errs, []);
  assert.deepEqual(withSelector.svc.spec.clusterIPs, ['None']);
  assert.equal(withSelector.svc.spec.ipFamilyPolicy, 'SingleStack');
  const selectorless = create(svc({ clusterIP: 'None' }));
  assert.deepEqual(selectorless.errs, []);
  assert.equal(selectorless.svc.spec.ipFamilyPolicy, 'RequireDualStack');
  assert.deepEqual(selectorless.svc.spec.ipFamilies, ['IPv4', 'IPv6']);
  assert.equal(serviceNeedsClusterIPAllocation(withSelector.svc), false);
});

test('service validation reports Kubernetes messages and field paths', () => {
  const cases: [Service, string][] = [
    [svc({ ports: [{ port: 80 }] }, '1web'), 'metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character (e.g. \'my-name\',  or \'abc-123\', regex used for validation is \'[a-z]([-a-z0-9]*[a-z0-9])?\')'],
    [svc({ selector: { app: 'x' } }), 'spec.ports: Required value'],
    [svc({ ports: [{ port: 80 }, { port: 81 }] }), 'spec.ports[0].name: Required value'],
    [
      svc({
        ports: [
          { name: 'http', port: 80 },
          { name: 'http', port: 81 },
        ],
      }),
      'spec.ports[1].name: Duplicate value: "http"',
    ],
    [svc({ ports: [{ port: 0 }] }), 'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive'],
    [svc({ ports: [{ port: 80, targetPort: 'Web_Port' }] }), 'spec.ports[0].targetPort: Invalid value: "Web_Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'],
    [svc({ type: 'Fancy', ports: [{ port: 80 }] }), 'spec.type: Unsupported value: "Fancy": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'],
    [svc({ ports: [{ port: 80, nodePort: 30001 }] }), "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
    [svc({ type: 'ExternalName' }), 'spec.externalName: Required value'],
    [svc({ type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] }), 'spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services'],
    [svc({ clusterIP: '10.96.0.300', ports: [{ port: 80 }] }), 'spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'],
    [svc({ ports: [{ port: 80 }], externalTrafficPolicy: 'Local' }), 'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services'],
    [svc({ ports: [{ port: 80, protocol: 'HTTP' }] }), 'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'],
    [svc({ ports: [{ port: 80 }], sessionAffinity: 'Sticky' }), 'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"'],
    [svc({ ports: [{ port: 80 }], selector: { 'bad key!': 'x' } }), 'spec.selector: Invalid value: "bad key!": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyName\',  or \'my.name\',  or \'123-abc\', regex used for validation is \'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\')'],
    [svc({ ports: [{ port: 80 }], ipFamilyPolicy: 'RequireDualStack', selector: { a: 'b' } }), 'spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services'],
    [svc({ ports: [{ port: 80 }], externalIPs: ['127.0.0.1'] }), 'spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)'],
  ];
  for (const [s, message] of cases) {
    const { errs } = create(s);
    assert.ok(errs.includes(message), `${message}\n got: ${JSON.stringify(errs)}`);
  }
  const dup = create(svc({ ports: [{ name: 'a', port: 53, protocol: 'UDP' }, { name: 'b', port: 53, protocol: 'TCP' }] }));
  assert.deepEqual(dup.errs, [], 'the same port over two protocols is fine');
});

test('re-applying the original YAML keeps the allocated clusterIP and node ports', () => {
  const manifest = svc({ type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] });
  const stored = allocate(create(manifest).svc);
  const { svc: next, errs } = update(stored, manifest);
  assert.deepEqual(errs, []);
  assert.equal(next.spec.clusterIP, '10.96.0.10');
  assert.deepEqual(next.spec.clusterIPs, ['10.96.0.10']);
  assert.equal(next.spec.ports![0].nodePort, 30080);
});

test('the cluster IP may not change once set', () => {
  const stored = allocate(create(svc({ ports: [{ port: 80 }] })).svc);
  const changed = structuredClone(stored);
  changed.spec.clusterIP = '10.96.0.99';
  changed.spec.clusterIPs = ['10.96.0.99'];
  assert.ok(update(stored, changed).errs.includes('spec.clusterIPs[0]: Invalid value: []string{"10.96.0.99"}: may not change once set'));
  // Changing only the singular field moves clusterIPs with it, and is still refused.
  const singular = structuredClone(stored);
  singular.spec.clusterIP = '10.96.0.99';
  const r = update(stored, singular);
  assert.deepEqual(r.svc.spec.clusterIPs, ['10.96.0.99']);
  assert.ok(r.errs.includes('spec.clusterIPs[0]: Invalid value: []string{"10.96.0.99"}: may not change once set'));
});

test('changing type drops what the new type cannot use: node ports, externalTrafficPolicy, cluster IP', () => {
  const stored = allocate(create(svc({ type: 'NodePort', ports: [{ port: 80 }] })).svc);
  const toClusterIP = structuredClone(stored);
  toClusterIP.spec.type = 'ClusterIP';
  const a = update(stored, toClusterIP);
  assert.deepEqual(a.errs, []);
  assert.equal(a.svc.spec.ports![0].nodePort, undefined);
  assert.equal(a.svc.spec.externalTrafficPolicy, undefined);
  assert.equal(a.svc.spec.clusterIP, '10.96.0.10');

  const toExternal = structuredClone(stored);
  toExternal.spec.type = 'ExternalName';
  toExternal.spec.externalName = 'db.example.com';
  const b = update(stored, toExternal);
  assert.deepEqual(b.errs, []);
  assert.equal(b.svc.spec.clusterIP, undefined);
  assert.equal(b.svc.spec.clusterIPs, undefined);
  assert.equal(b.svc.spec.ipFamilies, undefined);
  assert.equal(b.svc.spec.ipFamilyPolicy, undefined);
});

test('table cells for each service type match kubectl get svc -o wide', () => {
  assert.deepEqual(
    services.printerColumns!.map((c) => c.name),
    ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector'],
  );
  const clusterIP = allocate(create(svc({ selector: { tier: 'fe', app: 'web' }, ports: [{ port: 80 }, { port: 443, protocol: 'TCP' }].map((p, i) => ({ ...p, name: `p${i}` })) })).svc);
  assert.deepEqual(cells(clusterIP), ['web', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP,443/TCP', '60m', 'app=web,tier=fe']);

  const nodePort = allocate(create(svc({ type: 'NodePort', ports: [{ port: 80 }] })).svc);
  assert.deepEqual(cells(nodePort).slice(1, 5), ['NodePort', '10.96.0.10', '<none>', '80:30080/TCP']);
  assert.equal(cells(nodePort)[6], '<none>');

  const lb = allocate(create(svc({ type: 'LoadBalancer', ports: [{ port: 443 }] })).svc);
  assert.equal(cells(lb)[3], '<pending>');
  lb.status = { loadBalancer: { ingress: [{ ip: '203.0.113.7' }, { hostname: 'lb.example.com' }] } };
  assert.equal(cells(lb)[3], '203.0.113.7,lb.example.com');

  const ext = create(svc({ type: 'ExternalName', externalName: 'db.example.com' })).svc;
  assert.deepEqual(cells(ext).slice(1, 5), ['ExternalName', '<none>', 'db.example.com', '<none>']);

  const headless = create(svc({ clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] })).svc;
  assert.equal(cells(headless)[2], 'None');
});

test('servicePortsNeedingNodePorts: NodePort and LoadBalancer ports, unless LB node ports are off', () => {
  const np = create(svc({ type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, nodePort: 31000 }] })).svc;
  assert.deepEqual(servicePortsNeedingNodePorts(np).map((p) => p.name), ['a', 'b']);
  const lb = create(svc({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, nodePort: 31000 }] })).svc;
  assert.deepEqual(servicePortsNeedingNodePorts(lb).map((p) => p.name), ['b']);
  assert.deepEqual(servicePortsNeedingNodePorts(create(svc({ ports: [{ port: 80 }] })).svc), []);
});

test('field selectors and names', () => {
  const s = allocate(create(svc({ ports: [{ port: 80 }] })).svc);
  assert.equal(services.fieldSelectors!['spec.clusterIP'](s), '10.96.0.10');
  assert.equal(services.fieldSelectors!['spec.type'](s), 'ClusterIP');
  assert.deepEqual(services.shortNames, ['svc']);
  assert.deepEqual(services.categories, ['all']);
  assert.equal(services.allowCreateOnUpdate, true);
});

test('status updates: load balancer ingress must be valid and only on LoadBalancer services', () => {
  const lb = allocate(create(svc({ type: 'LoadBalancer', ports: [{ port: 443 }] })).svc);
  const next = structuredClone(lb);
  next.status = { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } };
  services.defaults!(next);
  assert.deepEqual(services.validateStatusUpdate!(next, lb), []);
  assert.equal(next.status.loadBalancer!.ingress![0].ipMode, 'VIP');
  next.status.loadBalancer!.ingress![0].ip = 'nope';
  assert.deepEqual(services.validateStatusUpdate!(next, lb).map((e) => fieldErrorMessage(e)), [
    'status.loadBalancer.ingress[0].ip: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
  ]);
});
