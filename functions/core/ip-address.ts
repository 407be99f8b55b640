/**
 * IP address literals in every notation a URL parser or `inet_aton` accepts, and whether an address
 * is a public unicast one. Used by the media policy to refuse requests to loopback, private,
 * link-local (cloud metadata), unique-local, multicast and reserved addresses — checked on the
 * address actually connected to, so DNS names that resolve to such addresses are refused too.
 */

export interface IpAddress {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

/** One IPv4 part: decimal, octal (leading 0) or hex (0x…); undefined when not a number. */
function ipv4Part(s: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]*$/.test(s)) return s.length === 2 ? 0 : Number.parseInt(s.slice(2), 16);
  if (/^0[0-7]+$/.test(s)) return Number.parseInt(s.slice(1), 8);
  if (/^(0|[1-9][0-9]*)$/.test(s)) return Number(s);
  return undefined;
}

/**
 * Parses an IPv4 literal as `inet_aton` and the WHATWG URL parser do: 1–4 dot-separated parts,
 * each decimal, octal or hex, the last one filling the remaining bytes (`127.1`, `2130706433`,
 * `0177.0.0.1`, `0x7f.0.0.1`). Undefined when the text is not an IPv4 literal.
 */
export function parseIpv4(text: string): IpAddress | undefined {
  let parts = text.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts = parts.slice(0, -1); // trailing dot
  if (parts.length === 0 || parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    const n = ipv4Part(p);
    if (n === undefined || !Number.isSafeInteger(n)) return undefined;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 256 ** (4 - nums.length)) return undefined;
  let value = last;
  for (const [i, n] of nums.entries()) value += n * 256 ** (3 - i);
  const bytes = new Uint8Array(4);
  for (let i = 3; i >= 0; i--) {
    bytes[i] = value % 256;
    value = Math.floor(value / 256);
  }
  return { family: 4, bytes };
}

/** Parses an IPv6 literal (brackets and a `%zone` allowed, embedded IPv4 tail allowed). */
export function parseIpv6(text: string): IpAddress | undefined {
  let s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(':')) return undefined;
  const words: number[] = [];
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parseHalf = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    const groups = h.split(':');
    for (const [i, g] of groups.entries()) {
      if (i === groups.length - 1 && g.includes('.')) {
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(g)) return undefined;
        const v4 = g.split('.').map(Number);
        if (v4.some((n) => n > 255)) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        out.push(Number.parseInt(g, 16));
      }
    }
    return out;
  };
  const head = parseHalf(halves[0]);
  const tail = halves.length === 2 ? parseHalf(halves[1]) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return undefined;
    words.push(...head, ...new Array<number>(fill).fill(0), ...tail);
  } else {
    if (head.length !== 8) return undefined;
    words.push(...head);
  }
  const bytes = new Uint8Array(16);
  for (const [i, w] of words.entries()) {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  }
  return { family: 6, bytes };
}

/** An IP literal in any notation (IPv6 with or without brackets); undefined for host names. */
export function parseIpAddress(host: string): IpAddress | undefined {
  return parseIpv6(host) ?? parseIpv4(host);
}

/** Canonical text: dotted decimal, or lower-case compressed IPv6 (mapped IPv4 shown as IPv4). */
export function formatIp(ip: IpAddress): string {
  const b = ip.bytes;
  if (ip.family === 4) return Array.from(b).join('.');
  const v4 = embeddedIpv4(ip);
  if (v4 && isMapped(b)) return formatIp(v4);
  const words = Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}

const isMapped = (b: Uint8Array) =>
  b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/** The IPv4 address an IPv6 address carries: mapped, compatible, NAT64 (64:ff9b::/96) or 6to4. */
function embeddedIpv4(ip: IpAddress): IpAddress | undefined {
  const b = ip.bytes;
  if (ip.family !== 6) return undefined;
  const zeros = (from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
  if (isMapped(b) || zeros(0, 12)) return { family: 4, bytes: b.slice(12, 16) };
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12))
    return { family: 4, bytes: b.slice(12, 16) };
  if (b[0] === 0x20 && b[1] === 0x02) return { family: 4, bytes: b.slice(2, 6) };
  return undefined;
}

const inV4 = (b: Uint8Array, net: [number, number, number, number], bits: number): boolean => {
  for (let i = 0; i < 4; i++) {
    const take = Math.max(0, Math.min(8, bits - 8 * i));
    if (take === 0) return true;
    const mask = (0xff << (8 - take)) & 0xff;
    if ((b[i] & mask) !== (net[i] & mask)) return false;
  }
  return true;
};

const V4_BLOCKED: Array<[[number, number, number, number], number, string]> = [
  [[0, 0, 0, 0], 8, 'an unspecified/"this network" address (0.0.0.0/8)'],
  [[10, 0, 0, 0], 8, 'a private address (10.0.0.0/8)'],
  [[100, 64, 0, 0], 10, 'a carrier-grade NAT address (100.64.0.0/10)'],
  [[127, 0, 0, 0], 8, 'a loopback address (127.0.0.0/8)'],
  [[169, 254, 0, 0], 16, 'a link-local address (169.254.0.0/16, cloud metadata)'],
  [[172, 16, 0, 0], 12, 'a private address (172.16.0.0/12)'],
  [[192, 0, 0, 0], 24, 'an IETF protocol address (192.0.0.0/24)'],
  [[192, 168, 0, 0], 16, 'a private address (192.168.0.0/16)'],
  [[198, 18, 0, 0], 15, 'a benchmarking address (198.18.0.0/15)'],
  [[224, 0, 0, 0], 4, 'a multicast address (224.0.0.0/4)'],
  [[240, 0, 0, 0], 4, 'a reserved or broadcast address (240.0.0.0/4)'],
];

/**
 * Why an address is not a public unicast address (loopback, private, CGNAT, link-local incl.
 * 169.254.169.254, unique-local, multicast, unspecified, 0/8, broadcast/reserved, and IPv6 forms
 * embedding any of those); undefined for a public address.
 */
export function nonPublicReason(ip: IpAddress): string | undefined {
  const b = ip.bytes;
  if (ip.family === 4) {
    for (const [net, bits, why] of V4_BLOCKED) if (inV4(b, net, bits)) return why;
    return undefined;
  }
  if (b.every((x) => x === 0)) return 'the unspecified address (::)';
  if (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1) return 'a loopback address (::1)';
  const v4 = embeddedIpv4(ip);
  if (v4) {
    const why = nonPublicReason(v4);
    return why ? `an IPv6 address embedding ${formatIp(v4)}, ${why}` : undefined;
  }
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return 'a link-local address (fe80::/10)';
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0xc0) return 'a site-local address (fec0::/10)';
  if ((b[0] & 0xfe) === 0xfc) return 'a unique-local address (fc00::/7)';
  if (b[0] === 0xff) return 'a multicast address (ff00::/8)';
  if (b[0] === 0x01 && b[1] === 0x00 && b.subarray(2, 8).every((x) => x === 0))
    return 'a discard-only address (100::/64)';
  return undefined;
}

/** `nonPublicReason` for an address given as text; unparsable text counts as not public. */
export function nonPublicAddressReason(text: string): string | undefined {
  const ip = parseIpAddress(text);
  if (!ip) return `"${text}" is not an IP address`;
  return nonPublicReason(ip);
}
