import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { applyJSONPatch, applyMergePatch, applyStrategicMergePatch, schemaPatchMeta } from './patch.js';
import { StatusError } from '../../lib/machinery/status.js';

// Keys a client may send that name an object's prototype. Every patch type must treat them as
// ordinary (unknown) fields or refuse them, and never reach Object.prototype.
const sa = () => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', labels: { a: 'b' } } });

function assertClean(): void {
  const fresh: Record<string, unknown> = {};
  assert.equal(fresh.polluted, undefined, 'Object.prototype was polluted');
  assert.equal((Object as unknown as Record<string, unknown>).polluted, undefined, 'Object was polluted');
  assert.equal(typeof Object.keys, 'function');
}

describe('patches cannot reach a prototype', () => {
  afterEach(() => {
    // Undo a failure's damage so that one failing case does not fail the others.
    delete (Object.prototype as Record<string, unknown>).polluted;
    delete (Object as unknown as Record<string, unknown>).polluted;
  });

  const attacks = [
    '{"metadata":{"__proto__":{"polluted":"yes"}}}',
    '{"__proto__":{"polluted":"yes"}}',
    '{"metadata":{"constructor":{"prototype":{"polluted":"yes"}}}}',
    '{"metadata":{"labels":{"__proto__":{"polluted":"yes"}}}}',
    '{"metadata":{"$setElementOrder/__proto__":[{"polluted":"yes"}],"$deleteFromPrimitiveList/__proto__":["x"]}}',
  ];

  for (const text of attacks) {
    it(`strategic merge patch ${text}`, () => {
      const out = applyStrategicMergePatch(sa(), JSON.parse(text), schemaPatchMeta('V1ServiceAccount')) as Record<string, unknown>;
      assertClean();
      assert.equal(Object.getPrototypeOf(out.metadata), Object.prototype);
      assert.deepEqual((out.metadata as { labels: unknown }).labels !== undefined, true);
    });
    it(`merge patch ${text}`, () => {
      const out = applyMergePatch(sa(), JSON.parse(text)) as Record<string, unknown>;
      assertClean();
      assert.equal(Object.getPrototypeOf(out.metadata), Object.prototype);
    });
  }

  it('keeps a __proto__ key as an ordinary own field', () => {
    const out = applyStrategicMergePatch(sa(), JSON.parse('{"metadata":{"__proto__":{"polluted":"yes"}}}'), schemaPatchMeta('V1ServiceAccount')) as {
      metadata: Record<string, unknown>;
    };
    assert.ok(Object.hasOwn(out.metadata, '__proto__'));
    assert.equal(JSON.stringify(out.metadata), '{"name":"default","labels":{"a":"b"},"__proto__":{"polluted":"yes"}}');
  });

  const jsonAttacks: unknown[] = [
    [{ op: 'add', path: '/metadata/__proto__/polluted', value: 'yes' }],
    [{ op: 'add', path: '/__proto__', value: { polluted: 'yes' } }],
    [{ op: 'add', path: '/metadata/constructor/prototype/polluted', value: 'yes' }],
    [{ op: 'replace', path: '/metadata/constructor/polluted', value: 'yes' }],
    [{ op: 'copy', from: '/metadata/constructor', path: '/metadata/x' }],
    [{ op: 'move', from: '/metadata/toString', path: '/metadata/x' }],
    [{ op: 'replace', path: '/metadata/hasOwnProperty', value: 'x' }],
  ];
  for (const ops of jsonAttacks) {
    it(`JSON patch ${JSON.stringify(ops)}`, () => {
      let out: unknown;
      try {
        out = applyJSONPatch(sa(), ops);
      } catch (err) {
        assert.ok(err instanceof StatusError, String(err));
        assert.ok(err.code === 400 || err.code === 422, String(err.code));
      }
      assertClean();
      // Whatever was applied is plain JSON.
      if (out !== undefined) assert.deepEqual(JSON.parse(JSON.stringify(out)), out);
    });
  }
});
