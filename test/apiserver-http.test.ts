// End-to-end at the HTTP level, with raw requests and the real kubectl: what kube-apiserver's
// handler chain does around every answer — output negotiation (406 for a Table of a kind that has
// none), Warning headers, gzip compression of large responses, and the storageVersionHash of
// every resource in discovery.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers } from './kubectl-helpers.js';

let cluster: Cluster;
const { ok } = kubectlHelpers(() => cluster);

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
});
after(async () => {
  await cluster?.stop();
});

const tableOnly = 'application/json;as=Table;v=v1;g=meta.k8s.io';

describe('output negotiation', () => {
  const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'default' } } };

  it('answers 406 NotAcceptable when a review is asked for as a Table only', async () => {
    const r = await cluster.request('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { method: 'POST', body: review, headers: { Accept: tableOnly } });
    assert.equal(r.status, 406, r.body);
    const status = JSON.parse(r.body);
    assert.equal(status.kind, 'Status');
    assert.equal(status.reason, 'NotAcceptable');
    assert.equal(status.message, 'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf');
  });

  it('answers the review itself when JSON is accepted besides the Table', async () => {
    const r = await cluster.request('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { method: 'POST', body: review, headers: { Accept: `${tableOnly},application/json` } });
    assert.equal(r.status, 201, r.body);
    assert.equal(JSON.parse(r.body).status.allowed, true);
  });

  it('keeps Tables for kinds that have them', async () => {
    const r = await cluster.request('/api/v1/namespaces/default', { headers: { Accept: tableOnly } });
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).kind, 'Table');
    assert.match(await ok(['get', 'namespace', 'default']), /^NAME\s+STATUS\s+AGE\ndefault\s+Active/);
  });
});
