import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusError } from '../../lib/machinery/status.js';
import type { RequestContext } from '../registry/store.js';
import { admitNamespaceDelete } from './index.js';

const ctx: RequestContext = { now: new Date(), dryRun: false };

test('NamespaceLifecycle: default, kube-system and kube-public may not be deleted', () => {
  for (const name of ['default', 'kube-system', 'kube-public']) {
    for (const dryRun of [false, true]) {
      const err = (() => {
        try {
          admitNamespaceDelete({ name, ctx: { ...ctx, dryRun } });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      assert.ok(err instanceof StatusError, `${name} dryRun=${dryRun}`);
      assert.equal(err.code, 403);
      assert.equal(err.status.reason, 'Forbidden');
      assert.equal(err.message, `namespaces "${name}" is forbidden: this namespace may not be deleted`);
      assert.equal(err.status.details?.name, name);
      assert.equal(err.status.details?.kind, 'namespaces');
    }
  }
});

test('NamespaceLifecycle: any other namespace, kube-node-lease included, may be deleted', () => {
  for (const name of ['kube-node-lease', 'team', 'defaults', 'kube-systems']) admitNamespaceDelete({ name, ctx });
});
