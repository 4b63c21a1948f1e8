// End-to-end: an int64 keeps all 64 bits (issue 16, defect 9). Kubernetes decodes JSON integers
// into int64 (typed fields and custom resources alike) and returns 9223372036854775807 digit for
// digit; JSON.parse would round it to 9223372036854775808. Each test sends the digits as text and
// reads the raw answer, the stored etcd value, watch events, tables and the real kubectl (whose Go
// client keeps int64) back. client-node parses with JSON.parse, so it is not used to check digits.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { startCluster, type Cluster, type RequestResult } from './harness.js';
import { kubectlHelpers, row } from './kubectl-helpers.js';
import { stringifyJSON } from '../lib/machinery/json.js';

let cluster: Cluster;
const { ok } = kubectlHelpers(() => cluster);

const max = '9223372036854775807';
const min = '-9223372036854775808';
const beyond = '9223372036854775808';

const crdName = 'counters.int64.example.com';
const counters = '/apis/int64.example.com/v1/namespaces/default/counters';
const pods = '/api/v1/namespaces/default/pods';

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: crdName },
  spec: {
    group: 'int64.example.com',
    scope: 'Namespaced',
    names: { plural: 'counters', singular: 'counter', kind: 'Counter' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  count: { type: 'integer', format: 'int64' },
                  small: { type: 'integer', maximum: 100 },
                  limit: { type: 'integer', format: 'int64', default: 2n ** 63n - 1n },
                  set: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-list-type': 'set' },
                  free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
            },
          },
        },
        additionalPrinterColumns: [{ name: 'N', type: 'integer', jsonPath: '.spec.count' }],
      },
    ],
  },
};

/** counter is a Counter's JSON text, with spec written as raw JSON text so no digit is lost on the way out. */
function counter(name: string, specText: string): string {
  return `{"apiVersion":"int64.example.com/v1","kind":"Counter","metadata":{"name":"${name}","namespace":"default"},"spec":${specText}}`;
}

function message(r: RequestResult): string {
  const s = JSON.parse(r.body) as { kind: string; message: string };
  assert.equal(s.kind, 'Status', r.body);
  return s.message;
}

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
  const r = await cluster.request('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { method: 'POST', body: stringifyJSON(crd) });
  assert.equal(r.status, 201, r.body);
  await ok(['wait', '--for', 'condition=established', '--timeout=30s', `crd/${crdName}`]);
});
after(async () => {
  await cluster?.stop();
});

