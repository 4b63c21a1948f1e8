import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import type { ServiceAccount } from '../../lib/api/core/serviceaccount.js';
import { StatusError } from '../../lib/machinery/status.js';
import type { AdmissionRequest } from '../registry/store.js';
import { admitServiceAccount, randomSuffix, tokenVolumeSource, type ServiceAccountReader } from './serviceaccount.js';

const path = '/var/run/secrets/kubernetes.io/serviceaccount';

/** accounts answers from `cached`, and from `live` for live reads; it records every read. */
function accounts(cached: ServiceAccount[], live: ServiceAccount[] = cached): ServiceAccountReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async get(namespace, name, isLive) {
      reads.push(`${isLive ? 'live' : 'cache'} ${namespace}/${name}`);
      return (isLive ? live : cached).find((s) => s.metadata.namespace === namespace && s.metadata.name === name);
    },
  };
}

const sa = (name: string, extra: Partial<ServiceAccount> = {}): ServiceAccount => ({ metadata: { name, namespace: 'team' }, ...extra });

function create(spec: Partial<Pod['spec']> = {}, annotations?: Record<string, string>): AdmissionRequest {
  const pod: Pod = { metadata: { name: 'p', namespace: 'team', ...(annotations ? { annotations } : {}) }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } };
  return { operation: 'CREATE', object: pod, name: 'p', namespace: 'team', ctx: { now: new Date(), dryRun: false } };
}

const opts = { retryIntervalMs: () => 0, suffix: () => 'abcde' };

test('ServiceAccount: a pod runs as default and mounts kube-api-access in every container and init container', async () => {
  const req = create({ initContainers: [{ name: 'i', image: 'busybox' }] });
  await admitServiceAccount(req, accounts([sa('default')]), opts);
  const spec = (req.object as Pod).spec;
  assert.equal(spec.serviceAccountName, 'default');
  assert.equal(spec.serviceAccount, 'default', 'the deprecated field mirrors the name');
  const mount = { name: 'kube-api-access-abcde', readOnly: true, mountPath: path };
  assert.deepEqual(spec.initContainers![0]!.volumeMounts, [mount]);
  assert.deepEqual(spec.containers[0]!.volumeMounts, [mount]);
  assert.deepEqual(spec.volumes, [{ name: 'kube-api-access-abcde', projected: tokenVolumeSource() }]);
});

test('ServiceAccount: a container with its own mount at the token path is left alone; an existing kube-api-access volume is reused', async () => {
  const own = { name: 'mine', mountPath: path };
  const req = create({
    containers: [{ name: 'a', image: 'busybox', volumeMounts: [own] }, { name: 'b', image: 'busybox' }],
    volumes: [{ name: 'mine', emptyDir: {} }, { name: 'kube-api-access-zzzzz', projected: { sources: [] } }],
  });
  await admitServiceAccount(req, accounts([sa('default')]), opts);
  const spec = (req.object as Pod).spec;
  assert.deepEqual(spec.containers[0]!.volumeMounts, [own]);
  assert.deepEqual(spec.containers[1]!.volumeMounts, [{ name: 'kube-api-access-zzzzz', readOnly: true, mountPath: path }]);
  assert.equal(spec.volumes!.length, 2);
  // Every container mounting something there already: no volume is added.
  const all = create({ containers: [{ name: 'a', image: 'busybox', volumeMounts: [own] }], volumes: [{ name: 'mine', emptyDir: {} }] });
  await admitServiceAccount(all, accounts([sa('default')]), opts);
  assert.deepEqual((all.object as Pod).spec.volumes, [{ name: 'mine', emptyDir: {} }]);
});

test('ServiceAccount: automountServiceAccountToken false on the pod or the account mounts nothing; the pod wins', async () => {
  const cases: [Partial<Pod['spec']>, ServiceAccount, boolean][] = [
    [{ automountServiceAccountToken: false }, sa('default'), false],
    [{}, sa('default', { automountServiceAccountToken: false }), false],
    [{ automountServiceAccountToken: true }, sa('default', { automountServiceAccountToken: false }), true],
  ];
  for (const [spec, account, mounted] of cases) {
    const req = create(spec);
    await admitServiceAccount(req, accounts([account]), opts);
    assert.equal((req.object as Pod).spec.volumes !== undefined, mounted, JSON.stringify([spec, account]));
  }
});

test('ServiceAccount: a missing account is refused with kube message, after ten live reads for default and one for others', async () => {
  for (const [name, reads] of [['default', 10], ['robot', 1]] as const) {
    const reader = accounts([]);
    const err = await admitServiceAccount(create({ serviceAccountName: name }), reader, opts).then(() => assert.fail('admitted'), (e: unknown) => e);
    assert.ok(err instanceof StatusError);
    assert.equal(err.code, 403);
    assert.equal(err.message, `pods "p" is forbidden: error looking up service account team/${name}: serviceaccount "${name}" not found`);
    assert.equal(reader.reads.filter((r) => r.startsWith('live')).length, reads);
  }
  // default made meanwhile by the controller: found by a live read.
  const late = accounts([], [sa('default')]);
  await admitServiceAccount(create(), late, opts);
  assert.deepEqual(late.reads, ['cache team/default', 'live team/default']);
});

test('ServiceAccount: updates and mirror pods pass untouched', async () => {
  const update = { ...create(), operation: 'UPDATE' as const };
  await admitServiceAccount(update, accounts([]), opts);
  assert.equal((update.object as Pod).spec.serviceAccountName, undefined);
  const mirror = create({}, { 'kubernetes.io/config.mirror': 'x' });
  await admitServiceAccount(mirror, accounts([]), opts);
  assert.equal((mirror.object as Pod).spec.volumes, undefined);
});

test('ServiceAccount: volume suffixes are five characters of apimachinery alphabet', () => {
  for (let i = 0; i < 50; i++) assert.match(randomSuffix(), /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
});
