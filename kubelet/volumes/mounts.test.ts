import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Container } from '../../lib/api/core/types.js';
import { ConfigError } from '../env/errors.js';
import { FakeMounter, FakeSources } from './testing.js';
import { type PodVolumes, containerMounts, podHostnameAndDomain, readTerminationMessage, setUpPodVolumes } from './volumes.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), 'skiff-mounts-')));
  dirs.push(d);
  return d;
}

function pod(containers: Container[], extra: Partial<Pod['spec']> = {}, podIPs = ['10.244.210.9']): Pod {
  return {
    metadata: { name: 'web-1', namespace: 'team', uid: 'uid-1' },
    spec: {
      containers,
      volumes: [
        { name: 'data', emptyDir: {} },
        { name: 'cfg', configMap: { name: 'settings' } },
      ],
      ...extra,
    },
    status: { podIPs: podIPs.map((ip) => ({ ip })) },
  };
}

async function setUp(p: Pod): Promise<PodVolumes> {
  const sources = new FakeSources();
  sources.putConfigMap('team', 'settings', { 'app.conf': 'v1' });
  return setUpPodVolumes(p, { podDir: join(tempDir(), 'uid-1'), sources, nodeName: 'node-a', mounter: new FakeMounter() });
}

function configError(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${err}`);
    assert.equal(err.message, message);
    assert.equal(err.reason, 'CreateContainerConfigError');
    return true;
  });
}

describe('containerMounts', () => {
  it('binds each volumeMount, read-only when asked or when the volume is (configMap), then /etc/hosts and the termination log', async () => {
    const c: Container = {
      name: 'app',
      terminationMessagePath: '/dev/termination-log',
      volumeMounts: [
        { name: 'data', mountPath: '/data' },
        { name: 'data', mountPath: '/ro', readOnly: true },
        { name: 'cfg', mountPath: '/etc/app' },
        { name: 'data', mountPath: '/shared', mountPropagation: 'HostToContainer' },
      ],
    };
    const p = pod([c]);
    const vols = await setUp(p);
    const mounts = containerMounts(p, c, vols);
    const data = vols.get('data')!.hostPath;
    const [hosts, term] = mounts.slice(4);
    assert.deepEqual(mounts.slice(0, 4), [
      { container_path: '/data', host_path: data, readonly: false, propagation: 'PROPAGATION_PRIVATE' },
      { container_path: '/ro', host_path: data, readonly: true, propagation: 'PROPAGATION_PRIVATE' },
      { container_path: '/etc/app', host_path: vols.get('cfg')!.hostPath, readonly: true, propagation: 'PROPAGATION_PRIVATE' },
      { container_path: '/shared', host_path: data, readonly: false, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
    ]);
    assert.deepEqual(hosts, { container_path: '/etc/hosts', host_path: join(vols.podDir!, 'etc-hosts'), readonly: false });
    assert.equal(
      readFileSync(hosts.host_path, 'utf8'),
      '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n10.244.210.9\tweb-1\n',
    );
    assert.equal(term.container_path, '/dev/termination-log');
    assert.match(term.host_path, new RegExp(`^${vols.podDir}/containers/app/[0-9a-f]{8}$`));
    assert.equal(statSync(term.host_path).mode & 0o777, 0o666);
    assert.equal(statSync(term.host_path).size, 0);
    assert.equal(await readTerminationMessage(mounts, '/dev/termination-log'), '');
    writeFileSync(term.host_path, 'x'.repeat(5000) + 'the end');
    const message = await readTerminationMessage(mounts, '/dev/termination-log');
    assert.equal(message?.length, 4096);
    assert.ok(message?.endsWith('xthe end'));
    assert.equal(await readTerminationMessage(mounts, '/other'), undefined);
    // Each container instance gets its own termination-log file; /etc/hosts is written once.
    writeFileSync(hosts.host_path, '# edited\n');
    const again = containerMounts(p, c, vols);
    assert.notEqual(again[5].host_path, term.host_path);
    assert.equal(readdirSync(join(vols.podDir!, 'containers/app')).length, 2);
    assert.equal(readFileSync(hosts.host_path, 'utf8'), '# edited\n');
  });

  it('writes the FQDN and host aliases into /etc/hosts, and skips it when a volume covers /etc/hosts or the pod has no IP yet', async () => {
    const c: Container = { name: 'app' };
    const p = pod([c], { hostname: 'db-0', subdomain: 'db', hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar.local'] }] }, ['10.244.210.10', 'fd00::10']);
    const vols = await setUp(p);
    const mounts = containerMounts(p, c, vols, { clusterDomain: 'cluster.local' });
    assert.equal(mounts.length, 1);
    assert.match(
      readFileSync(mounts[0].host_path, 'utf8'),
      /fe00::2\tip6-allrouters\n10\.244\.210\.10\tdb-0\.db\.team\.svc\.cluster\.local\tdb-0\nfd00::10\tdb-0\.db\.team\.svc\.cluster\.local\tdb-0\n\n# Entries added by HostAliases\.\n10\.1\.2\.3\tfoo\.local\tbar\.local\n$/,
    );
    const own: Container = { name: 'own', volumeMounts: [{ name: 'data', mountPath: '/etc/hosts', subPath: 'hosts' }] };
    assert.deepEqual(containerMounts(p, own, vols).map((m) => m.container_path), ['/etc/hosts']);
    const noIP = pod([c], {}, []);
    assert.deepEqual(containerMounts(noIP, c, await setUp(noIP)), []);
  });

  it('gives hostNetwork pods a copy of the node hosts file', async () => {
    const c: Container = { name: 'app' };
    const p = pod([c], { hostNetwork: true, hostAliases: [{ ip: '10.9.9.9', hostnames: ['alias'] }] }, []);
    const vols = await setUp(p);
    const nodeHosts = join(tempDir(), 'hosts');
    writeFileSync(nodeHosts, '127.0.0.1\tlocalhost\n192.168.1.5\tthis-node\n');
    const [hosts] = containerMounts(p, c, vols, { nodeHostsFile: nodeHosts });
    assert.equal(readFileSync(hosts.host_path, 'utf8'), '# Kubernetes-managed hosts file (host network).\n127.0.0.1\tlocalhost\n192.168.1.5\tthis-node\n\n# Entries added by HostAliases.\n10.9.9.9\talias\n');
  });

  it('resolves subPath inside the volume, creating a missing directory with the volume mode', async () => {
    const c: Container = {
      name: 'app',
      volumeMounts: [
        { name: 'data', mountPath: '/logs', subPath: 'logs/app' },
        { name: 'cfg', mountPath: '/etc/app.conf', subPath: 'app.conf' },
      ],
    };
    const p = pod([c], {}, []);
    const vols = await setUp(p);
    const [logs, conf] = containerMounts(p, c, vols);
    const data = vols.get('data')!.hostPath;
    assert.equal(logs.host_path, join(data, 'logs/app'));
    assert.equal(statSync(logs.host_path).mode & 0o777, 0o777);
    // The configMap key resolves to the file of the current version (subPath mounts do not follow updates, as on Kubernetes).
    assert.match(conf.host_path, new RegExp(`^${vols.get('cfg')!.hostPath}/\\.\\.\\d{4}_[^/]+/app\\.conf$`));
    assert.equal(readFileSync(conf.host_path, 'utf8'), 'v1');
    assert.equal(conf.readonly, true);
  });

  it('refuses subPaths that are absolute, go up, or lead out of the volume through a link', async () => {
    const c = (subPath: string): Container => ({ name: 'app', volumeMounts: [{ name: 'data', mountPath: '/x', subPath }] });
    const p = pod([], {}, []);
    const vols = await setUp(p);
    const data = vols.get('data')!.hostPath;
    const outside = tempDir();
    symlinkSync(outside, join(data, 'escape'));
    symlinkSync('/etc/passwd', join(data, 'passwd'));
    configError(() => containerMounts(p, c('/etc'), vols), 'error SubPath `/etc` must not be an absolute path');
    configError(() => containerMounts(p, c('a/../../b'), vols), "unable to provision SubPath `a/../../b`: must not contain '..'");
    configError(() => containerMounts(p, c('..'), vols), "unable to provision SubPath `..`: must not contain '..'");
    configError(() => containerMounts(p, c('passwd'), vols), 'failed to prepare subPath for volumeMount "data" of container "app"');
    configError(() => containerMounts(p, c('escape/new'), vols), 'failed to create subPath directory for volumeMount "data" of container "app"');
    assert.equal(existsSync(join(outside, 'new')), false, 'nothing made outside the volume');
  });

  it('expands subPathExpr with the container env and refuses missing variables', async () => {
    const c: Container = { name: 'app', volumeMounts: [{ name: 'data', mountPath: '/logs', subPathExpr: 'logs/$(POD_NAME)-$$(x)' }] };
    const p = pod([c], {}, []);
    const vols = await setUp(p);
    const [m] = containerMounts(p, c, vols, { env: [{ key: 'POD_NAME', value: 'web-1' }] });
    assert.equal(m.host_path, join(vols.get('data')!.hostPath, 'logs/web-1-$(x)'));
    const two: Container = { name: 'app', volumeMounts: [{ name: 'data', mountPath: '/logs', subPathExpr: '$(B)/$(A)/$(EMPTY)' }] };
    configError(() => containerMounts(p, two, vols, { env: [{ key: 'EMPTY', value: '' }] }), 'missing value for A, B, EMPTY');
  });

  it('refuses a volume the pod does not have, and Bidirectional propagation for unprivileged containers', async () => {
    const p = pod([], {}, []);
    const vols = await setUp(p);
    configError(() => containerMounts(p, { name: 'app', volumeMounts: [{ name: 'nope', mountPath: '/x' }] }, vols), 'cannot find volume "nope" to mount into container "app"');
    const bidi = (privileged: boolean): Container => ({ name: 'app', securityContext: { privileged }, volumeMounts: [{ name: 'data', mountPath: '/x', mountPropagation: 'Bidirectional' }] });
    configError(() => containerMounts(p, bidi(false), vols), 'Bidirectional mount propagation is available only to privileged containers');
    assert.equal(containerMounts(p, bidi(true), vols)[0].propagation, 'PROPAGATION_BIDIRECTIONAL');
  });

  it('works from a plain map and opts.podDir, and without a pod dir makes only the volume mounts', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'v'));
    const vols: PodVolumes = new Map([['v', { hostPath: join(dir, 'v'), readOnly: false }]]);
    const c: Container = { name: 'app', terminationMessagePath: '/dev/termination-log', volumeMounts: [{ name: 'v', mountPath: '/v' }] };
    const p = pod([c]);
    assert.equal(containerMounts(p, c, vols).length, 1);
    assert.deepEqual(containerMounts(p, c, vols, { podDir: join(dir, 'pod') }).map((m) => m.container_path), ['/v', '/etc/hosts', '/dev/termination-log']);
  });
});

describe('podHostnameAndDomain', () => {
  it('uses spec.hostname or the name cut to 63 characters without trailing dashes or dots', () => {
    const p = (name: string, hostname?: string, subdomain?: string): Pod => ({ metadata: { name, namespace: 'ns' }, spec: { containers: [], hostname, subdomain } });
    assert.deepEqual(podHostnameAndDomain(p('web-1')), { hostname: 'web-1', domain: '' });
    assert.deepEqual(podHostnameAndDomain(p('web-1', 'h', 'sub'), 'example.org'), { hostname: 'h', domain: 'sub.ns.svc.example.org' });
    assert.equal(podHostnameAndDomain(p('a'.repeat(62) + '-.b')).hostname, 'a'.repeat(62));
  });
});
