// Fuzz test: a few thousand malformed requests of every kind, generated from a seeded PRNG
// against a real etcd and apiserver. Whatever the input (bad JSON, a value of the wrong type in
// every field of every kind, huge and deep bodies, bad percent-escapes and dot segments in
// paths, bad query values, garbage protobuf, bad documents of every patch type, prototype keys,
// clients that stop half-way), the apiserver answers without a 5xx (bar kube's own 504s), every
// error is a metav1.Status whose code is the HTTP status, nothing it stores fails to decode in
// client-node's typed lists, and the process stays up with bounded memory (issue 9).
//
// SKIFF_FUZZ_SEED replays a run: every failure message names the seed it ran with.
// A category that kills the apiserver fails, and the apiserver is started again so the other
// categories still report what they find.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster } from './harness.js';

// CI runs one fixed seed, so that a run that lands is a run that can be repeated; elsewhere each
// run draws a new seed and so explores further.
const seed = Number(process.env.SKIFF_FUZZ_SEED ?? (process.env.CI ? 4242 : Math.floor(Math.random() * 2 ** 31)));
const ns = 'fuzz';
const dotsNs = 'fuzz-dots';
/** bodyLimit is kube-apiserver's limit on a request body (3 MiB): beyond it, 413. */
const bodyLimit = 3 * 1024 * 1024;
/** rssLimit bounds the apiserver's resident memory through the whole run. */
const rssLimit = 1024 * 1024 * 1024;
/** slowRequestTimeout is the slow clients' apiserver's --request-timeout (kube's default is 60 s; shorter keeps the suite short). */
const slowRequestTimeout = '10s';
/** slowClientMs is how long a half-sent request may stay open: the request timeout plus slack. */
const slowClientMs = 30_000;

let cluster: Cluster;
let tlsFiles: { ca: string; cert: string; key: string };
let agent: https.Agent;
let port: number;
let peakRSS = 0;
/** crashes lists the categories during which the apiserver died. */
const crashes: string[] = [];

// ---------------------------------------------------------------------------------------------
// The PRNG

/** Rand is mulberry32: small, fast and the same sequence for the same seed everywhere. */
class Rand {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

// ---------------------------------------------------------------------------------------------
// Raw requests: paths are sent exactly as written (no URL normalisation), bodies as given.

interface Req {
  method: string;
  path: string;
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  /** chunked sends the body without a Content-Length. */
  chunked?: boolean;
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** error: no HTTP answer (the connection was closed or reset). */
  error?: string;
  /** streaming: a 200 watch that was still open when we stopped reading. */
  streaming?: boolean;
}

function send(req: Req, timeoutMs = 20_000): Promise<Res> {
  const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
  if (req.body !== undefined) {
    headers['Content-Type'] = req.contentType ?? 'application/json';
    if (!req.chunked) headers['Content-Length'] = String(Buffer.byteLength(req.body));
  }
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Res) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        resolve(r);
      }
    };
    let hr: ReturnType<typeof https.request>;
    try {
      hr = https.request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), error: err.message }));
        // A watch that was accepted streams until its timeout: what matters is that it was accepted.
        if (res.statusCode === 200 && /watch/.test(String(res.headers['content-type'] ?? '') + req.path)) {
          setTimeout(() => {
            finish({ status: 200, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), streaming: true });
            hr.destroy();
          }, 300);
        }
      });
    } catch (err) {
      // Node refuses to send some paths at all (characters it will not put on the wire).
      resolve({ status: -1, headers: {}, body: '', error: `not sent: ${(err as Error).message}` });
      return;
    }
    const timer = setTimeout(() => {
      finish({ status: 0, headers: {}, body: '', error: `no answer within ${timeoutMs} ms` });
      hr.destroy();
    }, timeoutMs);
    hr.on('error', (err) => finish({ status: 0, headers: {}, body: '', error: err.message }));
    hr.end(req.body);
  });
}

// ---------------------------------------------------------------------------------------------
// Judging answers

/** Finding is one broken expectation, with the request that showed it. */
interface Finding {
  category: string;
  kind: string;
  req: Req;
  res: Res;
}

/** describeReq prints a request short enough for a report line. */
function describeReq(r: Req): string {
  const body = r.body === undefined ? '' : ` body(${r.contentType ?? 'application/json'}, ${Buffer.byteLength(r.body)} B)=${JSON.stringify(String(r.body).slice(0, 160))}`;
  return `${r.method} ${r.path.length > 200 ? r.path.slice(0, 200) + '…' : r.path}${body}`;
}

/** statusProblem says what is wrong with an error answer's body, or undefined when it is a proper metav1.Status. */
function statusProblem(res: Res): string | undefined {
  let s: { kind?: unknown; apiVersion?: unknown; code?: unknown; status?: unknown };
  try {
    s = JSON.parse(res.body);
  } catch {
    return `not JSON (${String(res.headers['content-type'])})`;
  }
  if (s?.kind !== 'Status' || s.apiVersion !== 'v1') return 'JSON but not a metav1.Status';
  if (s.code !== res.status) return `Status code ${String(s.code)} differs from HTTP ${res.status}`;
  if (s.status !== 'Failure') return `Status status ${String(s.status)}`;
  return undefined;
}

/** errorClass is an error answer's message with names and numbers blanked, so one cause counts once. */
function errorClass(res: Res): string {
  let message = res.body;
  try {
    message = String((JSON.parse(res.body) as { message?: unknown }).message ?? res.body);
  } catch {
    message = res.body.replace(/<[^>]*>/g, ' ');
  }
  // Quoted names, parenthesised detail and field paths vary with the input; the cause does not.
  return message
    .replace(/"[^"]*"|'[^']*'/g, '…')
    .replace(/\([^)]*\)/g, '(…)')
    .replace(/: \.\S*?:/g, ': .…:')
    .replace(/\d+/g, 'N')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 90);
}

/**
 * problems lists what an answer breaks: no answer at all, a 5xx (kube answers 504 only for
 * timeouts, with a Status), an error that is not a Status, or a stack trace in the body.
 */
function problems(res: Res): string[] {
  if (res.status === -1) return [];
  if (res.status === 0) return [`no answer (${res.error})`];
  const out: string[] = [];
  if (res.status >= 500 && !(res.status === 504 && /"reason":\s*"Timeout"/.test(res.body))) out.push(`HTTP ${res.status}: ${errorClass(res)}`);
  if (res.status >= 400) {
    const p = statusProblem(res);
    if (p) out.push(`error not a Status: ${p}`);
  }
  if (/\n\s+at .+[:(]\d+:\d+\)?|node_modules\/|\/dist\/[\w/]+\.js/.test(res.body)) out.push('stack trace or file path in the answer');
  return out;
}

/** Category collects one category's findings, de-duplicated by kind with the first example kept. */
class Category {
  readonly findings = new Map<string, Finding>();
  counts = new Map<string, number>();
  sent = 0;
  skipped = 0;
  deaths = 0;
  constructor(readonly name: string) {}

