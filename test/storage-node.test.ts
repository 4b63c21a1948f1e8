// Local-path storage on a real node: a claim of the default class is provisioned on the node
// when its first pod is scheduled, a pod writes a file into it and is deleted, a new pod of the
// same claim reads the file back; the claim deleted while that pod runs stays Terminating and
// the pod keeps its data; once the pod is gone the helper pod removes the directory, and the
// volume goes.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import type { PersistentVolume, PersistentVolumeClaim } from '../lib/api/core/persistentvolume.js';
import { type Cluster, startCluster } from './harness.js';
import { missingNodeTools, waitFor } from './node-fixture.js';

const skip = missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'kubectl']);
let cluster: Cluster | undefined;
after(async () => {
  await cluster?.stop();
});

const claim = JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } } });
const pod = (name: string, script: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', script], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
    },
  });

test('a local-path volume keeps its data across pods and is removed with its claim', { skip: skip || false, timeout: 600_000 }, async () => {
  cluster = await startCluster({ realNode: true });
  const c = cluster;
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const diagnose = async () => `\n${await kubectl(['describe', 'pvc,pod']).catch((e: Error) => e.message)}\nkubelet log tail:\n${c.logs('kubelet').split('\n').slice(-15).join('\n')}`;
  await waitFor('a Ready node', async () => (await kubectl(['get', 'nodes'])).includes(' Ready '));
  await waitFor('the default StorageClass', async () => (await c.kubectl(['get', 'sc', 'local-path'])).code === 0, 60_000);
  await kubectl(['apply', '-f', '-'], claim);
  await kubectl(['apply', '-f', '-'], pod('writer', 'echo kept-across-pods > /data/file && sleep 3600'));
  await waitFor('the writer to write', async () => (await c.kubectl(['exec', 'writer', '--', 'cat', '/data/file'])).stdout.trim() === 'kept-across-pods', 180_000).catch(async (err: Error) =>
    assert.fail(`${err.message}${await diagnose()}`),
  );
  const pvc = JSON.parse(await kubectl(['get', 'pvc', 'data', '-o', 'json'])) as PersistentVolumeClaim;
  assert.equal(pvc.status?.phase, 'Bound');
  const pv = JSON.parse(await kubectl(['get', 'pv', pvc.spec.volumeName!, '-o', 'json'])) as PersistentVolume;
  const dir = pv.spec.hostPath!.path;
  assert.ok(existsSync(`${dir}/file`), `the data is in ${dir} on the node`);

  await kubectl(['delete', 'pod', 'writer', '--wait=true']);
  await kubectl(['apply', '-f', '-'], pod('reader', 'cat /data/file; sleep 3600'));
  await waitFor('the reader to print the file', async () => (await c.kubectl(['logs', 'reader'])).stdout.includes('kept-across-pods'), 180_000).catch(async (err: Error) =>
    assert.fail(`${err.message}${await diagnose()}`),
  );

  // The claim deleted under the running reader stays Terminating (pvc-protection): the volume
  // is not released, so its directory is not removed under the pod.
  await kubectl(['delete', 'pvc', 'data', '--wait=false']);
  assert.equal((await kubectl(['get', 'pvc', 'data', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).trim() !== '', true, 'the claim is Terminating');
  assert.equal((await kubectl(['exec', 'reader', '--', 'cat', '/data/file'])).trim(), 'kept-across-pods', 'the running pod still reads its data');
  assert.ok(existsSync(`${dir}/file`), 'the data is still on the node');
  assert.equal(JSON.parse(await kubectl(['get', 'pv', pv.metadata.name!, '-o', 'json'])).status.phase, 'Bound');

  await kubectl(['delete', 'pod', 'reader', '--wait=true']);
  await waitFor('the volume to be deleted', async () => (await c.kubectl(['get', 'pv', pv.metadata.name!])).code !== 0, 180_000).catch(async (err: Error) =>
    assert.fail(`${err.message}\n${await kubectl(['get', 'pods', '-A', '-o', 'wide'])}${await diagnose()}`),
  );
  assert.ok(!existsSync(dir), 'the helper pod removed the directory');
});

test("a StatefulSet's pod keeps the data of its claim when it is deleted and made again", { skip: skip || false, timeout: 600_000 }, async () => {
  cluster ??= await startCluster({ realNode: true });
  const c = cluster;
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const diagnose = async () => `\n${await kubectl(['describe', 'sts,pvc,pod']).catch((e: Error) => e.message)}\nkubelet log tail:\n${c.logs('kubelet').split('\n').slice(-15).join('\n')}`;
  await waitFor('a Ready node', async () => (await kubectl(['get', 'nodes'])).includes(' Ready '));
  await waitFor('the default StorageClass', async () => (await c.kubectl(['get', 'sc', 'local-path'])).code === 0, 60_000);
  const manifest = [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 80 }] } },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        serviceName: 'db',
        replicas: 1,
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            // The first incarnation writes a value nobody could guess; later ones only read it.
            containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', '[ -f /data/f ] || cat /proc/sys/kernel/random/uuid > /data/f; sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } } }],
      },
    },
  ];
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifest }));
  let first = '';
  await waitFor('db-0 to write its value', async () => {
    first = (await c.kubectl(['exec', 'db-0', '--', 'cat', '/data/f'])).stdout.trim();
    return /^[0-9a-f-]{36}$/.test(first);
  }, 180_000).catch(async (err: Error) => assert.fail(`${err.message}${await diagnose()}`));
  assert.equal(JSON.parse(await kubectl(['get', 'pvc', 'data-db-0', '-o', 'json'])).status.phase, 'Bound');
  const uid = (await kubectl(['get', 'pod', 'db-0', '-o', 'jsonpath={.metadata.uid}'])).trim();

  await kubectl(['delete', 'pod', 'db-0', '--wait=true']);
  let again = '';
  await waitFor('db-0 to come back and read its claim', async () => {
    const now = (await c.kubectl(['get', 'pod', 'db-0', '-o', 'jsonpath={.metadata.uid}'])).stdout.trim();
    if (!now || now === uid) return false;
    again = (await c.kubectl(['exec', 'db-0', '--', 'cat', '/data/f'])).stdout.trim();
    return again !== '';
  }, 180_000).catch(async (err: Error) => assert.fail(`${err.message}${await diagnose()}`));
  assert.equal(again, first, 'the new db-0 reads what the first one wrote');
  await kubectl(['delete', 'sts', 'db', '--wait=true']);
});
