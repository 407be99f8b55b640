import { describe, expect, it } from 'vitest';
import {
  formatIp,
  nonPublicAddressReason,
  parseIpAddress,
  parseIpv4,
} from '../../functions/core/ip-address.ts';

const v4 = (s: string) => {
  const ip = parseIpv4(s);
  return ip ? formatIp(ip) : undefined;
};

describe('IP address literals', () => {
  it('reads IPv4 in every notation inet_aton and URL parsers accept', () => {
    expect(v4('127.0.0.1')).toBe('127.0.0.1');
    expect(v4('2130706433')).toBe('127.0.0.1'); // one decimal number
    expect(v4('0177.0.0.1')).toBe('127.0.0.1'); // octal
    expect(v4('0x7f.0.0.1')).toBe('127.0.0.1'); // hex part
    expect(v4('0x7f000001')).toBe('127.0.0.1'); // one hex number
    expect(v4('017700000001')).toBe('127.0.0.1'); // one octal number
    expect(v4('127.1')).toBe('127.0.0.1'); // short form a.b
    expect(v4('127.0.1')).toBe('127.0.0.1'); // short form a.b.c
    expect(v4('169.254.43518')).toBe('169.254.169.254');
    expect(v4('10.0.0.1.')).toBe('10.0.0.1'); // trailing dot
    expect(v4('256.0.0.1')).toBeUndefined();
    expect(v4('1.2.3.4.5')).toBeUndefined();
    expect(v4('example.com')).toBeUndefined();
    expect(v4('08.0.0.1')).toBeUndefined(); // not octal, not decimal
  });

  it('reads IPv6 with compression, brackets, zones and IPv4 tails', () => {
    expect(formatIp(parseIpAddress('[::1]')!)).toBe('::1');
    expect(formatIp(parseIpAddress('0:0:0:0:0:0:0:1')!)).toBe('::1');
    expect(formatIp(parseIpAddress('fe80::1%eth0')!)).toBe('fe80::1');
    expect(formatIp(parseIpAddress('::ffff:127.0.0.1')!)).toBe('127.0.0.1');
    expect(formatIp(parseIpAddress('::ffff:7f00:1')!)).toBe('127.0.0.1');
    expect(formatIp(parseIpAddress('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(parseIpAddress('1::2::3')).toBeUndefined();
    expect(parseIpAddress('12345::1')).toBeUndefined();
  });
});

describe('public or not', () => {
  const refused: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/],
    ['2130706433', /loopback/],
    ['0177.0.0.1', /loopback/],
    ['0x7f.1', /loopback/],
    ['127.1', /loopback/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.255', /carrier-grade NAT/],
    ['169.254.169.254', /link-local/],
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /broadcast/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fe80::1', /link-local/],
    ['febf::1', /link-local/],
    ['fc00::1', /unique-local/],
    ['fd12:3456::1', /unique-local/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /embedding 127\.0\.0\.1, a loopback/],
    ['::ffff:a9fe:a9fe', /embedding 169\.254\.169\.254/],
    ['::127.0.0.1', /embedding 127\.0\.0\.1/], // IPv4-compatible
    ['64:ff9b::10.0.0.1', /embedding 10\.0\.0\.1/], // NAT64
    ['2002:c0a8:0101::1', /embedding 192\.168\.1\.1/], // 6to4
    ['[::ffff:10.0.0.1]', /private/],
  ];
  for (const [address, why] of refused) {
    it(`refuses ${address}`, () => expect(nonPublicAddressReason(address)).toMatch(why));
  }

  it('accepts public addresses, including neighbours of the private ranges', () => {
    for (const a of [
      '8.8.8.8',
      '172.15.255.255',
      '172.32.0.1',
      '100.63.255.255',
      '100.128.0.1',
      '169.253.1.1',
      '11.0.0.1',
      '2606:4700::1111',
      '::ffff:8.8.8.8',
    ]) {
      expect(nonPublicAddressReason(a), a).toBeUndefined();
    }
  });

  it('treats text that is no address as not public', () => {
    expect(nonPublicAddressReason('example.com')).toMatch(/not an IP address/);
  });
});