  add(kind: string, req: Req, res: Res): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    if (!this.findings.has(kind)) this.findings.set(kind, { category: this.name, kind, req, res });
  }

  /** run sends a request, judges its answer and, when given, checks it further with `expect`. */
  async run(req: Req, expect?: (res: Res) => string | undefined): Promise<Res> {
    await reviving;
    if (this.deaths >= maxRevives) {
      // The server keeps dying: the rest of this category is skipped (and the category fails).
      this.skipped++;
      return { status: -1, headers: {}, body: '', error: 'skipped' };
    }
    this.sent++;
    const res = await send(req);
    if (res.status === 0) {
      // A request the server died on: record it, and bring the server back so the rest still runs.
      await sleep(300);
      if (cluster.pid('apiserver') === undefined) {
        this.add('the apiserver process died', req, { ...res, body: lastLogLines() });
        if (++this.deaths < maxRevives) await revive(this);
        return res;
      }
    }
    for (const p of problems(res)) this.add(p, req, res);
    const e = res.status > 0 ? expect?.(res) : undefined;
    if (e) this.add(e, req, res);
    sampleRSS();
    return res;
  }

  /** report is one line per distinct finding: how often, and the first request that showed it. */
  report(): string {
    return [...this.findings.values()]
      .map((f) => `  [${this.counts.get(f.kind)}×] ${f.kind}\n      e.g. ${describeReq(f.req)}\n      → ${f.res.status} ${f.res.error ?? f.res.body.slice(0, 240).replace(/\s+/g, ' ')}`)
      .join('\n');
  }

  assertClean(): void {
    const skipped = this.skipped ? ` (${this.skipped} more not sent: the apiserver died ${this.deaths} times)` : '';
    assert.equal(this.findings.size, 0, `fuzz seed ${seed} (SKIFF_FUZZ_SEED=${seed} replays it): ${this.name}, ${this.sent} requests${skipped}:\n${this.report()}`);
  }
}

/** pool runs the thunks with a few at a time. */
async function pool(tasks: (() => Promise<unknown>)[], concurrency = 8): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
}

/** rssOf is a process's resident memory (VmRSS) in bytes; NaN once it is gone. */
function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

function sampleRSS(): void {
  const pid = cluster.pid('apiserver');
  const rss = pid ? rssOf(pid) : NaN;
  if (Number.isFinite(rss)) peakRSS = Math.max(peakRSS, rss);
}

/**
 * category runs one category as a test: it builds and sends the requests, then fails with every
 * distinct finding. If the apiserver died, that is a finding too, and it is started again so
 * the next category runs against a live server.
 */
function category(name: string, body: (c: Category, rand: Rand) => Promise<void>): void {
  test(name, async (t) => {
    const c = new Category(name);
    // Each category has its own stream, so a replay of one category needs only the seed.
    const rand = new Rand(seed ^ hash(name));
    try {
      await body(c, rand);
    } finally {
      await reviveIfDead(c);
    }
    t.diagnostic(`seed ${seed}: ${c.sent} requests, ${c.findings.size} distinct findings`);
    c.assertClean();
  });
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** maxRevives is how many deaths of the apiserver a category survives before it stops sending. */
const maxRevives = 3;

const lastLogLines = () => cluster.logs('apiserver').trimEnd().split('\n').slice(-3).join('\n').slice(-600);

/** reviving is a restart of the apiserver under way; requests wait for it. */
let reviving: Promise<void> = Promise.resolve();

/** revive starts the apiserver again after it died (once, however many requests saw it die). */
function revive(c: Category): Promise<void> {
  if (!crashes.includes(c.name)) crashes.push(c.name);
  reviving = reviving.then(async () => {
    if (cluster.pid('apiserver') !== undefined) return;
    agent.destroy();
    agent = newAgent();
    await cluster.restart('apiserver');
  });
  return reviving;
}

/** reviveIfDead checks the apiserver at the end of a category, for deaths no request saw. */
async function reviveIfDead(c: Category): Promise<void> {
  await reviving;
  const alive = cluster.pid('apiserver') !== undefined && (await send({ method: 'GET', path: '/readyz' }, 10_000)).status === 200;
  if (alive) return;
  c.add('the apiserver process died', { method: '-', path: '(no single request)' }, { status: 0, headers: {}, body: lastLogLines() });
  await revive(c);
}

function newAgent(): https.Agent {
  return new https.Agent({ keepAlive: true, maxSockets: 8, ...tlsFiles });
}

// ---------------------------------------------------------------------------------------------
// What the server serves: resources from discovery, schemas from OpenAPI v3.

interface Resource {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  verbs: string[];
}

let resources: Resource[] = [];
const schemas = new Map<string, Record<string, Schema>>();

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  $ref?: string;
  format?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}

