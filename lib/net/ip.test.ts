import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  InvalidCidrError,
  cidrContains,
  firstIPv4Cidr,
  formatIPv4Cidr,
  hostAt,
  hostIndexOf,
  ipv4ToUint32,
  isIPv6String,
  parseCIDRSloppy,
  parseIP,
  parseIPSloppy,
  parseIPv4Cidr,
  specialIPRanges,
  subnetAt,
  uint32ToIPv4,
} from './ip.js';

describe('CIDRs', () => {
  test('parseIPv4Cidr masks host bits and rejects what is not an IPv4 CIDR', () => {
    assert.equal(formatIPv4Cidr(parseIPv4Cidr('10.244.3.7/24')), '10.244.3.0/24');
    assert.equal(parseIPv4Cidr('100.64.0.0/10').size, 2 ** 22);
    assert.equal(formatIPv4Cidr(parseIPv4Cidr(' 010.096.0.0/12 ')), '10.96.0.0/12', 'leading zeros and space, as ParseCIDRSloppy reads flags');
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0/8', '256.0.0.0/8', 'fd00::/64', '::ffff:10.0.0.0/104', '10.0.0.0/8/1', '']) {
      assert.throws(() => parseIPv4Cidr(bad), InvalidCidrError, bad);
    }
  });

  test('subnetAt cuts the i-th block and stops at the end of the range', () => {
    const fallback = parseIPv4Cidr('100.64.0.0/10');
    assert.equal(formatIPv4Cidr(subnetAt(fallback, 0, 24)!), '100.64.0.0/24');
    assert.equal(formatIPv4Cidr(subnetAt(fallback, 257, 24)!), '100.65.1.0/24');
    assert.equal(formatIPv4Cidr(subnetAt(fallback, 16383, 24)!), '100.127.255.0/24');
    assert.equal(subnetAt(fallback, 16384, 24), undefined);
  });

  test('hostAt and hostIndexOf number the usable hosts of a block from 0', () => {
    const nodes = parseIPv4Cidr('172.30.0.0/16');
    assert.equal(hostAt(nodes, 0), '172.30.0.1');
    assert.equal(hostAt(nodes, 255), '172.30.1.0');
    assert.equal(hostIndexOf(nodes, '172.30.1.0'), 255);
    assert.equal(hostIndexOf(nodes, '172.30.0.0'), undefined, 'the network address is no host');
    assert.equal(hostIndexOf(nodes, '172.30.255.255'), undefined, 'nor the broadcast address');
    assert.equal(hostIndexOf(nodes, '10.0.0.1'), undefined);
  });

  test('firstIPv4Cidr skips IPv6 and empty entries of a dual-stack node', () => {
    assert.equal(formatIPv4Cidr(firstIPv4Cidr(['fd00:10:244::/64', '10.244.1.0/24'])!), '10.244.1.0/24');
    assert.equal(firstIPv4Cidr([undefined, '']), undefined);
  });
});

test('parseIP understands the IPv6 forms ParseIPSloppy does', () => {
  assert.deepEqual(parseIP('::ffff:10.1.2.3')?.slice(10), [0xff, 0xff, 10, 1, 2, 3]);
  assert.deepEqual(parseIP('2001:db8::1'), [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(parseIP('010.001.000.001')?.slice(12), [10, 1, 0, 1]);
  for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '::1.2.3', '12345::', 'fe80::1%eth0', '']) {
    assert.equal(parseIP(bad), null, bad);
  }
});

describe('parseIPSloppy', () => {
  const cases: [string, ReturnType<typeof parseIPSloppy>][] = [
    ['10.1.2.3', { family: 4, bytes: [10, 1, 2, 3] }],
    ['010.001.000.001', { family: 4, bytes: [10, 1, 0, 1] }],
    ['::ffff:10.1.2.3', { family: 4, bytes: [10, 1, 2, 3] }],
    ['::010.1.2.3', { family: 6, bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 1, 2, 3] }],
    ['2001:db8::ffff', { family: 6, bytes: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] }],
    ['::', { family: 6, bytes: new Array(16).fill(0) }],
    ['256.1.1.1', undefined],
    ['1.2.3', undefined],
    ['10.1.2.3.4', undefined],
    ['1:2:3:4:5:6:1.2.3.4:5', undefined],
    ['fe80::1%eth0', undefined],
    ['0x0a.0.0.1', undefined],
    [' 10.1.2.3', undefined],
  ];
  for (const [input, want] of cases) test(JSON.stringify(input), () => assert.deepEqual(parseIPSloppy(input), want));

  test('isIPv6String counts an IPv4-mapped address as IPv4', () => {
    assert.equal(isIPv6String('fd00::1'), true);
    assert.equal(isIPv6String('::ffff:1.2.3.4'), false);
    assert.equal(isIPv6String('1.2.3.4'), false);
    assert.equal(isIPv6String('nope'), false);
  });
});

describe('parseCIDRSloppy', () => {
  const cases: [string, number | undefined][] = [
    ['10.9.8.0/24', 24],
    ['010.9.8.0/24', 24],
    ['2001:db8::/64', 64],
    ['::ffff:10.0.0.0/104', 104],
    ['10.0.0.0/33', undefined],
    ['2001:db8::/129', undefined],
    ['10.0.0.0', undefined],
    ['10.0.0.0/', undefined],
    ['10.0.0.0/1234', undefined],
  ];
  for (const [input, prefix] of cases) test(JSON.stringify(input), () => assert.equal(parseCIDRSloppy(input)?.prefix, prefix));
});

describe('specialIPRanges', () => {
  const cases: [string, string[]][] = [
    ['0.0.0.0', ['unspecified']],
    ['0.0.0.1', []],
    ['127.0.0.1', ['loopback']],
    ['169.254.3.4', ['linkLocalUnicast']],
    ['224.0.0.251', ['linkLocalMulticast']],
    ['224.0.1.1', []],
    ['::', ['unspecified']],
    ['::1', ['loopback']],
    ['fe80::1', ['linkLocalUnicast']],
    ['ff02::fb', ['linkLocalMulticast']],
    ['ff12::fb', ['linkLocalMulticast']],
    ['10.1.2.3', []],
    ['2001:db8::1', []],
  ];
  for (const [input, want] of cases) test(input, () => assert.deepEqual(specialIPRanges(parseIPSloppy(input)!), want));
});

describe('IPv4 numbers', () => {
  test('ipv4ToUint32 and uint32ToIPv4 round-trip, and only IPv4 has a number', () => {
    for (const [s, n] of [['0.0.0.0', 0], ['10.96.0.1', 0x0a600001], ['255.255.255.255', 0xffffffff]] as const) {
      assert.equal(ipv4ToUint32(s), n);
      assert.equal(uint32ToIPv4(n), s);
    }
    assert.equal(ipv4ToUint32('::ffff:10.0.0.1'), 0x0a000001);
    assert.equal(ipv4ToUint32('fd00::1'), undefined);
    assert.equal(ipv4ToUint32('10.0.0'), undefined);
  });
});
