// End-to-end: RBAC with the real kubectl against a real apiserver and etcd. Users are client
// certificates minted from the cluster CA; the admin (system:masters) grants them roles.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureClientCert } from '../lib/pki.js';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers } from './kubectl-helpers.js';

let cluster: Cluster;
const { k, ok, fails } = kubectlHelpers(() => cluster);
const users: Record<string, string[]> = {};

/** as runs kubectl with a user's client certificate instead of the admin's. */
const as = (user: string) => users[user]!;

/** eventually retries fn until it stops throwing: a new binding reaches the authorizer through the watch cache. */
async function eventually(fn: () => Promise<void>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver', 'controller-manager'] });
  const pki = dirname(cluster.caFile);
  for (const [name, groups] of [['jane', []], ['bob', ['devs']], ['carol', []]] as [string, string[]][]) {
    const files = await ensureClientCert(pki, { name: `user-${name}`, commonName: name, organizations: groups });
    const kubeconfig = join(pki, `user-${name}.kubeconfig`);
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'skiff', cluster: { server: cluster.server, 'certificate-authority': cluster.caFile } }],
        users: [{ name, user: { 'client-certificate': files.cert, 'client-key': files.key } }],
        contexts: [{ name, context: { cluster: 'skiff', user: name } }],
        'current-context': name,
      }),
    );
    users[name] = [`--kubeconfig=${kubeconfig}`];
  }
  await ok(['create', 'namespace', 'team']);
  await ok(['create', 'namespace', 'other']);
  assert.equal(await ok(['create', 'role', 'pod-reader', '-n', 'team', '--verb=get,list,watch', '--resource=pods']), 'role.rbac.authorization.k8s.io/pod-reader created\n');
  assert.equal(await ok(['create', 'rolebinding', 'jane-reads-pods', '-n', 'team', '--role=pod-reader', '--user=jane']), 'rolebinding.rbac.authorization.k8s.io/jane-reads-pods created\n');
});
after(async () => {
  await cluster?.stop();
});