async function getJSON<T>(path: string): Promise<T> {
  const r = await send({ method: 'GET', path });
  assert.equal(r.status, 200, `GET ${path}: ${r.status} ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body) as T;
}

async function discover(): Promise<void> {
  const gvs: { group: string; version: string; path: string }[] = [{ group: '', version: 'v1', path: '/api/v1' }];
  const groups = await getJSON<{ groups: { name: string; preferredVersion: { version: string } }[] }>('/apis');
  for (const g of groups.groups) gvs.push({ group: g.name, version: g.preferredVersion.version, path: `/apis/${g.name}/${g.preferredVersion.version}` });
  for (const gv of gvs) {
    const list = await getJSON<{ resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[] }>(gv.path);
    for (const r of list.resources) {
      if (r.name.includes('/')) continue;
      resources.push({ group: gv.group, version: gv.version, kind: r.kind, plural: r.name, namespaced: r.namespaced, verbs: r.verbs });
    }
    const doc = await getJSON<{ components?: { schemas?: Record<string, Schema> } }>(`/openapi/v3${gv.path}`);
    schemas.set(gv.path, doc.components?.schemas ?? {});
  }
}

const apiVersionOf = (r: Resource) => (r.group ? `${r.group}/${r.version}` : r.version);
const gvPath = (r: Resource) => (r.group ? `/apis/${r.group}/${r.version}` : '/api/v1');
const collectionPath = (r: Resource, namespace = ns) => `${gvPath(r)}${r.namespaced ? `/namespaces/${namespace}` : ''}/${r.plural}`;

/** kindSchema finds the OpenAPI schema of a kind by its x-kubernetes-group-version-kind. */
function kindSchema(r: Resource): { schema: Schema; all: Record<string, Schema> } | undefined {
  const all = schemas.get(gvPath(r)) ?? {};
  for (const s of Object.values(all)) {
    if (s['x-kubernetes-group-version-kind']?.some((g) => g.group === r.group && g.version === r.version && g.kind === r.kind)) return { schema: s, all };
  }
  return undefined;
}

function resolve(s: Schema, all: Record<string, Schema>): Schema {
  for (let i = 0; i < 10; i++) {
    if (s.$ref) s = all[s.$ref.replace('#/components/schemas/', '')] ?? {};
    else if (s.allOf?.length === 1 && !s.type && !s.properties) s = s.allOf[0]!;
    else break;
  }
  return s;
}

/** rawDefinitions are the definitions whose Go types decode any JSON value (a managedFields entry's fieldsV1, an embedded object). */
const rawDefinitions = ['.FieldsV1', '.RawExtension'];

/** refOf is the definition a schema refers to, directly or through a one-element allOf. */
function refOf(s: Schema): string | undefined {
  return s.$ref ?? (s.allOf?.length === 1 ? s.allOf[0]!.$ref : undefined);
}

/** FieldPath is a path into an object: property names and 0 for an array's first item. */
type FieldPath = (string | 0)[];

/**
 * typedFields walks a kind's schema and returns every field path (to depth `maxDepth`) whose
 * type the schema states plainly: no int-or-string, no oneOf/anyOf, no preserved unknown
 * fields, which a value of another type could still legitimately decode into.
 */
function typedFields(root: Schema, all: Record<string, Schema>, maxDepth = 7): { path: FieldPath; type: string }[] {
  const out: { path: FieldPath; type: string }[] = [];
  const walk = (s0: Schema, path: FieldPath, seen: Set<Schema>) => {
    // FieldsV1 and RawExtension are raw JSON in Go: their decoders keep any value, so no type is wrong there.
    if (rawDefinitions.some((d) => refOf(s0)?.endsWith(d))) return;
    const s = resolve(s0, all);
    if (seen.has(s) || path.length > maxDepth) return;
    if (s['x-kubernetes-int-or-string'] || s.oneOf || s.anyOf || s['x-kubernetes-preserve-unknown-fields'] || !s.type) return;
    if (path.length > 0) out.push({ path, type: s.type });
    const next = new Set(seen).add(s);
    if (s.type === 'object' && s.properties) for (const [k, v] of Object.entries(s.properties)) walk(v, [...path, k], next);
    if (s.type === 'array' && s.items) walk(s.items, [...path, 0], next);
  };
  walk(root, [], new Set());
  return out;
}

/** wrongValue is a JSON value that is not of `type`. */
function wrongValue(type: string, rand: Rand): unknown {
  const options: Record<string, unknown[]> = {
    string: [-1, 1.5, true, { a: 'b' }, ['x']],
    integer: ['abc', 1.5, true, { a: 1 }, [1]],
    number: ['abc', true, { a: 1 }, [1]],
    boolean: ['yes', 1, { a: true }, ['true']],
    object: ['invalid', -1, 1.5, true, ['x']],
    array: ['invalid', -1, true, { a: 'b' }],
  };
  return rand.pick(options[type] ?? ['invalid']);
}

/** setPath puts value at path into obj, creating objects and one-item arrays on the way. */
function setPath(obj: Record<string, unknown>, path: FieldPath, value: unknown): void {
  let cur: any = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    if (cur[k] === undefined || typeof cur[k] !== 'object') cur[k] = path[i + 1] === 0 ? [{}] : {};
    cur = cur[k];
  }
  cur[path[path.length - 1]!] = value;
}

let uniq = 0;
const freshName = (prefix = 'fz') => `${prefix}-${seed.toString(36)}-${(uniq++).toString(36)}`;

function skeleton(r: Resource, name = freshName()): Record<string, unknown> {
  return { apiVersion: apiVersionOf(r), kind: r.kind, metadata: { name, ...(r.namespaced ? { namespace: ns } : {}) } };
}

const creatable = () => resources.filter((r) => r.verbs.includes('create'));

// ---------------------------------------------------------------------------------------------
// Slow clients: a TLS connection that sends headers and part of a body (or part of the headers)
// and then nothing. The server must end each one, with a Status or by closing it.

interface SlowClient {
  what: string;
  ended: Promise<{ answer: string; closed: boolean }>;
  destroy(): void;
}

/** slowCluster serves only the slow clients, so a request that kills the main apiserver cannot end them early. */
let slowCluster: Cluster;

function slowClient(what: string, head: string, partialBody: Buffer): SlowClient {
  const target = new URL(slowCluster.server);
  const socket = tls.connect({
    host: target.hostname,
    port: Number(target.port),
    ca: readFileSync(slowCluster.caFile, 'utf8'),
    cert: readFileSync(slowCluster.adminCert, 'utf8'),
    key: readFileSync(slowCluster.adminKey, 'utf8'),
    servername: 'localhost',
  });
  let answer = '';
  const ended = new Promise<{ answer: string; closed: boolean }>((resolve) => {
    socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
    socket.on('close', () => resolve({ answer, closed: true }));
    socket.on('error', () => undefined);
  });
  socket.on('secureConnect', () => {
    socket.write(head);
    if (partialBody.length) socket.write(partialBody);
  });
  return { what, ended, destroy: () => socket.destroy() };
}

let slowClients: SlowClient[] = [];
let slowStartedAt = 0;

// ---------------------------------------------------------------------------------------------

before(async () => {
  [cluster, slowCluster] = await Promise.all([startCluster({ components: ['etcd', 'apiserver'] }), startCluster({ components: ['etcd', 'apiserver'], extraArgs: { apiserver: [`--request-timeout=${slowRequestTimeout}`] } })]);
  tlsFiles = { ca: readFileSync(cluster.caFile, 'utf8'), cert: readFileSync(cluster.adminCert, 'utf8'), key: readFileSync(cluster.adminKey, 'utf8') };
  agent = newAgent();
  port = Number(new URL(cluster.server).port);
  for (const name of [ns, dotsNs]) assert.equal((await send({ method: 'POST', path: '/api/v1/namespaces', body: JSON.stringify({ metadata: { name } }) })).status, 201);
  await discover();
  // Slow clients start first and stay open (against their own apiserver) while every other category runs.
  slowStartedAt = Date.now();
  const rand = new Rand(seed ^ hash('slow clients'));
  const post = (n: number) =>
    `POST /api/v1/namespaces/${ns}/configmaps HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: ${n}\r\n\r\n`;
  slowClients = [
    ...Array.from({ length: 24 }, (_, i) => slowClient(`POST of a 2 MiB body that stops after 512 KiB (#${i})`, post(2 << 20), rand.bytes(512 << 10))),
    ...Array.from({ length: 8 }, (_, i) => slowClient(`PUT whose body stops after 10 bytes (#${i})`, post(4096).replace('POST', 'PUT').replace('/configmaps', '/configmaps/x'), Buffer.from('{"metadata"'))),
    ...Array.from({ length: 8 }, (_, i) => slowClient(`request whose headers stop half-way (#${i})`, `GET /api/v1/namespaces HTTP/1.1\r\nHost: localhost\r\nAccept: appl`, Buffer.alloc(0))),
  ];
  sampleRSS();
});

after(async () => {
  for (const s of slowClients) s.destroy();
  agent?.destroy();
  await Promise.all([cluster?.stop(), slowCluster?.stop()]);
});

