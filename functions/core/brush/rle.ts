/**
 * Label Studio brush RLE (docs/label-studio-behaviour.md#brush-rle): a big-endian bit stream holding a header
 * (`num` values, word size, four run-length field widths) followed by repeat / literal blocks.
 * LS masks decode to `width·height·4` RGBA bytes of which only the alpha channel matters.
 */

/** A malformed or oversized RLE payload, or a decoded buffer that doesn't fit the image. */
export class RleError extends Error {
  override name = 'RleError';
}

export interface DecodeRleOptions {
  /** Refuse payloads declaring more values than this (guards memory before allocating). */
  maxValues?: number;
  /**
   * Called with the declared value count once the header is checked, before anything is allocated
   * or decoded; throwing here refuses the payload (brush/budget.ts charges it).
   */
  beforeDecode?: (num: number) => void;
}

/** The reference reads `num` as 32 bits; anything past 2^31 is not a real mask and would not fit a buffer. */
const ABSOLUTE_MAX_VALUES = 2 ** 31;

/** MSB-first bit reader; throws instead of returning short reads. */
class BitReader {
  private pos = 0;
  private readonly totalBits: number;

  constructor(private readonly bytes: ArrayLike<number>) {
    this.totalBits = bytes.length * 8;
  }

  get remaining(): number {
    return this.totalBits - this.pos;
  }

  /** Reads `n` ≤ 32 bits as an unsigned integer (multiplication keeps bit 31 from turning the sign). */
  read(n: number, what: string): number {
    if (n > this.remaining) {
      throw new RleError(
        `RLE data ends while reading ${what} (needs ${n} bits at bit ${this.pos}, has ${this.remaining})`,
      );
    }
    let value = 0;
    let pos = this.pos;
    let left = n;
    while (left > 0) {
      const bitOffset = pos & 7;
      const avail = 8 - bitOffset;
      const take = Math.min(avail, left);
      const chunk = (this.bytes[pos >>> 3] >>> (avail - take)) & ((1 << take) - 1);
      value = value * (1 << take) + chunk;
      pos += take;
      left -= take;
    }
    this.pos = pos;
    return value;
  }
}

function assertBytes(bytes: ArrayLike<number>): void {
  // Typed byte arrays can't hold anything else; plain arrays (parsed JSON) can.
  if (bytes instanceof Uint8Array || bytes instanceof Uint8ClampedArray) return;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (!Number.isInteger(b) || b < 0 || b > 255) {
      throw new RleError(`RLE byte ${i} is not a byte value: ${String(b)}`);
    }
  }
}

/**
 * Decodes an LS brush RLE into `num` uint8 values. Like the reference, a repeat block running past
 * `num` is cut short; unlike it, every malformed case is a typed error (the reference crashes on a
 * literal block past `num`, and on a read that finds no bits left).
 */
export function decodeRle(bytes: ArrayLike<number>, options: DecodeRleOptions = {}): Uint8Array {
  assertBytes(bytes);
  const reader = new BitReader(bytes);
  const num = reader.read(32, 'num');
  const wordSize = reader.read(5, 'word size') + 1;
  const rleSizes = [0, 0, 0, 0];
  for (let k = 0; k < 4; k++) rleSizes[k] = reader.read(4, 'run-length sizes') + 1;

  if (num > ABSOLUTE_MAX_VALUES) throw new RleError(`RLE declares ${num} values, more than 2^31`);
  if (options.maxValues !== undefined && num > options.maxValues) {
    throw new RleError(`RLE declares ${num} values, more than the allowed ${options.maxValues}`);
  }
  // Every block costs at least 3 + smallest size + one word bits and yields at most 2^largest size
  // values: reject impossible counts before allocating a huge buffer for a tiny payload.
  const minBlockBits = 3 + Math.min(...rleSizes) + wordSize;
  const capacity = Math.floor(reader.remaining / minBlockBits) * 2 ** Math.max(...rleSizes);
  if (num > capacity) {
    throw new RleError(
      `RLE declares ${num} values but its ${bytes.length} bytes can hold at most ${capacity}`,
    );
  }
  options.beforeDecode?.(num);

  const out = new Uint8Array(num);
  let i = 0;
  while (i < num) {
    const repeat = reader.read(1, 'block flag');
    const size = rleSizes[reader.read(2, 'block size selector')];
    const length = reader.read(size, 'block length') + 1;
    if (repeat) {
      // Values are stored as uint8; LS words are 8 bits, wider words wrap as a uint8 cast would.
      const value = reader.read(wordSize, 'repeated word') & 0xff;
      const end = Math.min(i + length, num);
      out.fill(value, i, end);
      i = end;
    } else {
      if (i + length > num) {
        throw new RleError(`RLE literal block of ${length} values at ${i} runs past num=${num}`);
      }
      for (const end = i + length; i < end; i++) out[i] = reader.read(wordSize, 'literal word') & 0xff;
    }
  }
  return out;
}

