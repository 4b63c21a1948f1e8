import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../lib/api/meta.js';
import { StatusError } from '../../lib/machinery/status.js';
import type { RequestContext } from '../registry/store.js';
import { NodeRestriction, forbiddenNodeLabels } from './noderestriction.js';

const asNode = (name: string): RequestContext => ({ now: new Date(), dryRun: false, user: { name: `system:node:${name}`, groups: ['system:nodes', 'system:authenticated'] } });
const admin: RequestContext = { now: new Date(), dryRun: false, user: { name: 'admin', groups: ['system:masters'] } };

const pods: Record<string, KubeObject> = {
  mine: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mine', namespace: 'ns', labels: { a: '1' } }, spec: { nodeName: 'n1' } },
  theirs: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'theirs', namespace: 'ns' }, spec: { nodeName: 'n2' } },
};
const plugin = new NodeRestriction(async (_ns, name) => pods[name]);

async function refusal(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    assert.ok(err instanceof StatusError);
    assert.equal(err.code, 403);
    return err.message;
  }
}

function nodeObj(name: string, labels: Record<string, string> = {}, taints?: unknown[]): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: taints ? { taints } : {} };
}

function mirror(nodeName: string, more: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'static-web', namespace: 'ns', annotations: { 'kubernetes.io/config.mirror': 'h' }, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: 'u', controller: true }] },
    spec: { nodeName, containers: [{ name: 'c', image: 'x' }], ...more },
  };
}