describe('fuzz', () => {
  category('bad JSON bodies', async (c, rand) => {
    const bad: (string | Buffer)[] = [
      '{',
      '{"metadata":',
      '{"apiVersion":"v1","kind":"ConfigMap",}',
      '[]',
      '1',
      '"x"',
      'null',
      'true',
      '',
      '{"metadata":{"name":"a"}}garbage',
      '{"metadata":{"name":"a"}}{"metadata":{"name":"b"}}',
      '{"a":1e999999}',
      '{"metadata":{"name":"x\\ud800"}}',
      '\ufeff{"metadata":{"name":"bom"}}',
      Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
      '{"metadata":{"name":"a","name":"b"}}',
      "{'metadata':{}}",
      '{"metadata":{"name":NaN}}',
    ];
    const tasks: (() => Promise<unknown>)[] = [];
    for (const r of creatable()) {
      for (let i = 0; i < 20; i++) {
        const body = rand.pick(bad);
        const method = rand.pick(['POST', 'PUT']);
        const path = method === 'POST' ? collectionPath(r) : `${collectionPath(r)}/${freshName()}`;
        tasks.push(() => c.run({ method, path, body, contentType: rand.pick(['application/json', 'application/json', 'application/yaml', 'text/plain']) }));
      }
    }
    await pool(tasks);
  });

  category('a value of the wrong type in the fields of every kind (from the OpenAPI v3 schemas)', async (c, rand) => {
    const tasks: (() => Promise<unknown>)[] = [];
    let kinds = 0;
    for (const r of creatable()) {
      const s = kindSchema(r);
      if (!s) continue;
      const fields = typedFields(s.schema, s.all).filter((f) => !(f.path[0] === 'metadata' && (f.path[1] === 'namespace' || f.path[1] === 'name') && f.path.length === 2));
      if (fields.length) kinds++;
      // Every field of small kinds; a seeded sample of 150 of the larger ones (a Pod has thousands
      // of field paths), so the run stays bounded and another seed covers others.
      const chosen = fields.length <= 150 ? fields : Array.from({ length: 150 }, () => rand.pick(fields));
      for (const f of chosen) {
        const obj = skeleton(r);
        const value = wrongValue(f.type, rand);
        setPath(obj, f.path, value);
        tasks.push(() =>
          c.run({ method: 'POST', path: collectionPath(r), body: JSON.stringify(obj) }, (res) =>
            res.status === 400 ? undefined : `wrong type accepted or misreported (want 400 BadRequest, got ${res.status})`,
          ),
        );
      }
    }
    assert.ok(kinds >= 15, `only ${kinds} kinds have typed schemas`);
    await pool(tasks);
  });

  category('huge and deep bodies', async (c, rand) => {
    const huge = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: freshName() }, data: { big: 'z'.repeat(bodyLimit + 1024) } });
    const tooLarge = (res: Res) => (res.status === 413 ? undefined : `body over 3 MiB not refused with 413 (got ${res.status})`);
    await c.run({ method: 'POST', path: `/api/v1/namespaces/${ns}/configmaps`, body: huge }, tooLarge);
    await c.run({ method: 'POST', path: `/api/v1/namespaces/${ns}/configmaps`, body: huge, chunked: true }, tooLarge);
    await c.run({ method: 'PUT', path: `/api/v1/namespaces/${ns}/configmaps/x`, body: huge }, tooLarge);
    await c.run({ method: 'PATCH', path: `/api/v1/namespaces/${ns}/configmaps/x`, body: huge, contentType: 'application/merge-patch+json' }, tooLarge);
    await c.run({ method: 'POST', path: `/apis/apps/v1/namespaces/${ns}/deployments`, body: huge, contentType: 'application/vnd.kubernetes.protobuf' }, tooLarge);
    const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    for (const depth of [1_000, 10_001, 100_000]) {
      const inner = rand.pick([deepArray, deepObject])(depth);
      await c.run({ method: 'POST', path: `/api/v1/namespaces/${ns}/configmaps`, body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${freshName()}"},"x":${inner}}` });
      await c.run({ method: 'POST', path: `/api/v1/namespaces/${ns}/configmaps`, body: `{"metadata":{"name":"${freshName()}","annotations":${inner}}}` });
      await c.run({ method: 'PATCH', path: `/api/v1/namespaces/${ns}/configmaps/x`, body: `{"data":${inner}}`, contentType: 'application/merge-patch+json' });
      await c.run({ method: 'PATCH', path: `/api/v1/namespaces/${ns}/configmaps/x`, body: `[{"op":"add","path":"/data/x","value":${inner}}]`, contentType: 'application/json-patch+json' });
      const yamlDeep = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\nx: ' + '['.repeat(depth) + ']'.repeat(depth) + '\n';
      await c.run({ method: 'PATCH', path: `/api/v1/namespaces/${ns}/configmaps/deep?fieldManager=fuzz`, body: yamlDeep, contentType: 'application/apply-patch+yaml' });
    }
    // A YAML alias bomb ("billion laughs") and an alias loop.
    const bomb = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: bomb}', 'a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    await c.run({ method: 'PATCH', path: `/api/v1/namespaces/${ns}/configmaps/bomb?fieldManager=fuzz`, body: bomb.join('\n') + '\n', contentType: 'application/apply-patch+yaml' });
    await c.run({ method: 'POST', path: `/api/v1/namespaces/${ns}/configmaps`, body: bomb.join('\n') + '\n', contentType: 'application/yaml' });
    await c.run({ method: 'PATCH', path: `/api/v1/namespaces/${ns}/configmaps/loop?fieldManager=fuzz`, body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: loop, labels: *m}\n', contentType: 'application/apply-patch+yaml' });
    // Very many keys and a very long name.
    const manyKeys = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, 'v']));
    await c.run({ method: 'POST', path: `/api/v1/namespaces/${ns}/configmaps`, body: JSON.stringify({ metadata: { name: freshName(), annotations: manyKeys } }) });
    await c.run({ method: 'GET', path: `/api/v1/namespaces/${ns}/configmaps/${'n'.repeat(20_000)}` });
    await c.run({ method: 'POST', path: `/api/v1/namespaces/${ns}/configmaps`, body: JSON.stringify({ metadata: { name: 'n'.repeat(20_000) } }) });
  });

  category('dot segments in paths', async (c) => {
    // Sentinels a path that resolved `..` would reach instead of the named object.
    const sentinels = [
      { path: `/api/v1/namespaces/${dotsNs}/configmaps`, body: { metadata: { name: 'keep' } } },
      { path: `/api/v1/namespaces/${dotsNs}/secrets`, body: { metadata: { name: 'keep' }, stringData: { k: 'v' } } },
      { path: `/api/v1/namespaces/${dotsNs}/pods`, body: { metadata: { name: 'keep' }, spec: { containers: [{ name: 'c', image: 'pause' }] } } },
      { path: `/apis/apps/v1/namespaces/${dotsNs}/deployments`, body: { metadata: { name: 'keep' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'pause' }] } } } } },
    ];
    for (const s of sentinels) assert.equal((await send({ method: 'POST', path: s.path, body: JSON.stringify(s.body) })).status, 201, `create ${s.path}`);
    const base = `/api/v1/namespaces/${dotsNs}`;
    const dots = [
      `${base}/pods/..`,
      `${base}/pods/%2e%2e`,
      `${base}/pods/%2E%2E`,
      `${base}/pods/.%2e`,
      `${base}/pods/.`,
      `${base}/pods/%2e`,
      `${base}/pods/../status`,
      `${base}/pods/%2e%2e/status`,
      `${base}/pods/%2e%2e/eviction`,
      `${base}/pods/keep/..`,
      `${base}/pods/keep/%2e%2e`,
      `${base}/pods/keep/../..`,
      `${base}/configmaps/..`,
      `${base}/configmaps/%2e%2e`,
      `${base}/configmaps/../secrets`,
      `${base}/configmaps/%2e%2e/secrets`,
      `${base}/configmaps/keep/../../secrets/keep`,
      `/apis/apps/v1/namespaces/${dotsNs}/deployments/..`,
      `/apis/apps/v1/namespaces/${dotsNs}/deployments/%2e%2e`,
      `/apis/apps/v1/namespaces/${dotsNs}/deployments/../scale`,
      `/apis/apps/v1/namespaces/${dotsNs}/deployments/keep/../../../../../api/v1/namespaces/${dotsNs}`,
      `/api/v1/namespaces/..`,
      `/api/v1/namespaces/%2e%2e`,
      `/api/v1/namespaces/${dotsNs}/..`,
      `/api/v1/nodes/..`,
      `/apis/rbac.authorization.k8s.io/v1/clusterroles/..`,
    ];
    const tasks: (() => Promise<unknown>)[] = [];
    for (const method of ['GET', 'PUT', 'POST', 'PATCH', 'DELETE']) {
      const body = method === 'GET' || method === 'DELETE' ? undefined : method === 'PATCH' ? '{}' : '{"metadata":{"name":"x"}}';
      const contentType = method === 'PATCH' ? 'application/merge-patch+json' : undefined;
      for (const path of dots) tasks.push(() => c.run({ method, path, body, contentType }, (res) => (res.status >= 400 && res.status < 500 ? undefined : `dot segment resolved into another resource (got ${res.status})`)));
    }
    await pool(tasks, 4);
    await reviveIfDead(c);
    for (const s of sentinels) {
      const r = await send({ method: 'GET', path: `${s.path}/keep` });
      if (r.status !== 200) c.add(`a request with dot segments removed ${s.path}/keep (GET answers ${r.status})`, { method: 'GET', path: `${s.path}/keep` }, r);
    }
    const nsNow = await send({ method: 'GET', path: base });
    const phase = nsNow.status === 200 ? (JSON.parse(nsNow.body) as { status?: { phase?: string } }).status?.phase : undefined;
    if (phase !== 'Active') c.add(`a request with dot segments deleted namespace ${dotsNs} (phase ${phase})`, { method: 'GET', path: base }, nsNow);
  });

  category('bad percent-escapes in paths', async (c) => {
    const escapes = [
      `/api/v1/namespaces/${ns}/configmaps/%zz`,
      `/api/v1/namespaces/${ns}/configmaps/%c0%ae%c0%ae`,
      `/api/v1/namespaces/${ns}/configmaps/%u002e`,
      `/api/v1/namespaces/${ns}/configmaps/%`,
      `/api/v1/namespaces/${ns}/configmaps/%2`,
      `/api/v1/namespaces/${ns}/configmaps/%ff%fe`,
      `/api/v1/namespaces/${ns}/configmaps/a%00b`,
      `/api/v1/namespaces/${ns}/configmaps/a%2fb`,
      `/api/v1/namespaces/%zz/configmaps`,
      `/apis/%zz`,
      `/apis/apps/%zz/deployments`,
      `/version%zz`,
      `/%zz`,
      `/openapi/v3/%zz`,
    ];
    // In the query a bad escape only spoils its own pair (Go's url.Query drops it): any answer but a 5xx.
    const inQuery = [
      `/api/v1/namespaces/${ns}/configmaps?labelSelector=%zz`,
      `/api/v1/namespaces/${ns}/configmaps?watch=%`,
      `/api/v1/namespaces/${ns}/configmaps?%zz=1`,
      `/api/v1/namespaces/${ns}/pods/x/log?container=%zz`,
    ];
    const tasks: (() => Promise<unknown>)[] = [];
    for (const method of ['GET', 'PUT', 'POST', 'PATCH', 'DELETE']) {
      const body = method === 'GET' || method === 'DELETE' ? undefined : method === 'PATCH' ? '{}' : `{"metadata":{"name":"${freshName()}"}}`;
      const contentType = method === 'PATCH' ? 'application/merge-patch+json' : undefined;
      for (const path of escapes) tasks.push(() => c.run({ method, path, body, contentType }, (res) => (res.status >= 400 && res.status < 500 ? undefined : `bad escape in the path not refused with 4xx (got ${res.status})`)));
      for (const path of inQuery) tasks.push(() => c.run({ method, path, body, contentType }));
    }
    await pool(tasks, 4);
  });

  category('bad query values', async (c, rand) => {
    const values = [
      'limit=abc',
      'limit=-1',
      'limit=1.5',
      'limit=99999999999999999999999',
      'resourceVersion=x',
      'resourceVersion=-1',
      'resourceVersionMatch=Bogus',
      'resourceVersionMatch=Exact',
      'resourceVersion=0&resourceVersionMatch=Exact',
      'timeoutSeconds=-1',
      'timeoutSeconds=abc',
      'timeoutSeconds=1e99',
      'watch=maybe',
      'watch=1&timeoutSeconds=abc',
      'watch=1&resourceVersion=x',
      'watch=1&allowWatchBookmarks=maybe',
      'watch=1&sendInitialEvents=maybe',
      'sendInitialEvents=true',
      'fieldSelector=a==b==c',
      'fieldSelector=%3Dx',
      'fieldSelector=spec.nope%3Dx',
      'fieldSelector=metadata.name',
      'fieldSelector=metadata.name%20in%20(a)',
      'fieldSelector=metadata.name%3D%3D%3D',
      'labelSelector=a%20in%20(',
      'labelSelector=!!',
      'labelSelector=a%3Db%3Dc',
      'labelSelector=app%20in%20(x,y',
      `labelSelector=${'k'.repeat(400)}%3Dv`,
      'labelSelector=%3D%3D',
      'labelSelector=a%20notin%20()',
      'continue=garbage',
      'continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6LTF9',
      'limit=1&continue=%25%25',
      'dryRun=Bogus',
      'dryRun=All&dryRun=All',
      `fieldManager=${'m'.repeat(200)}`,
      'fieldManager=%00',
      'fieldValidation=Bogus',
      'propagationPolicy=Bogus',
      'gracePeriodSeconds=abc',
      'gracePeriodSeconds=-5',
      'orphanDependents=maybe',
      'pretty=maybe',
      'force=maybe',
      'includeObject=Bogus',
      'resourceVersion=99999999999',
      'limit=',
      'watch=',
      'labelSelector=',
    ];
    const targets = ['configmaps', 'pods', 'secrets', 'serviceaccounts'].map((p) => `/api/v1/namespaces/${ns}/${p}`).concat(['/api/v1/nodes', '/api/v1/namespaces', `/apis/apps/v1/namespaces/${ns}/deployments`]);
    assert.equal((await send({ method: 'POST', path: `/api/v1/namespaces/${ns}/configmaps`, body: JSON.stringify({ metadata: { name: 'q' } }) })).status, 201);
    const tasks: (() => Promise<unknown>)[] = [];
    for (const q of values) {
      for (let i = 0; i < 10; i++) {
        const target = rand.pick(targets);
        const verb = rand.pick(['list', 'list', 'get', 'delete', 'deletecollection', 'create', 'patch', 'apply']);
        const item = `/api/v1/namespaces/${ns}/configmaps/q`;
        const req: Req =
          verb === 'list' ? { method: 'GET', path: `${target}?${q}` }
          : verb === 'get' ? { method: 'GET', path: `${item}?${q}` }
          : verb === 'delete' ? { method: 'DELETE', path: `${item}-none?${q}` }
          : verb === 'deletecollection' ? { method: 'DELETE', path: `/api/v1/namespaces/${ns}/secrets?${q}` }
          : verb === 'create' ? { method: 'POST', path: `/api/v1/namespaces/${ns}/configmaps?${q}`, body: JSON.stringify({ metadata: { name: freshName() } }) }
          : verb === 'patch' ? { method: 'PATCH', path: `${item}?${q}`, body: '{"data":{"a":"b"}}', contentType: 'application/merge-patch+json' }
          : { method: 'PATCH', path: `${item}?${q}&fieldManager=fuzz`, body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: q}\ndata: {a: b}\n', contentType: 'application/apply-patch+yaml' };
        tasks.push(() => c.run(req));
      }
    }
    await pool(tasks);
  });

  category('garbage protobuf bodies', async (c, rand) => {
    const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
    const bodies = () => {
      const n = rand.int(2000);
      switch (rand.int(5)) {
        case 0: return rand.bytes(n);
        case 1: return Buffer.concat([magic, rand.bytes(n)]);
        // An Unknown envelope whose TypeMeta claims a ConfigMap and whose raw bytes are garbage.
        case 2: return Buffer.concat([magic, Buffer.from([0x0a, 0x0e, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x09, ...Buffer.from('ConfigMap'), 0x12, 0xff, 0xff, 0x03]), rand.bytes(n)]);
        case 3: return magic;
        default: return Buffer.concat([magic, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])]);
      }
    };
    const tasks: (() => Promise<unknown>)[] = [];
    for (const r of creatable()) {
      for (let i = 0; i < 15; i++) {
        const method = rand.pick(['POST', 'PUT', 'PATCH']);
        const path = method === 'POST' ? collectionPath(r) : `${collectionPath(r)}/${freshName()}`;
        tasks.push(() => c.run({ method, path, body: bodies(), contentType: 'application/vnd.kubernetes.protobuf' }));
      }
    }
    await pool(tasks);
  });

  category('every patch type with bad documents', async (c, rand) => {
    const cm = `/api/v1/namespaces/${ns}/configmaps/patched`;
    const dep = `/apis/apps/v1/namespaces/${ns}/deployments/patched`;
    const sa = `/api/v1/namespaces/${ns}/serviceaccounts/patched`;
    const pod = `/api/v1/namespaces/${ns}/pods/patched`;
    const podSpec = { containers: [{ name: 'c', image: 'pause', ports: [{ containerPort: 80 }] }], tolerations: [{ key: 'a', operator: 'Exists' }] };
    for (const [path, body] of [
      [`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'patched', labels: { a: 'b' } }, data: { k: 'v' } }],
      [`/apis/apps/v1/namespaces/${ns}/deployments`, { metadata: { name: 'patched' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: podSpec } } }],
      [`/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'patched' } }],
      [`/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'patched', labels: { a: 'b' } }, spec: podSpec }],
    ] as const) {
      assert.equal((await send({ method: 'POST', path, body: JSON.stringify(body) })).status, 201, `create ${path}`);
    }
    const refused = (res: Res) => (res.status >= 400 ? undefined : `bad patch accepted (got ${res.status})`);
    const json = 'application/json-patch+json';
    const merge = 'application/merge-patch+json';
    const smp = 'application/strategic-merge-patch+json';
    const apply = 'application/apply-patch+yaml';
    // Documents every Kubernetes refuses: [content type, document, targets].
    const mustRefuse: [string, string, string[]][] = [
      [json, '{"op":"add"}', [cm, dep]],
      [json, '[{"op":"remove","path":"/data/missing"}]', [cm]],
      [json, '[{"op":"replace","path":"/metadata/labels/missing","value":"x"}]', [cm, sa]],
      [json, '[{"op":"move","from":"/data/missing","path":"/data/x"}]', [cm]],
      [json, '[{"op":"copy","from":"/nope/nope","path":"/data/x"}]', [cm]],
      [json, '[{"op":"test","path":"/data/k","value":"other"}]', [cm]],
      [json, '[{"op":"bogus","path":"/data/k"}]', [cm]],
      [json, '[{"op":"add","path":"data/x","value":"y"}]', [cm]],
      [json, '[{"op":"add","path":"/spec/template/spec/containers/99","value":{}}]', [dep, pod]],
      [json, '[{"op":"add","path":"/spec/template/spec/containers/-1","value":{}}]', [dep]],
      [json, '[{"op":"add","path":"/metadata/labels","value":"invalid"}]', [cm, dep, sa, pod]],
      [json, '[{"op":"replace","path":"/spec/replicas","value":"many"}]', [dep]],
      [json, '[{"op":"add","path":"/data","value":-1}]', [cm]],
      [json, '[{"op":"add"', [cm]],
      [merge, '[]', [cm, dep]],
      [merge, '1', [cm]],
      [merge, '"x"', [cm]],
      [merge, '{"metadata":{"labels":"invalid"}}', [cm, dep, sa, pod]],
      [merge, '{"data":-1}', [cm]],
      [merge, '{"data":{"k":{"nested":1}}}', [cm]],
      [merge, '{"spec":{"replicas":"many"}}', [dep]],
      [merge, '{"spec":{"template":{"spec":{"containers":"none"}}}}', [dep]],
      [merge, '{"metadata":[]}', [sa]],
      [merge, '{"metadata":{"name":"other"}}', [cm]],
      [smp, '{"metadata":{"labels":"invalid"}}', [cm, dep, sa, pod]],
      [smp, '{"$patch":"bogus"}', [cm, dep]],
      [smp, '{"spec":{"template":{"spec":{"containers":[{"$patch":"bogus","name":"c"}]}}}}', [dep]],
      [smp, '{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}', [dep]],
      [smp, '{"spec":{"template":{"spec":{"$setElementOrder/containers":"x"}}}}', [dep]],
      [smp, '{"metadata":{"$deleteFromPrimitiveList/finalizers":"x"}}', [cm]],
      [smp, '{"spec":{"$retainKeys":"x"}}', [dep]],
      [smp, '{"spec":{"$retainKeys":[1,2]}}', [dep]],
      [smp, '{"spec":{"tolerations":[{"$patch":"delete"}]}}', [pod]],
      [smp, '{"spec":{"replicas":"many"}}', [dep]],
      [smp, '{"data":-1}', [cm]],
      [smp, '[]', [cm]],
      [apply, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: patched\n', [cm]],
      [apply, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: patched\n', [cm]],
      [apply, '- a\n- b\n', [cm]],
      [apply, 'kind: ConfigMap\nmetadata: {name: patched}\n', [cm]],
      [apply, 'apiVersion: v1\nkind: Secret\nmetadata: {name: patched}\n', [cm]],
      [apply, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n', [cm]],
      [apply, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: patched}\ndata: -1\n', [cm]],
      [apply, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: patched, labels: invalid}\n', [cm]],
      [apply, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: patched}\nspec: {replicas: many}\n', [dep]],
      [apply, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: patched}\nspec: {template: {spec: {containers: [{image: x}]}}}\n', [dep]],
      [apply, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: patched}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: patched}\n', [cm]],
      [apply, '', [cm]],
      [apply, '!!binary "@@@"', [cm]],
      ['application/x-unknown-patch', '{}', [cm]],
    ];
    const tasks: (() => Promise<unknown>)[] = [];
    for (const [type, doc, targets] of mustRefuse) {
      for (const target of targets) {
        const query = type === apply ? `?fieldManager=fuzz${rand.pick(['', '&force=true'])}` : '';
        tasks.push(() => c.run({ method: 'PATCH', path: `${target}${query}`, body: doc, contentType: type }, refused));
      }
    }
    // Apply without a fieldManager is refused too.
    tasks.push(() => c.run({ method: 'PATCH', path: cm, body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: patched}\n', contentType: apply }, refused));
    // Random mutations of valid documents: any answer but a 5xx or a non-Status error is fine.
    const valid: [string, string][] = [
      [json, '[{"op":"add","path":"/metadata/labels/x","value":"y"}]'],
      [merge, '{"metadata":{"labels":{"x":"y"}},"data":{"k":"v2"}}'],
      [smp, '{"metadata":{"labels":{"x":null}}}'],
      [apply, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: patched}\ndata: {k: v3}\n'],
    ];
    for (let i = 0; i < 300; i++) {
      const [type, doc] = rand.pick(valid);
      const chars = [...doc];
      for (let m = 0; m < 1 + rand.int(3); m++) {
        const at = rand.int(chars.length);
        const op = rand.int(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, rand.pick(['{', '}', '[', ']', '"', ':', ',', '-', '1', 'x', '$', '\t', '\n', '&', '*', '!']));
        else chars[at] = rand.pick(['"', '{', '0', ' ', 'null']);
      }
      tasks.push(() => c.run({ method: 'PATCH', path: `${rand.pick([cm, cm, sa])}${type === apply ? '?fieldManager=fuzz&force=true' : ''}`, body: chars.join(''), contentType: type }));
    }
    await pool(tasks, 4);
    // What the patches left behind still decodes and holds labels as a map.
    for (const path of [cm, dep, sa, pod]) {
      const r = await send({ method: 'GET', path });
      const labels = r.status === 200 ? (JSON.parse(r.body) as { metadata: { labels?: unknown } }).metadata.labels : undefined;
      if (r.status !== 200 || (labels !== undefined && (typeof labels !== 'object' || labels === null || Array.isArray(labels)))) {
        c.add('a patch left an object that is gone or has labels that are not a map', { method: 'GET', path }, r);
      }
    }
  });

  category('prototype keys (__proto__, constructor, prototype) anywhere', async (c, rand) => {
    const marker = `polluted-${seed}`;
    const protoKeys = ['__proto__', 'constructor', 'prototype'];
    const cmPath = `/api/v1/namespaces/${ns}/configmaps`;
    assert.equal((await send({ method: 'POST', path: cmPath, body: JSON.stringify({ metadata: { name: 'proto-target' }, data: { k: 'v' } }) })).status, 201);
    assert.equal((await send({ method: 'POST', path: `/api/v1/namespaces/${ns}/serviceaccounts`, body: JSON.stringify({ metadata: { name: 'proto-target' } }) })).status, 201);
    const pollute = (key: string) => `{"${key}":{"polluted":"${marker}","toString":"x","hasOwnProperty":"x"}}`;
    const positions = (key: string) => [
      `{"metadata":${pollute(key)}}`,
      `{"metadata":{"labels":${pollute(key)}}}`,
      `{"metadata":{"annotations":${pollute(key)}}}`,
      `{"data":${pollute(key)}}`,
      `{${pollute(key).slice(1, -1)}}`,
      `{"spec":{"template":{"spec":{"containers":[{"name":"c","${key}":{"polluted":"${marker}"}}]}}}}`,
      `{"metadata":{"ownerReferences":[{"${key}":{"polluted":"${marker}"}}]}}`,
      `{"metadata":{"managedFields":[{"manager":"x","operation":"Apply","fieldsType":"FieldsV1","fieldsV1":{"f:${key}":{},"${key}":{"polluted":"${marker}"}}}]}}`,
    ];
    const targets = [`${cmPath}/proto-target`, `/api/v1/namespaces/${ns}/serviceaccounts/proto-target`, `/api/v1/namespaces/${ns}/pods/patched`, `/apis/apps/v1/namespaces/${ns}/deployments/patched`];
    const tasks: (() => Promise<unknown>)[] = [];
    for (const key of protoKeys) {
      for (const doc of positions(key)) {
        for (const type of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
          tasks.push(() => c.run({ method: 'PATCH', path: rand.pick(targets), body: doc, contentType: type }));
        }
        tasks.push(() => c.run({ method: 'PATCH', path: rand.pick(targets), body: `[{"op":"add","path":"/metadata/labels/${key}","value":"${marker}"}]`, contentType: 'application/json-patch+json' }));
        tasks.push(() => c.run({ method: 'PATCH', path: rand.pick(targets), body: `[{"op":"add","path":"/${key}/polluted","value":"${marker}"}]`, contentType: 'application/json-patch+json' }));
        tasks.push(() => c.run({ method: 'POST', path: cmPath, body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${freshName()}","labels":${pollute(key)}}}` }));
        tasks.push(() => c.run({ method: 'POST', path: cmPath, body: `{"apiVersion":"v1","kind":"ConfigMap",${pollute(key).slice(1, -1)},"metadata":{"name":"${freshName()}"}}` }));
        tasks.push(() =>
          c.run({
            method: 'PATCH',
            path: `${cmPath}/proto-target?fieldManager=fuzz&force=true`,
            body: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: proto-target\n  ${key}:\n    polluted: ${marker}\ndata:\n  ${key}:\n    polluted: ${marker}\n`,
            contentType: 'application/apply-patch+yaml',
          }),
        );
        tasks.push(() => c.run({ method: 'GET', path: `${cmPath}?${key}[polluted]=${marker}&labelSelector=${key}%3Dx` }));
        tasks.push(() => c.run({ method: 'GET', path: `${cmPath}/${key}` }));
      }
    }
    await pool(tasks, 4);
    // Data keys named like prototype properties are ordinary ConfigMap keys: stored and read back as sent.
    const body = '{"metadata":{"name":"proto-data"},"data":{"__proto__":"a","constructor":"b","prototype":"c"}}';
    const created = await c.run({ method: 'POST', path: cmPath, body }, (res) => (res.status === 201 ? undefined : `ConfigMap with data keys __proto__, constructor, prototype refused (got ${res.status})`));
    if (created.status === 201) {
      const back = await send({ method: 'GET', path: `${cmPath}/proto-data` });
      // JSON.parse makes "__proto__" an own property, as the server must have kept it.
      const got = back.status === 200 ? ((JSON.parse(back.body) as { data?: Record<string, string> }).data ?? {}) : {};
      for (const [k, v] of [['__proto__', 'a'], ['constructor', 'b'], ['prototype', 'c']] as const) {
        if (!Object.hasOwn(got, k) || got[k] !== v) c.add(`data key ${k} not read back as sent`, { method: 'GET', path: `${cmPath}/proto-data` }, back);
      }
    }
    // Nothing of the marker leaks into objects that never held it: a fresh ConfigMap and the namespace.
    assert.equal((await send({ method: 'POST', path: cmPath, body: JSON.stringify({ metadata: { name: 'after-proto', labels: { a: 'b' } } }) })).status, 201);
    for (const path of [`${cmPath}/after-proto`, `/api/v1/namespaces/${ns}`]) {
      const patched = await send({ method: 'PATCH', path, body: '{"metadata":{"labels":{"after":"x"}}}', contentType: 'application/strategic-merge-patch+json' });
      if (patched.body.includes(marker)) c.add('the prototype was polluted: a patch of an untouched object picked up the marker', { method: 'PATCH', path }, patched);
    }
  });

  test('slow clients are cut off, and meanwhile everyone else is served', async () => {
    const c = new Category('slow clients');
    const normal = await slowCluster.request('/api/v1/namespaces');
    if (normal.status !== 200) c.add('a normal request fails while slow clients hang', { method: 'GET', path: '/api/v1/namespaces' }, { ...normal, headers: {} });
    const deadline = slowStartedAt + slowClientMs;
    const outcomes = await Promise.all(
      slowClients.map(async (s) => {
        const r = await Promise.race([s.ended, new Promise<undefined>((r) => setTimeout(() => r(undefined), Math.max(0, deadline - Date.now())))]);
        return { s, r };
      }),
    );
    for (const { s, r } of outcomes) {
      const req = { method: 'RAW', path: s.what };
      if (!r) {
        c.add(`a half-sent request is still held open after ${slowClientMs / 1000} s`, req, { status: 0, headers: {}, body: '', error: 'still open' });
        continue;
      }
      // The server may close without a word, or answer; an answer must be a Status.
      const m = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(r.answer);
      if (r.answer && !m) c.add('a half-sent request got an answer that is not HTTP', req, { status: 0, headers: {}, body: r.answer.slice(0, 200) });
      if (m) {
        const status = Number(m[1]);
        const chunked = /transfer-encoding:\s*chunked/i.test(m[2]!);
        const body = chunked ? m[3]!.replace(/^[0-9a-f]+\r\n|\r\n[0-9a-f]+\r\n|\r\n0\r\n\r\n$/gi, '') : m[3]!;
        for (const p of problems({ status, headers: {}, body })) if (!(status === 504 || status === 408) || /Status/.test(p)) c.add(p, req, { status, headers: {}, body });
      }
    }
    const pid = slowCluster.pid('apiserver');
    const rss = pid ? rssOf(pid) : NaN;
    if (!pid || (await slowCluster.request('/readyz', { auth: 'none' })).status !== 200) c.add('the apiserver died with slow clients', { method: '-', path: '-' }, { status: 0, headers: {}, body: slowCluster.logs('apiserver').slice(-600) });
    if (!(rss < rssLimit)) c.add(`apiserver RSS ${(rss / 2 ** 20).toFixed(0)} MiB with slow clients`, { method: '-', path: '-' }, { status: 0, headers: {}, body: '' });
    c.assertClean();
  });

  test('everything stored decodes in client-node\'s typed lists, and the apiserver stayed up with bounded memory', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const failures: string[] = [];
    let listed = 0;
    for (const r of resources.filter((x) => x.verbs.includes('list'))) {
      const groupPart = r.group.replace(/\.k8s\.io$/, '').split('.').filter(Boolean).map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
      const apiName = `${r.group ? groupPart : 'Core'}${r.version[0]!.toUpperCase()}${r.version.slice(1)}Api`;
      const Api = (k8s as unknown as Record<string, new (...a: never[]) => k8s.ApiType>)[apiName];
      const method = r.namespaced ? `list${r.kind}ForAllNamespaces` : `list${r.kind}`;
      if (!Api) continue; // custom resources and kinds client-node has no typed API for
      const api = kc.makeApiClient(Api as never) as unknown as Record<string, (p: object) => Promise<{ items: unknown[] }>>;
      if (typeof api[method] !== 'function') continue;
      try {
        await api[method]!({});
        listed++;
      } catch (err) {
        const e = err as { message?: string; body?: string };
        failures.push(`${apiName}.${method}: ${(e.message ?? String(err)).slice(0, 300)}`);
      }
    }
    sampleRSS();
    const alive = cluster.pid('apiserver') !== undefined && (await send({ method: 'GET', path: '/readyz' })).status === 200;
    const summary = `fuzz seed ${seed}; ${listed} kinds listed; apiserver peak RSS ${(peakRSS / 2 ** 20).toFixed(0)} MiB; died during: ${crashes.join(', ') || 'nothing'}`;
    assert.deepEqual(failures, [], `stored objects that do not decode (${summary})`);
    assert.ok(listed >= 10, `too few kinds listed through typed APIs: ${summary}`);
    assert.ok(alive, `the apiserver is not serving at the end: ${summary}`);
    assert.deepEqual(crashes, [], `the apiserver died: ${summary}`);
    assert.ok(peakRSS > 0 && peakRSS < rssLimit, `apiserver RSS out of bounds: ${summary}`);
  });
});
