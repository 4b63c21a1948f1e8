import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigMap } from '../../lib/api/core/configmap.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Secret } from '../../lib/api/core/secret.js';
import type { Container } from '../../lib/api/core/types.js';
import type { ObjectSources } from '../volumes/volumes.js';
import { ConfigError, type EnvContext, containerEnv, expandCommand } from './env.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** fakeSources serves config maps and secrets from memory and counts reads. */
function fakeSources(cms: ConfigMap[], secrets: Secret[]): ObjectSources & { reads: number } {
  const key = (o: { metadata: { namespace?: string; name?: string } }): string => `${o.metadata.namespace}/${o.metadata.name}`;
  const s = {
    reads: 0,
    async getConfigMap(ns: string, name: string) {
      s.reads++;
      return cms.find((c) => key(c) === `${ns}/${name}`);
    },
    async getSecret(ns: string, name: string) {
      s.reads++;
      return secrets.find((c) => key(c) === `${ns}/${name}`);
    },
  };
  return s;
}

const settings: ConfigMap = { metadata: { name: 'settings', namespace: 'team' }, data: { mode: 'fast', level: '3', 'bad=key': 'x' } };
const creds: Secret = { metadata: { name: 'creds', namespace: 'team' }, data: { user: b64('admin'), password: b64('s3cret') } };

function pod(containers: Container[]): Pod {
  return {
    metadata: { name: 'web-1', namespace: 'team', uid: 'uid-1', labels: { app: 'web', tier: 'front' }, annotations: { note: 'say "hi"' } },
    spec: { nodeName: 'node-a', serviceAccountName: 'robot', containers },
  };
}

function ctx(extra: Partial<EnvContext> = {}): EnvContext {
  return { sources: fakeSources([settings], [creds]), nodeName: 'node-a', hostIP: '10.0.0.5', podIPs: ['10.244.210.7'], nodeAllocatable: { cpu: '2', memory: '4Gi', 'ephemeral-storage': '100Gi' }, ...extra };
}

async function envOf(c: Container, x?: Partial<EnvContext>): Promise<Record<string, string>> {
  return Object.fromEntries((await containerEnv(pod([c]), c, ctx(x))).map((e) => [e.key, e.value]));
}

