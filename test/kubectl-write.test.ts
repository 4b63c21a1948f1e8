// End-to-end: the kubectl commands users change a cluster with (edit, set, rollout, label,
// patch --subresource, drain, auth), with the real kubectl against a real apiserver and etcd.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers } from './kubectl-helpers.js';

let cluster: Cluster;
const { ok, fails } = kubectlHelpers(() => cluster);
let scratch: string;



const jsonpath = (kind: string, name: string, path: string) => ok(['get', kind, name, '-n', 'w', '-o', `jsonpath=${path}`]);

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
  scratch = mkdtempSync(join(tmpdir(), 'skiff-kubectl-write-'));
  await ok(['create', 'namespace', 'w']);
  await ok(['create', 'deployment', 'app', '-n', 'w', '--image=busybox:1.36', '--replicas=2']);
});
after(async () => {
  await cluster?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('kubectl edit, set and rollout', () => {
  it('edits an object through $KUBE_EDITOR', async () => {
    const editor = join(scratch, 'editor.sh');
    writeFileSync(editor, `#!/bin/sh\nsed -i 's/replicas: 2/replicas: 3/' "$1"\n`);
    chmodSync(editor, 0o755);
    assert.match(await ok(['edit', 'deployment', 'app', '-n', 'w'], { env: { KUBE_EDITOR: editor } }), /deployment.apps\/app edited/);
    assert.equal(await jsonpath('deploy', 'app', '{.spec.replicas}'), '3');
  });

  it('sets image, env and resources on the pod template', async () => {
    await ok(['set', 'image', 'deployment/app', '-n', 'w', 'busybox=busybox:1.37']);
    assert.equal(await jsonpath('deploy', 'app', '{.spec.template.spec.containers[0].image}'), 'busybox:1.37');
    await ok(['set', 'env', 'deployment/app', '-n', 'w', 'MODE=fast']);
    assert.equal(await jsonpath('deploy', 'app', '{.spec.template.spec.containers[0].env[0].value}'), 'fast');
    await ok(['set', 'env', 'deployment/app', '-n', 'w', 'MODE-']);
    assert.equal(await jsonpath('deploy', 'app', '{.spec.template.spec.containers[0].env}'), '');
    await ok(['set', 'resources', 'deployment/app', '-n', 'w', '--requests=cpu=100m,memory=64Mi', '--limits=cpu=200m']);
    assert.equal(await jsonpath('deploy', 'app', '{.spec.template.spec.containers[0].resources.requests.cpu}'), '100m');
    assert.equal(await jsonpath('deploy', 'app', '{.spec.template.spec.containers[0].resources.limits.cpu}'), '200m');
    // created (1), edited (2), image (3), env added (4) and removed (5), resources (6)
    assert.equal(await jsonpath('deploy', 'app', '{.metadata.generation}'), '6');
  });

  it('pauses, resumes and restarts a rollout', async () => {
    assert.match(await ok(['rollout', 'pause', 'deployment/app', '-n', 'w']), /deployment.apps\/app paused/);
    assert.equal(await jsonpath('deploy', 'app', '{.spec.paused}'), 'true');
    assert.match(await fails(['rollout', 'pause', 'deployment/app', '-n', 'w']), /already paused/);
    assert.match(await ok(['rollout', 'resume', 'deployment/app', '-n', 'w']), /deployment.apps\/app resumed/);
    assert.equal(await jsonpath('deploy', 'app', '{.spec.paused}'), '');
    assert.match(await ok(['rollout', 'restart', 'deployment/app', '-n', 'w']), /deployment.apps\/app restarted/);
    assert.match(await jsonpath('deploy', 'app', '{.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}'), /^\d{4}-\d\d-\d\dT/);
  });

  it('labels with --overwrite and removes labels', async () => {
    await ok(['label', 'deploy', 'app', '-n', 'w', 'tier=web']);
    assert.match(await fails(['label', 'deploy', 'app', '-n', 'w', 'tier=api']), /already has a value \(web\), and --overwrite is false/);
    await ok(['label', 'deploy', 'app', '-n', 'w', 'tier=api', '--overwrite']);
    assert.equal(await jsonpath('deploy', 'app', '{.metadata.labels.tier}'), 'api');
    await ok(['label', 'deploy', 'app', '-n', 'w', 'tier-']);
    assert.equal(await jsonpath('deploy', 'app', '{.metadata.labels.tier}'), '');
  });

  it('patches the scale and status subresources', async () => {
    await ok(['patch', 'deployment', 'app', '-n', 'w', '--subresource=scale', '--type=merge', '-p', '{"spec":{"replicas":4}}']);
    assert.equal(await jsonpath('deploy', 'app', '{.spec.replicas}'), '4');
    await ok(['patch', 'deployment', 'app', '-n', 'w', '--subresource=status', '--type=merge', '-p', '{"status":{"replicas":4,"readyReplicas":1}}']);
    assert.equal(await jsonpath('deploy', 'app', '{.status.readyReplicas}'), '1');
    const table = await ok(['get', 'deploy', 'app', '-n', 'w']);
    assert.match(table, /app\s+1\/4\s/);
    assert.match(await fails(['patch', 'deployment', 'app', '-n', 'w', '--subresource=scale', '--type=merge', '-p', '{"spec":{"replicas":-1}}']), /Invalid value: -1: must be greater than or equal to 0/);
  });

  it('explains fields to any depth', async () => {
    const out = await ok(['explain', 'deployment.spec.template.spec.containers.ports']);
    assert.match(out, /FIELD: ports <\[\]ContainerPort>/);
    assert.match(out, /containerPort\s+<integer> -required-/);
  });
});

describe('server-side dry runs and diff', () => {
  it('runs every write verb with --dry-run=server without persisting anything', async () => {
    assert.match(await ok(['create', 'configmap', 'dry', '-n', 'w', '--from-literal=a=b', '--dry-run=server']), /configmap\/dry created \(server dry run\)/);
    assert.match(await fails(['get', 'cm', 'dry', '-n', 'w']), /NotFound/);
    await ok(['create', 'configmap', 'real', '-n', 'w', '--from-literal=a=b']);
    const rv = await jsonpath('cm', 'real', '{.metadata.resourceVersion}');
    await ok(['patch', 'cm', 'real', '-n', 'w', '--type=merge', '-p', '{"data":{"a":"changed"}}', '--dry-run=server']);
    await ok(['label', 'cm', 'real', '-n', 'w', 'x=y', '--dry-run=server']);
    const cm = JSON.parse(await ok(['get', 'cm', 'real', '-n', 'w', '-o', 'json']));
    cm.data.a = 'replaced';
    await ok(['replace', '-f', '-', '--dry-run=server'], { input: JSON.stringify(cm) });
    assert.match(await ok(['delete', 'cm', 'real', '-n', 'w', '--dry-run=server']), /configmap "real" deleted \(server dry run\)/);
    assert.equal(await jsonpath('cm', 'real', '{.data.a} {.metadata.labels.x} {.metadata.resourceVersion}'), `b  ${rv}`);
    // Server-side dry-run fills in what the server would: a Service gets a ClusterIP it does not keep.
    const dry = JSON.parse(await ok(['create', 'service', 'clusterip', 'drysvc', '-n', 'w', '--tcp=80', '--dry-run=server', '-o', 'json']));
    assert.match(dry.spec.clusterIP, /^10\./);
    assert.match(await fails(['get', 'svc', 'drysvc', '-n', 'w']), /NotFound/);
  });

  it('shows what apply would change with kubectl diff', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'diffed', namespace: 'w' }, data: { color: 'blue' } };
    await ok(['apply', '-f', '-'], { input: JSON.stringify(cm) });
    assert.equal((await cluster.kubectl(['diff', '-f', '-'], { input: JSON.stringify(cm) })).code, 0, 'no difference, exit 0');
    const changed = await cluster.kubectl(['diff', '-f', '-'], { input: JSON.stringify({ ...cm, data: { color: 'green' } }) });
    assert.equal(changed.code, 1, changed.stderr);
    assert.match(changed.stdout, /^-  color: blue$/m);
    assert.match(changed.stdout, /^\+  color: green$/m);
    assert.equal(await jsonpath('cm', 'diffed', '{.data.color}'), 'blue');
  });
});

