import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Logger } from '../lib/log.js';
import type { ChunkSource } from './iptables.js';
import { service, slice, testNode } from './fixtures.js';
import { Proxier, type RuleApplier, nftablesEngine } from './proxier.js';
import type { Skipped } from './rules.js';

/** FakeApplier records restores; failNext makes the next one fail. */
class FakeApplier implements RuleApplier {
  texts: string[] = [];
  jumps = 0;
  failNext = false;
  async restore(text: string): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('iptables-restore: line 3 failed');
    }
    this.texts.push(text);
  }
  async ensureJumps(): Promise<void> {
    this.jumps++;
  }
}

/** StartingApplier is an applier with begin(): each sync's restore starts before its text is built. */
class StartingApplier extends FakeApplier {
  begun: boolean[] = [];
  aborted = 0;
  begin(withJumps: boolean) {
    this.begun.push(withJumps);
    return { write: (t: string | ChunkSource) => this.restore(typeof t === 'string' ? t : [...t.chunks()].join('')), abort: () => void this.aborted++ };
  }
}

const quiet = new Logger('proxy-test', 0, () => undefined);
const settle = () => new Promise((r) => setTimeout(r, 30));

function setup() {
  const services = [service('default', 'a', '10.116.0.1', [{ port: 80, targetPort: 80, protocol: 'TCP' }]), service('default', 'b', '10.116.0.2', [{ port: 80, targetPort: 80, protocol: 'TCP' }])];
  const slices = [slice('default', 'a', [{ port: 80 }], [{ ip: '10.245.1.1' }]), slice('default', 'b', [{ port: 80 }], [{ ip: '10.245.1.2' }])];
  const applier = new FakeApplier();
  const skipped: Skipped[] = [];
  let node: typeof testNode | undefined = testNode;
  const proxier = new Proxier({
    applier,
    services: () => services,
    slices: () => slices,
    node: () => node,
    minSyncPeriodMs: 10,
    syncPeriodMs: 60_000,
    log: quiet,
    onSkipped: (s) => skipped.push(s),
  });
  return { services, slices, applier, proxier, skipped, setNode: (n: typeof testNode | undefined) => (node = n) };
}

