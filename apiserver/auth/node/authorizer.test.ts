import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../lib/api/meta.js';
import type { Attributes } from '../authz.js';
import { NodeAuthorizer, nodeIdentity } from './authorizer.js';
import { Graph, podReferences } from './graph.js';

const node = (name: string) => ({ name: `system:node:${name}`, groups: ['system:nodes', 'system:authenticated'], via: 'x509' as const });

function pod(name: string, nodeName: string | undefined, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: { nodeName, containers: [{ name: 'c', image: 'x' }], ...spec } };
}

/** graph: pod a on node-a uses secret s1, configmap cm1, claim c1 and service account sa1; pod b on node-b uses secret s2; pod u is unscheduled and uses secret s3. */
function graph(): Graph {
  const g = new Graph();
  g.setPod(
    pod('a', 'node-a', {
      serviceAccountName: 'sa1',
      containers: [{ name: 'c', image: 'x', env: [{ name: 'E', valueFrom: { configMapKeyRef: { name: 'cm1', key: 'k' } } }] }],
      volumes: [
        { name: 'v1', secret: { secretName: 's1' } },
        { name: 'v2', persistentVolumeClaim: { claimName: 'c1' } },
      ],
    }),
  );
  g.setPod(pod('b', 'node-b', { imagePullSecrets: [{ name: 's2' }] }));
  g.setPod(pod('u', undefined, { volumes: [{ name: 'v', secret: { secretName: 's3' } }] }));
  return g;
}

const res = (user: Attributes['user'], verb: string, resource: string, more: Partial<Attributes> = {}): Attributes => ({ user, verb, resource, group: '', resourceRequest: true, ...more });

test('nodeIdentity: system:node:<name> in system:nodes; the node simulator and other users are not nodes', () => {
  assert.equal(nodeIdentity({ name: 'system:node:n1', groups: ['system:nodes'] }), 'n1');
  assert.equal(nodeIdentity({ name: 'system:node:', groups: ['system:nodes'] }), '');
  assert.equal(nodeIdentity({ name: 'system:node:n1', groups: [] }), undefined);
  assert.equal(nodeIdentity({ name: 'system:node-simulator', groups: ['system:nodes'] }), undefined);
  assert.equal(nodeIdentity({ name: 'jane', groups: ['system:masters'] }), undefined);
});

test('NodeAuthorizer: the graph decides secrets, configmaps, claims and tokens', () => {
  const authz = new NodeAuthorizer(graph());
  const a = node('node-a');
  const cases: [Attributes, boolean, string?][] = [
    [res(a, 'get', 'secrets', { namespace: 'ns', name: 's1' }), true],
    [res(a, 'watch', 'secrets', { namespace: 'ns', name: 's1' }), true],
    [res(a, 'get', 'secrets', { namespace: 'ns', name: 's2' }), false, "no relationship found between node 'node-a' and this object"],
    [res(node('node-b'), 'get', 'secrets', { namespace: 'ns', name: 's2' }), true],
    [res(a, 'get', 'secrets', { namespace: 'ns', name: 's3' }), false, "no relationship found between node 'node-a' and this object"],
    [res(a, 'get', 'secrets', { namespace: 'other', name: 's1' }), false, "no relationship found between node 'node-a' and this object"],
    [res(a, 'list', 'secrets', { namespace: 'ns' }), false, 'No Object name found'],
    [res(a, 'update', 'secrets', { namespace: 'ns', name: 's1' }), false, 'can only read resources of this type'],
    [res(a, 'get', 'secrets', { name: 's1' }), false, 'can only read namespaced object of this type'],
    [res(a, 'get', 'configmaps', { namespace: 'ns', name: 'cm1' }), true],
    [res(node('node-b'), 'get', 'configmaps', { namespace: 'ns', name: 'cm1' }), false, "no relationship found between node 'node-b' and this object"],
    [res(a, 'get', 'persistentvolumeclaims', { namespace: 'ns', name: 'c1' }), true],
    [res(a, 'list', 'persistentvolumeclaims', { namespace: 'ns' }), false, 'can only get individual resources of this type'],
    [res(a, 'create', 'serviceaccounts', { namespace: 'ns', name: 'sa1', subresource: 'token' }), true],
    [res(node('node-b'), 'create', 'serviceaccounts', { namespace: 'ns', name: 'sa1', subresource: 'token' }), false, "no relationship found between node 'node-b' and this object"],
    [res(a, 'get', 'serviceaccounts', { namespace: 'ns', name: 'sa1' }), false, 'can only create tokens for individual service accounts'],
  ];
  for (const [attrs, allowed, reason] of cases) {
    const d = authz.authorize(attrs);
    const what = `${attrs.user.name} ${attrs.verb} ${attrs.resource} ${attrs.namespace}/${attrs.name}`;
    assert.equal(d.allowed, allowed, what);
    if (reason !== undefined) assert.equal(d.reason, reason, what);
  }
});

