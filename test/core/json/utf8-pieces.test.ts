/** Input pieces and their UTF-8 decoding (utf8-pieces.ts), alone and under the splitter. */
import { StringDecoder } from 'node:string_decoder';
import { describe, expect, it } from 'vitest';
import { splitJsonDocument } from '../../../functions/core/json/array-stream.ts';
import { boundedChunks, DECODE_PIECE_BYTES, PieceDecoder } from '../../../functions/core/json/utf8-pieces.ts';

describe('boundedChunks (input decoded in pieces that stay out of V8 large-object space)', () => {
  async function pieces(chunks: Array<Uint8Array | string>, max?: number) {
    async function* gen() {
      yield* chunks;
    }
    const out: Array<Uint8Array | string> = [];
    for await (const c of boundedChunks(gen(), max)) out.push(c);
    return out;
  }

  it('cuts byte chunks longer than the limit into pieces, in order, and passes the rest as they are', async () => {
    const big = Buffer.alloc(2 * DECODE_PIECE_BYTES + 5, 'ab');
    const small = Buffer.from('xyz');
    const out = await pieces([big, small, 'a string']);
    expect(out.map((c) => c.length)).toEqual([DECODE_PIECE_BYTES, DECODE_PIECE_BYTES, 5, 3, 8]);
    expect(Buffer.concat(out.slice(0, 3) as Uint8Array[]).equals(big)).toBe(true);
    expect(out[3]).toBe(small);
    expect(out[4]).toBe('a string');
  });

  it('the splitter yields the same elements from one chunk larger than a piece', async () => {
    // Multi-byte characters and number literals cut by piece ends, in a 200 KB array.
    const tasks = Array.from({ length: 4000 }, (_, i) => ({ id: i, t: `é€😀${i}`, x: i * 1.25, y: 0.1 }));
    const text = JSON.stringify(tasks);
    expect(Buffer.byteLength(text)).toBeGreaterThan(2 * DECODE_PIECE_BYTES);
    async function* one() {
      yield Buffer.from(text);
    }
    const elements: unknown[] = [];
    for await (const e of splitJsonDocument(one()))
      if (e.type === 'element') elements.push(JSON.parse(e.text));
    expect(elements).toEqual(tasks);
  });
});

describe('PieceDecoder (fast UTF-8 decoding with StringDecoder’s exact output per piece)', () => {
  /** Each piece's text and the end's, joined by `|` so a character decoded one piece later shows. */
  const decodeEach = (decoder: { write(b: Buffer): string; end(): string }, pieces: Buffer[]): string =>
    `${pieces.map((p) => decoder.write(p)).join('|')}|${decoder.end()}`;

  /** Every way to cut `bytes` into up to three pieces. */
  function cuts(bytes: Buffer): Buffer[][] {
    const out: Buffer[][] = [[bytes]];
    for (let a = 1; a < bytes.length; a++) {
      out.push([bytes.subarray(0, a), bytes.subarray(a)]);
      for (let b = a + 1; b < bytes.length; b++)
        out.push([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]);
    }
    return out;
  }

  const inputs: Array<[string, Buffer]> = [
    ['ASCII', Buffer.from('[{"a":1}]')],
    ['2-, 3- and 4-byte characters', Buffer.from('ß€😀\u0800\u{10ffff}x')],
    ['a byte order mark', Buffer.from('\ufeff[1]')],
    ['a lone continuation byte', Buffer.from([0x41, 0x80, 0x42])],
    ['a cut sequence before ASCII', Buffer.from([0xe2, 0x82, 0x41])],
    ['an overlong lead (0xE0 0x80)', Buffer.from([0x61, 0xe0, 0x80, 0x80, 0x62])],
    ['a surrogate (0xED 0xA0)', Buffer.from([0xed, 0xa0, 0x80, 0x63])],
    ['a lead byte past U+10FFFF (0xF5)', Buffer.from([0x31, 0xf5, 0x80, 0x32])],
    ['0xF4 0x90 (past U+10FFFF)', Buffer.from([0xf4, 0x90, 0x80, 0x80])],
    ['a sequence cut by the end', Buffer.from([0x5b, 0xf0, 0x9f, 0x98])],
    ['0xFF and 0xC0', Buffer.from([0xff, 0xc0, 0xaf, 0x7b])],
  ];
  for (const [what, bytes] of inputs) {
    it(`gives StringDecoder's text for every piece: ${what}`, () => {
      for (const pieces of cuts(bytes)) {
        expect(decodeEach(new PieceDecoder(), pieces)).toBe(decodeEach(new StringDecoder('utf8'), pieces));
      }
    });
  }

  it('decodes a valid character cut by a piece once, in the piece that completes it', () => {
    const d = new PieceDecoder();
    const euro = Buffer.from('a€b');
    expect([
      d.write(euro.subarray(0, 2)),
      d.write(euro.subarray(2, 3)),
      d.write(euro.subarray(3)),
      d.end(),
    ]).toEqual(['a', '', '€b', '']);
  });
});
