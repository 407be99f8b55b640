/**
 * Notices input bytes that are not UTF-8. The readers decode with replacement (an invalid sequence
 * becomes U+FFFD, as Python's `errors="replace"` would), so an export goes on — but the user must
 * be told that the text differs from the file.
 */
import { isUtf8 } from 'node:buffer';
import { sequenceLength } from '../text/utf8.ts';

/** The report reason for input that is not UTF-8 (`at`: the first invalid byte's offset). */
export function notUtf8Reason(at: number): string {
  return `the input is not valid UTF-8 (first at byte ${at}): invalid bytes were read as U+FFFD, so some text differs from the file`;
}

/** Called with the byte offset of the first invalid sequence. */
export type InvalidUtf8 = (byteOffset: number) => void;

/** The second byte's range for a lead byte (RFC 3629: no overlong forms, surrogates or > U+10FFFF). */
function secondByteOk(lead: number, second: number): boolean {
  if (lead === 0xe0) return second >= 0xa0 && second <= 0xbf;
  if (lead === 0xed) return second >= 0x80 && second <= 0x9f;
  if (lead === 0xf0) return second >= 0x90 && second <= 0xbf;
  if (lead === 0xf4) return second >= 0x80 && second <= 0x8f;
  return (second & 0xc0) === 0x80;
}

/** The offset of the first byte of `b` that starts no valid sequence (b.length when none). */
export function firstInvalidByte(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const need = sequenceLength(b[i]);
    if (need === 0 || i + need > b.length) return i;
    if (need > 1 && !secondByteOk(b[i], b[i + 1])) return i;
    for (let k = 2; k < need; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    i += need;
  }
  return b.length;
}

/** Where the last complete sequence of `b` ends (a sequence cut by the chunk's end is carried). */
function completeEnd(b: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, b.length); back++) {
    const c = b[b.length - back];
    if ((c & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = sequenceLength(c);
    return need > back ? b.length - back : b.length;
  }
  return b.length;
}

/**
 * Passes `chunks` through unchanged, calling `onInvalid` once, with the byte offset of the first
 * sequence that is not UTF-8. Strings pass unchecked (already text). Costs one native validation
 * pass (node:buffer isUtf8) over the bytes; the offset is found by a scan of the one bad chunk.
 */
export async function* utf8Checked(
  chunks: AsyncIterable<Uint8Array | string>,
  onInvalid: InvalidUtf8,
): AsyncGenerator<Uint8Array | string> {
  let carry: Uint8Array = new Uint8Array(0);
  let offset = 0;
  let found = false;
  const check = (bytes: Uint8Array) => {
    if (!found && bytes.length > 0 && !isUtf8(bytes)) {
      found = true;
      onInvalid(offset + Math.min(firstInvalidByte(bytes), bytes.length - 1));
    }
    offset += bytes.length;
  };
  for await (const chunk of chunks) {
    if (!found && typeof chunk !== 'string') {
      const joined = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const end = completeEnd(joined);
      check(joined.subarray(0, end));
      carry = joined.subarray(end);
    }
    yield chunk;
  }
  check(carry);
}
