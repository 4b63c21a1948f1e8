import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CidrSet, CidrSetError, ErrCIDRRangeNoCIDRsRemaining, PodIPAllocator } from './allocate.js';
import { cidrContains, parseIPv4Cidr } from './ip.js';

describe('PodIPAllocator', () => {
  test('hands out every usable address of a /24 once: never .0, the gateway .1 or the broadcast .255', () => {
    const block = parseIPv4Cidr('10.244.7.0/24');
    const a = new PodIPAllocator();
    const got = new Set<string>();
    for (let i = 0; i < 253; i++) {
      const ip = a.allocate(block);
      assert.ok(ip, `address ${i}`);
      assert.ok(cidrContains(block, ip));
      assert.ok(!got.has(ip), `${ip} handed out twice`);
      got.add(ip);
    }
    assert.equal(got.size, 253);
    for (const reserved of ['10.244.7.0', '10.244.7.1', '10.244.7.255']) assert.ok(!got.has(reserved), reserved);
    assert.equal(a.allocate(block), undefined, 'a full block has nothing left');
    a.release('10.244.7.77');
    assert.equal(a.allocate(block), '10.244.7.77', 'a released address is free again');
  });

  test('does not reuse a just-released address while others are free, and never one marked used', () => {
    const block = parseIPv4Cidr('10.244.0.0/24');
    const a = new PodIPAllocator();
    a.markUsed('10.244.0.2');
    const first = a.allocate(block);
    assert.equal(first, '10.244.0.3');
    a.release(first!);
    assert.equal(a.allocate(block), '10.244.0.4');
    assert.equal(a.size, 2);
  });
});

describe('CidrSet', () => {
  test('hands out node subnets round robin and says when none is left', () => {
    const set = new CidrSet('10.244.0.0/23', 24);
    assert.equal(set.clusterCIDR, '10.244.0.0/23');
    assert.equal(set.size, 2);
    assert.equal(set.allocateNext(), '10.244.0.0/24');
    assert.equal(set.allocateNext(), '10.244.1.0/24');
    assert.throws(() => set.allocateNext(), { name: 'CidrSetError', message: ErrCIDRRangeNoCIDRsRemaining });
    set.release('10.244.0.0/24');
    assert.equal(set.allocated, 1);
    assert.equal(set.allocateNext(), '10.244.0.0/24');
  });

  test('occupy marks every subnet a wider CIDR covers, and refuses one outside the cluster CIDR', () => {
    const set = new CidrSet('10.244.0.0/16', 24);
    set.occupy('10.244.4.0/22');
    assert.equal(set.allocated, 4);
    assert.throws(() => set.occupy('10.245.0.0/24'), { name: 'CidrSetError', message: 'cidr 10.245.0.0/24 is out the range of cluster cidr 10.244.0.0/16' });
    assert.throws(() => set.occupy('10.244.0/24'), { name: 'CidrSetError', message: 'invalid CIDR address: 10.244.0/24' });
    assert.throws(() => new CidrSet('10.0.0.0/8', 25), CidrSetError);
  });
});