test('NodeAuthorizer: nodes, pods and leases by name and field selector', () => {
  const authz = new NodeAuthorizer(graph());
  const a = node('node-a');
  const cases: [Attributes, boolean, string?][] = [
    [res(a, 'get', 'nodes', { name: 'node-a' }), true],
    [res(a, 'get', 'nodes', { name: 'node-b' }), false, "node 'node-a' cannot read 'node-b', only its own Node object"],
    [res(a, 'list', 'nodes'), false, "node 'node-a' cannot read all nodes, only its own Node object"],
    [res(a, 'watch', 'nodes', { fieldSelector: 'metadata.name=node-a' }), true],
    [res(a, 'create', 'nodes'), true],
    [res(a, 'patch', 'nodes', { name: 'node-b', subresource: 'status' }), true],
    [res(a, 'delete', 'nodes', { name: 'node-a' }), false],
    [res(a, 'list', 'pods'), false, 'can only list/watch pods with spec.nodeName field selector'],
    [res(a, 'watch', 'pods', { fieldSelector: 'spec.nodeName=node-a' }), true],
    [res(a, 'list', 'pods', { fieldSelector: 'spec.nodeName=node-b' }), false, 'can only list/watch pods with spec.nodeName field selector'],
    [res(a, 'get', 'pods', { namespace: 'ns', name: 'a' }), true],
    [res(a, 'get', 'pods', { namespace: 'ns', name: 'b' }), false, "no relationship found between node 'node-a' and this object"],
    [res(a, 'create', 'pods', { namespace: 'ns' }), true],
    [res(a, 'patch', 'pods', { namespace: 'ns', name: 'b', subresource: 'status' }), true],
    [res(a, 'create', 'pods', { namespace: 'ns', name: 'b', subresource: 'eviction' }), true],
    [res(a, 'get', 'pods', { namespace: 'ns', name: 'a', subresource: 'log' }), false],
    [res(a, 'update', 'leases', { group: 'coordination.k8s.io', namespace: 'kube-node-lease', name: 'node-a' }), true],
    [res(a, 'update', 'leases', { group: 'coordination.k8s.io', namespace: 'kube-node-lease', name: 'node-b' }), false, 'can only access node lease with the same name as the requesting node'],
    [res(a, 'get', 'leases', { group: 'coordination.k8s.io', namespace: 'kube-system', name: 'node-a' }), false, 'can only access leases in the "kube-node-lease" system namespace'],
    [res(a, 'list', 'leases', { group: 'coordination.k8s.io', namespace: 'kube-node-lease' }), false, 'can only get, create, update, patch, or delete a node lease'],
  ];
  for (const [attrs, allowed, reason] of cases) {
    const d = authz.authorize(attrs);
    const what = `${attrs.verb} ${attrs.resource}/${attrs.subresource ?? ''} ${attrs.namespace}/${attrs.name} ${attrs.fieldSelector ?? ''}`;
    assert.equal(d.allowed, allowed, what);
    if (reason !== undefined) assert.equal(d.reason, reason, what);
  }
});