describe('Proxier', () => {
  it('syncs in full first, then rewrites only the chains of the Service that changed', async () => {
    const { applier, proxier, services } = setup();
    proxier.start();
    await settle();
    assert.equal(applier.texts.length, 1);
    assert.match(applier.texts[0]!, /:KUBE-SVC-\S+ - \[0:0\][\s\S]*:KUBE-SVC-/, 'both Services\' chains in the full sync');
    assert.equal(applier.jumps, 1);
    proxier.onServiceChange(services[1]!);
    await settle();
    await proxier.stop();
    assert.equal(applier.texts.length, 2);
    const partial = applier.texts[1]!;
    assert.equal(partial.match(/^:KUBE-SVC-/gm)?.length, 1, 'only the changed Service\'s chain is declared');
    assert.match(partial, /default\/a cluster IP/, 'the unchanged Service keeps its KUBE-SERVICES jump');
  });

  it('changes reported while the informers are still listing wait for start(): no sync sees Services without their slices', async () => {
    const { applier, proxier, services } = setup();
    proxier.onServiceChange(services[0]!);
    proxier.onServiceChange(services[1]!);
    await settle();
    assert.equal(applier.texts.length, 0, 'nothing written before start');
    proxier.start();
    await settle();
    await proxier.stop();
    assert.equal(applier.texts.length, 1);
    assert.equal(applier.texts[0]!.match(/^:KUBE-SVC-/gm)?.length, 2, 'one full sync with both Services');
  });

  it('coalesces a burst of changes into one sync', async () => {
    const { applier, proxier, services } = setup();
    proxier.start();
    await settle();
    for (let i = 0; i < 50; i++) proxier.onServiceChange(services[i % 2]!);
    await settle();
    await proxier.stop();
    assert.equal(applier.texts.length, 2);
  });

  it('after a failed restore the next sync is a full one', async () => {
    const { applier, proxier, services } = setup();
    proxier.start();
    await settle();
    applier.failNext = true;
    proxier.onServiceChange(services[0]!);
    await settle();
    await settle();
    await proxier.stop();
    assert.equal(applier.texts.length, 2, 'the failed sync is retried');
    assert.equal(applier.texts[1]!.match(/^:KUBE-SVC-/gm)?.length, 2, 'in full');
    assert.equal(applier.jumps, 2);
  });

  it('writes nothing until its Node exists', async () => {
    const { applier, proxier, setNode } = setup();
    setNode(undefined);
    proxier.start();
    await settle();
    assert.equal(applier.texts.length, 0);
    setNode(testNode);
    proxier.onNodeChange();
    await settle();
    await proxier.stop();
    assert.equal(applier.texts.length, 1);
  });

  it('reports a Service it cannot express once, and programs the others', async () => {
    const { applier, proxier, services, skipped } = setup();
    services.push(service('default', 'six', 'fd00::1', [{ port: 80, targetPort: 80, protocol: 'TCP' }]));
    proxier.start();
    await settle();
    proxier.onServiceChange(services[2]!);
    await settle();
    await proxier.stop();
    assert.deepEqual(skipped.map((s) => s.name), ['six']);
    assert.match(applier.texts[0]!, /default\/a cluster IP/);
  });

  it('tells of queued changes and hands each successful sync\'s state to onSynced, never a failed one\'s', async () => {
    const services = [service('default', 'a', '10.116.0.1', [{ port: 80, targetPort: 80, protocol: 'TCP' }])];
    const slices = [slice('default', 'a', [{ port: 80 }], [{ ip: '10.245.1.1' }])];
    const applier = new FakeApplier();
    const synced: { services: number; full: boolean }[] = [];
    let queued = 0;
    const proxier = new Proxier({
      applier,
      services: () => services,
      slices: () => slices,
      node: () => testNode,
      minSyncPeriodMs: 10,
      syncPeriodMs: 60_000,
      log: quiet,
      onQueued: () => queued++,
      onSynced: (s) => {
        synced.push({ services: s.services.length, full: s.full });
        throw new Error('a post-sync step failing does not fail the sync');
      },
    });
    proxier.start();
    await settle();
    proxier.onServiceChange(services[0]!);
    proxier.onSliceChange(slices[0]!);
    await settle();
    applier.failNext = true;
    proxier.onServiceChange(services[0]!);
    await settle();
    await proxier.stop();
    assert.equal(queued, 3);
    assert.deepEqual(synced.slice(0, 2), [{ services: 1, full: true }, { services: 1, full: false }]);
    // The failed restore reported nothing; the full sync after it did.
    assert.deepEqual(synced.slice(2), [{ services: 1, full: true }]);
    assert.equal(proxier.syncs, 3);
  });

  it('in nftables mode: one full transaction first, then only the changed Service\'s chain and elements', async () => {
    const { services, slices } = setup();
    const applier = new FakeApplier();
    const proxier = new Proxier({ applier, services: () => services, slices: () => slices, node: () => testNode, minSyncPeriodMs: 10, syncPeriodMs: 60_000, log: quiet, engine: nftablesEngine() });
    proxier.start();
    await settle();
    assert.match(applier.texts[0]!, /^add table ip kube-proxy/);
    slices[1] = slice('default', 'b', [{ port: 80 }], [{ ip: '10.245.1.9' }]);
    proxier.onSliceChange(slices[1]);
    await settle();
    // A failed transaction changes nothing: the next sync is a full one again.
    applier.failNext = true;
    proxier.onServiceChange(services[0]!);
    await settle();
    await settle();
    await proxier.stop();
    const partial = applier.texts[1]!;
    assert.doesNotMatch(partial, /add table|default\/a/);
    assert.match(partial, /^flush chain ip kube-proxy service-\S+-default\/b\/tcp\/$/m);
    assert.match(partial, /dnat to 10\.245\.1\.9:80/);
    assert.match(partial, /delete element ip kube-proxy hairpin-endpoints \{ 10\.245\.1\.2 \. 10\.245\.1\.2 \}/);
    assert.equal(applier.texts.length, 3);
    assert.match(applier.texts[2]!, /^add table ip kube-proxy/, 'after a failure, a full sync');
  });

  it('with an applier that starts restores early, checks the jumps in the first sync\'s restore and again after a failure, never with ensureJumps', async () => {
    const { services, slices } = setup();
    const applier = new StartingApplier();
    const proxier = new Proxier({ applier, services: () => services, slices: () => slices, node: () => testNode, minSyncPeriodMs: 10, syncPeriodMs: 60_000, log: quiet });
    proxier.start();
    await settle();
    proxier.onServiceChange(services[0]!);
    await settle();
    applier.failNext = true;
    proxier.onServiceChange(services[0]!);
    await settle();
    await settle();
    await proxier.stop();
    assert.deepEqual(applier.begun, [true, false, false, true], 'jumps on the first sync, and on the full sync after the failed one');
    assert.equal(applier.jumps, 0);
    assert.equal(applier.texts.length, 3);
    assert.equal(applier.texts[2]!.match(/^:KUBE-SVC-/gm)?.length, 2, 'the sync after the failure is a full one');
  });
});
