// Load and checks shared by the fault tests (test/faults.test.ts) and the fault benchmark
// (bench/faults.ts): a writer that creates, updates and deletes ConfigMaps through the apiserver
// and remembers which writes were acknowledged; a watcher that follows the same namespace across
// kills and restarts the way an informer does (resume from the last resourceVersion, re-list
// after 410 Gone) and records every revision it saw; a client for the Deployment that must
// converge; and the checks that tell what was lost or seen out of order.

import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { Cluster } from './harness.js';

/** APIReply is one HTTP answer, or the transport error that stood in for it. */
export interface APIReply {
  status: number;
  body: string;
  /** error is set when no HTTP answer came (connection refused or reset: the process was down). */
  error?: string;
}

/** APIClient sends JSON requests to a test cluster's apiserver with the admin certificate over keep-alive connections. */
export class APIClient {
  private readonly agent: https.Agent;

  constructor(private readonly cluster: Cluster, maxSockets = 16) {
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets,
      ca: readFileSync(cluster.caFile, 'utf8'),
      cert: readFileSync(cluster.adminCert, 'utf8'),
      key: readFileSync(cluster.adminKey, 'utf8'),
    });
  }

  /** request never rejects: a transport failure becomes status 0 with `error`. */
  request(method: string, path: string, body?: unknown, contentType = 'application/json', timeoutMs = 30_000): Promise<APIReply> {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string | number> = { Accept: 'application/json' };
    if (data !== undefined) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = Buffer.byteLength(data);
    }
    return new Promise((resolve) => {
      const req = https.request(new URL(path, this.cluster.server), { method, headers, agent: this.agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => resolve({ status: 0, body: '', error: err.message }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err) => resolve({ status: 0, body: '', error: err.message }));
      req.end(data);
    });
  }

  /** json sends a request and returns the parsed body when the status is one of `ok`, else throws with the answer. */
  async json<T>(method: string, path: string, ok: readonly number[], body?: unknown, contentType?: string): Promise<T> {
    const r = await this.request(method, path, body, contentType);
    if (!ok.includes(r.status)) throw new Error(`${method} ${path}: ${r.error ?? `HTTP ${r.status}: ${r.body.slice(0, 400)}`}`);
    return JSON.parse(r.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** sleep resolves after ms. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** retry calls fn until it resolves, pausing between attempts, and throws fn's last error after ms. */
export async function retry<T>(what: string, ms: number, fn: () => Promise<T>): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      await sleep(200);
    }
  }
  throw new Error(`${what}: still failing after ${ms} ms: ${(last as Error)?.message ?? last}`);
}

interface ObjectMeta {
  name: string;
  namespace?: string;
  resourceVersion: string;
  generation?: number;
  deletionTimestamp?: string;
}

interface ConfigMap {
  metadata: ObjectMeta;
  data?: Record<string, string>;
}

