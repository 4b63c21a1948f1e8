import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IndexAllocator, InvalidCidrError, PodIPAllocator, cidrContains, firstIPv4Cidr, formatCidr, hostAt, hostIndexOf, parseCidr, subnetAt } from './ipam.js';

describe('CIDRs', () => {
  test('parseCidr masks host bits and rejects what is not an IPv4 CIDR', () => {
    assert.equal(formatCidr(parseCidr('10.244.3.7/24')), '10.244.3.0/24');
    assert.equal(parseCidr('100.64.0.0/10').size, 2 ** 22);
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0/8', '256.0.0.0/8', 'fd00::/64', '10.0.0.0/8/1', '']) {
      assert.throws(() => parseCidr(bad), InvalidCidrError, bad);
    }
  });

  test('subnetAt cuts the i-th block and stops at the end of the range', () => {
    const fallback = parseCidr('100.64.0.0/10');
    assert.equal(formatCidr(subnetAt(fallback, 0, 24)!), '100.64.0.0/24');
    assert.equal(formatCidr(subnetAt(fallback, 257, 24)!), '100.65.1.0/24');
    assert.equal(formatCidr(subnetAt(fallback, 16383, 24)!), '100.127.255.0/24');
    assert.equal(subnetAt(fallback, 16384, 24), undefined);
  });

  test('hostAt and hostIndexOf number the usable hosts of a block from 0', () => {
    const nodes = parseCidr('172.30.0.0/16');
    assert.equal(hostAt(nodes, 0), '172.30.0.1');
    assert.equal(hostAt(nodes, 255), '172.30.1.0');
    assert.equal(hostIndexOf(nodes, '172.30.1.0'), 255);
    assert.equal(hostIndexOf(nodes, '172.30.0.0'), undefined, 'the network address is no host');
    assert.equal(hostIndexOf(nodes, '172.30.255.255'), undefined, 'nor the broadcast address');
    assert.equal(hostIndexOf(nodes, '10.0.0.1'), undefined);
  });

  test('firstIPv4Cidr skips IPv6 and empty entries of a dual-stack node', () => {
    assert.equal(formatCidr(firstIPv4Cidr(['fd00:10:244::/64', '10.244.1.0/24'])!), '10.244.1.0/24');
    assert.equal(firstIPv4Cidr([undefined, '']), undefined);
  });
});

describe('PodIPAllocator', () => {
  test('hands out every usable address of a /24 once: never .0, the gateway .1 or the broadcast .255', () => {
    const block = parseCidr('10.244.7.0/24');
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
    const block = parseCidr('10.244.0.0/24');
    const a = new PodIPAllocator();
    a.markUsed('10.244.0.2');
    const first = a.allocate(block);
    assert.equal(first, '10.244.0.3');
    a.release(first!);
    assert.equal(a.allocate(block), '10.244.0.4');
    assert.equal(a.size, 2);
  });
});

describe('IndexAllocator', () => {
  test('gives the preferred index when free, else the lowest free one', () => {
    const ix = new IndexAllocator(10);
    assert.equal(ix.allocate(3), 3);
    assert.equal(ix.allocate(3), 0, '3 is taken: lowest free');
    assert.equal(ix.allocate(), 1);
    assert.ok(ix.claim(7));
    assert.ok(!ix.claim(7));
    assert.ok(!ix.claim(10), 'out of range');
    ix.release(0);
    assert.equal(ix.allocate(), 0);
    // Taken now: 0, 1, 3, 7; six are left.
    for (let i = 0; i < 6; i++) assert.notEqual(ix.allocate(), undefined);
    assert.equal(ix.allocate(), undefined, 'all ten taken');
  });
});