describe('RBAC through kubectl', () => {
  it('lets a user with a Role list pods in its namespace and refuses elsewhere with kube\'s message', async () => {
    await eventually(async () => {
      const r = await k([...as('jane'), 'get', 'pods', '-n', 'team']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /No resources found in team namespace/);
    });
    const err = await fails([...as('jane'), 'get', 'pods', '-n', 'other']);
    assert.match(err, /Error from server \(Forbidden\): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "other"/);
    const del = await fails([...as('jane'), 'delete', 'pod', 'x', '-n', 'team']);
    assert.match(del, /pods "x" is forbidden: User "jane" cannot delete resource "pods" in API group "" in the namespace "team"/);
  });

  it('answers auth can-i for several users, and --list from their rules', async () => {
    const can = async (user: string, ...args: string[]) => (await k([...as(user), 'auth', 'can-i', ...args])).stdout.trim();
    assert.equal(await can('jane', 'list', 'pods', '-n', 'team'), 'yes');
    assert.equal(await can('jane', 'list', 'pods', '-n', 'other'), 'no');
    assert.equal(await can('bob', 'list', 'pods', '-n', 'team'), 'no');
    assert.equal((await ok(['auth', 'can-i', 'delete', 'nodes'])).trim(), 'yes');
    // the admin asks for someone else through impersonation
    assert.equal((await ok(['auth', 'can-i', 'get', 'pods', '-n', 'team', '--as', 'jane'])).trim(), 'yes');
    assert.equal((await k(['auth', 'can-i', 'get', 'secrets', '-n', 'team', '--as', 'jane'])).stdout.trim(), 'no');
    const list = await ok([...as('jane'), 'auth', 'can-i', '--list', '-n', 'team']);
    assert.match(list, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    assert.match(list, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
    assert.doesNotMatch(await ok([...as('jane'), 'auth', 'can-i', '--list', '-n', 'other']), /^pods\s/m);
  });

  it('gives a group binding to every member and shows the binding\'s columns', async () => {
    assert.equal(await ok(['create', 'clusterrolebinding', 'devs-view', '--clusterrole=view', '--group=devs']), 'clusterrolebinding.rbac.authorization.k8s.io/devs-view created\n');
    await eventually(async () => {
      assert.equal((await k([...as('bob'), 'auth', 'can-i', 'list', 'deployments', '-n', 'other'])).stdout.trim(), 'yes');
    });
    const table = await ok(['get', 'clusterrolebinding', 'devs-view', '-o', 'wide']);
    assert.match(table, /^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS$/m);
    assert.match(table, /^devs-view\s+ClusterRole\/view\s+\S+\s+devs\s*$/m);
    assert.match(await ok(['get', 'clusterrole', 'view']), /^NAME\s+CREATED AT$/m);
  });

  it('refuses escalation: a role or binding granting more than the user holds', async () => {
    await ok(['create', 'role', 'role-admin', '-n', 'team', '--verb=create,get,list', '--resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io']);
    await ok(['create', 'rolebinding', 'carol-roles', '-n', 'team', '--role=role-admin', '--user=carol']);
    await eventually(async () => {
      assert.equal((await k([...as('carol'), 'auth', 'can-i', 'create', 'roles', '-n', 'team'])).stdout.trim(), 'yes');
    });
    const err = await fails([...as('carol'), 'create', 'role', 'deleter', '-n', 'team', '--verb=delete', '--resource=pods']);
    assert.match(
      err,
      /roles\.rbac\.authorization\.k8s\.io "deleter" is forbidden: user "carol" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["pods"\], Verbs:\["delete"\]\}/,
    );
    // carol holds what role-admin grants, so binding it to someone else is fine; cluster-admin is not.
    await ok([...as('carol'), 'create', 'rolebinding', 'jane-roles', '-n', 'team', '--role=role-admin', '--user=jane']);
    const bind = await fails([...as('carol'), 'create', 'rolebinding', 'carol-admin', '-n', 'team', '--clusterrole=cluster-admin', '--user=carol']);
    assert.match(bind, /rolebindings\.rbac\.authorization\.k8s\.io "carol-admin" is forbidden: user "carol" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:/);
  });

  it('refuses impersonation without the right, and allows it with it', async () => {
    const err = await fails([...as('jane'), 'get', 'pods', '-n', 'team', '--as', 'carol']);
    assert.match(err, /Error from server \(Forbidden\): users "carol" is forbidden: User "jane" cannot impersonate resource "users" in API group "" at the cluster scope/);
    const grp = await fails([...as('jane'), 'get', 'pods', '-n', 'team', '--as', 'jane', '--as-group', 'system:masters']);
    assert.match(grp, /forbidden: User "jane" cannot impersonate resource "users"/);
    assert.equal(await ok(['create', 'clusterrole', 'impersonate-carol', '--verb=impersonate', '--resource=users', '--resource-name=carol']), 'clusterrole.rbac.authorization.k8s.io/impersonate-carol created\n');
    await ok(['create', 'clusterrolebinding', 'jane-as-carol', '--clusterrole=impersonate-carol', '--user=jane']);
    await eventually(async () => {
      assert.match(await ok([...as('jane'), 'auth', 'whoami', '--as', 'carol']), /Username\s+carol/);
    });
  });

  it('impersonates a service account with its groups, authorized on serviceaccounts', async () => {
    await ok(['create', 'serviceaccount', 'bot', '-n', 'team']);
    await ok(['create', 'rolebinding', 'bot-reads-pods', '-n', 'team', '--role=pod-reader', '--serviceaccount=team:bot']);
    const sa = ['--as=system:serviceaccount:team:bot'];
    const me = JSON.parse(await ok(['auth', 'whoami', ...sa, '-o', 'json'])).status.userInfo;
    assert.deepEqual(me, { username: 'system:serviceaccount:team:bot', groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] });
    await eventually(async () => {
      assert.equal((await k(['auth', 'can-i', 'list', 'pods', '-n', 'team', ...sa])).stdout.trim(), 'yes');
    });
    assert.equal((await k(['auth', 'can-i', 'list', 'pods', '-n', 'other', ...sa])).stdout.trim(), 'no');
    const other = await fails(['get', 'pods', '-n', 'other', ...sa]);
    assert.match(other, /Error from server \(Forbidden\): pods is forbidden: User "system:serviceaccount:team:bot" cannot list resource "pods" in API group "" in the namespace "other"/);
    // jane may not act as the service account: the check is impersonate on serviceaccounts in its namespace.
    const denied = await fails([...as('jane'), 'get', 'pods', '-n', 'team', ...sa]);
    assert.match(denied, /Error from server \(Forbidden\): serviceaccounts "bot" is forbidden: User "jane" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team"/);
  });

  it('impersonates a uid and extras only with the right on uids and userextras', async () => {
    // The admin (system:masters) may: the self review shows the impersonated uid and extra.
    const review = (headers: Record<string, string>) =>
      cluster.request('/apis/authentication.k8s.io/v1/selfsubjectreviews', { method: 'POST', headers, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    const r = await review({ 'Impersonate-User': 'jane', 'Impersonate-Uid': 'u-42', 'Impersonate-Extra-Scopes': 'view' });
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(JSON.parse(r.body).status.userInfo, { username: 'jane', uid: 'u-42', groups: ['system:authenticated'], extra: { scopes: ['view'] } });
    assert.match(await ok(['auth', 'whoami', '--as', 'jane', '--as-uid', 'u-42']), /UID\s+u-42/);
    // jane may impersonate carol (the binding above) but no uid.
    const uid = await fails([...as('jane'), 'get', 'pods', '-n', 'team', '--as', 'carol', '--as-uid', 'u-1']);
    assert.match(uid, /Error from server \(Forbidden\): uids\.authentication\.k8s\.io "u-1" is forbidden: User "jane" cannot impersonate resource "uids" in API group "authentication\.k8s\.io" at the cluster scope/);
  });

  it('gives skiff\'s components the bootstrap policy\'s narrow rights, not an admin\'s', async () => {
    const can = async (user: string, ...args: string[]) => (await k(['auth', 'can-i', ...args, '--as', user])).stdout.trim();
    const table: [string, string[], string][] = [
      ['system:kube-scheduler', ['create', 'pods', '--subresource=binding', '-n', 'team'], 'yes'],
      ['system:kube-scheduler', ['get', 'secrets', '-n', 'team'], 'no'],
      ['system:kube-proxy', ['list', 'endpointslices.discovery.k8s.io'], 'yes'],
      ['system:kube-proxy', ['get', 'secrets', '-n', 'team'], 'no'],
      ['system:kube-proxy', ['create', 'pods', '-n', 'team'], 'no'],
      ['system:skiff-dns', ['watch', 'services'], 'yes'],
      ['system:skiff-dns', ['get', 'secrets', '-n', 'team'], 'no'],
      ['system:kube-controller-manager', ['create', 'pods', '-n', 'team'], 'yes'],
      ['system:kube-controller-manager', ['create', 'clusterrolebindings'], 'no'],
    ];
    for (const [user, args, want] of table) assert.equal(await can(user, ...args), want, `${user} ${args.join(' ')}`);
  });

  it('lets anonymous requests read only health and version', async () => {
    assert.equal((await cluster.request('/healthz', { auth: 'none' })).status, 200);
    assert.equal((await cluster.request('/version', { auth: 'none' })).status, 200);
    const pods = await cluster.request('/api/v1/pods', { auth: 'none' });
    assert.equal(pods.status, 401);
    assert.equal(JSON.parse(pods.body).reason, 'Unauthorized');
    const api = await cluster.request('/api', { auth: 'none' });
    assert.equal(api.status, 401);
    // a token nobody issued is refused even where anonymous requests are let in
    assert.equal((await cluster.request('/healthz', { auth: 'none', headers: { Authorization: 'Bearer nope' } })).status, 401);
    // an authenticated user without a binding for a path is refused with kube's wording
    const metrics = await cluster.kubectl([...as('jane'), 'get', '--raw', '/metrics']);
    assert.match(metrics.stderr, /Error from server \(Forbidden\): forbidden: User "jane" cannot get path "\/metrics"/);
  });

  it('reconciles roles and bindings from a file with kubectl auth reconcile', async () => {
    const manifest = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cm-reader, namespace: team}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: jane-cm, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-reader}
subjects:
- {kind: User, apiGroup: rbac.authorization.k8s.io, name: jane}
`;
    const out = await ok(['auth', 'reconcile', '-f', '-'], manifest);
    assert.match(out, /role\.rbac\.authorization\.k8s\.io\/cm-reader reconciled/);
    assert.match(out, /rolebinding\.rbac\.authorization\.k8s\.io\/jane-cm reconciled/);
    await eventually(async () => {
      assert.equal((await k([...as('jane'), 'auth', 'can-i', 'list', 'configmaps', '-n', 'team'])).stdout.trim(), 'yes');
    });
  });

  it('aggregates rules into admin, edit and view', async () => {
    await eventually(async () => {
      const view = JSON.parse(await ok(['get', 'clusterrole', 'view', '-o', 'json']));
      assert.ok(view.rules.some((r: { resources?: string[] }) => r.resources?.includes('pods')), 'view has pod rules');
    });
    await ok(['create', 'clusterrole', 'widgets-view', '--verb=get', '--resource=configmaps', '--resource-name=widgets']);
    await ok(['label', 'clusterrole', 'widgets-view', 'rbac.authorization.k8s.io/aggregate-to-view=true']);
    await eventually(async () => {
      const view = JSON.parse(await ok(['get', 'clusterrole', 'view', '-o', 'json']));
      assert.ok(view.rules.some((r: { resourceNames?: string[] }) => r.resourceNames?.includes('widgets')), 'view gained the labelled rule');
    });
  });
});
