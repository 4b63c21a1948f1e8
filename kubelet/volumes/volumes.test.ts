import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Volume } from '../../lib/api/core/types.js';
import { mountsUnder } from '../containerd.js';
import { hostMounter } from './mounter.js';
import { FakeMounter, FakeSources } from './testing.js';
import { type PodVolumeContext, VolumeError, memoryVolumeSize, setUpPodVolumes, tearDownPodVolumes } from './volumes.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) {
    // A test that failed half-way may leave a real tmpfs: unmount before removing.
    for (const m of mountsUnder(d)) execFileSync('umount', [m]);
    rmSync(d, { recursive: true, force: true });
  }
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'skiff-vol-'));
  dirs.push(d);
  return d;
}

function pod(volumes: Volume[], extra: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name: 'web-1', namespace: 'team', uid: 'uid-1', labels: { app: 'web' }, annotations: { owner: 'ops' } },
    spec: { nodeName: 'node-a', containers: [{ name: 'app', resources: { limits: { cpu: '500m', memory: '128Mi' } } }], volumes, ...extra },
  };
}

function ctx(sources = new FakeSources(), mounter = new FakeMounter()): PodVolumeContext & { mounter: FakeMounter; sources: FakeSources; podDir: string } {
  return { podDir: join(tempDir(), 'pods', 'uid-1'), sources, nodeName: 'node-a', nodeAllocatable: { cpu: '2', memory: '4Gi' }, mounter };
}

const mode = (p: string): number => statSync(p).mode & 0o777;
const read = (p: string): string => readFileSync(p, 'utf8');

async function failure(p: Promise<unknown>): Promise<VolumeError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof VolumeError, `not a VolumeError: ${err}`);
    return err;
  }
  assert.fail('no error');
}

