import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { newSharedInformer } from '../controller/informer.js';
import { parseJSON } from '../machinery/json.js';
import { ClientConfig } from './kubeconfig.js';
import { ExactWatch } from './watch.js';

interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: { terminationGracePeriodSeconds?: number | bigint };
}

const int64Max = '9223372036854775807';

/**
 * A loopback apiserver stand-in: GET /api/v1/pods?watch=true answers the events a test queued for
 * the resourceVersion asked for, one JSON line each, then keeps the stream open; other paths 404.
 */
describe('ExactWatch', () => {
  let server: http.Server;
  let kc: ClientConfig;
  const watchRequests: string[] = [];
  /** streams are the lines a watch from a resourceVersion gets; 'gone' answers 410 once. */
  const streams = new Map<string, string[] | 'gone'>();
  const open = new Set<http.ServerResponse>();

  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/api/v1/pods' || url.searchParams.get('watch') !== 'true') {
        res.writeHead(404).end();
        return;
      }
      const rv = url.searchParams.get('resourceVersion') ?? '';
      watchRequests.push(rv);
      const lines = streams.get(rv);
      if (lines === 'gone') {
        streams.delete(rv);
        res.writeHead(410).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      for (const l of lines ?? []) res.write(l + '\n');
      open.add(res);
      res.on('close', () => open.delete(res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    kc = new ClientConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  });

  after(async () => {
    for (const res of open) res.destroy();
    await new Promise((r) => server.close(r));
  });

  it('delivers an int64 beyond 2^53 with every digit, and a bad line is skipped', async () => {
    streams.set('7', [
      'not json',
      `{"type":"ADDED","object":{"metadata":{"name":"a","namespace":"d","resourceVersion":"8"},"spec":{"terminationGracePeriodSeconds":${int64Max}}}}`,
    ]);
    const events: Array<[string, Obj]> = [];
    let ended: unknown = 'not yet';
    const w = new ExactWatch(kc);
    const ctl = await w.watch('/api/v1/pods', { resourceVersion: '7' }, (type, obj: Obj) => events.push([type, obj]), (err) => (ended = err));
    await waitFor(() => events.length > 0);
    ctl.abort();
    assert.equal(events.length, 1);
    assert.equal(events[0]![0], 'ADDED');
    assert.equal(events[0]![1].spec?.terminationGracePeriodSeconds, BigInt(int64Max));
    await waitFor(() => ended !== 'not yet');
    assert.equal(ended, null, 'an abort by the caller ends the watch without an error');
  });

  it('reports a non-200 answer as an error with its statusCode', async () => {
    let ended: unknown;
    const w = new ExactWatch(kc);
    await w.watch('/api/v1/nodes', {}, () => assert.fail('no event expected'), (err) => (ended = err));
    assert.equal((ended as { statusCode?: number }).statusCode, 404);
  });

  it('feeds an informer whose list and watch keep the digits, and relists after 410 Gone', async () => {
    const lists: number[] = [];
    // The list answers like RestClient.list: parsed with parseJSON.
    const listText = (rv: string): string =>
      `{"metadata":{"resourceVersion":"${rv}"},"items":[{"metadata":{"name":"listed","namespace":"d","resourceVersion":"${rv}"},"spec":{"terminationGracePeriodSeconds":${int64Max}}}]}`;
    streams.set('20', 'gone');
    streams.set('21', [`{"type":"MODIFIED","object":{"metadata":{"name":"listed","namespace":"d","resourceVersion":"22"},"spec":{"terminationGracePeriodSeconds":9007199254740993}}}`]);
    let rv = '20';
    const informer = newSharedInformer<Obj>(kc, '/api/v1/pods', async () => {
      lists.push(Number(rv));
      const out = parseJSON(listText(rv)) as { metadata: { resourceVersion: string }; items: Obj[] };
      rv = '21';
      return out;
    }, { minBackoffMs: 5, maxBackoffMs: 5 });
    const updates: Obj[] = [];
    informer.on('update', (o) => updates.push(o));
    informer.start();
    try {
      assert.equal(await informer.waitForSync(), true);
      await waitFor(() => updates.some((o) => o.metadata.resourceVersion === '22'));
      assert.deepEqual(lists, [20, 21], 'the 410 made the informer list again');
      const cached = informer.lister().get('d/listed') as Obj | undefined;
      assert.equal(cached?.spec?.terminationGracePeriodSeconds, 9007199254740993n);
      assert.equal(cached?.metadata.resourceVersion, '22');
    } finally {
      await informer.stop();
    }
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not met in time');
}
