import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type FieldError, fieldErrorMessage } from '../../machinery/field-errors.js';
import { type EndpointSlice, endpointSlices } from './endpointslice.js';

const ctx = { now: new Date('2024-05-01T10:00:30Z') };
const msgs = (errs: FieldError[]) => errs.map((e) => fieldErrorMessage(e));

function slice(mutate: (e: EndpointSlice) => void = () => {}): EndpointSlice {
  const e: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abc12', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' }, creationTimestamp: '2024-05-01T10:00:00Z' },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true }, nodeName: 'node-1' }],
    ports: [{ name: 'http', port: 80 }],
  };
  mutate(e);
  endpointSlices.defaults!(e);
  return e;
}

const validate = (e: EndpointSlice) => msgs(endpointSlices.validate!(e));

test('ports default to protocol TCP and an empty name; absent endpoints become null', () => {
  const e = slice((e) => {
    e.ports = [{ port: 53, protocol: 'UDP' }, { name: 'http', port: 80 }];
    delete (e as Partial<EndpointSlice>).endpoints;
  });
  assert.deepEqual(e.ports, [
    { port: 53, protocol: 'UDP', name: '' },
    { name: 'http', port: 80, protocol: 'TCP' },
  ]);
  assert.equal(e.endpoints, null);
  assert.deepEqual(validate(e), []);
});

test('a valid slice passes', () => {
  assert.deepEqual(validate(slice()), []);
});

test('addressType is required and one of IPv4, IPv6, FQDN', () => {
  assert.deepEqual(validate(slice((e) => (e.addressType = ''))), ['addressType: Required value']);
  assert.deepEqual(validate(slice((e) => (e.addressType = 'IP'))), ['addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"']);
});

test('addressType is immutable', () => {
  const old = slice();
  const next = slice((e) => {
    e.addressType = 'IPv6';
    e.endpoints = [{ addresses: ['2001:db8::5'] }];
  });
  assert.deepEqual(msgs(endpointSlices.validateUpdate!(next, old)), ['addressType: Invalid value: "IPv6": field is immutable']);
});

