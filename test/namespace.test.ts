// The namespace controller end to end: a real etcd, apiserver and controller manager (only the
// namespace controller) and the real kubectl. `kubectl delete ns` returns once the namespace
// is emptied (built-in kinds and custom resources) and gone; an object held by a finalizer keeps
// it Terminating, with kube's status conditions saying why.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Namespace } from '../lib/api/core/namespace.js';
import { type Cluster, startCluster } from './harness.js';
import { kubectlHelpers, until } from './kubectl-helpers.js';

let cluster: Cluster;
const { k, ok } = kubectlHelpers(() => cluster);
const crdFile = fileURLToPath(new URL('../../manifests/crontab-crd.yaml', import.meta.url));

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager'],
    extraArgs: { 'controller-manager': ['--controllers=namespace'] },
  });
  await ok(['apply', '-f', crdFile]);
  await ok(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/crontabs.stable.example.com']);
});

after(async () => {
  await cluster?.stop();
});

/** fill creates a ConfigMap, a Secret, an (unscheduled) Pod and a CronTab in namespace ns. */
async function fill(ns: string): Promise<void> {
  await ok(['create', 'namespace', ns]);
  await ok(['create', 'configmap', 'settings', '-n', ns, '--from-literal=color=blue']);
  await ok(['create', 'secret', 'generic', 'creds', '-n', ns, '--from-literal=user=admin']);
  await ok(['run', 'web', '-n', ns, '--image=busybox', '--restart=Never']);
  const cronTab = { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'nightly', namespace: ns }, spec: { cronSpec: '0 3 * * *', image: 'busybox' } };
  await ok(['create', '-f', '-'], JSON.stringify(cronTab));
}

/** count is how many objects of kind the apiserver still holds in ns (read at the cluster scope, which works once ns is gone). */
async function count(kind: string, ns: string): Promise<number> {
  const out = await ok(['get', kind, '--all-namespaces', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}{"\\n"}{end}']);
  return out.split('\n').filter((l) => l === ns).length;
}

describe('namespace controller', () => {
  it('kubectl delete ns returns once everything in it, custom resources included, and the namespace are gone', async () => {
    await fill('team');
    for (const kind of ['configmaps', 'secrets', 'pods', 'crontabs']) assert.ok((await count(kind, 'team')) > 0, kind);
    const out = await ok(['delete', 'namespace', 'team', '--timeout=45s']);
    assert.match(out, /namespace "team" deleted/);
    const r = await k(['get', 'namespace', 'team']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error from server \(NotFound\): namespaces "team" not found/);
    for (const kind of ['configmaps', 'secrets', 'pods', 'crontabs']) assert.equal(await count(kind, 'team'), 0, kind);
  });

  it('an object with a finalizer keeps the namespace Terminating, with conditions saying why, until it goes', async () => {
    await fill('stuck');
    const held = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: 'stuck', finalizers: ['example.com/hold'] } };
    await ok(['create', '-f', '-'], JSON.stringify(held));
    await ok(['delete', 'namespace', 'stuck', '--wait=false']);

    const want = new Map([
      ['NamespaceDeletionDiscoveryFailure', ['False', 'ResourcesDiscovered', 'All resources successfully discovered']],
      ['NamespaceDeletionGroupVersionParsingFailure', ['False', 'ParsedGroupVersions', 'All legacy kube types successfully parsed']],
      ['NamespaceDeletionContentFailure', ['False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization']],
      ['NamespaceContentRemaining', ['True', 'SomeResourcesRemain', 'Some resources are remaining: configmaps. has 1 resource instances']],
      ['NamespaceFinalizersRemaining', ['True', 'SomeFinalizersRemain', 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances']],
    ]);
    let ns: Namespace | undefined;
    const seen = (): Map<string, string[]> => new Map((ns?.status?.conditions ?? []).map((c) => [c.type, [c.status, c.reason ?? '', c.message ?? '']]));
    await until(
      async () => {
        ns = JSON.parse(await ok(['get', 'namespace', 'stuck', '-o', 'json'])) as Namespace;
        return JSON.stringify([...seen()].sort()) === JSON.stringify([...want].sort());
      },
      30_000,
      'the namespace conditions to report the held ConfigMap',
    );
    assert.equal(ns?.status?.phase, 'Terminating');
    assert.deepEqual(ns?.spec?.finalizers, ['kubernetes']);
    // The same, as a user reads it.
    const yaml = await ok(['get', 'namespace', 'stuck', '-o', 'yaml']);
    assert.match(yaml, /message: 'Some resources are remaining: configmaps\. has 1 resource instances'/);
    assert.match(yaml, /reason: SomeFinalizersRemain/);
    // Everything else is gone already.
    for (const kind of ['secrets', 'pods', 'crontabs']) assert.equal(await count(kind, 'stuck'), 0, kind);

    await ok(['patch', 'configmap', 'held', '-n', 'stuck', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await until(async () => (await k(['get', 'namespace', 'stuck'])).code !== 0, 30_000, 'the namespace to go once nothing holds it');
    assert.equal(await count('configmaps', 'stuck'), 0);
  });
});
