// Volumes and env end to end on a real containerd: a containerd of the test's own in a temp dir,
// a pod whose volumes are set up by kubelet/volumes under the test dir, and a busybox container
// created by raw CRI with the mounts, env and command the kubelet code makes. From inside the
// container (ExecSync `cat`): a configMap volume's file, a subPath mount, a secret on tmpfs, the
// managed /etc/hosts, env from a config map, a read-only mount refusing writes, the termination
// log reaching the host, and a configMap update seen by the running container. Afterwards no
// process, mount, link or cgroup of the test is left; the cleanup runs when the test fails too.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Pod } from '../lib/api/core/pod.js';
import { cgroupHierarchies, mountsUnder } from '../kubelet/containerd.js';
import type { ContainerConfig, PodSandboxConfig } from '../kubelet/cri/types.js';
import { containerEnv, expandCommand } from '../kubelet/env/env.js';
import { FakeSources } from '../kubelet/volumes/testing.js';
import { containerMounts, setUpPodVolumes, tearDownPodVolumes } from '../kubelet/volumes/volumes.js';
import { containerdFixture, missingNodeTools } from './node-fixture.js';

const skip = missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'mount', 'umount']);
// The volume work's own range and bridge prefix (skv…), so no other test's pods are touched.
const subnet = '10.244.210.0/24';
const fixture = containerdFixture({ skip, name: 'vol-e2e', bridgePrefix: 'skv', subnet });
const { dir, bridge, cgroupRoot, suffix } = fixture;

after(async () => {
  await fixture.cleanup();
});

