// The audit policy: a table of requests against rules, as k8s.io/apiserver's policy checker
// matches them, the default policy skiff writes, and kube's checks of a policy file.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultAuditPolicyYAML } from '../../lib/process/security.js';
import { parsePolicy, PolicyError, PolicyEvaluator, ruleMatches, type PolicyAttributes, type PolicyRule } from './policy.js';

const jane = { name: 'jane', groups: ['dev', 'system:authenticated'] };
const getPod: PolicyAttributes = { user: jane, verb: 'get', resourceRequest: true, path: '/api/v1/namespaces/a/pods/p', group: '', resource: 'pods', namespace: 'a', name: 'p' };
const podLog: PolicyAttributes = { ...getPod, subresource: 'log', path: '/api/v1/namespaces/a/pods/p/log' };
const deploy: PolicyAttributes = { user: jane, verb: 'create', resourceRequest: true, path: '/apis/apps/v1/namespaces/a/deployments', group: 'apps', resource: 'deployments', namespace: 'a' };
const node: PolicyAttributes = { user: jane, verb: 'get', resourceRequest: true, path: '/api/v1/nodes/n1', group: '', resource: 'nodes', name: 'n1' };
const healthz: PolicyAttributes = { user: jane, verb: 'get', resourceRequest: false, path: '/healthz/etcd' };
const anonymous: PolicyAttributes = { ...getPod, user: undefined };

const table: { rule: Omit<PolicyRule, 'level'>; matches: PolicyAttributes[]; misses: PolicyAttributes[] }[] = [
  { rule: {}, matches: [getPod, deploy, healthz, anonymous], misses: [] },
  { rule: { users: ['jane'] }, matches: [getPod, healthz], misses: [anonymous, { ...getPod, user: { name: 'bob', groups: [] } }] },
  { rule: { userGroups: ['dev'] }, matches: [getPod], misses: [anonymous, { ...getPod, user: { name: 'bob', groups: ['ops'] } }] },
  { rule: { verbs: ['get'] }, matches: [getPod, healthz], misses: [deploy] },
  { rule: { resources: [{ group: '', resources: ['pods'] }] }, matches: [getPod], misses: [podLog, deploy, healthz] },
  { rule: { resources: [{ group: '' }] }, matches: [getPod, podLog, node], misses: [deploy] },
  { rule: { resources: [{ group: 'apps', resources: ['*'] }] }, matches: [deploy], misses: [getPod] },
  { rule: { resources: [{ resources: ['pods/log'] }] }, matches: [podLog], misses: [getPod] },
  { rule: { resources: [{ resources: ['*/log'] }] }, matches: [podLog], misses: [getPod] },
  // As in kube's checker, `pods/*` covers the pods themselves as well as their subresources.
  { rule: { resources: [{ resources: ['pods/*'] }] }, matches: [podLog, getPod], misses: [node] },
  { rule: { resources: [{ resources: ['pods'], resourceNames: ['p'] }] }, matches: [getPod], misses: [{ ...getPod, name: 'q' }] },
  { rule: { namespaces: ['a'] }, matches: [getPod, deploy], misses: [node, healthz, { ...getPod, namespace: 'b' }] },
  { rule: { namespaces: [''] }, matches: [node], misses: [getPod] },
  { rule: { nonResourceURLs: ['/healthz*'] }, matches: [healthz], misses: [getPod, { ...healthz, path: '/livez' }] },
  { rule: { nonResourceURLs: ['/healthz'] }, matches: [{ ...healthz, path: '/healthz' }], misses: [healthz] },
  { rule: { nonResourceURLs: ['*'] }, matches: [healthz], misses: [getPod] },
];

describe('ruleMatches', () => {
  table.forEach(({ rule, matches, misses }, i) => {
    it(`rule ${i}: ${JSON.stringify(rule)}`, () => {
      for (const a of matches) assert.equal(ruleMatches({ level: 'Metadata', ...rule }, a), true, `matches ${a.verb} ${a.path}`);
      for (const a of misses) assert.equal(ruleMatches({ level: 'Metadata', ...rule }, a), false, `misses ${a.verb} ${a.path} as ${a.user?.name}`);
    });
  });
});

describe('PolicyEvaluator', () => {
  it('takes the first matching rule, merges the policy\'s omitStages, and falls back to None', () => {
    const e = new PolicyEvaluator({
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      omitStages: ['RequestReceived'],
      omitManagedFields: true,
      rules: [
        { level: 'None', users: ['system:kube-proxy'] },
        { level: 'RequestResponse', resources: [{ group: 'apps' }], omitStages: ['ResponseStarted'], omitManagedFields: false },
        { level: 'Metadata', verbs: ['get'] },
      ],
    });
    assert.deepEqual(e.evaluate(deploy), { level: 'RequestResponse', omitStages: ['RequestReceived', 'ResponseStarted'], omitManagedFields: false });
    assert.deepEqual(e.evaluate(getPod), { level: 'Metadata', omitStages: ['RequestReceived'], omitManagedFields: true });
    assert.equal(e.evaluate({ ...getPod, user: { name: 'system:kube-proxy', groups: [] } }).level, 'None');
    assert.equal(e.evaluate({ ...deploy, group: 'batch', resource: 'jobs' }).level, 'None');
  });

  it('the default policy keeps Secrets, ConfigMaps and tokens at Metadata, whatever the verb', () => {
    const e = new PolicyEvaluator(parsePolicy(defaultAuditPolicyYAML));
    for (const verb of ['create', 'update', 'patch', 'get', 'list', 'delete']) {
      assert.equal(e.evaluate({ ...getPod, verb, resource: 'secrets' }).level, 'Metadata', `${verb} secrets`);
      assert.equal(e.evaluate({ ...getPod, verb, resource: 'configmaps' }).level, 'Metadata', `${verb} configmaps`);
    }
    assert.equal(e.evaluate({ ...getPod, verb: 'create', resource: 'serviceaccounts', subresource: 'token' }).level, 'Metadata');
    assert.equal(e.evaluate({ ...deploy, group: 'authentication.k8s.io', resource: 'tokenreviews' }).level, 'Metadata');
    assert.equal(e.evaluate(deploy).level, 'RequestResponse');
    assert.equal(e.evaluate(getPod).level, 'Metadata');
    assert.equal(e.evaluate(healthz).level, 'None');
    assert.equal(e.evaluate({ ...deploy, verb: 'update', group: 'coordination.k8s.io', resource: 'leases' }).level, 'None');
  });
});

describe('parsePolicy', () => {
  it('refuses what kube-apiserver refuses', () => {
    assert.throws(() => parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n'), /0 rules/);
    assert.throws(() => parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Everything\n'), /rules\[0\]\.level: Unsupported value: "Everything"/);
    assert.throws(() => parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  omitStages: [Later]\n'), /Unsupported value: "Later"/);
    assert.throws(() => parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  nonResourceURLs: ["/a"]\n  namespaces: [x]\n'), /both regular resources and non-resource URLs/);
    assert.throws(() => parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  nonResourceURLs: ["/a*b"]\n'), /wildcards/);
    assert.throws(() => parsePolicy('kind: Policy\n'), PolicyError);
  });
});
