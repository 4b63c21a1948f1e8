// Unit tests of ListWatch against a fake watch and list function (no network): the list-then-
// watch round, updates only on a new resourceVersion, bookmarks, 410 relists that delete what is
// gone, timeout reconnects, the reconnect backoff, errors that stop it, and stop().

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WatchCallback, WatchQuery, Watcher } from '../client/watch.js';
import { type ListResult, ListWatch } from './listwatch.js';

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  data?: string;
}

const obj = (name: string, rv: string, namespace?: string, data?: string): Obj => ({ metadata: { name, namespace, resourceVersion: rv }, ...(data ? { data } : {}) });

/** OpenWatch is one watch the fake has opened: the query it was asked with and its ends. */
interface OpenWatch {
  query: WatchQuery;
  send(type: string, object: unknown): void;
  end(err: unknown): void;
  controller: AbortController;
}

/** FakeWatcher records each watch; like ExactWatch, an abort by the caller ends it with done(null). */
class FakeWatcher implements Watcher {
  readonly opened: OpenWatch[] = [];
  failOpen: Error | undefined;

  async watch(path: string, query: WatchQuery, callback: WatchCallback, done: (err: unknown) => void): Promise<AbortController> {
    assert.equal(path, '/api/v1/configmaps');
    if (this.failOpen) throw this.failOpen;
    const controller = new AbortController();
    let ended = false;
    const end = (err: unknown) => {
      if (ended) return;
      ended = true;
      done(err);
    };
    controller.signal.addEventListener('abort', () => queueMicrotask(() => end(null)));
    this.opened.push({ query, send: (type, object) => !ended && callback(type, object, { type, object }), end, controller });
    return controller;
  }

  get last(): OpenWatch {
    return this.opened[this.opened.length - 1]!;
  }
}

/** settle lets promise callbacks and queued microtasks run. */
const settle = () => new Promise((r) => setImmediate(r));

function setup(lists: Array<ListResult<Obj> | Error>) {
  const watcher = new FakeWatcher();
  const delays: number[] = [];
  let listed = 0;
  const lw = new ListWatch<Obj>('/api/v1/configmaps', watcher, async () => {
    const next = lists[Math.min(listed++, lists.length - 1)]!;
    if (next instanceof Error) throw next;
    return structuredClone(next);
  }, { labelSelector: 'app=web', fieldSelector: 'metadata.namespace!=kube-system', delay: async (ms) => void delays.push(ms) });
  const events: string[] = [];
  lw.on('add', (o) => events.push(`add ${o.metadata.namespace ?? ''}/${o.metadata.name}@${o.metadata.resourceVersion}`));
  lw.on('update', (o) => events.push(`update ${o.metadata.namespace ?? ''}/${o.metadata.name}@${o.metadata.resourceVersion}`));
  lw.on('delete', (o) => events.push(`delete ${o.metadata.namespace ?? ''}/${o.metadata.name}`));
  const errors: unknown[] = [];
  lw.on('error', (err) => errors.push(err));
  let connects = 0;
  lw.on('connect', () => connects++);
  return { lw, watcher, delays, events, errors, listed: () => listed, connects: () => connects };
}

