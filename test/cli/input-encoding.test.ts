/**
 * wideEncoding: UTF-16 and UTF-32 recognised from a file's first bytes (byte order mark, or the
 * NUL pattern of JSON whitespace and `[`/`{`), with iconv's name for each; UTF-8 is not named.
 * The CLI's message for such a file: test/cli/sources.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { wideEncoding } from '../../functions/cli/input-encoding.ts';

const utf16le = Buffer.from('\n  [{"id": 1}]', 'utf16le');
/** UTF-32 from UTF-16 of ASCII text: each 2-byte unit followed by 00 00. */
const utf32le = Buffer.concat([...utf16le].flatMap((b, i) => (i % 2 ? [] : [Buffer.from([b, 0, 0, 0])])));

describe('wideEncoding', () => {
  it('a byte order mark: UTF-16 LE/BE and UTF-32 LE/BE; iconv reads the mark, so no byte order in its name', () => {
    for (const [bytes, name, iconv] of [
      [[0xff, 0xfe, 0x5b, 0], 'UTF-16 LE', 'UTF-16'],
      [[0xfe, 0xff, 0, 0x5b], 'UTF-16 BE', 'UTF-16'],
      [[0xff, 0xfe, 0, 0], 'UTF-32 LE', 'UTF-32'],
      [[0, 0, 0xfe, 0xff], 'UTF-32 BE', 'UTF-32'],
    ] as const)
      expect(wideEncoding(Uint8Array.from(bytes))).toEqual({
        name,
        iconv,
        description: `${name} (it starts with a byte order mark)`,
      });
  });

  it('no byte order mark: the NUL pattern of whitespace and `[`, UTF-32 before UTF-16; iconv named with the byte order', () => {
    const cases: Array<[Buffer, string, string, string]> = [
      [utf16le, 'UTF-16 LE', 'UTF-16LE', 'its characters alternate with NUL bytes'],
      [Buffer.from(utf16le).swap16(), 'UTF-16 BE', 'UTF-16BE', 'its characters alternate with NUL bytes'],
      [utf32le, 'UTF-32 LE', 'UTF-32LE', 'each of its characters comes with three NUL bytes'],
      [
        Buffer.from(utf32le).swap32(),
        'UTF-32 BE',
        'UTF-32BE',
        'each of its characters comes with three NUL bytes',
      ],
    ];
    for (const [bytes, name, iconv, how] of cases)
      expect(wideEncoding(bytes)).toEqual({ name, iconv, description: `${name} (${how})` });
  });

  it('UTF-8 (with or without its BOM, led by whitespace), other bytes before the NULs, and NULs alone: not named', () => {
    expect(wideEncoding(Buffer.from('\uFEFF[{', 'utf8'))).toBeUndefined();
    expect(wideEncoding(Buffer.from('\n  [{"id": 1}]', 'utf8'))).toBeUndefined();
    expect(wideEncoding(Buffer.from([0x41, 0, 0, 0, 0x5b, 0, 0, 0]))).toBeUndefined();
    expect(wideEncoding(new Uint8Array(8))).toBeUndefined();
    expect(wideEncoding(new Uint8Array(0))).toBeUndefined();
  });
});
