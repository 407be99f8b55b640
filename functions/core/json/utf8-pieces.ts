/**
 * Input bytes in pieces, and their UTF-8 text: the splitter (array-stream.ts) decodes its input
 * one bounded piece at a time, exactly as node's StringDecoder would, but faster while the input
 * is valid.
 */
import { isUtf8 } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import { sequenceLength } from '../text/utf8.ts';

/**
 * Longest piece of input decoded at once (bytes). Readers hand over chunks of up to 1 MiB; decoded
 * whole, each becomes a 1 MiB string, which V8 puts in its large-object space, freed only by a full
 * (mark-compact) collection — so peak RSS rose with the run's length (the floor at 100,000 image
 * tasks: 34 MiB of large objects at the end, 4 at the start). Pieces of 64 KiB stay in the young
 * generation and die there. An element or literal cut by a piece's end is handled as one cut by a
 * chunk's end (the exact parser for a cut number: same values, a little slower).
 */
export const DECODE_PIECE_BYTES = 64 * 1024;

/** `chunks` with every byte chunk longer than `maxBytes` cut into pieces (strings pass as they are). */
export async function* boundedChunks(
  chunks: AsyncIterable<Uint8Array | string>,
  maxBytes = DECODE_PIECE_BYTES,
): AsyncGenerator<Uint8Array | string> {
  for await (const chunk of chunks) {
    if (typeof chunk === 'string' || chunk.length <= maxBytes) yield chunk;
    else for (let off = 0; off < chunk.length; off += maxBytes) yield chunk.subarray(off, off + maxBytes);
  }
}

/**
 * Where `b` ends with the start of a sequence that is valid so far but cut by the end (the bytes
 * a decoder holds for the next piece); b.length when it ends with a complete sequence, and -1
 * when its last bytes cannot start a valid sequence.
 */
function heldFrom(b: Uint8Array): number {
  const n = b.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    if ((b[n - back] & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const lead = b[n - back];
    const need = sequenceLength(lead);
    if (need <= back) return n;
    if (need === 0) return -1;
    if (back >= 2) {
      const second = b[n - back + 1];
      const ok =
        lead === 0xe0
          ? second >= 0xa0
          : lead === 0xed
            ? second <= 0x9f
            : lead === 0xf0
              ? second >= 0x90
              : lead === 0xf4
                ? second <= 0x8f
                : true;
      if (!ok) return -1;
    }
    return n - back;
  }
  return n;
}

/**
 * UTF-8 pieces to text, giving for each piece exactly the text node's StringDecoder gives (so the
 * splitter sees the same cuts, valid input or not), but faster: while the input is valid UTF-8
 * (one native check, node:buffer isUtf8) a piece is decoded by Buffer#toString, 2-3× cheaper than
 * StringDecoder#write; from the first piece that is not, a StringDecoder takes over, fed the bytes
 * it would be holding.
 */
export class PieceDecoder {
  /** The start of a sequence cut by the previous piece's end (valid so far). */
  private held: Uint8Array | undefined;
  private fallback: StringDecoder | undefined;

  write(piece: Uint8Array): string {
    if (this.fallback) return this.fallback.write(piece);
    const bytes = this.held ? Buffer.concat([this.held, piece]) : piece;
    const end = heldFrom(bytes);
    if (end >= 0 && isUtf8(bytes.subarray(0, end))) {
      this.held = end < bytes.length ? bytes.slice(end) : undefined;
      return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8');
    }
    this.fallback = new StringDecoder('utf8');
    const before = this.held ? this.fallback.write(this.held) : '';
    this.held = undefined;
    return before + this.fallback.write(piece);
  }

  end(): string {
    if (this.fallback) return this.fallback.end();
    if (!this.held) return '';
    const last = new StringDecoder('utf8');
    return last.write(this.held) + last.end();
  }
}