test('NodeRestriction: a node changes only its own Node, never its taints or restricted labels', async () => {
  const ctx = asNode('n1');
  assert.equal(await refusal(plugin.admitNode({ operation: 'CREATE', object: nodeObj('n1', { 'kubernetes.io/hostname': 'n1', 'node.kubernetes.io/exclude-from-external-load-balancers': '' }), name: '', ctx })), undefined);
  assert.equal(await refusal(plugin.admitNode({ operation: 'CREATE', object: nodeObj('n2'), name: '', ctx })), 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
  assert.equal(
    await refusal(plugin.admitNode({ operation: 'CREATE', object: nodeObj('n1', { 'node-restriction.kubernetes.io/dedicated': 'x', 'node-role.kubernetes.io/control-plane': '' }), name: '', ctx })),
    'nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-restriction.kubernetes.io/dedicated, node-role.kubernetes.io/control-plane',
  );
  const old = nodeObj('n1', { team: 'a' }, [{ key: 'k', effect: 'NoSchedule' }]);
  assert.equal(await refusal(plugin.admitNode({ operation: 'UPDATE', object: nodeObj('n1', { team: 'b' }, [{ key: 'k', effect: 'NoSchedule' }]), oldObject: old, name: 'n1', ctx })), undefined);
  assert.equal(await refusal(plugin.admitNode({ operation: 'UPDATE', object: nodeObj('n1', { team: 'a' }), oldObject: old, name: 'n1', ctx })), 'nodes "n1" is forbidden: node "n1" is not allowed to modify taints');
  assert.equal(
    await refusal(plugin.admitNode({ operation: 'UPDATE', object: nodeObj('n1', { team: 'a', 'example.node-restriction.kubernetes.io/x': '1' }, [{ key: 'k', effect: 'NoSchedule' }]), oldObject: old, name: 'n1', ctx })),
    'nodes "n1" is forbidden: is not allowed to modify labels: example.node-restriction.kubernetes.io/x',
  );
  assert.equal(await refusal(plugin.admitNode({ operation: 'UPDATE', subresource: 'status', object: nodeObj('n2'), oldObject: nodeObj('n2'), name: 'n2', ctx })), 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
  assert.equal(await refusal(plugin.admitNode({ name: 'n2', ctx })), 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
  // Anyone else is not restricted.
  assert.equal(await refusal(plugin.admitNode({ operation: 'UPDATE', object: nodeObj('n2'), oldObject: old, name: 'n2', ctx: admin })), undefined);
});

test('NodeRestriction: mirror pods bound to itself only, with a controller reference to its Node and no references', async () => {
  const ctx = asNode('n1');
  const create = (object: KubeObject) => plugin.admitPod({ operation: 'CREATE', object, name: object.metadata.name!, namespace: 'ns', ctx });
  assert.equal(await refusal(create(mirror('n1'))), undefined);
  assert.equal(await refusal(create({ ...pods.mine, metadata: { name: 'plain', namespace: 'ns' } })), 'pods "plain" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods');
  assert.equal(await refusal(create(mirror('n2'))), 'pods "static-web" is forbidden: node "n1" can only create pods with spec.nodeName set to itself');
  assert.equal(await refusal(create(mirror('n1', { serviceAccountName: 'default' }))), 'pods "static-web" is forbidden: node "n1" can not create pods that reference a service account');
  assert.equal(await refusal(create(mirror('n1', { volumes: [{ name: 'v', secret: { secretName: 's' } }] }))), 'pods "static-web" is forbidden: node "n1" can not create pods that reference secrets');
  const noController = mirror('n1');
  noController.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u' }];
  assert.equal(await refusal(create(noController)), 'pods "static-web" is forbidden: node "n1" can only create pods with a controller owner reference set to itself');
});

test('NodeRestriction: pod status, delete and eviction only for pods bound to the node', async () => {
  const ctx = asNode('n1');
  const status = (name: string, object: KubeObject) => plugin.admitPod({ operation: 'UPDATE', subresource: 'status', object, oldObject: pods[name], name, namespace: 'ns', ctx });
  assert.equal(await refusal(status('mine', pods.mine)), undefined);
  assert.equal(await refusal(status('theirs', pods.theirs)), 'pods "theirs" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself');
  assert.equal(await refusal(status('mine', { ...pods.mine, metadata: { ...pods.mine.metadata, labels: { a: '2' } } })), 'pods "mine" is forbidden: node "n1" cannot update labels through pod status');
  assert.equal(await refusal(plugin.admitPod({ operation: 'UPDATE', object: pods.mine, oldObject: pods.mine, name: 'mine', namespace: 'ns', ctx })), 'pods "mine" is forbidden: unexpected operation "UPDATE", node "n1" can only create and delete mirror pods');
  assert.equal(await refusal(plugin.admitPodDelete({ name: 'mine', namespace: 'ns', ctx })), undefined);
  assert.equal(await refusal(plugin.admitPodDelete({ name: 'theirs', namespace: 'ns', ctx })), 'pods "theirs" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself');
  await assert.rejects(plugin.admitPodDelete({ name: 'gone', namespace: 'ns', ctx }), (err: StatusError) => err.code === 404);
  assert.equal(await refusal(plugin.admitPodDelete({ name: 'theirs', namespace: 'ns', ctx: admin })), undefined);
});

test('NodeRestriction: only the Lease named after the node, in kube-node-lease', async () => {
  const ctx = asNode('n1');
  const lease = (name: string, namespace: string): KubeObject => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace } });
  assert.equal(await refusal(plugin.admitLease({ operation: 'CREATE', object: lease('n1', 'kube-node-lease'), name: 'n1', namespace: 'kube-node-lease', ctx })), undefined);
  assert.equal(await refusal(plugin.admitLease({ operation: 'CREATE', object: lease('n2', 'kube-node-lease'), name: '', namespace: 'kube-node-lease', ctx })), 'leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node');
  assert.equal(await refusal(plugin.admitLease({ name: 'n1', namespace: 'kube-system', ctx })), 'leases.coordination.k8s.io "n1" is forbidden: can only access leases in the "kube-node-lease" system namespace');
});

test('forbiddenNodeLabels: kubelet labels and namespaces pass, other kubernetes.io keys and node-restriction do not', () => {
  assert.deepEqual(forbiddenNodeLabels({ 'kubernetes.io/os': 'linux', 'topology.kubernetes.io/zone': 'a', 'kubelet.kubernetes.io/x': '1', 'x.node.kubernetes.io/y': '', 'example.com/z': '' }), []);
  assert.deepEqual(forbiddenNodeLabels({ 'k8s.io/a': '', 'foo.k8s.io/b': '', 'node-restriction.kubernetes.io/c': '' }), ['foo.k8s.io/b', 'k8s.io/a', 'node-restriction.kubernetes.io/c']);
  // Removing a restricted label is a change too; unchanged ones are not.
  assert.deepEqual(forbiddenNodeLabels({ 'k8s.io/keep': 'v' }, { 'k8s.io/keep': 'v', 'node-restriction.kubernetes.io/gone': '' }), ['node-restriction.kubernetes.io/gone']);
});
