import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../../lib/api/core/node.js';
import { newLogger } from '../../lib/log.js';
import { renderResourceMetrics } from '../../lib/resourcemetrics/text.js';
import { ResourceMetricsScraper, scrapeTargets, usageBetween } from './scraper.js';
import { formatUsage, windowText } from './store.js';

const node = (name: string, ip: string, annotations?: Record<string, string>, port?: number): Node => ({
  metadata: { name, annotations },
  status: { addresses: [{ type: 'InternalIP', address: ip }], ...(port ? { daemonEndpoints: { kubeletEndpoint: { Port: port } } } : {}) },
});

describe('resource metrics scraper', () => {
  it('turns two readings into a CPU rate over the window and the latest working set', () => {
    const u = usageBetween({ cpuSeconds: 10, memoryBytes: 1, timestampMs: 1_000 }, { cpuSeconds: 13, memoryBytes: 5 * 1024 * 1024, timestampMs: 16_000 });
    assert.deepEqual(u, { cpuCores: 0.2, memoryBytes: 5 * 1024 * 1024, timestampMs: 16_000, windowMs: 15_000 });
    assert.deepEqual(formatUsage(u!), { cpu: '200000000n', memory: '5120Ki' });
    assert.equal(windowText(15_012), '15.012s');
    // A counter that went back (a restarted container) or no time between: no rate.
    assert.equal(usageBetween({ cpuSeconds: 10, memoryBytes: 1, timestampMs: 1_000 }, { cpuSeconds: 2, memoryBytes: 1, timestampMs: 2_000 }), undefined);
    assert.equal(usageBetween({ cpuSeconds: 1, memoryBytes: 1, timestampMs: 1_000 }, { cpuSeconds: 2, memoryBytes: 1, timestampMs: 1_000 }), undefined);
  });

  it('reads each kubelet at its address and port, and every simulated node of one simulator once', () => {
    const sim = { 'skiff.dev/simulated': 'true', 'skiff.dev/metrics-url': 'https://127.0.0.1:10260/metrics/resource' };
    const targets = scrapeTargets([node('real', '10.0.0.5'), node('other', '10.0.0.6', undefined, 11250), node('sim-0', '172.30.0.1', sim), node('sim-1', '172.30.0.2', sim)]);
    assert.deepEqual(
      targets.map((t) => [t.url.href, t.shared, t.nodes]),
      [
        ['https://10.0.0.5:10250/metrics/resource', false, ['real']],
        ['https://10.0.0.6:11250/metrics/resource', false, ['other']],
        ['https://127.0.0.1:10260/metrics/resource', true, ['sim-0', 'sim-1']],
      ],
    );
    // The annotation counts only on a simulated Node.
    assert.equal(scrapeTargets([node('n', '10.0.0.7', { 'skiff.dev/metrics-url': 'https://example.com/' })])[0]!.url.hostname, '10.0.0.7');
  });

  it('keeps the last two readings per node and gives pods their containers\' rates', async () => {
    let now = 100_000;
    let cpu = 0;
    const fetched: string[] = [];
    const scraper = new ResourceMetricsScraper({
      listNodes: async () => [node('n1', '10.0.0.5')],
      fetch: async (url) => {
        fetched.push(url.href);
        cpu += 0.5 * 15;
        const ts = now;
        return renderResourceMetrics(new Map([['', { node: { cpuSeconds: cpu * 2, memoryBytes: 1024, timestampMs: ts }, pods: [{ namespace: 'ns', name: 'p', containers: [{ name: 'c', sample: { cpuSeconds: cpu, memoryBytes: 2048, timestampMs: ts } }] }], scrapeError: false }]]));
      },
      log: newLogger('test', 0),
      now: () => now,
    });
    await scraper.scrape();
    assert.equal(scraper.nodeUsage('n1'), undefined);
    now += 15_000;
    await scraper.scrape();
    assert.deepEqual(scraper.nodeUsage('n1'), { cpuCores: 1, memoryBytes: 1024, timestampMs: now, windowMs: 15_000 });
    assert.deepEqual(scraper.podUsage('n1', 'ns', 'p'), [{ name: 'c', usage: { cpuCores: 0.5, memoryBytes: 2048, timestampMs: now, windowMs: 15_000 } }]);
    assert.deepEqual(scraper.podUsage('n1', 'ns', 'gone'), []);
    assert.equal(fetched.length, 2);
  });
});