describe('int64 values keep every digit', () => {
  it('a custom resource: create, get, list, kubectl -o json, the stored etcd value and the table', async () => {
    const created = await cluster.request(counters, { method: 'POST', body: counter('c1', `{"count":${max},"set":[${max},${min},1],"free":{"big":-${max}}}`) });
    assert.equal(created.status, 201, created.body);
    assert.match(created.body, new RegExp(`"count":${max}[,}]`));
    assert.match(created.body, new RegExp(`"set":\\[${max},${min},1\\]`));
    assert.match(created.body, new RegExp(`"free":\\{"big":-${max}\\}`));
    const got = await cluster.request(`${counters}/c1`);
    assert.match(got.body, new RegExp(`"count":${max}[,}]`));
    assert.match((await cluster.request(counters)).body, new RegExp(`"count":${max}[,}]`));
    assert.match((await cluster.request(`${counters}/c1?pretty=true`)).body, new RegExp(`"count": ${max}\\b`));
    // kubectl's Go client decodes into int64 and prints the same digits.
    assert.match(await ok(['get', 'counter', 'c1', '-o', 'json']), new RegExp(`"count": ${max}\\b`));
    assert.equal(await ok(['get', 'counter', 'c1', '-o', 'jsonpath={.spec.set[1]}']), min);
    assert.equal(row(await ok(['get', 'counters']), 'c1')[1], max);
    const etcd = new Etcd3(cluster.etcdClientOptions);
    try {
      const keys = await etcd.getAll().prefix('/registry/int64.example.com/counters/default/c1').keys();
      assert.equal(keys.length, 1, `stored keys: ${keys.join(', ')}`);
      const stored = await etcd.get(keys[0]).string();
      assert.match(stored ?? '', new RegExp(`"count":${max}[,}]`));
    } finally {
      etcd.close();
    }
  });

  it('a schema default of 2^63-1 is applied digit for digit, and served in /openapi/v3 and /openapi/v2', async () => {
    const got = await cluster.request(`${counters}/c1`);
    assert.match(got.body, new RegExp(`"limit":${max}[,}]`));
    const v3 = await cluster.request('/openapi/v3/apis/int64.example.com/v1');
    assert.equal(v3.status, 200, v3.body);
    assert.match(v3.body, new RegExp(`"default":${max}[,}]`));
    const v2 = await cluster.request('/openapi/v2');
    assert.equal(v2.status, 200, v2.body.slice(0, 500));
    assert.match(v2.body, new RegExp(`"default":${max}[,}]`));
  });

  it('merge patch, JSON patch (test and replace) and update keep the digits', async () => {
    const merged = await cluster.request(`${counters}/c1`, { method: 'PATCH', body: `{"spec":{"count":${min}}}`, headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(merged.status, 200, merged.body);
    assert.match(merged.body, new RegExp(`"count":${min}[,}]`));
    // A JSON patch test compares the exact value: one off fails.
    const wrong = await cluster.request(`${counters}/c1`, {
      method: 'PATCH',
      body: `[{"op":"test","path":"/spec/count","value":-9223372036854775807}]`,
      headers: { 'Content-Type': 'application/json-patch+json' },
    });
    assert.equal(wrong.status, 422, wrong.body);
    const replaced = await cluster.request(`${counters}/c1`, {
      method: 'PATCH',
      body: `[{"op":"test","path":"/spec/count","value":${min}},{"op":"replace","path":"/spec/count","value":${max}}]`,
      headers: { 'Content-Type': 'application/json-patch+json' },
    });
    assert.equal(replaced.status, 200, replaced.body);
    assert.match(replaced.body, new RegExp(`"count":${max}[,}]`));
    const current = await cluster.request(`${counters}/c1`);
    const rv = (JSON.parse(current.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const put = await cluster.request(`${counters}/c1`, {
      method: 'PUT',
      body: counter('c1', `{"count":9007199254740993,"set":[${max}]}`).replace('"namespace":"default"', `"namespace":"default","resourceVersion":"${rv}"`),
    });
    assert.equal(put.status, 200, put.body);
    assert.match(put.body, /"count":9007199254740993[,}]/);
  });

  it('server-side apply (YAML, through kubectl) keeps the digits and owns the field', async () => {
    const file = join(cluster.home, 'counter-apply.yaml');
    writeFileSync(file, `apiVersion: int64.example.com/v1\nkind: Counter\nmetadata:\n  name: c2\n  namespace: default\nspec:\n  count: ${max}\n  set: [${min}]\n`);
    await ok(['apply', '--server-side', '-f', file]);
    const got = await cluster.request(`${counters}/c2`);
    assert.match(got.body, new RegExp(`"count":${max}[,}]`));
    assert.match(got.body, new RegExp(`"set":\\[${min}\\]`));
    assert.match(got.body, /"f:count":\{\}/);
    // Applying the same value again changes nothing; a different one moves it.
    await ok(['apply', '--server-side', '-f', file]);
    writeFileSync(file, `apiVersion: int64.example.com/v1\nkind: Counter\nmetadata:\n  name: c2\n  namespace: default\nspec:\n  count: ${min}\n`);
    await ok(['apply', '--server-side', '-f', file]);
    assert.match((await cluster.request(`${counters}/c2`)).body, new RegExp(`"count":${min}[,}]`));
    // Client-side apply records the body in last-applied-configuration and patches with it.
    writeFileSync(file, `apiVersion: int64.example.com/v1\nkind: Counter\nmetadata:\n  name: c3\n  namespace: default\nspec:\n  count: ${max}\n`);
    await ok(['apply', '-f', file]);
    assert.match(await ok(['get', 'counter', 'c3', '-o', 'json']), new RegExp(`"count": ${max}\\b`));
  });

  it('a YAML body keeps the digits too', async () => {
    const yaml = `apiVersion: int64.example.com/v1\nkind: Counter\nmetadata:\n  name: y1\n  namespace: default\nspec:\n  count: ${min}\n  set: [${max}, 2]\n`;
    const r = await cluster.request(counters, { method: 'POST', body: yaml, headers: { 'Content-Type': 'application/yaml' } });
    assert.equal(r.status, 201, r.body);
    assert.match(r.body, new RegExp(`"count":${min}[,}]`));
    assert.match(r.body, new RegExp(`"set":\\[${max},2\\]`));
  });

  it('watch events carry the digits', async () => {
    const list = JSON.parse((await cluster.request(counters)).body) as { metadata: { resourceVersion: string } };
    const creating = cluster.request(counters, { method: 'POST', body: counter('c4', `{"count":${max}}`) });
    const watched = await cluster.request(`${counters}?watch=1&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=2`);
    assert.equal((await creating).status, 201);
    assert.equal(watched.status, 200, watched.body);
    const added = watched.body.split('\n').find((l) => l.includes('"ADDED"') && l.includes('"name":"c4"'));
    assert.ok(added, watched.body);
    assert.match(added, new RegExp(`"count":${max}[,}]`));
  });

  it('a custom resource integer beyond int64 is a float64 to the schema, so not an integer (422); bounds compare exactly', async () => {
    const r = await cluster.request(counters, { method: 'POST', body: counter('c5', `{"count":${beyond}}`) });
    assert.equal(r.status, 422, r.body);
    assert.match(message(r), /spec\.count: Invalid value: "number": spec\.count in body must be of type integer: "number"/);
    const big = await cluster.request(counters, { method: 'POST', body: counter('c5', `{"small":${max}}`) });
    assert.equal(big.status, 422, big.body);
    assert.match(message(big), /spec\.small: Invalid value: 9223372036854775807: spec\.small in body should be less than or equal to 100/);
    const dup = await cluster.request(counters, { method: 'POST', body: counter('c5', `{"set":[${max},${max}]}`) });
    assert.equal(dup.status, 422, dup.body);
    assert.match(message(dup), new RegExp(`spec\\.set\\[1\\]: Duplicate value: ${max}`));
  });

  it('a Pod: terminationGracePeriodSeconds at int64 max is kept; activeDeadlineSeconds is range-checked with the digits', async () => {
    const spec = (extra: string) => `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},"spec":{${extra}"containers":[{"name":"c","image":"busybox"}]}}`;
    // Bound to a node at create, so its deletion is graceful with that period.
    const created = await cluster.request(pods, { method: 'POST', body: spec(`"terminationGracePeriodSeconds":${max},"nodeName":"n1",`) });
    assert.equal(created.status, 201, created.body);
    assert.match(created.body, new RegExp(`"terminationGracePeriodSeconds":${max}[,}]`));
    assert.match(await ok(['get', 'pod', 'p1', '-o', 'json']), new RegExp(`"terminationGracePeriodSeconds": ${max}\\b`));
    const deleting = await cluster.request(`${pods}/p1`, { method: 'DELETE' });
    assert.equal(deleting.status, 200, deleting.body);
    assert.match(deleting.body, new RegExp(`"deletionGracePeriodSeconds":${max}[,}]`));
    assert.match(deleting.body, /"deletionTimestamp":"9999-12-31T23:59:59Z"/);
    assert.equal((await cluster.request(`${pods}/p1?gracePeriodSeconds=0`, { method: 'DELETE' })).status, 200);
    // A grace period asked for in the query is an int64 too.
    const p2 = await cluster.request(pods, { method: 'POST', body: spec('"nodeName":"n1",').replace('"p1"', '"p2"') });
    assert.equal(p2.status, 201, p2.body);
    const asked = await cluster.request(`${pods}/p2?gracePeriodSeconds=9223372036854775806`, { method: 'DELETE' });
    assert.equal(asked.status, 200, asked.body);
    assert.match(asked.body, /"deletionGracePeriodSeconds":9223372036854775806[,}]/);
    assert.equal((await cluster.request(`${pods}/p2?gracePeriodSeconds=0`, { method: 'DELETE' })).status, 200);

    const tooLong = await cluster.request(pods, { method: 'POST', body: spec(`"activeDeadlineSeconds":${max},`) });
    assert.equal(tooLong.status, 422, tooLong.body);
    assert.match(message(tooLong), new RegExp(`spec\\.activeDeadlineSeconds: Invalid value: ${max}: must be between 1 and 2147483647, inclusive`));
    const outOfRange = await cluster.request(pods, { method: 'POST', body: spec(`"activeDeadlineSeconds":${beyond},`) });
    assert.equal(outOfRange.status, 400, outOfRange.body);
    assert.equal(
      message(outOfRange),
      `Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number ${beyond} into Go struct field PodSpec.spec.activeDeadlineSeconds of type int64`,
    );
    const negative = await cluster.request(pods, { method: 'POST', body: spec(`"activeDeadlineSeconds":-9223372036854775809,`) });
    assert.equal(negative.status, 400, negative.body);
    assert.match(message(negative), /cannot unmarshal number -9223372036854775809 into Go struct field PodSpec\.spec\.activeDeadlineSeconds of type int64/);
  });

  it('an int32 field refuses an int64 value with the decoder text, in a body and in a strategic merge patch', async () => {
    const dep = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d1"},"spec":{"replicas":${max},"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}`;
    const r = await cluster.request('/apis/apps/v1/namespaces/default/deployments', { method: 'POST', body: dep });
    assert.equal(r.status, 400, r.body);
    assert.equal(message(r), `Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number ${max} into Go struct field DeploymentSpec.spec.replicas of type int32`);
    const okDep = await cluster.request('/apis/apps/v1/namespaces/default/deployments', { method: 'POST', body: dep.replace(max, '1') });
    assert.equal(okDep.status, 201, okDep.body);
    const patched = await cluster.request('/apis/apps/v1/namespaces/default/deployments/d1', {
      method: 'PATCH',
      body: `{"spec":{"replicas":${max}}}`,
      headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
    });
    assert.equal(patched.status, 422, patched.body);
    assert.match(message(patched), new RegExp(`patch: Invalid value: "map\\[spec:map\\[replicas:${max}\\]\\]": cannot convert int64 to int32`));
  });
});