describe('setUpPodVolumes', () => {
  it('makes emptyDir volumes: a 0777 directory on disk, a tmpfs for medium Memory sized like the kubelet', async () => {
    const c = ctx();
    const vols = await setUpPodVolumes(pod([{ name: 'scratch', emptyDir: {} }, { name: 'ram', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }, { name: 'ram2', emptyDir: { medium: 'Memory' } }]), c);
    const scratch = join(c.podDir, 'volumes/kubernetes.io~empty-dir/scratch');
    assert.deepEqual(vols.get('scratch'), { hostPath: scratch, readOnly: false });
    assert.equal(mode(scratch), 0o777);
    assert.equal(vols.podDir, c.podDir);
    // sizeLimit when smaller than the pod's memory limit, else the pod's limit (128Mi).
    assert.deepEqual(c.mounter.calls, [`mount ${join(c.podDir, 'volumes/kubernetes.io~empty-dir/ram')} size=${16 * 1024 * 1024}`, `mount ${join(c.podDir, 'volumes/kubernetes.io~empty-dir/ram2')} size=${128 * 1024 * 1024}`]);
    // Set up again: nothing mounted twice.
    await setUpPodVolumes(pod([{ name: 'ram', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }]), c);
    assert.equal(c.mounter.calls.length, 2);
    const bad = await failure(setUpPodVolumes(pod([{ name: 'huge', emptyDir: { medium: 'HugePages' } }]), c));
    assert.equal(bad.message, 'MountVolume.SetUp failed for volume "huge" : unknown storage medium "HugePages"');
  });

  it('sizes memory volumes from node allocatable when a container has no limit', () => {
    const p = pod([]);
    p.spec.containers.push({ name: 'side' });
    assert.equal(memoryVolumeSize(p, undefined, { memory: '4Gi' }), 4n * 1024n ** 3n);
    assert.equal(memoryVolumeSize(p, '8Gi', { memory: '4Gi' }), 4n * 1024n ** 3n);
    assert.equal(memoryVolumeSize(p, '1Gi', { memory: '4Gi' }), 1024n ** 3n);
    assert.equal(memoryVolumeSize(p, undefined, undefined), undefined);
  });

  it('projects a configMap with the atomic layout, items, modes and binaryData', async () => {
    const c = ctx();
    c.sources.putConfigMap('team', 'settings', { 'app.conf': 'mode=fast\n', level: '3' }, { 'logo.bin': Buffer.from([0, 1, 2, 255]).toString('base64') });
    const vols = await setUpPodVolumes(
      pod([
        { name: 'all', configMap: { name: 'settings', defaultMode: 0o640 } },
        { name: 'some', configMap: { name: 'settings', items: [{ key: 'level', path: 'nested/level.txt', mode: 0o400 }, { key: 'logo.bin', path: 'logo' }] } },
      ]),
      c,
    );
    const all = join(c.podDir, 'volumes/kubernetes.io~configmap/all');
    assert.deepEqual(vols.get('all'), { hostPath: all, readOnly: true });
    assert.equal(mode(all), 0o777);
    assert.deepEqual(readdirSync(all).filter((n) => !n.startsWith('..')).sort(), ['app.conf', 'level', 'logo.bin']);
    assert.equal(readlinkSync(join(all, 'app.conf')), '..data/app.conf');
    assert.match(readlinkSync(join(all, '..data')), /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./);
    assert.equal(read(join(all, 'app.conf')), 'mode=fast\n');
    assert.equal(mode(join(all, 'app.conf')), 0o640);
    assert.deepEqual([...readFileSync(join(all, 'logo.bin'))], [0, 1, 2, 255]);
    const some = join(c.podDir, 'volumes/kubernetes.io~configmap/some');
    assert.deepEqual(readdirSync(some).filter((n) => !n.startsWith('..')).sort(), ['logo', 'nested']);
    assert.equal(read(join(some, 'nested/level.txt')), '3');
    assert.equal(mode(join(some, 'nested/level.txt')), 0o400);
    assert.equal(mode(join(some, 'logo')), 0o644);
    assert.deepEqual(c.mounter.calls, [], 'configMap volumes live on disk');
  });

  it('follows updates of the configMap by swapping ..data; a removed key disappears', async () => {
    const c = ctx();
    c.sources.putConfigMap('team', 'settings', { a: '1', b: '2' });
    const p = pod([{ name: 'cfg', configMap: { name: 'settings' } }]);
    await setUpPodVolumes(p, c);
    const dir = join(c.podDir, 'volumes/kubernetes.io~configmap/cfg');
    const v1 = readlinkSync(join(dir, '..data'));
    await setUpPodVolumes(p, c);
    assert.equal(readlinkSync(join(dir, '..data')), v1, 'no new version without a change');
    c.sources.putConfigMap('team', 'settings', { a: 'one', c: '3' });
    await setUpPodVolumes(p, c);
    const v2 = readlinkSync(join(dir, '..data'));
    assert.notEqual(v2, v1);
    assert.equal(read(join(dir, 'a')), 'one');
    assert.equal(read(join(dir, 'c')), '3');
    assert.equal(existsSync(join(dir, 'b')), false);
    assert.equal(existsSync(join(dir, v1)), false);
  });

  it('puts secrets on a tmpfs, decoded, and keeps the last good contents when the secret goes away', async () => {
    const c = ctx();
    c.sources.putSecret('team', 'creds', { password: 's3cret', user: 'admin' });
    const p = pod([{ name: 'creds', secret: { secretName: 'creds', items: [{ key: 'password', path: 'pw' }], defaultMode: 0o400 } }]);
    const vols = await setUpPodVolumes(p, c);
    const dir = join(c.podDir, 'volumes/kubernetes.io~secret/creds');
    assert.deepEqual(vols.get('creds'), { hostPath: dir, readOnly: true });
    assert.deepEqual([...c.mounter.mounted.keys()], [dir]);
    assert.equal(read(join(dir, 'pw')), 's3cret');
    assert.equal(mode(join(dir, 'pw')), 0o400);
    c.sources.secrets.clear();
    const err = await failure(setUpPodVolumes(p, c));
    assert.equal(err.message, 'MountVolume.SetUp failed for volume "creds" : secret "creds" not found');
    assert.equal(err.reason, 'FailedMount');
    assert.equal(err.volumeName, 'creds');
    assert.equal(read(join(dir, 'pw')), 's3cret');
  });

  it("fails with the kubelet's messages for missing objects and keys, and honours optional", async () => {
    const c = ctx();
    c.sources.putConfigMap('team', 'settings', { a: '1' });
    c.sources.putSecret('team', 'creds', { a: '1' });
    const msg = async (v: Volume) => (await failure(setUpPodVolumes(pod([v]), c))).message;
    assert.equal(await msg({ name: 'v', configMap: { name: 'nope' } }), 'MountVolume.SetUp failed for volume "v" : configmap "nope" not found');
    assert.equal(await msg({ name: 'v', configMap: { name: 'settings', items: [{ key: 'zz', path: 'zz' }] } }), 'MountVolume.SetUp failed for volume "v" : configmap references non-existent config key: zz');
    assert.equal(await msg({ name: 'v', secret: { secretName: 'creds', items: [{ key: 'zz', path: 'zz' }] } }), 'MountVolume.SetUp failed for volume "v" : references non-existent secret key: zz');
    assert.equal(await msg({ name: 'v', nfs: { server: 'nfs', path: '/x' } }), 'MountVolume.SetUp failed for volume "v" : volume type nfs is not supported by this kubelet (it supports emptyDir, hostPath, configMap, secret, downwardAPI, projected, persistentVolumeClaim)');
    assert.equal(await msg({ name: 'v', persistentVolumeClaim: { claimName: 'data' } }), 'MountVolume.SetUp failed for volume "v" : persistentvolumeclaim "data" not found');
    c.sources.claims.set('team/pending', { metadata: { namespace: 'team', name: 'pending' }, spec: {}, status: { phase: 'Pending' } });
    assert.equal(await msg({ name: 'v', persistentVolumeClaim: { claimName: 'pending' } }), 'MountVolume.SetUp failed for volume "v" : PVC team/pending has non-bound phase ("Pending") or empty pvc.Spec.VolumeName ("")');
    // Optional: a missing object gives an empty volume, a missing key is skipped.
    const vols = await setUpPodVolumes(
      pod([
        { name: 'o1', configMap: { name: 'nope', optional: true } },
        { name: 'o2', secret: { secretName: 'creds', optional: true, items: [{ key: 'zz', path: 'zz' }, { key: 'a', path: 'a' }] } },
      ]),
      c,
    );
    assert.deepEqual(readdirSync(vols.get('o1')!.hostPath).filter((n) => !n.startsWith('..')), []);
    assert.deepEqual(readdirSync(vols.get('o2')!.hostPath).filter((n) => !n.startsWith('..')), ['a']);
  });

  it('sets up the other volumes when one fails, then reports the failure', async () => {
    const c = ctx();
    const err = await failure(setUpPodVolumes(pod([{ name: 'bad', configMap: { name: 'nope' } }, { name: 'good', emptyDir: {} }]), c));
    assert.equal(err.volumeName, 'bad');
    assert.ok(existsSync(join(c.podDir, 'volumes/kubernetes.io~empty-dir/good')));
  });

  it('writes downwardAPI files from the pod and its containers', async () => {
    const c = ctx();
    const vols = await setUpPodVolumes(
      pod([
        {
          name: 'info',
          downwardAPI: {
            items: [
              { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
              { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
              { path: 'owner', fieldRef: { fieldPath: "metadata.annotations['owner']" }, mode: 0o600 },
              { path: 'mem', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } },
              { path: 'cpu', resourceFieldRef: { containerName: 'app', resource: 'requests.cpu' } },
            ],
          },
        },
      ]),
      c,
    );
    const dir = vols.get('info')!.hostPath;
    assert.equal(dir, join(c.podDir, 'volumes/kubernetes.io~downward-api/info'));
    assert.equal(read(join(dir, 'name')), 'web-1');
    assert.equal(read(join(dir, 'labels')), 'app="web"');
    assert.equal(read(join(dir, 'owner')), 'ops');
    assert.equal(mode(join(dir, 'owner')), 0o600);
    assert.equal(read(join(dir, 'mem')), '128');
    assert.equal(read(join(dir, 'cpu')), '0');
    const bad = await failure(setUpPodVolumes(pod([{ name: 'd', downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'spec.nodeName' } }] } }]), c));
    assert.equal(bad.message, 'MountVolume.SetUp failed for volume "d" : unsupported fieldPath: spec.nodeName');
  });

  it('projects configMap, secret, downwardAPI and serviceAccountToken sources into one volume', async () => {
    const c = ctx(new FakeSources(true));
    c.sources.putConfigMap('team', 'kube-root-ca.crt', { 'ca.crt': 'CA' });
    c.sources.putSecret('team', 'creds', { user: 'admin' });
    const p = pod(
      [
        {
          name: 'all-in-one',
          projected: {
            defaultMode: 0o440,
            sources: [
              { serviceAccountToken: { path: 'token', expirationSeconds: 3607, audience: 'api' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { secret: { name: 'creds' } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
      ],
      { serviceAccountName: 'robot' },
    );
    const vols = await setUpPodVolumes(p, c);
    const dir = vols.get('all-in-one')!.hostPath;
    assert.equal(dir, join(c.podDir, 'volumes/kubernetes.io~projected/all-in-one'));
    assert.deepEqual(readdirSync(dir).filter((n) => !n.startsWith('..')).sort(), ['ca.crt', 'namespace', 'token', 'user']);
    assert.equal(read(join(dir, 'token')), 'token-1:team/robot:api:3607');
    assert.equal(read(join(dir, 'ca.crt')), 'CA');
    assert.equal(read(join(dir, 'user')), 'admin');
    assert.equal(read(join(dir, 'namespace')), 'team');
    assert.equal(mode(join(dir, 'token')), 0o440);
    // A resync reuses the token while it is fresh.
    await setUpPodVolumes(p, c);
    assert.equal(c.sources.tokens, 1);
    await tearDownPodVolumes(c.podDir, c.mounter);
  });

  it('renews a projected token past 80% of its lifetime, as the kubelet\'s token manager does', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-01-01T00:00:00Z') });
    const c = ctx(new FakeSources(true));
    const p = pod([{ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] } }], { serviceAccountName: 'renewer' });
    const dir = (await setUpPodVolumes(p, c)).get('tok')!.hostPath;
    assert.equal(read(join(dir, 'token')), 'token-1:team/renewer::3600');
    t.mock.timers.tick(2870_000); // 79.7% of the hour: still fresh
    await setUpPodVolumes(p, c);
    assert.equal(read(join(dir, 'token')), 'token-1:team/renewer::3600');
    t.mock.timers.tick(10_000); // past 80%: the resync asks for a new token and rewrites the file
    await setUpPodVolumes(p, c);
    assert.equal(read(join(dir, 'token')), 'token-2:team/renewer::3600');
    assert.equal(c.sources.tokens, 2);
    await tearDownPodVolumes(c.podDir, c.mounter);
  });

  it('reports every failing projected source, and a token source without an issuer clearly', async () => {
    const c = ctx();
    const err = await failure(
      setUpPodVolumes(pod([{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token' } }, { configMap: { name: 'kube-root-ca.crt' } }] } }]), c),
    );
    assert.equal(
      err.message,
      'MountVolume.SetUp failed for volume "kube-api-access" : [cannot issue a token for serviceAccountToken path "token": this cluster\'s API does not issue service account tokens yet, configmap "kube-root-ca.crt" not found]',
    );
  });

  it('mounts a bound claim at its volume\'s path, made on first use, read-only when the pod says so', async () => {
    const c = ctx();
    const base = tempDir();
    const path = join(base, 'local-path', 'pvc-1');
    c.sources.putBoundClaim('team', 'data', 'pvc-1', path);
    const vols = await setUpPodVolumes(pod([{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }, { name: 'ro', persistentVolumeClaim: { claimName: 'data', readOnly: true } }]), c);
    assert.deepEqual(vols.get('d'), { hostPath: path, readOnly: false });
    assert.deepEqual(vols.get('ro'), { hostPath: path, readOnly: true });
    assert.ok(statSync(path).isDirectory(), 'DirectoryOrCreate made the directory');
    // The data is the volume's, not the pod's: tearing the pod down leaves it.
    writeFileSync(join(path, 'kept'), 'x');
    await tearDownPodVolumes(c.podDir, c.mounter);
    assert.equal(read(join(path, 'kept')), 'x');
  });

  it('checks hostPath types with the kubelet messages and creates what *OrCreate asks for', async () => {
    const c = ctx();
    const base = tempDir();
    writeFileSync(join(base, 'file'), 'x');
    mkdirSync(join(base, 'dir'));
    const sock = join(base, 'sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      const ok = await setUpPodVolumes(
        pod([
          { name: 'd', hostPath: { path: join(base, 'dir'), type: 'Directory' } },
          { name: 'f', hostPath: { path: join(base, 'file'), type: 'File' } },
          { name: 's', hostPath: { path: sock, type: 'Socket' } },
          { name: 'c', hostPath: { path: '/dev/null', type: 'CharDevice' } },
          { name: 'any', hostPath: { path: join(base, 'absent-is-fine') } },
          { name: 'nd', hostPath: { path: join(base, 'new/dir'), type: 'DirectoryOrCreate' } },
          { name: 'nf', hostPath: { path: join(base, 'newfile'), type: 'FileOrCreate' } },
        ]),
        c,
      );
      assert.deepEqual(ok.get('d'), { hostPath: join(base, 'dir'), readOnly: false });
      assert.ok(statSync(join(base, 'new/dir')).isDirectory());
      assert.equal(mode(join(base, 'new/dir')), 0o755);
      assert.ok(statSync(join(base, 'newfile')).isFile());
      const msg = async (path: string, type: string) => (await failure(setUpPodVolumes(pod([{ name: 'h', hostPath: { path, type } }]), c))).detail;
      assert.equal(await msg(join(base, 'file'), 'Directory'), `hostPath type check failed: ${join(base, 'file')} is not a directory`);
      assert.equal(await msg(join(base, 'missing'), 'Directory'), `hostPath type check failed: ${join(base, 'missing')} is not a directory`);
      assert.equal(await msg(join(base, 'dir'), 'File'), `hostPath type check failed: ${join(base, 'dir')} is not a file`);
      assert.equal(await msg(join(base, 'dir'), 'FileOrCreate'), `hostPath type check failed: ${join(base, 'dir')} is not a file`);
      assert.equal(await msg(join(base, 'file'), 'DirectoryOrCreate'), `hostPath type check failed: ${join(base, 'file')} is not a directory`);
      assert.equal(await msg(join(base, 'file'), 'Socket'), `hostPath type check failed: ${join(base, 'file')} is not a socket file`);
      assert.equal(await msg(join(base, 'file'), 'CharDevice'), `hostPath type check failed: ${join(base, 'file')} is not a character device`);
      assert.equal(await msg('/dev/null', 'BlockDevice'), 'hostPath type check failed: /dev/null is not a block device');
      assert.equal(await msg(join(base, 'file'), 'Pipe'), 'Pipe is an invalid volume type');
      assert.equal(await msg('/tmp/../etc', 'Directory'), "invalid HostPath `/tmp/../etc`: must not contain '..'");
    } finally {
      server.close();
    }
  });
});

describe('fsGroup', () => {
  it('gives volumes to the pod group: group read for read-only volumes, read-write and setgid for emptyDir', { skip: process.getuid?.() !== 0 ? 'needs root (chown)' : false }, async () => {
    const c = ctx();
    c.sources.putSecret('team', 'creds', { password: 'pw' });
    const p = pod([{ name: 's', secret: { secretName: 'creds', defaultMode: 0o400 } }, { name: 'scratch', emptyDir: {} }], { securityContext: { fsGroup: 2345 } });
    const vols = await setUpPodVolumes(p, c);
    const secret = vols.get('s')!.hostPath;
    const st = statSync(join(secret, 'password'));
    assert.equal(st.gid, 2345);
    assert.equal(st.mode & 0o777, 0o440);
    assert.equal(lstatSync(join(secret, '..data')).gid, 2345);
    const scratch = statSync(vols.get('scratch')!.hostPath);
    assert.equal(scratch.gid, 2345);
    assert.equal(scratch.mode & 0o7777, 0o2777);
    // A new version of the secret is given to the group too.
    c.sources.putSecret('team', 'creds', { password: 'new' });
    await setUpPodVolumes(p, c);
    assert.equal(statSync(join(secret, 'password')).gid, 2345);
    assert.equal(read(join(secret, 'password')), 'new');
  });

  it('writes a projected token 0600 before giving it to the group (0640), as the kubelet does', { skip: process.getuid?.() !== 0 ? 'needs root (chown)' : false }, async () => {
    const c = ctx(new FakeSources(true));
    const vols = await setUpPodVolumes(pod([{ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }], { securityContext: { fsGroup: 2345 } }), c);
    assert.equal(mode(join(vols.get('tok')!.hostPath, 'token')), 0o640);
    await tearDownPodVolumes(c.podDir, c.mounter);
  });
});

describe('tearDownPodVolumes', () => {
  it('unmounts every tmpfs under the pod dir, deepest first, then removes it; again is a no-op', async () => {
    const c = ctx();
    c.sources.putSecret('team', 'creds', { a: '1' });
    await setUpPodVolumes(pod([{ name: 'ram', emptyDir: { medium: 'Memory' } }, { name: 's', secret: { secretName: 'creds' } }]), c);
    assert.equal(c.mounter.mounted.size, 2);
    await tearDownPodVolumes(c.podDir, c.mounter);
    assert.equal(c.mounter.mounted.size, 0);
    assert.equal(existsSync(c.podDir), false);
    await tearDownPodVolumes(c.podDir, c.mounter);
  });

  it('waits for a set-up in flight, so no tmpfs is mounted behind it', async () => {
    const c = ctx();
    const p = pod([{ name: 'ram', emptyDir: { medium: 'Memory' } }]);
    const setUp = setUpPodVolumes(p, c);
    const down = tearDownPodVolumes(c.podDir, c.mounter);
    await setUp;
    await down;
    assert.deepEqual(c.mounter.calls, [`mount ${join(c.podDir, 'volumes/kubernetes.io~empty-dir/ram')} size=${128 * 1024 * 1024}`, `umount ${join(c.podDir, 'volumes/kubernetes.io~empty-dir/ram')}`]);
    assert.equal(existsSync(c.podDir), false);
  });

  it('removes nothing while a mount will not go', async () => {
    const c = ctx();
    await setUpPodVolumes(pod([{ name: 'ram', emptyDir: { medium: 'Memory' } }]), c);
    const stuck = Object.assign(Object.create(c.mounter) as FakeMounter, { unmount: async () => { throw new Error('target is busy'); } });
    await assert.rejects(tearDownPodVolumes(c.podDir, stuck), /still mounted: .*ram \(target is busy\)/);
    assert.ok(existsSync(c.podDir));
    await assert.rejects(tearDownPodVolumes('/', c.mounter), /refusing/);
  });

  it('mounts and unmounts a real tmpfs (root only)', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, async () => {
    const c = { ...ctx(), mounter: hostMounter };
    c.sources.putSecret('team', 'creds', { password: 'hunter2' });
    const vols = await setUpPodVolumes(pod([{ name: 'ram', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }, { name: 's', secret: { secretName: 'creds' } }]), c);
    try {
      const ram = vols.get('ram')!.hostPath;
      const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === ram);
      assert.ok(line, 'tmpfs mounted');
      assert.match(line!, / - tmpfs tmpfs .*size=1024k/);
      assert.equal(read(join(vols.get('s')!.hostPath, 'password')), 'hunter2');
      assert.equal(mountsUnder(c.podDir).length, 2);
    } finally {
      await tearDownPodVolumes(c.podDir);
    }
    assert.deepEqual(mountsUnder(c.podDir), []);
    assert.equal(existsSync(c.podDir), false);
    assert.throws(() => lstatSync(c.podDir), /ENOENT/);
  });
});