interface List<T> {
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

/** listAll reads a collection in pages of `limit`, as client-go's pager does, and returns every item and the list's resourceVersion. */
export async function listAll<T>(client: APIClient, path: string, limit = 500): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let cont = '';
  let rv = '';
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await client.json<List<T>>('GET', `${path}${sep}limit=${limit}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, [200]);
    items.push(...page.items);
    rv ||= page.metadata.resourceVersion;
    cont = page.metadata.continue ?? '';
    if (!cont) return { items, resourceVersion: rv };
  }
}

/** WriteAck is an acknowledged write: what the apiserver answered 2xx to, at which resourceVersion. */
export interface WriteAck {
  op: 'create' | 'update' | 'delete';
  name: string;
  rv: number;
  /** value is the `v` data key the write stored (creates and updates). */
  value?: string;
}

/** WriterStats count a writer's attempts by outcome. */
export interface WriterStats {
  attempts: number;
  acknowledged: number;
  /** refused are answers that say the write did not happen (4xx other than conflicts, 5xx). */
  refused: number;
  /** unknown are writes with no answer (connection lost): they may or may not have happened. */
  unknown: number;
}

/**
 * Writer keeps `concurrency` workers writing ConfigMaps into a namespace until stopped: mostly
 * creates of fresh names, with an update of the `counter` ConfigMap (a compare-and-swap on its
 * resourceVersion) and a delete of an earlier object now and then. Every acknowledged write is
 * recorded with the resourceVersion the apiserver answered; failures (the apiserver or etcd was
 * down) are counted and the worker goes on after a short pause.
 */
export class Writer {
  readonly acks: WriteAck[] = [];
  readonly stats: WriterStats = { attempts: 0, acknowledged: 0, refused: 0, unknown: 0 };
  /** counterAttempted is the highest counter value any update tried to store (acknowledged or not). */
  counterAttempted = 0;
  /** createdUnknown are names whose create got no answer: present or absent afterwards, both are fine. */
  readonly uncertain = new Set<string>();
  private stopped = false;
  private running: Promise<void>[] = [];
  private next = 0;
  private counterRV = '';
  private counterValue = 0;
  private deletable: string[] = [];

  constructor(
    private readonly client: APIClient,
    readonly namespace: string,
    private readonly opts: { concurrency: number; payloadBytes: number; prefix?: string } = { concurrency: 4, payloadBytes: 256 },
  ) {}

  private get base(): string {
    return `/api/v1/namespaces/${this.namespace}/configmaps`;
  }

  /** start creates the counter and starts the workers. */
  async start(): Promise<void> {
    const counter = await retry('create the counter ConfigMap', 30_000, () =>
      this.client.json<ConfigMap>('POST', this.base, [201], { metadata: { name: 'counter' }, data: { v: '0' } }),
    );
    this.counterRV = counter.metadata.resourceVersion;
    this.acks.push({ op: 'create', name: 'counter', rv: Number(counter.metadata.resourceVersion), value: '0' });
    this.running = Array.from({ length: this.opts.concurrency }, (_, w) => this.work(w));
  }

  /** stop lets each worker finish its current write and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }

  private async work(worker: number): Promise<void> {
    const pad = 'x'.repeat(this.opts.payloadBytes);
    while (!this.stopped) {
      const i = this.next++;
      let ok: boolean;
      if (worker === 0 && i % 5 === 0) ok = await this.updateCounter();
      else if (i % 11 === 0 && this.deletable.length > 0) ok = await this.deleteOne(this.deletable.splice(Math.floor(this.deletable.length / 2), 1)[0]!);
      else ok = await this.create(`${this.opts.prefix ?? 'w'}-${i}`, pad);
      if (!ok) await sleep(100);
    }
  }

  private record(r: APIReply, ack: Omit<WriteAck, 'rv'> | undefined): boolean {
    this.stats.attempts++;
    if (ack) {
      this.stats.acknowledged++;
      const obj = JSON.parse(r.body) as ConfigMap;
      this.acks.push({ ...ack, rv: Number(obj.metadata.resourceVersion) });
      return true;
    }
    if (r.status === 0) this.stats.unknown++;
    else this.stats.refused++;
    return false;
  }

  private async create(name: string, pad: string): Promise<boolean> {
    const r = await this.client.request('POST', this.base, { metadata: { name }, data: { v: name, pad } });
    if (r.status === 201) {
      this.deletable.push(name);
      return this.record(r, { op: 'create', name, value: name });
    }
    // No answer, or a 5xx while etcd was away: the create may still have been committed.
    if (r.status === 0 || r.status >= 500 || r.status === 409) this.uncertain.add(name);
    return this.record(r, undefined);
  }

  private async updateCounter(): Promise<boolean> {
    const value = ++this.counterValue;
    this.counterAttempted = Math.max(this.counterAttempted, value);
    const r = await this.client.request('PUT', `${this.base}/counter`, {
      metadata: { name: 'counter', resourceVersion: this.counterRV },
      data: { v: String(value) },
    });
    if (r.status === 200) {
      this.counterRV = (JSON.parse(r.body) as ConfigMap).metadata.resourceVersion;
      return this.record(r, { op: 'update', name: 'counter', value: String(value) });
    }
    // A conflict or a lost answer: read the counter as it is now and go on from there.
    const now = await this.client.request('GET', `${this.base}/counter`);
    if (now.status === 200) {
      const cm = JSON.parse(now.body) as ConfigMap;
      this.counterRV = cm.metadata.resourceVersion;
      this.counterValue = Math.max(this.counterValue, Number(cm.data?.v ?? 0));
    }
    return this.record(r, undefined);
  }

  private async deleteOne(name: string): Promise<boolean> {
    const r = await this.client.request('DELETE', `${this.base}/${name}`);
    if (r.status === 200) return this.record(r, { op: 'delete', name });
    this.uncertain.add(name);
    return this.record(r, undefined);
  }
}

/** WatchRecord is one event a watcher received. */
export interface WatchRecord {
  type: string;
  name: string;
  rv: number;
}

/** Relist is a list the watcher made after a 410: the revision it had reached, and what it found at which revision. */
export interface Relist {
  from: number;
  rv: number;
  items: Map<string, number>;
}

/**
 * Watcher follows one namespace's ConfigMaps as an informer does: it lists, watches from the
 * list's resourceVersion, resumes from the last resourceVersion it saw whenever the stream ends
 * (the apiserver was killed) and re-lists after a 410 Gone. It keeps every event, every re-list
 * and the state (name → resourceVersion) those imply.
 */
export class Watcher {
  readonly events: WatchRecord[] = [];
  readonly relists: Relist[] = [];
  /** outOfOrder describes every event whose resourceVersion did not move forward. */
  readonly outOfOrder: string[] = [];
  readonly state = new Map<string, number>();
  reconnects = 0;
  gone = 0;
  private lastRV = 0;
  private stopped = false;
  private current?: { destroy(): void };
  private loop?: Promise<void>;

  constructor(
    private readonly client: APIClient,
    private readonly cluster: Cluster,
    readonly namespace: string,
  ) {}

  private get base(): string {
    return `/api/v1/namespaces/${this.namespace}/configmaps`;
  }

  /** start makes the first list and opens the watch. */
  async start(): Promise<void> {
    await this.relist(false);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.destroy();
    await this.loop;
  }

  /** seen tells whether the watcher has reached resourceVersion rv (by an event or a re-list). */
  seen(rv: number): boolean {
    return this.lastRV >= rv;
  }

  private async relist(counted: boolean): Promise<void> {
    const list = await retry('list configmaps for the watcher', 120_000, () => listAll<ConfigMap>(this.client, this.base));
    const rv = Number(list.resourceVersion);
    const items = new Map(list.items.map((cm) => [cm.metadata.name, Number(cm.metadata.resourceVersion)]));
    if (counted) this.relists.push({ from: this.lastRV, rv, items });
    this.state.clear();
    for (const [k, v] of items) this.state.set(k, v);
    this.lastRV = rv;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const outcome = await this.watchOnce();
      if (this.stopped) return;
      if (outcome === 'gone') {
        this.gone++;
        await this.relist(true);
      } else {
        this.reconnects++;
        await sleep(200);
      }
    }
  }

  /** watchOnce holds one watch stream until it ends; 'gone' means the server answered 410. */
  private watchOnce(): Promise<'gone' | 'ended'> {
    const path = `${this.base}?watch=1&allowWatchBookmarks=true&resourceVersion=${this.lastRV}`;
    return new Promise((resolve) => {
      let settled = false;
      const done = (o: 'gone' | 'ended') => {
        if (!settled) {
          settled = true;
          resolve(o);
        }
      };
      const req = https.get(
        new URL(path, this.cluster.server),
        {
          ca: readFileSync(this.cluster.caFile, 'utf8'),
          cert: readFileSync(this.cluster.adminCert, 'utf8'),
          key: readFileSync(this.cluster.adminKey, 'utf8'),
          agent: false,
          headers: { Accept: 'application/json' },
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            res.on('end', () => done(res.statusCode === 410 ? 'gone' : 'ended'));
            res.on('error', () => done('ended'));
            return;
          }
          let pending = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            pending += chunk;
            let nl: number;
            while ((nl = pending.indexOf('\n')) >= 0) {
              const line = pending.slice(0, nl);
              pending = pending.slice(nl + 1);
              if (!line.trim()) continue;
              if (this.onEvent(JSON.parse(line) as { type: string; object: ConfigMap & { code?: number } }) === 'gone') {
                req.destroy();
                done('gone');
                return;
              }
            }
          });
          res.on('end', () => done('ended'));
          res.on('error', () => done('ended'));
        },
      );
      req.on('error', () => done('ended'));
      this.current = req;
    });
  }

  private onEvent(ev: { type: string; object: ConfigMap & { code?: number } }): 'gone' | undefined {
    if (ev.type === 'ERROR') return ev.object.code === 410 ? 'gone' : undefined;
    const rv = Number(ev.object.metadata.resourceVersion);
    if (ev.type === 'BOOKMARK') {
      if (rv < this.lastRV) this.outOfOrder.push(`BOOKMARK at ${rv} after ${this.lastRV}`);
      this.lastRV = Math.max(this.lastRV, rv);
      return undefined;
    }
    const name = ev.object.metadata.name;
    if (rv <= this.lastRV) this.outOfOrder.push(`${ev.type} ${name} at ${rv} after ${this.lastRV}`);
    this.events.push({ type: ev.type, name, rv });
    this.lastRV = Math.max(this.lastRV, rv);
    if (ev.type === 'DELETED') this.state.delete(name);
    else this.state.set(name, rv);
    return undefined;
  }
}

/** Stored is what the final list found of one object. */
export interface Stored {
  rv: number;
  value?: string;
}

/** readStored lists the namespace's ConfigMaps (in pages) as name → resourceVersion and `v`. */
export async function readStored(client: APIClient, namespace: string): Promise<{ rv: number; objects: Map<string, Stored> }> {
  const list = await retry('list configmaps', 60_000, () => listAll<ConfigMap>(client, `/api/v1/namespaces/${namespace}/configmaps`));
  return {
    rv: Number(list.resourceVersion),
    objects: new Map(list.items.map((cm) => [cm.metadata.name, { rv: Number(cm.metadata.resourceVersion), value: cm.data?.v }])),
  };
}

/**
 * lostWrites compares the writer's acknowledged writes with what is stored now, and returns a
 * line for every acknowledged write that is not there: a created object missing (and not
 * deleted by an acknowledged delete, or by a delete whose answer was lost), a deleted object
 * still present, or the counter older than its last acknowledged update.
 */
export function lostWrites(writer: Writer, stored: Map<string, Stored>): string[] {
  const problems: string[] = [];
  const deleted = new Set(writer.acks.filter((a) => a.op === 'delete').map((a) => a.name));
  for (const a of writer.acks) {
    if (a.op === 'create' && a.name !== 'counter' && !deleted.has(a.name)) {
      const s = stored.get(a.name);
      if (!s && !writer.uncertain.has(a.name)) problems.push(`create of ${a.name} acknowledged at ${a.rv} is missing`);
      else if (s && s.value !== a.value) problems.push(`${a.name} holds ${JSON.stringify(s.value)}, acknowledged ${JSON.stringify(a.value)}`);
    }
    if (a.op === 'delete' && stored.has(a.name)) problems.push(`delete of ${a.name} acknowledged at ${a.rv}, but it is still there`);
  }
  const lastUpdate = writer.acks.filter((a) => a.name === 'counter').at(-1);
  const counter = Number(stored.get('counter')?.value ?? NaN);
  if (lastUpdate && !(counter >= Number(lastUpdate.value) && counter <= writer.counterAttempted)) {
    problems.push(`counter holds ${counter}; last acknowledged update stored ${lastUpdate.value}, highest attempted ${writer.counterAttempted}`);
  }
  return problems;
}

/**
 * missedRevisions returns a line for every acknowledged create or update the watcher neither
 * received as an event at that resourceVersion nor could have skipped because a re-list after a
 * 410 covered it, plus every difference between the watcher's final state and the store.
 */
export function missedRevisions(writer: Writer, watcher: Watcher, stored: Map<string, Stored>): string[] {
  const problems: string[] = [];
  const got = new Set(watcher.events.map((e) => `${e.name}@${e.rv}`));
  // A revision may be missing from the events only when a re-list jumped over it.
  const covered = (rv: number) => watcher.relists.some((l) => rv > l.from && rv <= l.rv);
  for (const a of writer.acks) {
    if (a.op === 'delete') continue;
    if (!got.has(`${a.name}@${a.rv}`) && !covered(a.rv)) problems.push(`${a.op} of ${a.name} at ${a.rv} never reached the watcher`);
  }
  for (const [name, s] of stored) {
    const w = watcher.state.get(name);
    if (w !== s.rv) problems.push(`the watcher holds ${name} at ${w ?? 'nothing'}, the store at ${s.rv}`);
  }
  for (const name of watcher.state.keys()) if (!stored.has(name)) problems.push(`the watcher still holds ${name}, which is gone`);
  return [...watcher.outOfOrder.map((o) => `out of order: ${o}`), ...problems];
}

interface Deployment {
  metadata: ObjectMeta;
  spec: { replicas: number };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number };
}

interface Pod {
  metadata: ObjectMeta;
  spec: { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

/** deploymentManifest is a Deployment of `replicas` pods for simulated nodes. */
export function deploymentManifest(name: string, replicas: number): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
      },
    },
  };
}

/** scaleDeployment sets spec.replicas through the scale subresource, retrying while the apiserver is away. */
export async function scaleDeployment(client: APIClient, namespace: string, name: string, replicas: number): Promise<void> {
  await retry(`scale ${name} to ${replicas}`, 60_000, () =>
    client.json('PATCH', `/apis/apps/v1/namespaces/${namespace}/deployments/${name}/scale`, [200], { spec: { replicas } }, 'application/merge-patch+json'),
  );
}

/**
 * convergence describes how far the Deployment is from `replicas` Ready pods on simulated nodes:
 * undefined once its status says so (observed its current generation, replicas, updated and
 * ready all equal to spec) and exactly that many live pods are bound, Running and Ready.
 */
export async function convergence(client: APIClient, namespace: string, name: string): Promise<string | undefined> {
  const d = await client.json<Deployment>('GET', `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`, [200]);
  const want = d.spec.replicas;
  const s = d.status ?? {};
  if (s.observedGeneration !== d.metadata.generation || s.replicas !== want || s.updatedReplicas !== want || s.readyReplicas !== want) {
    return `deployment ${name}: generation ${d.metadata.generation}, status ${JSON.stringify(s)}, want ${want}`;
  }
  const pods = (await listAll<Pod>(client, `/api/v1/namespaces/${namespace}/pods?labelSelector=app%3D${name}`)).items.filter((p) => !p.metadata.deletionTimestamp);
  const ready = pods.filter((p) => p.spec.nodeName && p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  if (pods.length !== want || ready.length !== want) return `deployment ${name}: ${pods.length} live pods, ${ready.length} Running and Ready, want ${want}`;
  return undefined;
}

/** waitConverged polls convergence until it holds, throwing the last description after ms. */
export async function waitConverged(client: APIClient, namespace: string, name: string, ms: number): Promise<number> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < ms) {
    try {
      const c = await convergence(client, namespace, name);
      if (c === undefined) return Date.now() - t0;
      last = c;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`did not converge within ${ms} ms: ${last}`);
}

/**
 * ServiceManager plays systemd for the test cluster's API clients: a controller manager or
 * scheduler that loses its lease while the apiserver or etcd is away exits, as kube's do, and
 * its service manager starts it again. It restarts any watched component that is no longer
 * running, except the one a test is killing on purpose, and records each restart.
 */
export class ServiceManager {
  readonly restarts: string[] = [];
  /** paused is the component a test is faulting: left alone until resumed. */
  paused?: string;
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly watched: readonly string[],
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), 500);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.idle();
  }

  /** pause leaves `name` alone from now on, and waits for a restart under way (of any component) to finish. */
  async pause(name: string): Promise<void> {
    this.paused = name;
    await this.idle();
  }

  private async idle(): Promise<void> {
    while (this.busy) await sleep(50);
  }

  private async check(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const name of this.watched) {
        if (name === this.paused || this.cluster.pid(name) !== undefined) continue;
        this.restarts.push(name);
        await this.cluster.restart(name).catch(() => undefined);
      }
    } finally {
      this.busy = false;
    }
  }
}
