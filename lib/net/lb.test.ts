import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Logger } from '../log.js';
import { ensureCA, ensureServingCert } from '../pki.js';
import { parseBackend, startLoadBalancer, type RunningLoadBalancer } from './lb.js';

let dir: string;
let ca: string;
let tls: { cert: string; key: string };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-lb-test-'));
  await ensureCA(dir);
  const files = await ensureServingCert(dir, { name: 'backend', hosts: ['127.0.0.1'] });
  ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  tls = { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** backend is an HTTPS server that answers its name, and /readyz with ready's code. */
async function backend(name: string, ready = () => 200): Promise<{ port: number; close(): void }> {
  const server = https.createServer(tls, (req, res) => {
    res.writeHead(req.url === '/readyz' ? ready() : 200).end(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: '/', ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

const quiet = new Logger('lb-test', 0, () => undefined);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** until polls check (every 20 ms, up to 20 s: health checks are TLS handshakes on a loaded machine). */
async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (check()) return;
    await sleep(20);
  }
  assert.fail(`timed out waiting until ${what}`);
}

describe('apiserver load balancer', () => {
  let lb: RunningLoadBalancer | undefined;
  after(async () => lb?.stop());

  it('spreads connections over ready backends, skips unready and dead ones', async () => {
    const a = await backend('a');
    const b = await backend('b');
    let cReady = 500;
    const c = await backend('c', () => cReady);
    try {
      const running = await startLoadBalancer({ listenHost: '127.0.0.1', listenPort: 0, backends: [a, b, c].map((x) => ({ host: '127.0.0.1', port: x.port })), ca, checkIntervalMs: 50, log: quiet });
      lb = running;
      const ab = [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`].sort();
      await until('a and b are healthy and c is not', () => JSON.stringify(running.healthy().sort()) === JSON.stringify(ab));
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add(await get(running.port));
      assert.deepEqual([...seen].sort(), ['a', 'b'], 'round robin over the ready ones; c is not ready');

      // a dies: every new connection goes elsewhere at once, even before the next check.
      a.close();
      for (let i = 0; i < 6; i++) assert.equal(await get(running.port), 'b');

      // c becomes ready and b dies: c takes over.
      cReady = 200;
      await until('c is healthy', () => running.healthy().includes(`127.0.0.1:${c.port}`));
      b.close();
      for (let i = 0; i < 4; i++) assert.equal(await get(running.port), 'c');
    } finally {
      for (const x of [a, b, c]) x.close();
    }
  });

  it('adds and drops the backends it learns at run time, keeping the ones it started with', async () => {
    const a = await backend('a');
    const d = await backend('d');
    const running = await startLoadBalancer({ listenHost: '127.0.0.1', listenPort: 0, backends: [{ host: '127.0.0.1', port: a.port }], ca, checkIntervalMs: 50, log: quiet });
    try {
      running.setDiscovered([{ host: '127.0.0.1', port: d.port }]);
      const both = [`127.0.0.1:${a.port}`, `127.0.0.1:${d.port}`].sort();
      // A learned backend counts once its first check answered (the machine may be busy).
      for (let i = 0; i < 200 && running.healthy().length < 2; i++) await sleep(50);
      assert.deepEqual(running.healthy().sort(), both);
      a.close();
      for (let i = 0; i < 4; i++) assert.equal(await get(running.port), 'd', 'the learned member serves when the first one dies');
      running.setDiscovered([]);
      assert.deepEqual(running.backends(), [`127.0.0.1:${a.port}`], 'a member that left is dropped; the configured one stays');
    } finally {
      a.close();
      d.close();
      await running.stop();
    }
  });

  it('reads backends as host:port', () => {
    assert.deepEqual(parseBackend('127.0.0.1:6443'), { host: '127.0.0.1', port: 6443 });
    assert.deepEqual(parseBackend('[::1]:6443'), { host: '::1', port: 6443 });
    assert.throws(() => parseBackend('127.0.0.1'), /want host:port/);
  });
});
