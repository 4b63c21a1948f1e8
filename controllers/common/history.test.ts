import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ControllerRevision } from '../../lib/api/apps/controllerrevision.js';
import { ApiError, type Client } from '../../lib/client/client.js';
import {
  ControllerRevisionHashLabel,
  createControllerRevision,
  equalRevision,
  hashControllerRevision,
  newControllerRevision,
  nextRevision,
  sortControllerRevisions,
  updateControllerRevision,
} from './history.js';

const ds = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'web', namespace: 'ns', uid: 'u1' } };
const dsKind = { apiVersion: 'apps/v1', kind: 'DaemonSet' };
const data = { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:1' }] } } } };

/** fakeClient stores revisions by name and records every call, answering as the apiserver would. */
function fakeClient(existing: ControllerRevision[] = []) {
  const store = new Map(existing.map((r) => [r.metadata.name!, r]));
  const actions: string[] = [];
  const client = {
    async create(_r: unknown, ns: string, obj: ControllerRevision) {
      actions.push(`create ${ns}/${obj.metadata.name}`);
      if (store.has(obj.metadata.name!)) throw new ApiError({ kind: 'Status', status: 'Failure', reason: 'AlreadyExists', code: 409, message: 'exists' });
      store.set(obj.metadata.name!, obj);
      return obj;
    },
    async get(_r: unknown, ns: string, name: string) {
      actions.push(`get ${ns}/${name}`);
      return store.get(name)!;
    },
    async update(_r: unknown, obj: ControllerRevision) {
      actions.push(`update ${obj.metadata.name} revision=${obj.revision}`);
      return obj;
    },
  } as unknown as Client;
  return { client, actions, store };
}

describe('controller history', () => {
  test('a new revision is named <owner>-<hash>, labelled with its hash and owned by its controller', () => {
    const cr = newControllerRevision(ds, dsKind, { app: 'web' }, data, 1);
    const hash = hashControllerRevision(data);
    assert.equal(cr.metadata.name, `web-${hash}`);
    assert.deepEqual(cr.metadata.labels, { app: 'web', [ControllerRevisionHashLabel]: hash });
    assert.deepEqual(cr.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'web', uid: 'u1', controller: true, blockOwnerDeletion: true }]);
    assert.equal(cr.revision, 1);
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  });

  test('the hash depends on the snapshot and the collision count, not on key order', () => {
    const reordered = { spec: { template: { spec: { containers: [{ image: 'nginx:1', name: 'c' }] } } } };
    assert.equal(hashControllerRevision(data), hashControllerRevision(reordered));
    assert.notEqual(hashControllerRevision(data), hashControllerRevision({ ...data, x: 1 }));
    assert.notEqual(hashControllerRevision(data), hashControllerRevision(data, 1));
  });

  test('equal snapshots are equal revisions whatever their numbers; revisions sort by number', () => {
    const a = newControllerRevision(ds, dsKind, {}, data, 1);
    const b = newControllerRevision(ds, dsKind, {}, data, 4);
    const c = newControllerRevision(ds, dsKind, {}, { other: true }, 2);
    assert.ok(equalRevision(a, b));
    assert.ok(!equalRevision(a, c));
    assert.deepEqual(sortControllerRevisions([b, c, a]).map((r) => r.revision), [1, 2, 4]);
    assert.equal(nextRevision([b, c, a]), 5);
    assert.equal(nextRevision([]), 1);
  });

  test('create returns the existing revision when the same snapshot is already stored', async () => {
    const cr = newControllerRevision(ds, dsKind, {}, data, 1);
    const { client, actions } = fakeClient([cr]);
    const got = await createControllerRevision(client, ds, newControllerRevision(ds, dsKind, {}, data, 2), { value: 0 });
    assert.equal(got, cr);
    assert.deepEqual(actions, [`create ns/${cr.metadata.name}`, `get ns/${cr.metadata.name}`]);
  });

  test('a hash collision with another snapshot bumps the collision count and creates under the next name', async () => {
    const squatter = newControllerRevision(ds, dsKind, {}, { other: true }, 1);
    squatter.metadata.name = `web-${hashControllerRevision(data, 0)}`;
    const { client, actions } = fakeClient([squatter]);
    const count = { value: 0 };
    const got = await createControllerRevision(client, ds, newControllerRevision(ds, dsKind, {}, data, 2), count);
    assert.equal(count.value, 1);
    assert.equal(got.metadata.name, `web-${hashControllerRevision(data, 1)}`);
    assert.equal(got.metadata.labels?.[ControllerRevisionHashLabel], hashControllerRevision(data, 1));
    assert.deepEqual(actions, [`create ns/web-${hashControllerRevision(data, 0)}`, `get ns/web-${hashControllerRevision(data, 0)}`, `create ns/web-${hashControllerRevision(data, 1)}`]);
  });

  test('update renumbers a revision and does nothing when the number is already right', async () => {
    const cr = newControllerRevision(ds, dsKind, {}, data, 1);
    const { client, actions } = fakeClient([cr]);
    assert.equal((await updateControllerRevision(client, cr, 3)).revision, 3);
    await updateControllerRevision(client, { ...cr, revision: 3 }, 3);
    assert.deepEqual(actions, [`update ${cr.metadata.name} revision=3`]);
  });
});