test('NodeAuthorizer: the system:node rules cover the rest; non-nodes get no opinion', () => {
  const authz = new NodeAuthorizer(graph());
  const a = node('node-a');
  assert.equal(authz.authorize(res(a, 'list', 'services', { namespace: 'ns' })).allowed, true);
  assert.equal(authz.authorize(res(a, 'create', 'events', { namespace: 'ns' })).allowed, true);
  assert.equal(authz.authorize(res(a, 'create', 'certificatesigningrequests', { group: 'certificates.k8s.io' })).allowed, true);
  assert.equal(authz.authorize(res(a, 'delete', 'services', { namespace: 'ns', name: 'x' })).allowed, false);
  assert.equal(authz.authorize(res(a, 'list', 'deployments', { group: 'apps', namespace: 'ns' })).allowed, false);
  assert.equal(authz.authorize({ user: a, verb: 'get', path: '/healthz', resourceRequest: false }).allowed, false);
  const sim = { name: 'system:node-simulator', groups: ['system:nodes'], via: 'x509' as const };
  assert.deepEqual(authz.authorize(res(sim, 'get', 'secrets', { namespace: 'ns', name: 's1' })), { allowed: false, reason: '' });
  const empty = { name: 'system:node:', groups: ['system:nodes'], via: 'x509' as const };
  assert.deepEqual(authz.authorize(res(empty, 'get', 'nodes', { name: '' })), { allowed: false, reason: 'unknown node for user "system:node:"' });
});

test('Graph: moving, rescheduling and deleting pods changes what a node reaches', () => {
  const g = graph();
  assert.equal(g.hasPathFrom('node-a', 'secret', 'ns', 's1'), true);
  // A second pod on node-b uses s1 too; deleting pod a leaves node-b's path only.
  g.setPod(pod('b2', 'node-b', { volumes: [{ name: 'v', projected: { sources: [{ secret: { name: 's1' } }] } }] }));
  assert.equal(g.hasPathFrom('node-b', 'secret', 'ns', 's1'), true);
  g.deletePod('ns', 'a');
  assert.equal(g.hasPathFrom('node-a', 'secret', 'ns', 's1'), false);
  assert.equal(g.hasPathFrom('node-a', 'configmap', 'ns', 'cm1'), false);
  assert.equal(g.hasPathFrom('node-b', 'secret', 'ns', 's1'), true);
  // Scheduling the pending pod gives its node its secret.
  g.setPod(pod('u', 'node-a', { volumes: [{ name: 'v', secret: { secretName: 's3' } }] }));
  assert.equal(g.hasPathFrom('node-a', 'secret', 'ns', 's3'), true);
  assert.equal(g.hasPathFrom('node-a', 'pod', 'ns', 'u'), true);
  g.clear();
  assert.equal(g.size, 0);
  assert.equal(g.hasPathFrom('node-b', 'secret', 'ns', 's2'), false);
});

test('podReferences visits env, envFrom, volumes, projected sources, plugin secrets and ephemeral claims', () => {
  const refs = podReferences(
    pod('p', 'n', {
      imagePullSecrets: [{ name: 'pull' }],
      initContainers: [{ name: 'i', image: 'x', envFrom: [{ secretRef: { name: 'init-env' } }, { configMapRef: { name: 'init-cm' } }] }],
      ephemeralContainers: [{ name: 'e', image: 'x', env: [{ name: 'E', valueFrom: { secretKeyRef: { name: 'eph', key: 'k' } } }] }],
      volumes: [
        { name: 'p', projected: { sources: [{ configMap: { name: 'proj-cm' } }, { serviceAccountToken: { path: 't' } }] } },
        { name: 'csi', csi: { driver: 'd', nodePublishSecretRef: { name: 'csi-secret' } } },
        { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } },
      ],
      serviceAccountName: 'default',
    }),
  );
  assert.deepEqual(refs, {
    secret: ['pull', 'init-env', 'eph', 'csi-secret'],
    configmap: ['init-cm', 'proj-cm'],
    pvc: ['p-scratch'],
    serviceAccount: ['default'],
  });
});