describe('ListWatch', () => {
  it('lists, then watches from the list resourceVersion with the selectors, keyed by namespace and name', async () => {
    const { lw, watcher, events, listed, connects } = setup([{ metadata: { resourceVersion: '10' }, items: [obj('a', '5', 'ns1'), obj('b', '6', 'ns2'), obj('n', '7')] }]);
    await lw.start();
    assert.equal(listed(), 1);
    assert.equal(connects(), 1);
    assert.deepEqual(watcher.opened.map((w) => w.query), [{ resourceVersion: '10', labelSelector: 'app=web', fieldSelector: 'metadata.namespace!=kube-system' }]);
    assert.deepEqual(events, ['add ns1/a@5', 'add ns2/b@6', 'add /n@7']);
    assert.equal(lw.get('a', 'ns1')?.metadata.resourceVersion, '5');
    assert.equal(lw.get('a', 'ns2'), undefined);
    assert.equal(lw.get('n')?.metadata.name, 'n');
    assert.deepEqual(lw.list('ns2').map((o) => o.metadata.name), ['b']);
    assert.deepEqual(lw.list().map((o) => o.metadata.name).sort(), ['a', 'b', 'n']);
    assert.deepEqual(lw.list('nowhere'), []);
    assert.equal(lw.latestResourceVersion(), '10');
  });

  it('adds, updates only on a new resourceVersion, deletes, and lets a bookmark move only the resourceVersion', async () => {
    const { lw, watcher, events } = setup([{ metadata: { resourceVersion: '10' }, items: [obj('a', '5', 'ns')] }]);
    await lw.start();
    events.length = 0;
    const w = watcher.last;
    w.send('ADDED', obj('b', '11', 'ns'));
    w.send('MODIFIED', obj('a', '5', 'ns', 'same version'));
    assert.equal(lw.get('a', 'ns')?.data, undefined, 'an event at the cached resourceVersion changes nothing');
    w.send('MODIFIED', obj('a', '12', 'ns', 'new'));
    w.send('ADDED', obj('a', '13', 'ns'));
    w.send('DELETED', obj('b', '14', 'ns', 'final'));
    w.send('DELETED', obj('zzz', '15', 'ns'));
    w.send('BOOKMARK', { metadata: { resourceVersion: '20' } });
    assert.deepEqual(events, ['add ns/b@11', 'update ns/a@12', 'update ns/a@13', 'delete ns/b']);
    assert.equal(lw.get('a', 'ns')?.metadata.resourceVersion, '13');
    assert.equal(lw.get('b', 'ns'), undefined);
    assert.equal(lw.latestResourceVersion(), '20');
    assert.equal(lw.list().length, 1, 'the bookmark added nothing');
  });

  it('a change handler hears adds, updates and deletes; off removes it', async () => {
    const { lw, watcher } = setup([{ metadata: { resourceVersion: '1' }, items: [] }]);
    const changes: string[] = [];
    const cb = (o: Obj) => changes.push(o.metadata.name);
    lw.on('change', cb);
    await lw.start();
    watcher.last.send('ADDED', obj('a', '2'));
    watcher.last.send('MODIFIED', obj('a', '3'));
    watcher.last.send('DELETED', obj('a', '4'));
    lw.off('change', cb);
    watcher.last.send('ADDED', obj('b', '5'));
    assert.deepEqual(changes, ['a', 'a', 'a']);
  });

  it('relists after a 410 ERROR event, deleting what the new list lacks', async () => {
    const { lw, watcher, events, listed } = setup([
      { metadata: { resourceVersion: '10' }, items: [obj('a', '5', 'ns1'), obj('b', '6', 'ns1'), obj('c', '7', 'ns2')] },
      { metadata: { resourceVersion: '30' }, items: [obj('a', '5', 'ns1'), obj('d', '25', 'ns3')] },
    ]);
    await lw.start();
    events.length = 0;
    watcher.last.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    assert.equal(lw.latestResourceVersion(), '');
    watcher.last.end(null); // the apiserver ends the watch after the ERROR event
    await settle();
    assert.equal(listed(), 2);
    assert.deepEqual(events.sort(), ['add ns3/d@25', 'delete ns1/b', 'delete ns2/c']);
    assert.deepEqual(lw.list().map((o) => o.metadata.name).sort(), ['a', 'd']);
    assert.deepEqual(lw.list('ns2'), []);
    assert.equal(watcher.last.query.resourceVersion, '30');
  });

  it('relists when the watch is answered 410, and reconnects at once from its resourceVersion after a timeout', async () => {
    const { lw, watcher, delays, listed, errors } = setup([
      { metadata: { resourceVersion: '10' }, items: [] },
      { metadata: { resourceVersion: '40' }, items: [] },
    ]);
    await lw.start();
    watcher.last.send('ADDED', obj('a', '15'));
    watcher.last.end(Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }));
    await settle();
    assert.equal(listed(), 1, 'a timeout keeps the resourceVersion');
    assert.equal(watcher.last.query.resourceVersion, '15');
    assert.deepEqual(delays, []);
    watcher.last.end(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await settle();
    assert.equal(listed(), 2);
    assert.equal(watcher.last.query.resourceVersion, '40');
    assert.deepEqual(errors, [], 'neither is reported as an error');
  });

  it('backs off 1 s, 2 s, 4 s … between watches that end without an event, and an event resets it', async () => {
    const { lw, watcher, delays } = setup([{ metadata: { resourceVersion: '10' }, items: [] }]);
    await lw.start();
    for (let i = 0; i < 7; i++) {
      watcher.last.end(null);
      await settle();
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000], 'the first reconnect is at once, then doubling to 30 s');
    watcher.last.send('MODIFIED', obj('x', '11'));
    watcher.last.end(null);
    await settle();
    watcher.last.end(null);
    await settle();
    assert.deepEqual(delays.slice(6), [1000], 'after an event: at once, then 1 s again');
  });

  it('reports any other error and stops; start() again resumes from the kept resourceVersion', async () => {
    const { lw, watcher, errors, listed } = setup([{ metadata: { resourceVersion: '10' }, items: [obj('a', '5')] }]);
    await lw.start();
    watcher.last.send('MODIFIED', obj('a', '12'));
    const boom = Object.assign(new Error('Internal Server Error'), { statusCode: 500 });
    watcher.last.end(boom);
    await settle();
    assert.deepEqual(errors, [boom]);
    assert.equal(watcher.opened.length, 1, 'no new watch after an error');
    await lw.start();
    assert.equal(listed(), 1);
    assert.equal(watcher.opened.length, 2);
    assert.equal(watcher.last.query.resourceVersion, '12');
    assert.equal(lw.get('a')?.metadata.resourceVersion, '12', 'the cache survives a restart');
  });

  it('reports a failed list and a watch that cannot be opened as errors', async () => {
    const listErr = new Error('list failed');
    const { lw, watcher, errors } = setup([listErr, { metadata: { resourceVersion: '1' }, items: [] }]);
    await lw.start();
    assert.deepEqual(errors, [listErr]);
    assert.equal(watcher.opened.length, 0);
    watcher.failOpen = new Error('no current cluster');
    await lw.start();
    assert.deepEqual(errors, [listErr, watcher.failOpen]);
  });

  it('stop() closes the watch and no new one opens, even when stopped during the list', async () => {
    let release: (() => void) | undefined;
    const watcher = new FakeWatcher();
    const lw = new ListWatch<Obj>('/api/v1/configmaps', watcher, () => new Promise((r) => (release = () => r({ metadata: { resourceVersion: '1' }, items: [] }))));
    const started = lw.start();
    await settle();
    await lw.stop();
    release!();
    await started;
    assert.equal(watcher.opened.length, 0, 'stopped during the list: no watch');

    const lw2 = new ListWatch<Obj>('/api/v1/configmaps', watcher, async () => ({ metadata: { resourceVersion: '1' }, items: [] }));
    await lw2.start();
    const w = watcher.last;
    await lw2.stop();
    assert.equal(w.controller.signal.aborted, true);
    await settle();
    assert.equal(watcher.opened.length, 1, 'the aborted watch is not reopened');
  });

  it('a second start() drops the running watch instead of running two loops', async () => {
    const { lw, watcher } = setup([{ metadata: { resourceVersion: '10' }, items: [] }]);
    await lw.start();
    const first = watcher.last;
    await lw.start();
    await settle();
    assert.equal(first.controller.signal.aborted, true);
    assert.equal(watcher.opened.length, 2, 'the first watch ending (done(null) after the abort) opens nothing');
  });
});