describe('kubectl drain and auth', () => {
  it('cordons a node and evicts its pods', async () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-1', annotations: { 'skiff.dev/simulated': 'true' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
    await ok(['create', '-f', '-'], { input: JSON.stringify(node) });
    for (const name of ['p1', 'p2']) {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'w' }, spec: { nodeName: 'worker-1', containers: [{ name: 'c', image: 'busybox' }] } };
      await ok(['create', '-f', '-'], { input: JSON.stringify(pod) });
    }
    const out = await ok(['drain', 'worker-1', '--force', '--grace-period=0', '--timeout=60s']);
    assert.match(out, /node\/worker-1 cordoned/);
    assert.match(out, /evicting pod w\/p1/);
    assert.match(out, /node\/worker-1 drained/);
    assert.equal(await ok(['get', 'node', 'worker-1', '-o', 'jsonpath={.spec.unschedulable}']), 'true');
    assert.match((await ok(['get', 'nodes'])).split('\n')[1], /worker-1\s+Ready,SchedulingDisabled/);
    assert.match((await cluster.kubectl(['get', 'pods', '-n', 'w'])).stderr, /No resources found in w namespace/);
    assert.match(await ok(['uncordon', 'worker-1']), /node\/worker-1 uncordoned/);
  });

  it('answers kubectl auth can-i and auth whoami', async () => {
    assert.equal((await ok(['auth', 'can-i', 'create', 'deployments', '-n', 'w'])).trim(), 'yes');
    assert.match(await ok(['auth', 'can-i', '--list']), /\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/);
    const who = await ok(['auth', 'whoami']);
    assert.match(who, /Username\s+admin/);
    assert.match(who, /Groups\s+\[system:masters system:authenticated\]/);
  });
});
