import { describe, expect, it } from 'vitest';
import {
  alphaChannel,
  decodeRle,
  encodeRle,
  maskToRle,
  RleError,
} from '../../../functions/core/brush/rle.ts';

/** docs/label-studio-behaviour.md#brush-rle worked example (test_brush.py encoder test vector). */
const EXAMPLE_VALUES = [1, 1, 1, 1, 2, 3, 5, 6, 7, 8, 4, 4, 4, 4, 4, 4, 4, 4];
const EXAMPLE_BYTES = [0, 0, 0, 18, 57, 27, 252, 96, 32, 1, 0, 6, 0, 40, 0, 192, 3, 128, 17, 56, 32];

/** Bytes from a readable bit string ("1 01 0011" …); spaces are ignored, the tail is zero-padded. */
function bits(s: string): number[] {
  const b = s.replace(/\s+/g, '');
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 8) out.push(Number.parseInt(b.slice(i, i + 8).padEnd(8, '0'), 2));
  return out;
}
const u32 = (n: number) => n.toString(2).padStart(32, '0');
/** word size 8 (7 stored) and run sizes [3, 4, 8, 16] (stored minus one). */
const LS_PARAMS = '00111 0010 0011 0111 1111';
const byte = (v: number) => v.toString(2).padStart(8, '0');

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Byte-array equality without vitest's slow element-wise diff on multi-megabyte arrays. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (!a.equals(b)) expect(a.findIndex((v, i) => v !== b[i])).toBe(-1);
}

function repeat4(mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(mask.length * 4);
  for (let i = 0; i < mask.length; i++) out.fill(mask[i], i * 4, i * 4 + 4);
  return out;
}

describe('spec worked example', () => {
  it('encodes the test vector exactly', () => {
    expect(encodeRle(EXAMPLE_VALUES)).toEqual(EXAMPLE_BYTES);
  });

  it('decodes the test vector back', () => {
    expect(Array.from(decodeRle(EXAMPLE_BYTES))).toEqual(EXAMPLE_VALUES);
    expect(Array.from(decodeRle(Uint8Array.from(EXAMPLE_BYTES)))).toEqual(EXAMPLE_VALUES);
  });

  it('has the documented block structure', () => {
    const expected = bits(
      [
        u32(18),
        LS_PARAMS,
        `1 00 011 ${byte(1)}`, // repeat, k=0, count 3 → 1×4
        ...[2, 3, 5, 6, 7, 8].map((v) => `0 00 000 ${byte(v)}`), // six literals of length 1
        `1 00 111 ${byte(4)}`, // repeat, k=0, count 7 → 4×8
      ].join(''),
    );
    expect(expected).toEqual(EXAMPLE_BYTES);
  });
});

describe('encodeRle', () => {
  it.each([
    [2, `1 00 ${(1).toString(2).padStart(3, '0')}`],
    [8, '1 00 111'],
    [9, '1 01 1000'],
    [16, '1 01 1111'],
    [17, `1 10 ${byte(16)}`],
    [256, `1 10 ${byte(255)}`],
    [257, `1 11 ${(256).toString(2).padStart(16, '0')}`],
    [65536, `1 11 ${'1'.repeat(16)}`],
  ])('uses the right size class for a run of %i', (n, block) => {
    const expected = bits(`${u32(n)} ${LS_PARAMS} ${block} ${byte(9)}`);
    const bitLen = (u32(n) + LS_PARAMS + block + byte(9)).replace(/\s+/g, '').length;
    // Quirk: an already byte-aligned stream still gets a whole zero byte of padding.
    if (bitLen % 8 === 0) expected.push(0);
    expect(encodeRle(new Array(n).fill(9))).toEqual(expected);
  });

  it('splits runs longer than 65536 into 65536-value chunks', () => {
    const enc = encodeRle(new Uint8Array(70000).fill(200));
    const chunk = `1 11 ${'1'.repeat(16)} ${byte(200)}`;
    const rest = `1 11 ${(70000 - 65536 - 1).toString(2).padStart(16, '0')} ${byte(200)}`;
    expect(enc).toEqual(bits(`${u32(70000)} ${LS_PARAMS} ${chunk} ${rest}`));
  });

  it('appends a full zero byte when the stream is already aligned', () => {
    // 53 header bits + 19 bits for a run of 20 = 72 bits, a byte boundary.
    const enc = encodeRle(new Array(20).fill(7));
    expect(enc).toHaveLength(10);
    expect(enc).toEqual([...bits(`${u32(20)} ${LS_PARAMS} 1 10 ${byte(19)} ${byte(7)}`), 0]);
    expect(Array.from(decodeRle(enc))).toEqual(new Array(20).fill(7));
  });

  it('encodes an empty array as a bare header', () => {
    expect(encodeRle([])).toEqual(bits(`${u32(0)} ${LS_PARAMS}`));
    expect(decodeRle(encodeRle([]))).toHaveLength(0);
  });

  it('rejects values that are not bytes', () => {
    expect(() => encodeRle([1, 256])).toThrow(RleError);
    expect(() => encodeRle([1.5])).toThrow(RleError);
  });
});

