import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../lib/machinery/status.js';
import { decodeApplyPatch, forceOf, managerOrUserAgent, prefixFromUserAgent, requestFieldManager, validatePatchOptions } from './request.js';

function statusOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err;
  }
  assert.fail('expected a StatusError');
}

describe('the manager of a write', () => {
  it('is ?fieldManager=, else the User-Agent up to its first slash', () => {
    assert.equal(managerOrUserAgent('', 'kubectl/v1.32.4 (linux/amd64) kubernetes/abc'), 'kubectl');
    assert.equal(managerOrUserAgent('kubectl-edit', 'kubectl/v1.32.4'), 'kubectl-edit');
    assert.equal(prefixFromUserAgent('node-fetch'), 'node-fetch');
    assert.equal(prefixFromUserAgent(undefined), '');
    assert.equal(prefixFromUserAgent('a\u0007b/1'), 'ab', 'unprintable characters are dropped');
    assert.equal(prefixFromUserAgent('x'.repeat(300)).length, 128);
  });

  it('is checked as CreateOptions, UpdateOptions or PatchOptions', () => {
    const q = new URLSearchParams({ fieldManager: 'x'.repeat(129) });
    const err = statusOf(() => requestFieldManager(q, 'kubectl/1', 'create'));
    assert.equal(err.code, 422);
    assert.equal(err.message, 'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes');
    assert.equal(requestFieldManager(q, 'kubectl/1', 'get'), '', 'reads record nothing and are not checked');
    assert.equal(requestFieldManager(new URLSearchParams(), 'kubectl/1', 'patch'), 'kubectl');
  });
});

describe('PatchOptions', () => {
  it('require a fieldManager for apply and refuse force for other patches', () => {
    const missing = statusOf(() => validatePatchOptions(new URLSearchParams(), 'application/apply-patch+yaml'));
    assert.equal(missing.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const force = statusOf(() => validatePatchOptions(new URLSearchParams({ force: 'true' }), 'application/merge-patch+json'));
    assert.equal(force.message, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
    validatePatchOptions(new URLSearchParams({ fieldManager: 'm', force: 'true' }), 'application/apply-patch+yaml');
    assert.equal(forceOf(new URLSearchParams({ force: 'true' })), true);
    assert.equal(forceOf(new URLSearchParams()), false);
  });
});

describe('decodeApplyPatch', () => {
  it('reads YAML and JSON bodies', () => {
    assert.deepEqual(decodeApplyPatch(Buffer.from('apiVersion: v1\nkind: ConfigMap\ndata: {a: "1"}\n'), new URLSearchParams()).config, { apiVersion: 'v1', kind: 'ConfigMap', data: { a: '1' } });
    assert.deepEqual(decodeApplyPatch(Buffer.from('{"kind":"ConfigMap"}'), new URLSearchParams()).config, { kind: 'ConfigMap' });
    assert.equal(statusOf(() => decodeApplyPatch(Buffer.from('a: [1'), new URLSearchParams())).code, 400);
  });

  it('fails duplicate keys under Strict and warns under Warn', () => {
    const body = Buffer.from('kind: ConfigMap\nkind: ConfigMap\n');
    assert.match(statusOf(() => decodeApplyPatch(body, new URLSearchParams({ fieldValidation: 'Strict' }))).message, /^error strict decoding patch: /);
    assert.equal(decodeApplyPatch(body, new URLSearchParams({ fieldValidation: 'Warn' })).warnings.length, 1);
    assert.deepEqual(decodeApplyPatch(body, new URLSearchParams({ fieldValidation: 'Ignore' })).warnings, []);
  });
});
