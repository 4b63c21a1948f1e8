import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject, ObjectCallback } from '@kubernetes/client-node';
import { ItemExponentialFailureRateLimiter } from '../workqueue/ratelimiter.js';
import { TerminalError, runController } from './controller.js';
import { SharedInformer, type InformerSource } from './informer.js';
import { InvalidKeyError, keyOf, ownerKeyFor, splitKey } from './keys.js';

type Verb = 'add' | 'update' | 'delete' | 'change' | 'error' | 'connect';

/** FakeSource is an informer whose list completes when the test says so. */
class FakeSource<T extends KubernetesObject> implements InformerSource<T> {
  objects = new Map<string, T>();
  starts = 0;
  private readonly handlers = new Map<Verb, Array<(x: never) => void>>();
  private release: (() => void) | undefined;
  /** failNext makes the next start() report an error instead of syncing. */
  failNext = 0;

  on(verb: Verb, cb: (x: never) => void): void {
    const list = this.handlers.get(verb) ?? [];
    list.push(cb);
    this.handlers.set(verb, list);
  }
  off(verb: Verb, cb: (x: never) => void): void {
    this.handlers.set(verb, (this.handlers.get(verb) ?? []).filter((h) => h !== cb));
  }
  emit(verb: 'add' | 'update' | 'delete', obj: T): void {
    if (verb === 'delete') this.objects.delete(keyOf(obj));
    else this.objects.set(keyOf(obj), obj);
    for (const h of this.handlers.get(verb) ?? []) (h as ObjectCallback<T>)(obj);
  }
  async start(): Promise<void> {
    this.starts++;
    if (this.failNext > 0) {
      this.failNext--;
      for (const h of this.handlers.get('error') ?? []) (h as (e: unknown) => void)(new Error('list failed'));
      return;
    }
    await new Promise<void>((r) => (this.release = r));
  }
  /** finishList delivers the initial list and lets start() resolve (the cache has synced). */
  finishList(items: T[]): void {
    for (const item of items) this.emit('add', item);
    this.release?.();
  }
  async stop(): Promise<void> {
    this.release?.();
  }
  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(namespace ? `${namespace}/${name}` : name);
  }
  list(namespace?: string): readonly T[] {
    return [...this.objects.values()].filter((o) => !namespace || o.metadata?.namespace === namespace);
  }
}

const cm = (namespace: string, name: string, labels?: Record<string, string>): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace, name, labels },
});

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await tick(2);
  }
}

/** fastRetries is a rate limiter with small bounds so retry tests stay quick and exact enough. */
const fastRetries = () => new ItemExponentialFailureRateLimiter<string>(10, 40);

describe('keys', () => {
  it('keyOf and splitKey round-trip namespaced and cluster-scoped keys', () => {
    assert.equal(keyOf(cm('default', 'a')), 'default/a');
    assert.equal(keyOf({ metadata: { name: 'node1' } }), 'node1');
    assert.deepEqual(splitKey('default/a'), { namespace: 'default', name: 'a' });
    assert.deepEqual(splitKey('node1'), { namespace: '', name: 'node1' });
    for (const bad of ['a/b/c', '/a', 'a/', '']) assert.throws(() => splitKey(bad), InvalidKeyError);
  });

  it('ownerKeyFor follows only the controller owner of the given kind', () => {
    const pod = {
      metadata: {
        namespace: 'ns',
        name: 'web-1',
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'not-controller' },
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', controller: true },
        ],
      },
    };
    assert.equal(ownerKeyFor(pod, 'ReplicaSet'), 'ns/web');
    assert.equal(ownerKeyFor(pod, 'ReplicaSet', 'apps/v1'), 'ns/web');
    assert.equal(ownerKeyFor(pod, 'ReplicaSet', 'example.com/v1'), undefined);
    assert.equal(ownerKeyFor(pod, 'ConfigMap'), undefined);
    assert.equal(ownerKeyFor({ metadata: { name: 'x' } }, 'ReplicaSet'), undefined);
  });
});

describe('Lister', () => {
  it('gets by key and lists by namespace and label selector, handing out frozen objects in tests', async () => {
    const source = new FakeSource<KubernetesObject>();
    const informer = new SharedInformer(source);
    informer.start();
    source.finishList([cm('a', 'x', { app: 'web' }), cm('a', 'y', { app: 'db' }), cm('b', 'z', { app: 'web' })]);
    assert.equal(await informer.waitForSync(), true);
    const lister = informer.lister({ freeze: true });
    assert.equal(lister.get('a/x')?.metadata?.name, 'x');
    assert.equal(lister.get('a/nope'), undefined);
    assert.deepEqual(lister.list('a').map(keyOf).sort(), ['a/x', 'a/y']);
    assert.deepEqual(lister.list(undefined, 'app=web').map(keyOf).sort(), ['a/x', 'b/z']);
    assert.deepEqual(lister.list('b', 'app in (db)'), []);
    const got = lister.get('a/x')!;
    assert.throws(() => {
      got.metadata!.labels!.app = 'changed';
    }, TypeError);
  });
});