describe('containerEnv', () => {
  it('expands values against the variables defined before them, in order, with $$ escaping', async () => {
    const c: Container = {
      name: 'app',
      env: [
        { name: 'A', value: 'a' },
        { name: 'B', value: '$(A)-b' },
        { name: 'C', value: '$(D)' }, // D comes later: left as written
        { name: 'D', value: 'd' },
        { name: 'E', value: '$$(A)' },
        { name: 'F' },
      ],
    };
    const env = await containerEnv(pod([c]), c, ctx());
    assert.deepEqual(env, [
      { key: 'A', value: 'a' },
      { key: 'B', value: 'a-b' },
      { key: 'C', value: '$(D)' },
      { key: 'D', value: 'd' },
      { key: 'E', value: '$(A)' },
      { key: 'F', value: '' },
    ]);
  });

  it('takes envFrom first (with prefix), lets env override it and refer to it', async () => {
    const warnings: string[] = [];
    const c: Container = {
      name: 'app',
      envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }, { secretRef: { name: 'creds' } }],
      env: [
        { name: 'CFG_mode', value: 'slow' },
        { name: 'URL', value: 'http://$(user):$(password)@db/$(CFG_level)' },
      ],
    };
    const env = await containerEnv(pod([c]), c, ctx({ warn: (reason, message) => warnings.push(`${reason}: ${message}`) }));
    assert.deepEqual(env.map((e) => e.key), ['CFG_mode', 'CFG_level', 'user', 'password', 'URL']);
    const m = Object.fromEntries(env.map((e) => [e.key, e.value]));
    assert.equal(m.CFG_mode, 'slow');
    assert.equal(m.URL, 'http://admin:s3cret@db/3');
    assert.deepEqual(warnings, ['InvalidEnvironmentVariableNames: Keys [CFG_bad=key] from the EnvFrom configMap team/settings were skipped since they are considered invalid environment variable names.']);
  });

  it('resolves configMapKeyRef and secretKeyRef, reading each object once', async () => {
    const sources = fakeSources([settings], [creds]);
    const c: Container = {
      name: 'app',
      env: [
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
        { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'level' } } },
        { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nope', optional: true } } },
        { name: 'OPT2', valueFrom: { secretKeyRef: { name: 'missing', key: 'x', optional: true } } },
      ],
    };
    assert.deepEqual(await envOf(c, { sources }), { MODE: 'fast', LEVEL: '3', PASS: 's3cret' });
    assert.equal(sources.reads, 3);
  });

  it("fails with the kubelet's messages for a missing object or key", async () => {
    const fails = async (c: Container, message: string) => {
      await assert.rejects(containerEnv(pod([c]), c, ctx()), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.reason, 'CreateContainerConfigError');
        assert.equal(err.message, message);
        return true;
      });
    };
    await fails({ name: 'a', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }, 'configmap "nope" not found');
    await fails({ name: 'a', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }, 'secret "nope" not found');
    await fails({ name: 'a', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k' } } }] }, "couldn't find key k in ConfigMap team/settings");
    await fails({ name: 'a', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }] }, "couldn't find key k in Secret team/creds");
    await fails({ name: 'a', envFrom: [{ configMapRef: { name: 'nope' } }] }, 'configmap "nope" not found');
    await fails({ name: 'a', envFrom: [{ secretRef: { name: 'nope' } }] }, 'secret "nope" not found');
    await fails({ name: 'a', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.hostname' } } }] }, 'field label not supported: spec.hostname');
    await fails({ name: 'a', env: [{ name: 'X', valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } }] }, 'unsupported container resource : limits.gpu');
  });

  it('skips optional envFrom sources that are missing', async () => {
    const c: Container = { name: 'app', envFrom: [{ configMapRef: { name: 'nope', optional: true } }, { secretRef: { name: 'nope', optional: true } }], env: [{ name: 'A', value: '1' }] };
    assert.deepEqual(await envOf(c), { A: '1' });
  });

  it('resolves fieldRef from the pod and the node', async () => {
    const f = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });
    const c: Container = {
      name: 'app',
      env: [
        f('NAME', 'metadata.name'),
        f('NS', 'metadata.namespace'),
        f('UID', 'metadata.uid'),
        f('APP', "metadata.labels['app']"),
        f('NOTE', "metadata.annotations['note']"),
        f('LABELS', 'metadata.labels'),
        f('ANN', 'metadata.annotations'),
        f('NODE', 'spec.nodeName'),
        f('SA', 'spec.serviceAccountName'),
        f('HOST', 'status.hostIP'),
        f('HOSTS', 'status.hostIPs'),
        f('IP', 'status.podIP'),
        f('IPS', 'status.podIPs'),
      ],
    };
    assert.deepEqual(await envOf(c, { podIPs: ['10.244.210.7', 'fd00::7'] }), {
      NAME: 'web-1',
      NS: 'team',
      UID: 'uid-1',
      APP: 'web',
      NOTE: 'say "hi"',
      LABELS: 'app="web"\ntier="front"',
      ANN: 'note="say \\"hi\\""',
      NODE: 'node-a',
      SA: 'robot',
      HOST: '10.0.0.5',
      HOSTS: '10.0.0.5',
      IP: '10.244.210.7',
      IPS: '10.244.210.7,fd00::7',
    });
  });

  it('resolves resourceFieldRef with divisors, rounding up, and node allocatable for missing limits', async () => {
    const r = (name: string, resource: string, divisor?: string, containerName?: string) => ({ name, valueFrom: { resourceFieldRef: { resource, divisor, containerName } } });
    const c: Container = {
      name: 'app',
      resources: { limits: { cpu: '250m', memory: '64Mi' }, requests: { cpu: '100m', memory: '1000' } },
      env: [
        r('CPU_LIMIT', 'limits.cpu'), // 0.25 → 1
        r('CPU_LIMIT_M', 'limits.cpu', '1m'),
        r('CPU_REQ', 'requests.cpu', '30m'), // 100/30 → 4
        r('MEM_LIMIT', 'limits.memory'),
        r('MEM_LIMIT_MI', 'limits.memory', '1Mi'),
        r('MEM_REQ_K', 'requests.memory', '1k'),
        r('EPH_LIMIT_GI', 'limits.ephemeral-storage', '1Gi'), // no limit: node allocatable 100Gi
        r('EPH_REQ', 'requests.ephemeral-storage'), // no request: 0
        r('SIDE_CPU', 'limits.cpu', '1m', 'side'), // another container without a limit: allocatable 2
      ],
    };
    const side: Container = { name: 'side' };
    const env = await containerEnv(pod([c, side]), c, ctx());
    assert.deepEqual(Object.fromEntries(env.map((e) => [e.key, e.value])), {
      CPU_LIMIT: '1',
      CPU_LIMIT_M: '250',
      CPU_REQ: '4',
      MEM_LIMIT: String(64 * 1024 * 1024),
      MEM_LIMIT_MI: '64',
      MEM_REQ_K: '1',
      EPH_LIMIT_GI: '100',
      EPH_REQ: '0',
      SIDE_CPU: '2000',
    });
  });
});