test('volumes, mounts and env made by the kubelet code, seen from inside a real container', { skip: skip || false, timeout: 180_000 }, async (t) => {
  const { cri } = await fixture.start();
  t.after(() => cri.close());

  const uid = `0000-vol-${suffix}`;
  const pod: Pod = {
    metadata: { name: 'vol-test', namespace: 'default', uid },
    spec: {
      nodeName: 'node-vol',
      containers: [
        {
          name: 'main',
          image: 'busybox:1.36',
          command: ['sh', '-c', 'echo "$(GREETING) from $(POD_NAME)" > /dev/termination-log; exec sleep 300'],
          terminationMessagePath: '/dev/termination-log',
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'greeting' } } },
          ],
          volumeMounts: [
            { name: 'cfg', mountPath: '/etc/cfg' },
            { name: 'cfg', mountPath: '/etc/greeting.txt', subPath: 'greeting' },
            { name: 'creds', mountPath: '/run/creds' },
            { name: 'data', mountPath: '/data' },
            { name: 'data', mountPath: '/pod-data', subPathExpr: 'by-pod/$(POD_NAME)' },
            { name: 'data', mountPath: '/data-ro', readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: 'cfg', configMap: { name: 'settings' } },
        { name: 'creds', secret: { secretName: 'creds', defaultMode: 0o400 } },
        { name: 'data', emptyDir: {} },
      ],
    },
  };
  const sources = new FakeSources();
  sources.putConfigMap('default', 'settings', { greeting: 'hello' });
  sources.putSecret('default', 'creds', { password: 'hunter2' });
  const podDir = join(dir, 'kubelet', 'pods', uid);
  const volumes = await setUpPodVolumes(pod, { podDir, sources, nodeName: 'node-vol' });
  assert.deepEqual(mountsUnder(podDir), [join(podDir, 'volumes/kubernetes.io~secret/creds')], 'the secret volume is a tmpfs');

  const sandboxConfig: PodSandboxConfig = {
    metadata: { name: 'vol-test', uid, namespace: 'default', attempt: 0 },
    hostname: 'vol-test',
    log_directory: join(dir, 'logs', `default_vol-test_${uid}`),
    linux: { cgroup_parent: `${cgroupRoot}/pod${uid}` },
  };
  const sandboxId = await cri.runPodSandbox(sandboxConfig);
  const ip = (await cri.podSandboxStatus(sandboxId)).status.network?.ip ?? '';
  assert.match(ip, /^10\.244\.210\.\d+$/);

  const c = pod.spec.containers[0];
  const envs = await containerEnv(pod, c, { sources, nodeName: 'node-vol', hostIP: '127.0.0.1', podIPs: [ip], nodeAllocatable: {} });
  const mounts = containerMounts(pod, c, volumes, { podIPs: [ip], env: envs });
  const { command, args } = expandCommand(c, envs);
  const config: ContainerConfig = { metadata: { name: 'main', attempt: 0 }, image: { image: 'busybox:1.36' }, command, args, envs, mounts, log_path: 'main/0.log' };
  const containerId = await cri.createContainer(sandboxId, config, sandboxConfig);
  await cri.startContainer(containerId);

  const sh = async (script: string) => {
    const r = await cri.execSync(containerId, ['sh', '-c', script], 10);
    return { code: r.exit_code, out: r.stdout.toString(), err: r.stderr.toString() };
  };
  assert.equal((await sh('cat /etc/cfg/greeting')).out, 'hello');
  assert.equal((await sh('cat /etc/greeting.txt')).out, 'hello');
  assert.equal((await sh('cat /run/creds/password')).out, 'hunter2');
  assert.equal((await sh('stat -L -c %a /run/creds/password')).out, '400\n');
  assert.equal((await sh('echo "$GREETING/$POD_NAME"')).out, 'hello/vol-test\n');
  assert.match((await sh('cat /etc/hosts')).out, new RegExp(`^# Kubernetes-managed hosts file\\.\\n[^]*\\n${ip.replace(/\./g, '\\.')}\\tvol-test\\n$`));

  // The emptyDir is shared with the host and between its mounts; the read-only mount refuses writes.
  assert.equal((await sh('echo x > /data/file && echo y > /pod-data/file && cat /data-ro/file /data/by-pod/vol-test/file')).out, 'x\ny\n');
  assert.equal(readFileSync(join(volumes.get('data')!.hostPath, 'file'), 'utf8'), 'x\n');
  assert.notEqual((await sh('echo z > /data-ro/file')).code, 0);
  assert.notEqual((await sh('echo z > /etc/cfg/greeting')).code, 0, 'configMap volumes are read-only');

  // What the container wrote to its termination log is on the host, where the kubelet reads it.
  const term = mounts.find((m) => m.container_path === '/dev/termination-log')!;
  assert.equal(readFileSync(term.host_path, 'utf8'), 'hello from vol-test\n');

  // An update of the config map reaches the running container through the volume at once; the
  // subPath mount keeps the file it was given, as on Kubernetes.
  sources.putConfigMap('default', 'settings', { greeting: 'bye', extra: 'new key' });
  await setUpPodVolumes(pod, { podDir, sources, nodeName: 'node-vol' });
  assert.equal((await sh('cat /etc/cfg/greeting')).out, 'bye');
  assert.equal((await sh('cat /etc/cfg/extra')).out, 'new key');
  assert.equal((await sh('cat /etc/greeting.txt')).out, 'hello');

  await cri.stopPodSandbox(sandboxId);
  await cri.removePodSandbox(sandboxId);
  await tearDownPodVolumes(podDir);
  assert.equal(existsSync(podDir), false);
  assert.deepEqual(mountsUnder(dir), [], 'no mount under the test dir');

  cri.close();
  const report = (await fixture.cleanup({ removeDir: false }))!;
  assert.deepEqual(report.mounts, [], 'no mount was left for the cleanup');
  assert.deepEqual(report.containers, [], 'no container was left for the cleanup');
  assert.equal(spawnSync('ip', ['link', 'show', 'dev', bridge], { stdio: 'ignore' }).status === 0, false, 'the bridge is gone');
  assert.deepEqual(cgroupHierarchies().filter((h) => existsSync(join(h, cgroupRoot))), [], 'no pod cgroup is left');
  rmSync(dir, { recursive: true, force: true });
});