describe('runController', () => {
  it('runs no reconcile before every cache has synced', async () => {
    const s1 = new FakeSource<KubernetesObject>();
    const s2 = new FakeSource<KubernetesObject>();
    const i1 = new SharedInformer(s1);
    const i2 = new SharedInformer(s2);
    const seen: string[] = [];
    const c = runController({
      name: 'test',
      informers: [i1, i2],
      reconcile: (key) => {
        seen.push(key);
      },
      setup: (ctl) => i1.on('add', (o) => ctl.enqueue(o)),
    });
    s1.finishList([cm('ns', 'a')]);
    await tick(10);
    assert.deepEqual(seen, [], 'reconciled while the second cache had not synced');
    s2.finishList([]);
    assert.equal(await c.synced, true);
    await until(() => seen.length === 1, 'the first reconcile');
    assert.deepEqual(seen, ['ns/a']);
    await c.stop();
  });

  it('never reconciles one key twice at once, and reconciles again after an add during processing', async () => {
    const source = new FakeSource<KubernetesObject>();
    const informer = new SharedInformer(source);
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    let unblock!: () => void;
    const c = runController({
      name: 'test',
      informers: [informer],
      workers: 4,
      reconcile: async () => {
        calls++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        if (calls === 1) await new Promise<void>((r) => (unblock = r));
        running--;
      },
    });
    source.finishList([]);
    await c.synced;
    c.enqueueKey('ns/a');
    await until(() => calls === 1, 'first reconcile');
    c.enqueueKey('ns/a');
    c.enqueueKey('ns/a');
    await tick(20);
    assert.equal(calls, 1, 'a second worker took a key that was being reconciled');
    unblock();
    await until(() => calls === 2, 'the reconcile the add asked for');
    await tick(20);
    assert.equal(calls, 2, 'the two adds during processing collapse into one reconcile');
    assert.equal(maxRunning, 1);
    await c.stop();
  });

  it('retries a throwing reconcile with growing backoff and forgets failures after success', async () => {
    const source = new FakeSource<KubernetesObject>();
    const informer = new SharedInformer(source);
    const times: number[] = [];
    const c = runController({
      name: 'test',
      informers: [informer],
      rateLimiter: fastRetries(),
      reconcile: () => {
        times.push(performance.now());
        if (times.length <= 3) throw new Error('not yet');
      },
    });
    source.finishList([]);
    await c.synced;
    c.enqueueKey('k');
    await until(() => times.length === 4, 'three retries');
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 10, 20, 40 ms of backoff; timers never fire early (allow 1 ms of clock rounding).
    assert.ok(gaps[0]! >= 9, `first retry after ${gaps[0]} ms`);
    assert.ok(gaps[1]! >= 19, `second retry after ${gaps[1]} ms`);
    assert.ok(gaps[2]! >= 39, `third retry after ${gaps[2]} ms`);
    assert.equal(c.queue.numRequeues('k'), 0, 'success forgets the failures');
    await tick(60);
    assert.equal(times.length, 4, 'no retry after success');
    await c.stop();
  });

  it('does not retry a TerminalError', async () => {
    const source = new FakeSource<KubernetesObject>();
    const informer = new SharedInformer(source);
    let calls = 0;
    const c = runController({
      name: 'test',
      informers: [informer],
      rateLimiter: fastRetries(),
      reconcile: () => {
        calls++;
        throw new TerminalError('bad spec');
      },
    });
    source.finishList([]);
    await c.synced;
    c.enqueueKey('k');
    await tick(100);
    assert.equal(calls, 1);
    assert.equal(c.queue.numRequeues('k'), 0);
    c.enqueueKey('k');
    await until(() => calls === 2, 'reconcile on a new event');
    await c.stop();
  });

  it('reconciles again after requeueAfter', async () => {
    const source = new FakeSource<KubernetesObject>();
    const informer = new SharedInformer(source);
    const times: number[] = [];
    const c = runController({
      name: 'test',
      informers: [informer],
      reconcile: () => {
        times.push(performance.now());
        return times.length === 1 ? { requeueAfter: 30 } : undefined;
      },
    });
    source.finishList([]);
    await c.synced;
    c.enqueueKey('k');
    await until(() => times.length === 2, 'the requeued reconcile');
    assert.ok(times[1]! - times[0]! >= 29, `requeued after ${times[1]! - times[0]!} ms`);
    await tick(60);
    assert.equal(times.length, 2);
    await c.stop();
  });

  it('enqueues an owner from a dependent event', async () => {
    const source = new FakeSource<KubernetesObject>();
    const informer = new SharedInformer(source);
    const seen: string[] = [];
    const c = runController({
      name: 'test',
      informers: [informer],
      reconcile: (key) => void seen.push(key),
      setup: (ctl) => informer.on('add', (o) => ctl.enqueueOwner(o, 'ReplicaSet')),
    });
    source.finishList([
      { metadata: { namespace: 'ns', name: 'p1', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true }] } },
      { metadata: { namespace: 'ns', name: 'p2' } },
    ]);
    await until(() => seen.length === 1, 'owner reconcile');
    assert.deepEqual(seen, ['ns/rs']);
    await c.stop();
  });

  it('stop waits for the running reconcile and starts no other', async () => {
    const source = new FakeSource<KubernetesObject>();
    const informer = new SharedInformer(source);
    const started: string[] = [];
    let finished = false;
    let signalSeen: AbortSignal | undefined;
    const c = runController({
      name: 'test',
      informers: [informer],
      reconcile: async (key, signal) => {
        started.push(key);
        signalSeen = signal;
        await tick(30);
        finished = true;
      },
    });
    source.finishList([]);
    await c.synced;
    c.enqueueKey('a');
    c.enqueueKey('b');
    await until(() => started.length === 1, 'first reconcile');
    await c.stop();
    assert.equal(finished, true, 'stop resolved before the running reconcile returned');
    assert.equal(signalSeen?.aborted, true, 'the reconcile was told to stop');
    assert.deepEqual(started, ['a']);
    c.enqueueKey('c');
    await tick(10);
    assert.deepEqual(started, ['a']);
  });

  it('stopping before sync resolves synced false and runs nothing', async () => {
    const source = new FakeSource<KubernetesObject>();
    const informer = new SharedInformer(source);
    let calls = 0;
    const ac = new AbortController();
    const c = runController({ name: 'test', informers: [informer], signal: ac.signal, reconcile: () => void calls++ });
    c.enqueueKey('a');
    ac.abort();
    assert.equal(await c.synced, false);
    await c.done;
    assert.equal(calls, 0);
  });
});