describe('expandCommand', () => {
  it('expands command and args with the resolved env, leaving unknown references', () => {
    const c: Container = { name: 'app', command: ['sh', '-c', 'echo $(GREETING) $$(HOME)'], args: ['$(TARGET)', '$(NOPE)'] };
    const env = [
      { key: 'GREETING', value: 'hello' },
      { key: 'TARGET', value: 'world' },
    ];
    assert.deepEqual(expandCommand(c, env), { command: ['sh', '-c', 'echo hello $(HOME)'], args: ['world', '$(NOPE)'] });
    assert.deepEqual(expandCommand({ name: 'x' }, env), { command: [], args: [] });
  });
});

describe('service link variables', () => {
  const svc = (namespace: string, name: string, clusterIP: string, ports: { name?: string; port: number; protocol?: string }[]) => ({ metadata: { namespace, name }, spec: { clusterIP, ports } });
  const services = [
    svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443 }]),
    svc('default', 'other', '10.96.0.9', [{ port: 80 }]),
    svc('team', 'my-db', '10.96.5.5', [{ port: 5432 }, { name: 'metrics', port: 9187, protocol: 'TCP' }]),
    svc('team', 'headless', 'None', [{ port: 80 }]),
    svc('team', 'dns', '10.96.0.10', [{ name: 'dns', port: 53, protocol: 'UDP' }]),
  ];
  const withServices = (): EnvContext => {
    const sources = fakeSources([settings], [creds]) as ObjectSources;
    sources.listServices = async (ns) => services.filter((s) => s.metadata.namespace === ns);
    return ctx({ sources });
  };

  it('makes the docker link and SERVICE_HOST/PORT variables of the namespace and the master service, after the container env', async () => {
    const c: Container = { name: 'app', env: [{ name: 'DB', value: 'postgres://$(MY_DB_SERVICE_HOST):$(MY_DB_SERVICE_PORT)' }, { name: 'DNS_SERVICE_HOST', value: 'mine' }] };
    const env = await containerEnv(pod([c]), c, withServices());
    const m = Object.fromEntries(env.map((e) => [e.key, e.value]));
    assert.deepEqual(env.slice(0, 2).map((e) => e.key), ['DB', 'DNS_SERVICE_HOST']);
    assert.equal(m.DB, 'postgres://10.96.5.5:5432');
    assert.equal(m.DNS_SERVICE_HOST, 'mine');
    assert.deepEqual(
      env.slice(2).map((e) => `${e.key}=${e.value}`),
      [
        'DNS_SERVICE_PORT=53',
        'DNS_SERVICE_PORT_DNS=53',
        'DNS_PORT=udp://10.96.0.10:53',
        'DNS_PORT_53_UDP=udp://10.96.0.10:53',
        'DNS_PORT_53_UDP_PROTO=udp',
        'DNS_PORT_53_UDP_PORT=53',
        'DNS_PORT_53_UDP_ADDR=10.96.0.10',
        'KUBERNETES_SERVICE_HOST=10.96.0.1',
        'KUBERNETES_SERVICE_PORT=443',
        'KUBERNETES_SERVICE_PORT_HTTPS=443',
        'KUBERNETES_PORT=tcp://10.96.0.1:443',
        'KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443',
        'KUBERNETES_PORT_443_TCP_PROTO=tcp',
        'KUBERNETES_PORT_443_TCP_PORT=443',
        'KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1',
        'MY_DB_SERVICE_HOST=10.96.5.5',
        'MY_DB_SERVICE_PORT=5432',
        'MY_DB_SERVICE_PORT_METRICS=9187',
        'MY_DB_PORT=tcp://10.96.5.5:5432',
        'MY_DB_PORT_5432_TCP=tcp://10.96.5.5:5432',
        'MY_DB_PORT_5432_TCP_PROTO=tcp',
        'MY_DB_PORT_5432_TCP_PORT=5432',
        'MY_DB_PORT_5432_TCP_ADDR=10.96.5.5',
        'MY_DB_PORT_9187_TCP=tcp://10.96.5.5:9187',
        'MY_DB_PORT_9187_TCP_PROTO=tcp',
        'MY_DB_PORT_9187_TCP_PORT=9187',
        'MY_DB_PORT_9187_TCP_ADDR=10.96.5.5',
      ],
    );
    assert.equal(m.OTHER_SERVICE_HOST, undefined, 'other namespaces are not seen');
  });

  it('keeps only the master service with enableServiceLinks: false, and fails like the kubelet when listing fails', async () => {
    const c: Container = { name: 'app' };
    const p = pod([c]);
    p.spec.enableServiceLinks = false;
    const env = await containerEnv(p, c, withServices());
    assert.deepEqual([...new Set(env.map((e) => e.key.split('_')[0]))], ['KUBERNETES']);
    const broken = withServices();
    broken.sources.listServices = async () => {
      throw new Error('connection refused');
    };
    await assert.rejects(containerEnv(pod([c]), c, broken), new ConfigError('failed to list services when setting up env vars'));
  });
});