describe('round trips', () => {
  it.each([1, 2, 8, 9, 16, 17, 256, 257, 65535, 65536, 65537, 70000, 131073, 200000])(
    'a single run of %i values',
    (n) => {
      const values = new Uint8Array(n).fill(255);
      const dec = decodeRle(encodeRle(values));
      expect(dec.length).toBe(n);
      expect(dec.every((v) => v === 255)).toBe(true);
    },
  );

  it('long runs mixed with short ones', () => {
    const values = new Uint8Array(300000);
    values.fill(3, 10, 10 + 70000); // > 65536
    values.fill(4, 80010, 80010 + 300); // > 256
    values[200000] = 9;
    expectSameBytes(decodeRle(encodeRle(values)), values);
  });

  it('seeded random masks through maskToRle → decodeRle → alphaChannel', () => {
    const rand = mulberry32(42);
    for (let t = 0; t < 40; t++) {
      const w = 1 + Math.floor(rand() * 64);
      const h = 1 + Math.floor(rand() * 64);
      const density = rand();
      const mask = new Uint8Array(w * h);
      for (let i = 0; i < mask.length; i++)
        mask[i] = rand() < density ? (t % 2 ? 255 : Math.floor(rand() * 256)) : 0;
      const rle = maskToRle(mask);
      // The run-scaling shortcut must produce exactly what encoding the RGBA expansion gives.
      expect(rle).toEqual(encodeRle(repeat4(mask)));
      const decoded = decodeRle(rle, { maxValues: w * h * 4 });
      expectSameBytes(decoded, repeat4(mask));
      expectSameBytes(alphaChannel(decoded, w, h), mask);
    }
  });

  it('a large mostly-empty mask stays compact', () => {
    const w = 2000;
    const h = 1500;
    const mask = new Uint8Array(w * h);
    for (let y = 100; y < 900; y++) mask.fill(255, y * w + 300, y * w + 1700);
    const rle = maskToRle(mask);
    expect(rle.length).toBeLessThan(10000);
    expectSameBytes(alphaChannel(decodeRle(rle), w, h), mask);
  });
});

describe('decodeRle edge cases', () => {
  it('drops the excess of a repeat block running past num', () => {
    expect(Array.from(decodeRle(bits(`${u32(3)} ${LS_PARAMS} 1 00 111 ${byte(9)}`)))).toEqual([9, 9, 9]);
  });

  it('honours non-LS header parameters', () => {
    // word size 4 (3 stored), sizes [1, 2, 3, 4]: repeat k=1 count 2 (3×), literal k=0 count 1 (2 words).
    const rle = bits(`${u32(5)} 00011 0000 0001 0010 0011 1 01 10 1010 0 00 1 0001 1111`);
    expect(Array.from(decodeRle(rle))).toEqual([10, 10, 10, 1, 15]);
  });

  it('stores wider words as uint8', () => {
    // word size 9 (8 stored): 0x1ff → 255, as a uint8 cast wraps it.
    const rle = bits(`${u32(2)} 01000 0010 0011 0111 1111 1 00 001 111111111`);
    expect(Array.from(decodeRle(rle))).toEqual([255, 255]);
  });
});

describe('malformed RLE', () => {
  it('throws on truncated data', () => {
    for (const cut of [1, 2, 5, 10, EXAMPLE_BYTES.length - 1]) {
      expect(() => decodeRle(EXAMPLE_BYTES.slice(0, cut))).toThrow(RleError);
    }
    expect(() => decodeRle(EXAMPLE_BYTES.slice(0, 12))).toThrow(/ends while reading/);
    expect(() => decodeRle([])).toThrow(/ends while reading num/);
  });

  it('throws when a literal block runs past num', () => {
    const rle = bits(`${u32(2)} ${LS_PARAMS} 0 00 011 ${byte(1)}${byte(2)}${byte(3)}${byte(4)}`);
    expect(() => decodeRle(rle)).toThrow(RleError);
    expect(() => decodeRle(rle)).toThrow(/literal block of 4 values at 0 runs past num=2/);
  });

  it('throws on non-byte input values', () => {
    expect(() => decodeRle([0, 0, 0, 18, 256])).toThrow(/byte 4 is not a byte value/);
    expect(() => decodeRle([0, 0, -1])).toThrow(RleError);
    expect(() => decodeRle([0, 0.5])).toThrow(RleError);
    expect(() => decodeRle([0, Number.NaN])).toThrow(RleError);
  });

  it('refuses absurd counts before allocating', () => {
    // num = 2^32 − 1 > 2^31.
    expect(() => decodeRle([255, 255, 255, 255, 57, 27, 252, 0, 0])).toThrow(/more than 2\^31/);
    // A count the caller doesn't allow (e.g. bigger than width·height·4).
    expect(() => decodeRle(EXAMPLE_BYTES, { maxValues: 17 })).toThrow(/more than the allowed 17/);
    expect(Array.from(decodeRle(EXAMPLE_BYTES, { maxValues: 18 }))).toEqual(EXAMPLE_VALUES);
    // 2^30 values cannot fit in 4 blocks' worth of bits.
    expect(() => decodeRle(bits(`${u32(2 ** 30)} ${LS_PARAMS} ${'0'.repeat(100)}`))).toThrow(
      /can hold at most/,
    );
  });
});

describe('alphaChannel', () => {
  it('keeps channel 3 of row-major RGBA', () => {
    const rgba = Uint8Array.from([
      1, 2, 3, 40, 5, 6, 7, 80, 9, 10, 11, 120, 13, 14, 15, 160, 0, 0, 0, 200, 0, 0, 0, 0,
    ]);
    expect(Array.from(alphaChannel(rgba, 3, 2))).toEqual([40, 80, 120, 160, 200, 0]);
  });

  it('throws when the decoded size does not match width × height × 4', () => {
    expect(() => alphaChannel(new Uint8Array(18), 2, 2)).toThrow(RleError);
    expect(() => alphaChannel(decodeRle(EXAMPLE_BYTES), 3, 2)).toThrow(/expected 3×2×4 = 24/);
  });
});