describe('SharedInformer', () => {
  it('restarts a failed list with backoff and reports sync once it succeeds', async () => {
    const source = new FakeSource<KubernetesObject>();
    source.failNext = 2;
    const informer = new SharedInformer(source, { minBackoffMs: 5, maxBackoffMs: 20 });
    informer.start();
    informer.start();
    await until(() => source.starts === 3, 'two restarts');
    assert.equal(informer.hasSynced(), false);
    source.finishList([]);
    assert.equal(await informer.waitForSync(), true);
    assert.equal(source.starts, 3, 'start() is idempotent');
    await informer.stop();
  });

  it('hands update handlers the object as they last got it, and the new one', () => {
    const source = new FakeSource<KubernetesObject>();
    const before = cm('ns', 'pre', { v: '0' });
    source.emit('add', before);
    const informer = new SharedInformer(source);
    const seen: string[] = [];
    const label = (o: KubernetesObject) => `${o.metadata?.name}@${o.metadata?.labels?.v ?? '-'}`;
    informer.addEventHandler({
      onAdd: (o) => seen.push(`add ${label(o)}`),
      onUpdate: (old, cur) => seen.push(`update ${label(old)} -> ${label(cur)}`),
      onDelete: (o) => seen.push(`delete ${label(o)}`),
    });
    source.emit('update', cm('ns', 'pre', { v: '1' }));
    source.emit('add', cm('ns', 'a', { v: '1' }));
    source.emit('update', cm('ns', 'a', { v: '2' }));
    source.emit('update', cm('ns', 'a', { v: '3' }));
    source.emit('delete', cm('ns', 'a', { v: '3' }));
    source.emit('update', cm('ns', 'a', { v: '4' }));
    assert.deepEqual(seen, [
      'update pre@0 -> pre@1',
      'add a@1',
      'update a@1 -> a@2',
      'update a@2 -> a@3',
      'delete a@3',
      'add a@4',
    ]);
  });

  it('calls an add or change handler registered after the shared informer listed for every cached object (another controller started it)', () => {
    const src = new FakeSource<KubernetesObject>();
    const inf = new SharedInformer(src);
    const early: string[] = [];
    inf.on('add', (o) => early.push(o.metadata!.name!));
    src.emit('add', cm('ns', 'a'));
    src.emit('add', cm('ns', 'b'));
    assert.deepEqual(early, ['a', 'b']);
    const late: string[] = [];
    inf.on('change', (o) => late.push(`change ${o.metadata!.name}`));
    inf.on('add', (o) => late.push(`add ${o.metadata!.name}`));
    inf.on('delete', (o) => late.push(`delete ${o.metadata!.name}`));
    assert.deepEqual(late, ['change a', 'change b', 'add a', 'add b']);
    src.emit('add', cm('ns', 'c'));
    assert.deepEqual(late.slice(4), ['add c']);
  });
});