/** Growable MSB-first bit writer. */
class BitWriter {
  private buf = new Uint8Array(64);
  private bitLen = 0;

  /** Appends the low `n` ≤ 32 bits of the unsigned `value`, most significant first. */
  write(value: number, n: number): void {
    if (n > 16) {
      // Split so the shifts below never touch bit 31 (32-bit `num` must stay unsigned).
      this.write(Math.floor(value / 65536), n - 16);
      this.write(value % 65536, 16);
      return;
    }
    this.ensure(n);
    let left = n;
    while (left > 0) {
      const free = 8 - (this.bitLen & 7);
      const take = Math.min(free, left);
      const chunk = (value >>> (left - take)) & ((1 << take) - 1);
      this.buf[this.bitLen >>> 3] |= chunk << (free - take);
      this.bitLen += take;
      left -= take;
    }
  }

  get length(): number {
    return this.bitLen;
  }

  toArray(): number[] {
    return Array.from(this.buf.subarray(0, Math.ceil(this.bitLen / 8)));
  }

  private ensure(n: number): void {
    const needed = Math.ceil((this.bitLen + n) / 8);
    if (needed <= this.buf.length) return;
    const next = new Uint8Array(Math.max(needed, this.buf.length * 2));
    next.set(this.buf);
    this.buf = next;
  }
}

const MAX_CHUNK = 65536;

/** Emits one run with the reference encoder's size classes (word size 8, sizes [3, 4, 8, 16]). */
function writeRun(w: BitWriter, length: number, value: number): void {
  if (length === 1) {
    w.write(0b000000, 6); // literal, size class 0, count 0
  } else if (length <= 8) {
    w.write(0b100, 3);
    w.write(length - 1, 3);
  } else if (length <= 16) {
    w.write(0b101, 3);
    w.write(length - 1, 4);
  } else if (length <= 256) {
    w.write(0b110, 3);
    w.write(length - 1, 8);
  } else {
    let left = length;
    while (left > MAX_CHUNK) {
      w.write(0b111, 3);
      w.write(0xffff, 16);
      w.write(value, 8);
      left -= MAX_CHUNK;
    }
    w.write(0b111, 3);
    w.write(left - 1, 16);
  }
  w.write(value, 8);
}

/** Encodes runs given as (length, value) pairs totalling `num` values. */
function encodeRuns(num: number, runs: (emit: (length: number, value: number) => void) => void): number[] {
  if (num >= 2 ** 32) throw new RleError(`cannot encode ${num} values: num is a 32-bit field`);
  const w = new BitWriter();
  w.write(num, 32);
  w.write(8 - 1, 5);
  for (const size of [3, 4, 8, 16]) w.write(size - 1, 4);
  runs((length, value) => writeRun(w, length, value));
  // Quirk of the reference: pads 8 - len % 8 bits, i.e. a whole zero byte when already aligned.
  w.write(0, 8 - (w.length % 8));
  return w.toArray();
}

function checkByte(v: number, i: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new RleError(`value ${i} is not a byte: ${String(v)}`);
  return v;
}

/** The reference `encode_rle` (import side; used for fixtures and tests). Values must be bytes. */
export function encodeRle(values: ArrayLike<number>): number[] {
  const n = values.length;
  return encodeRuns(n, (emit) => {
    let start = 0;
    while (start < n) {
      const v = checkByte(values[start], start);
      let end = start + 1;
      while (end < n && values[end] === v) end++;
      emit(end - start, v);
      start = end;
    }
  });
}

/**
 * `mask2rle`: every mask byte repeated 4× (RGBA all equal), then encoded. Runs are computed on the
 * mask and scaled by 4 so a 4000×4000 mask never materialises its 64 MB RGBA expansion.
 */
export function maskToRle(mask: Uint8Array): number[] {
  const n = mask.length;
  return encodeRuns(n * 4, (emit) => {
    let start = 0;
    while (start < n) {
      const v = mask[start];
      let end = start + 1;
      while (end < n && mask[end] === v) end++;
      emit((end - start) * 4, v);
      start = end;
    }
  });
}

/** Channel 3 (alpha) of a decoded row-major RGBA buffer, as H×W bytes. */
export function alphaChannel(decoded: Uint8Array, width: number, height: number): Uint8Array {
  const pixels = width * height;
  if (decoded.length !== pixels * 4) {
    throw new RleError(
      `decoded RLE has ${decoded.length} values, expected ${width}×${height}×4 = ${pixels * 4}`,
    );
  }
  const out = new Uint8Array(pixels);
  for (let p = 0, i = 3; p < pixels; p++, i += 4) out[p] = decoded[i];
  return out;
}
