import { describe, expect, it } from 'vitest';
import { decodeNpyUint8, encodeNpyUint8, NpyError } from '../../../functions/core/brush/npy.ts';

const DICT_4x6 = "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 6), }";

describe('encodeNpyUint8', () => {
  const data = Uint8Array.from({ length: 24 }, (_, i) => i * 10);
  const npy = encodeNpyUint8(data, [4, 6]);

  it('writes the v1.0 preamble byte by byte for shape (4, 6)', () => {
    // docs/label-studio-behaviour.md#brush-masks: 128-byte preamble = magic (6) + version (2) + length (2) + 118 header bytes.
    expect(npy.length).toBe(128 + 24);
    expect(Array.from(npy.subarray(0, 10))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    const header = npy.subarray(10, 128);
    const expected = Buffer.from(DICT_4x6 + ' '.repeat(118 - DICT_4x6.length - 1) + '\n', 'latin1');
    expect(expected.length).toBe(118);
    for (let i = 0; i < 118; i++) expect([i, header[i]]).toEqual([i, expected[i]]);
    expect(header.toString('latin1')).toBe(
      "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 6), }" + ' '.repeat(58) + '\n',
    );
  });

  it('follows the header with the data in row-major order', () => {
    expect(Array.from(npy.subarray(128))).toEqual(Array.from(data));
  });

  it('keeps the preamble a multiple of 64 bytes for large shapes', () => {
    const big = encodeNpyUint8(new Uint8Array(0), [0, 123456789]);
    const headerLen = big.readUInt16LE(8);
    expect((10 + headerLen) % 64).toBe(0);
    expect(big.toString('latin1', 10, 10 + headerLen)).toMatch(
      /^\{'descr': '\|u1', 'fortran_order': False, 'shape': \(0, 123456789\), \} +\n$/,
    );
    const wide = encodeNpyUint8(new Uint8Array(4000 * 4000), [4000, 4000]);
    expect(wide.readUInt16LE(8)).toBe(118);
    expect(wide.length).toBe(128 + 16_000_000);
  });

  it('rejects data that does not match the shape', () => {
    expect(() => encodeNpyUint8(new Uint8Array(5), [2, 3])).toThrow(NpyError);
    expect(() => encodeNpyUint8(new Uint8Array(0), [-1, 0])).toThrow(NpyError);
  });
});

describe('decodeNpyUint8', () => {
  it('reads back what the encoder wrote', () => {
    const data = Uint8Array.from({ length: 12 }, (_, i) => 255 - i);
    const { shape, data: back } = decodeNpyUint8(encodeNpyUint8(data, [3, 4]));
    expect(shape).toEqual([3, 4]);
    expect(Array.from(back)).toEqual(Array.from(data));
  });

  it('reads a file as numpy 2.x writes it', () => {
    // np.save(f, np.array([[0, 255, 7]], dtype=np.uint8)).
    const header = "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3), }" + ' '.repeat(58) + '\n';
    const file = Buffer.concat([
      Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]),
      Buffer.from(header, 'latin1'),
      Buffer.from([0, 255, 7]),
    ]);
    expect(encodeNpyUint8(Uint8Array.from([0, 255, 7]), [1, 3])).toEqual(file);
    expect(decodeNpyUint8(file)).toEqual({ shape: [1, 3], data: Uint8Array.from([0, 255, 7]) });
  });

  it('rejects other files', () => {
    expect(() => decodeNpyUint8(Buffer.from('not numpy'))).toThrow(NpyError);
    const npy = encodeNpyUint8(new Uint8Array(6), [2, 3]);
    expect(() => decodeNpyUint8(npy.subarray(0, npy.length - 1))).toThrow(/body has 5 bytes/);
  });
});
