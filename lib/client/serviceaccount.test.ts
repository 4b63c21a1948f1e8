// Unit tests of ServiceAccountClientBuilder: the account is made when missing, its token is
// asked for without a bound object, and a new one is asked for once 80% of the old one's
// lifetime has passed, not before. They hand it a client-node KubeConfig on purpose: the test kit
// does, and ClusterAccess must keep taking one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { Logger } from '../log.js';
import { ApiError, type Client } from './client.js';
import { ServiceAccountClientBuilder, tokenKubeConfig } from './serviceaccount.js';

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from('ca').toString('base64') }],
    users: [{ name: 'cm', certData: 'x', keyData: 'y' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'cm' }],
    currentContext: 'c',
  });
  return kc;
}

/** fakeRoot records the controller manager's own requests: no accounts at first, tokens of one hour. */
function fakeRoot(now: () => number) {
  const actions: string[] = [];
  const accounts = new Set<string>();
  const bodies: unknown[] = [];
  const root = {
    get: async (_r: unknown, ns: string, name: string) => {
      actions.push(`get serviceaccounts ${ns}/${name}`);
      if (!accounts.has(name)) throw new ApiError({ code: 404, reason: 'NotFound', message: `serviceaccounts "${name}" not found` });
      return {};
    },
    create: async (_r: unknown, ns: string, obj: { metadata?: { name: string } }, opts?: { subresource?: string; name?: string }) => {
      if (opts?.subresource === 'token') {
        actions.push(`create serviceaccounts/token ${ns}/${opts.name}`);
        bodies.push(obj);
        return { status: { token: `token-${actions.length}`, expirationTimestamp: new Date(now() + 3600_000).toISOString() } };
      }
      actions.push(`create serviceaccounts ${ns}/${obj.metadata!.name}`);
      accounts.add(obj.metadata!.name);
      return obj;
    },
  } as unknown as Client;
  return { root, actions, bodies };
}

test('clientFor makes the missing account, asks for an unbound one-hour token, and renews it at 80% of its lifetime', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-01-01T00:00:00Z') });
  const { root, actions, bodies } = fakeRoot(() => Date.now());
  const stop = new AbortController();
  t.after(() => stop.abort());
  const builder = new ServiceAccountClientBuilder(root, kubeConfig(), { namespace: 'kube-system', log: new Logger('test', 0, () => undefined), signal: stop.signal });
  await builder.clientFor('deployment-controller');
  assert.deepEqual(actions, ['get serviceaccounts kube-system/deployment-controller', 'create serviceaccounts kube-system/deployment-controller', 'create serviceaccounts/token kube-system/deployment-controller']);
  assert.deepEqual(bodies[0], { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
  actions.length = 0;
  t.mock.timers.tick(2870_000); // 79.7% of the hour: the token is still good
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(actions, []);
  t.mock.timers.tick(10_000); // past 80%: a new token, the account is there now
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(actions, ['get serviceaccounts kube-system/deployment-controller', 'create serviceaccounts/token kube-system/deployment-controller']);
});

test('tokenKubeConfig keeps the cluster and its CA and sends only the token', async () => {
  const kc = tokenKubeConfig(kubeConfig(), 'kube-system/x', 'secret-token');
  assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  assert.equal((opts.headers as Record<string, string> | undefined)?.Authorization, 'Bearer secret-token');
  assert.equal(String(opts.ca), 'ca');
  assert.equal(opts.cert, undefined);
});
