import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WarningRecorder, warningHeaderValue } from './warning.js';
import { deprecationWarning, finalizerWarnings } from '../../lib/api/apiextensions/helpers.js';
import type { CustomResourceDefinition } from '../../lib/api/apiextensions/types.js';

describe('WarningRecorder', () => {
  it('formats, escapes and dedupes warnings, and drops empty ones and control characters', () => {
    const r = new WarningRecorder();
    for (const t of ['a "quoted" \\ text', '', 'a "quoted" \\ text', 'bad\ttab', 'second']) r.add(t);
    assert.deepEqual(r.headers(), ['299 - "a \\"quoted\\" \\\\ text"', '299 - "second"']);
    assert.equal(warningHeaderValue('x\ny'), undefined);
  });

  it('cuts every text to 256 characters once the total passes 4096, then stops adding', () => {
    const r = new WarningRecorder();
    const long = (i: number) => `${i}`.padEnd(1000, 'x');
    for (let i = 0; i < 4; i++) r.add(long(i));
    assert.equal(r.headers().length, 4);
    assert.equal(r.headers()[0].length, '299 - ""'.length + 1000);
    r.add(long(4));
    assert.equal(r.headers().length, 5);
    assert.ok(r.headers().every((h) => h.length === '299 - ""'.length + 256));
    for (let i = 5; i < 40; i++) r.add(long(i));
    assert.equal(r.headers().length, 16, '16 × 256 = 4096 characters');
  });
});

describe('deprecationWarning', () => {
  const crd = (versions: object[]) =>
    ({ spec: { group: 'example.com', names: { kind: 'DeprecatedKind', plural: 'deprecatedkinds' }, scope: 'Namespaced', versions } }) as unknown as CustomResourceDefinition;
  it('names the newest served, non-deprecated newer version, or only the deprecation', () => {
    const c = crd([
      { name: 'v1beta1', served: true, storage: false, deprecated: true },
      { name: 'v1', served: true, storage: true },
      { name: 'v2', served: true, storage: false },
      { name: 'v3', served: false, storage: false },
      { name: 'v1alpha1', served: true, storage: false, deprecated: true, deprecationWarning: 'custom' },
    ]);
    assert.equal(deprecationWarning(c, 'v1beta1'), 'example.com/v1beta1 DeprecatedKind is deprecated; use example.com/v2 DeprecatedKind');
    assert.equal(deprecationWarning(c, 'v1alpha1'), 'custom');
    assert.equal(deprecationWarning(c, 'v1'), undefined);
    assert.equal(deprecationWarning(crd([{ name: 'v1', served: true, storage: true, deprecated: true }]), 'v1'), 'example.com/v1 DeprecatedKind is deprecated');
  });
});

describe('finalizerWarnings', () => {
  const obj = (finalizers: string[]) => ({ apiVersion: 'example.com/v1', kind: 'K', metadata: { name: 'a', finalizers } });
  it('warns about added finalizers without a domain or a path, sorted, as customResourceStrategy does', () => {
    assert.deepEqual(finalizerWarnings(obj(['zzz', 'example.com', 'example.com/ok', 'foregroundDeletion'])), [
      'metadata.finalizers: "example.com": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers',
      'metadata.finalizers: "zzz": prefer a domain-qualified finalizer name to avoid accidental conflicts with other finalizer writers',
    ]);
    assert.deepEqual(finalizerWarnings(obj(['zzz', 'yyy']), obj(['zzz'])), [
      'metadata.finalizers: "yyy": prefer a domain-qualified finalizer name to avoid accidental conflicts with other finalizer writers',
    ]);
  });
});