test('each endpoint has 1 to 100 addresses', () => {
  assert.deepEqual(validate(slice((e) => (e.endpoints = [{ addresses: [] }]))), ['endpoints[0].addresses: Required value: must contain at least 1 address']);
  const many = Array.from({ length: 101 }, (_, i) => `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  assert.deepEqual(validate(slice((e) => (e.endpoints = [{ addresses: many }]))), ['endpoints[0].addresses: Too many: 101: must have at most 100 items']);
});

test('IPv4 addresses must be valid, non-special IPv4 addresses', () => {
  assert.deepEqual(validate(slice((e) => (e.endpoints = [{ addresses: ['10.0.0.300'] }]))), [
    'endpoints[0].addresses[0]: Invalid value: "10.0.0.300": must be a valid IPv4 address',
    'endpoints[0].addresses[0]: Invalid value: "10.0.0.300": must be a valid IP address',
  ]);
  assert.deepEqual(validate(slice((e) => (e.endpoints = [{ addresses: ['127.0.0.1', '169.254.169.254', '0.0.0.0', '224.0.0.1'] }]))), [
    'endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    'endpoints[0].addresses[1]: Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
    'endpoints[0].addresses[2]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)',
    'endpoints[0].addresses[3]: Invalid value: "224.0.0.1": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)',
  ]);
  assert.deepEqual(validate(slice((e) => (e.endpoints = [{ addresses: ['2001:db8::1'] }]))), [
    'endpoints[0].addresses[0]: Invalid value: "2001:db8::1": must be a valid IPv4 address',
  ]);
});

test('IPv6 and FQDN addresses', () => {
  const v6 = (addresses: string[]) =>
    validate(
      slice((e) => {
        e.addressType = 'IPv6';
        e.endpoints = [{ addresses }];
      }),
    );
  assert.deepEqual(v6(['2001:db8::1', 'fd00:10:244::7']), []);
  assert.deepEqual(v6(['10.0.0.1', 'fe80::1', '::1']), [
    'endpoints[0].addresses[0]: Invalid value: "10.0.0.1": must be a valid IPv6 address',
    'endpoints[0].addresses[1]: Invalid value: "fe80::1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
    'endpoints[0].addresses[2]: Invalid value: "::1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
  ]);
  const fqdn = (addresses: string[]) =>
    validate(
      slice((e) => {
        e.addressType = 'FQDN';
        e.endpoints = [{ addresses }];
      }),
    );
  assert.deepEqual(fqdn(['db.example.com', 'db.example.com.']), []);
  assert.deepEqual(fqdn(['localhost']), ['endpoints[0].addresses[0]: Invalid value: "localhost": should be a domain with at least two segments separated by dots']);
});

test('hostname, nodeName and hints are checked', () => {
  const errs = validate(
    slice((e) => (e.endpoints = [{ addresses: ['10.0.0.1'], hostname: 'Web_1', nodeName: 'Node 1', hints: { forZones: [{ name: 'a' }, { name: 'a' }] } }])),
  );
  assert.deepEqual(
    errs.map((m) => m.split(':')[0]),
    ['endpoints[0].nodeName', 'endpoints[0].hostname', 'endpoints[0].hints.forZones[1].name'],
  );
  assert.equal(errs[2], 'endpoints[0].hints.forZones[1].name: Duplicate value: "a"');
});

test('ports: names are DNS labels and unique (unnamed too), protocols TCP, UDP or SCTP', () => {
  assert.deepEqual(
    validate(
      slice(
        (e) =>
          (e.ports = [
            { port: 80, protocol: 'TCP' },
            { port: 81, protocol: 'TCP' },
            { name: 'HTTP', port: 82, protocol: 'ICMP' },
            { name: 'dns', port: 53, protocol: 'UDP', appProtocol: 'kubernetes.io/h2c' },
          ]),
      ),
    ).map((m) => m.replace(/ \(e\.g\..*$/, '')),
    [
      'ports[1].name: Duplicate value: ""',
      "ports[2].name: Invalid value: \"HTTP\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
      'ports[2].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    ],
  );
});

test('a discovery/v1 write drops deprecatedTopology, unless an update keeps the endpoints', () => {
  const created = slice((e) => (e.endpoints = [{ addresses: ['10.0.0.1'], deprecatedTopology: { rack: 'r1' } }]));
  endpointSlices.prepareForCreate!(created, ctx);
  assert.deepEqual(created.endpoints, [{ addresses: ['10.0.0.1'] }]);

  const old = slice((e) => (e.endpoints = [{ addresses: ['10.0.0.1'], deprecatedTopology: { rack: 'r1' } }]));
  const same = slice((e) => (e.endpoints = [{ addresses: ['10.0.0.1'], deprecatedTopology: { rack: 'r1' } }]));
  endpointSlices.prepareForUpdate!(same, old, ctx);
  assert.deepEqual(same.endpoints, [{ addresses: ['10.0.0.1'], deprecatedTopology: { rack: 'r1' } }]);
});

test('a label change is a new generation', () => {
  const old = slice((e) => (e.metadata.generation = 2));
  const relabelled = slice((e) => {
    e.metadata.generation = 2;
    e.metadata.labels = { 'kubernetes.io/service-name': 'api' };
  });
  endpointSlices.prepareForUpdate!(relabelled, old, ctx);
  assert.equal(relabelled.metadata.generation, 3);
  const annotated = slice((e) => {
    e.metadata.generation = 2;
    e.metadata.annotations = { a: 'b' };
  });
  endpointSlices.prepareForUpdate!(annotated, old, ctx);
  assert.equal(annotated.metadata.generation, 2);
});

test('the table: NAME ADDRESSTYPE PORTS ENDPOINTS AGE', () => {
  const cols = endpointSlices.printerColumns!;
  assert.deepEqual(
    cols.map((c) => c.name),
    ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age'],
  );
  const e = slice((e) => {
    e.ports = [{ port: 80 }, { port: 443 }];
    e.endpoints = [{ addresses: ['10.0.0.1', '10.0.0.2'] }, { addresses: ['10.0.0.3'] }, { addresses: ['10.0.0.4'] }, { addresses: ['10.0.0.5'] }];
  });
  assert.deepEqual(
    cols.map((c) => c.cell(e, ctx.now)),
    ['web-abc12', 'IPv4', '80,443', '10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...', '30s'],
  );
  const empty = slice((e) => {
    e.ports = [];
    delete (e as Partial<EndpointSlice>).endpoints;
  });
  assert.deepEqual(
    cols.slice(2, 4).map((c) => c.cell(empty, ctx.now)),
    ['<unset>', '<unset>'],
  );
  const named = slice((e) => (e.ports = [{ name: 'http' }, { port: 1 }, { port: 2 }, { port: 3 }]));
  assert.equal(cols[2].cell(named, ctx.now), 'http,1,2 + 1 more...');
});

