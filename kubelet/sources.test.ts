import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, type Client } from '../lib/client/client.js';
import { FakeClock } from '../lib/testing/fakeclock.js';
import { CachingObjectSources } from './sources.js';

/** countingClient answers GETs from a map (404 when absent, or throws fail once) and counts them. */
function countingClient(objects: Map<string, unknown>) {
  const calls: string[] = [];
  let fail = false;
  const client = {
    get: async (r: { resource: string }, ns: string, name: string) => {
      const key = `${r.resource}/${ns}/${name}`;
      calls.push(key);
      if (fail) {
        fail = false;
        throw new ApiError({ code: 500, reason: 'InternalError', message: 'boom' });
      }
      if (!objects.has(key)) throw new ApiError({ code: 404, reason: 'NotFound', message: `${name} not found` });
      return objects.get(key);
    },
  } as unknown as Client;
  return { client, calls, failNext: () => (fail = true) };
}

test('config maps and secrets are read once per TTL, absence included; other errors are not cached', async () => {
  const objects = new Map<string, unknown>([['configmaps/ns/cm', { data: { a: '1' } }]]);
  const { client, calls, failNext } = countingClient(objects);
  const clock = new FakeClock();
  const sources = new CachingObjectSources(client, clock, 5_000);

  assert.deepEqual(await sources.getConfigMap('ns', 'cm'), { data: { a: '1' } });
  assert.deepEqual(await sources.getConfigMap('ns', 'cm'), { data: { a: '1' } });
  assert.equal(await sources.getSecret('ns', 'missing'), undefined);
  assert.equal(await sources.getSecret('ns', 'missing'), undefined);
  assert.deepEqual(calls, ['configmaps/ns/cm', 'secrets/ns/missing']);

  objects.set('configmaps/ns/cm', { data: { a: '2' } });
  clock.step(5_000);
  assert.deepEqual(await sources.getConfigMap('ns', 'cm'), { data: { a: '2' } }, 'an update shows once the TTL passed');

  failNext();
  await assert.rejects(sources.getConfigMap('ns', 'other'), /boom/);
  objects.set('configmaps/ns/other', { data: {} });
  assert.deepEqual(await sources.getConfigMap('ns', 'other'), { data: {} }, 'a failed read is asked again at once');
});

test('listServices lists a namespace\'s Services once per TTL, so service link env vars see them', async () => {
  const calls: string[] = [];
  let items = [{ metadata: { name: 'db', namespace: 'ns' } }];
  const client = {
    list: async (r: { resource: string }, ns: string) => {
      calls.push(`${r.resource}/${ns}`);
      return { items };
    },
  } as unknown as Client;
  const clock = new FakeClock();
  const sources = new CachingObjectSources(client, clock, 5_000);
  assert.deepEqual((await sources.listServices('ns')).map((s) => s.metadata.name), ['db']);
  items = [...items, { metadata: { name: 'cache', namespace: 'ns' } }];
  assert.deepEqual((await sources.listServices('ns')).map((s) => s.metadata.name), ['db']);
  clock.step(5_000);
  assert.deepEqual((await sources.listServices('ns')).map((s) => s.metadata.name), ['db', 'cache']);
  assert.deepEqual(calls, ['services/ns', 'services/ns']);
});

test('with the apiserver unreachable, the last answer read is served (containers restart as before); nothing read before still fails', async () => {
  let down = false;
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
  const client = {
    get: async (r: { resource: string }, _ns: string, name: string) => {
      if (down) throw refused();
      if (name === 'gone') throw new ApiError({ code: 404, reason: 'NotFound', message: 'gone not found' });
      return { metadata: { name }, kind: r.resource };
    },
    list: async () => {
      if (down) throw refused();
      return { items: [{ metadata: { name: 'db', namespace: 'ns' } }] };
    },
  } as unknown as Client;
  const clock = new FakeClock();
  const sources = new CachingObjectSources(client, clock, 5_000);
  await sources.getSecret('ns', 's');
  await sources.getConfigMap('ns', 'gone');
  await sources.listServices('ns');
  down = true;
  clock.step(5_000);
  assert.deepEqual(await sources.getSecret('ns', 's'), { metadata: { name: 's' }, kind: 'secrets' });
  assert.equal(await sources.getConfigMap('ns', 'gone'), undefined, 'known absent stays absent');
  assert.deepEqual((await sources.listServices('ns')).map((s) => s.metadata.name), ['db']);
  await assert.rejects(sources.getSecret('ns', 'never-read'), /ECONNREFUSED/);
  await assert.rejects(sources.listServices('other'), /ECONNREFUSED/);
});
