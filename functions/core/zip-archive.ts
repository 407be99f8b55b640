/**
 * The bytes of a zip archive as the pipeline writes `latest/<FORMAT>.zip` (PKWARE APPNOTE 6.3.10),
 * laid out so that a later archive can reuse an entry by byte range (pipeline/latest-zip.ts):
 * - an entry's **record** (local file header + data, no data descriptor) depends only on the
 *   entry: name, bytes, time. It names no offset, so it is valid anywhere in another archive;
 * - the central directory carries, per entry, the record's SHA-256 in an extra field of ours
 *   (`LS_RECORD_SHA256`, id 0x6c73, 32 bytes; zip readers skip unknown fields), so a reused record's
 *   digest is known without reading it;
 * - ZIP64 where the classic fields overflow: per entry for sizes ≥ 4 GiB (local + central) and
 *   offsets ≥ 4 GiB (central), and the ZIP64 end records for > 65,534 entries or a central
 *   directory past 4 GiB;
 * - names are UTF-8 (flag bit 11), times in UTC (Lambda's clock), no archive comment.
 * A zip library (yazl, used by the CLI's folder zip) writes data descriptors and keeps no digest,
 * so its records cannot be reused this way; this module is the format only, no I/O.
 */

/** The central-directory extra field id holding a record's SHA-256 (ours; 'sl' little-endian). */
export const LS_RECORD_SHA256 = 0x6c73;
const ZIP64_EXTRA = 0x0001;
const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
const FLAG_UTF8 = 0x0800;
/** Version made by: UNIX (3), spec 4.5 — so external attributes are UNIX modes (rw-r--r--). */
const MADE_BY = (3 << 8) | 45;
const FILE_MODE = (0o100644 << 16) >>> 0;
/** End of central directory (22) + ZIP64 locator (20) + ZIP64 end record (56): the archive's tail. */
export const ZIP_TAIL_BYTES = 22 + 20 + 56;

/** What a record holds and what the central directory repeats about it. */
export interface ZipRecordMeta {
  /** Entry name, `/`-separated, as stored (UTF-8). */
  name: string;
  /** CRC-32 of the uncompressed bytes. */
  crc32: number;
  /** Bytes of the data as stored (deflated or not) and uncompressed. */
  compressedSize: number;
  size: number;
  /** 8: deflate; 0: stored. */
  method: 0 | 8;
  /** MS-DOS time and date fields (2-second resolution, UTC). */
  dosTime: number;
  dosDate: number;
  /** SHA-256 (hex) of the whole record: local header + data. */
  recordSha256: string;
}

/** A record placed in an archive: where its local header starts. */
export interface PlacedRecord extends ZipRecordMeta {
  offset: number;
}

/** An archive's central directory could not be used (not ours, cut short, inconsistent). */
export class ZipLayoutError extends Error {
  constructor(detail: string) {
    super(`not a reusable ls-export zip: ${detail}`);
    this.name = 'ZipLayoutError';
  }
}

/** MS-DOS date and time of `d` in UTC (years before 1980 are written as 1980-01-01 00:00). */
export function dosDateTime(d: Date): { dosTime: number; dosDate: number } {
  if (d.getUTCFullYear() < 1980) return { dosTime: 0, dosDate: (1 << 5) | 1 };
  return {
    dosTime: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    dosDate: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

const sizes64 = (m: Pick<ZipRecordMeta, 'size' | 'compressedSize'>) =>
  m.size >= U32_MAX || m.compressedSize >= U32_MAX;

/** A record's local file header (the record is this header followed by `compressedSize` bytes). */
export function localHeader(m: Omit<ZipRecordMeta, 'recordSha256'>): Buffer {
  const name = Buffer.from(m.name);
  const z64 = sizes64(m);
  const b = Buffer.alloc(30 + name.length + (z64 ? 20 : 0));
  b.writeUInt32LE(SIG_LOCAL, 0);
  b.writeUInt16LE(z64 ? 45 : 20, 4);
  b.writeUInt16LE(FLAG_UTF8, 6);
  b.writeUInt16LE(m.method, 8);
  b.writeUInt16LE(m.dosTime, 10);
  b.writeUInt16LE(m.dosDate, 12);
  b.writeUInt32LE(m.crc32 >>> 0, 14);
  b.writeUInt32LE(z64 ? U32_MAX : m.compressedSize, 18);
  b.writeUInt32LE(z64 ? U32_MAX : m.size, 22);
  b.writeUInt16LE(name.length, 26);
  b.writeUInt16LE(z64 ? 20 : 0, 28);
  name.copy(b, 30);
  if (z64) {
    const at = 30 + name.length;
    b.writeUInt16LE(ZIP64_EXTRA, at);
    b.writeUInt16LE(16, at + 2);
    b.writeBigUInt64LE(BigInt(m.size), at + 4);
    b.writeBigUInt64LE(BigInt(m.compressedSize), at + 12);
  }
  return b;
}

/**
 * The fields of the local file header at `at` in `b` (as localHeader writes it: no data
 * descriptor; ZIP64 sizes in its extra field) and the header's length. Throws ZipLayoutError when
 * there is no local header there or it is cut short.
 */
export function readLocalHeader(
  b: Buffer,
  at = 0,
): { meta: Omit<ZipRecordMeta, 'recordSha256'>; headerLength: number } {
  if (at + 30 > b.length || b.readUInt32LE(at) !== SIG_LOCAL)
    throw new ZipLayoutError(`no local file header at ${at}`);
  const flags = b.readUInt16LE(at + 6);
  const method = b.readUInt16LE(at + 8);
  if (flags & 0x0008) throw new ZipLayoutError('a record uses a data descriptor');
  if (method !== 0 && method !== 8) throw new ZipLayoutError(`compression method ${method}`);
  const nameLength = b.readUInt16LE(at + 26);
  const extraLength = b.readUInt16LE(at + 28);
  const headerLength = 30 + nameLength + extraLength;
  if (at + headerLength > b.length) throw new ZipLayoutError(`local file header at ${at} is cut short`);
  let compressedSize = b.readUInt32LE(at + 18);
  let size = b.readUInt32LE(at + 22);
  for (let x = at + 30 + nameLength; x + 4 <= at + headerLength; ) {
    const id = b.readUInt16LE(x);
    const len = b.readUInt16LE(x + 2);
    if (id === ZIP64_EXTRA && len >= 16) {
      size = Number(b.readBigUInt64LE(x + 4));
      compressedSize = Number(b.readBigUInt64LE(x + 12));
    }
    x += 4 + len;
  }
  return {
    meta: {
      name: b.subarray(at + 30, at + 30 + nameLength).toString('utf8'),
      crc32: b.readUInt32LE(at + 14),
      compressedSize,
      size,
      method: method as 0 | 8,
      dosTime: b.readUInt16LE(at + 10),
      dosDate: b.readUInt16LE(at + 12),
    },
    headerLength,
  };
}

/** A record's length in bytes: its local header plus its data. */
export function recordLength(m: Pick<ZipRecordMeta, 'name' | 'size' | 'compressedSize'>): number {
  return 30 + Buffer.byteLength(m.name) + (sizes64(m) ? 20 : 0) + m.compressedSize;
}

/** Bytes of a record's central directory entry. */
function centralEntryLength(r: PlacedRecord): number {
  const z64Bytes = (sizes64(r) ? 16 : 0) + (r.offset >= U32_MAX ? 8 : 0);
  return 46 + Buffer.byteLength(r.name) + (z64Bytes ? 4 + z64Bytes : 0) + 4 + 32;
}

/** Writes a record's central directory entry into `b` at `at`; returns where it ends. */
function writeCentralEntry(b: Buffer, at: number, r: PlacedRecord): number {
  const z64 = sizes64(r);
  const off64 = r.offset >= U32_MAX;
  const z64Bytes = (z64 ? 16 : 0) + (off64 ? 8 : 0);
  const extra = (z64Bytes ? 4 + z64Bytes : 0) + 4 + 32;
  const nameLength = b.write(r.name, at + 46, 'utf8');
  b.writeUInt32LE(SIG_CENTRAL, at);
  b.writeUInt16LE(MADE_BY, at + 4);
  b.writeUInt16LE(z64 || off64 ? 45 : 20, at + 6);
  b.writeUInt16LE(FLAG_UTF8, at + 8);
  b.writeUInt16LE(r.method, at + 10);
  b.writeUInt16LE(r.dosTime, at + 12);
  b.writeUInt16LE(r.dosDate, at + 14);
  b.writeUInt32LE(r.crc32 >>> 0, at + 16);
  b.writeUInt32LE(z64 ? U32_MAX : r.compressedSize, at + 20);
  b.writeUInt32LE(z64 ? U32_MAX : r.size, at + 24);
  b.writeUInt16LE(nameLength, at + 28);
  b.writeUInt16LE(extra, at + 30);
  // comment length, disk number start, internal attributes: 0 (the buffer is zero-filled)
  b.writeUInt32LE(FILE_MODE, at + 38);
  b.writeUInt32LE(off64 ? U32_MAX : r.offset, at + 42);
  let x = at + 46 + nameLength;
  if (z64Bytes) {
    b.writeUInt16LE(ZIP64_EXTRA, x);
    b.writeUInt16LE(z64Bytes, x + 2);
    x += 4;
    if (z64) {
      b.writeBigUInt64LE(BigInt(r.size), x);
      b.writeBigUInt64LE(BigInt(r.compressedSize), x + 8);
      x += 16;
    }
    if (off64) {
      b.writeBigUInt64LE(BigInt(r.offset), x);
      x += 8;
    }
  }
  b.writeUInt16LE(LS_RECORD_SHA256, x);
  b.writeUInt16LE(32, x + 2);
  b.write(r.recordSha256, x + 4, 32, 'hex');
  return x + 36;
}

/**
 * The archive's end: central directory (one entry per record, in the order given) starting at
 * byte `cdOffset`, then the ZIP64 end record and locator when needed, then the end record. One
 * buffer, sized first (a million entries: ≈ 100 MB, not a million small buffers).
 */
export function centralDirectory(records: readonly PlacedRecord[], cdOffset: number): Buffer {
  let cdSize = 0;
  for (const r of records) cdSize += centralEntryLength(r);
  const z64 = records.length >= U16_MAX || cdSize >= U32_MAX || cdOffset >= U32_MAX;
  const b = Buffer.alloc(cdSize + (z64 ? 56 + 20 : 0) + 22);
  let at = 0;
  for (const r of records) at = writeCentralEntry(b, at, r);
  if (z64) {
    b.writeUInt32LE(SIG_END64, at);
    b.writeBigUInt64LE(44n, at + 4);
    b.writeUInt16LE(MADE_BY, at + 12);
    b.writeUInt16LE(45, at + 14);
    // this disk, disk with the central directory: 0
    b.writeBigUInt64LE(BigInt(records.length), at + 24);
    b.writeBigUInt64LE(BigInt(records.length), at + 32);
    b.writeBigUInt64LE(BigInt(cdSize), at + 40);
    b.writeBigUInt64LE(BigInt(cdOffset), at + 48);
    at += 56;
    b.writeUInt32LE(SIG_LOCATOR64, at);
    b.writeBigUInt64LE(BigInt(cdOffset + cdSize), at + 8);
    b.writeUInt32LE(1, at + 16);
    at += 20;
  }
  b.writeUInt32LE(SIG_END, at);
  const count = z64 ? U16_MAX : records.length;
  b.writeUInt16LE(count, at + 8);
  b.writeUInt16LE(count, at + 10);
  b.writeUInt32LE(z64 ? U32_MAX : cdSize, at + 12);
  b.writeUInt32LE(z64 ? U32_MAX : cdOffset, at + 16);
  return b;
}

/**
 * Where the central directory of an archive of `archiveBytes` bytes is, from its last bytes
 * (`tail`: the last min(ZIP_TAIL_BYTES, archiveBytes) bytes). Throws ZipLayoutError when the
 * archive does not end with an end record (a comment, another writer's layout) or the fields
 * disagree with its size.
 */
export function centralDirectoryRange(
  tail: Buffer,
  archiveBytes: number,
): { start: number; end: number; entries: number } {
  if (tail.length < 22) throw new ZipLayoutError('shorter than an end of central directory record');
  const e = tail.length - 22;
  if (tail.readUInt32LE(e) !== SIG_END)
    throw new ZipLayoutError('no end of central directory record at its end');
  let entries = tail.readUInt16LE(e + 10);
  let size = tail.readUInt32LE(e + 12);
  let start = tail.readUInt32LE(e + 16);
  let end = archiveBytes - 22;
  if (entries === U16_MAX || size === U32_MAX || start === U32_MAX) {
    const l = e - 20;
    const r = l - 56;
    if (r < 0 || tail.readUInt32LE(l) !== SIG_LOCATOR64 || tail.readUInt32LE(r) !== SIG_END64)
      throw new ZipLayoutError('ZIP64 end records missing');
    entries = Number(tail.readBigUInt64LE(r + 32));
    size = Number(tail.readBigUInt64LE(r + 40));
    start = Number(tail.readBigUInt64LE(r + 48));
    end = archiveBytes - 22 - 20 - 56;
  }
  if (start + size !== end)
    throw new ZipLayoutError(`central directory ${start}+${size} does not end at ${end}`);
  return { start, end, entries };
}

/**
 * The records named by a central directory `cd` (as centralDirectoryRange found it), in order.
 * Throws ZipLayoutError when an entry lacks the record digest (another writer's archive), uses a
 * data descriptor, or the records do not tile the bytes before the directory exactly.
 */
export function readCentralDirectory(cd: Buffer, range: { start: number; entries: number }): PlacedRecord[] {
  const out: PlacedRecord[] = [];
  let at = 0;
  for (let i = 0; i < range.entries; i++) {
    if (at + 46 > cd.length || cd.readUInt32LE(at) !== SIG_CENTRAL)
      throw new ZipLayoutError(`central directory entry ${i} is cut short or malformed`);
    const flags = cd.readUInt16LE(at + 8);
    const method = cd.readUInt16LE(at + 10);
    if (flags & 0x0008) throw new ZipLayoutError('an entry uses a data descriptor');
    if (method !== 0 && method !== 8) throw new ZipLayoutError(`compression method ${method}`);
    const nameLength = cd.readUInt16LE(at + 28);
    const extraLength = cd.readUInt16LE(at + 30);
    const commentLength = cd.readUInt16LE(at + 32);
    let compressedSize = cd.readUInt32LE(at + 20);
    let size = cd.readUInt32LE(at + 24);
    let offset = cd.readUInt32LE(at + 42);
    const name = cd.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    let recordSha256: string | undefined;
    let x = at + 46 + nameLength;
    const extraEnd = x + extraLength;
    if (extraEnd > cd.length) throw new ZipLayoutError(`central directory entry ${i} is cut short`);
    while (x + 4 <= extraEnd) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      let f = x + 4;
      if (id === ZIP64_EXTRA) {
        if (size === U32_MAX) {
          size = Number(cd.readBigUInt64LE(f));
          f += 8;
        }
        if (compressedSize === U32_MAX) {
          compressedSize = Number(cd.readBigUInt64LE(f));
          f += 8;
        }
        if (offset === U32_MAX) offset = Number(cd.readBigUInt64LE(f));
      } else if (id === LS_RECORD_SHA256 && len === 32) {
        recordSha256 = cd.subarray(f, f + 32).toString('hex');
      }
      x += 4 + len;
    }
    if (!recordSha256)
      throw new ZipLayoutError(`entry ${name} has no record digest (written by another zip writer)`);
    const { dosTime, dosDate } = { dosTime: cd.readUInt16LE(at + 12), dosDate: cd.readUInt16LE(at + 14) };
    out.push({
      name,
      crc32: cd.readUInt32LE(at + 16),
      compressedSize,
      size,
      method: method as 0 | 8,
      dosTime,
      dosDate,
      recordSha256,
      offset,
    });
    at = extraEnd + commentLength;
  }
  if (at !== cd.length) throw new ZipLayoutError('central directory longer than its entries');
  // Records laid end to end from byte 0 up to the directory: each reusable by its range.
  let next = 0;
  for (const r of out) {
    if (r.offset !== next) throw new ZipLayoutError(`record of ${r.name} at ${r.offset}, expected ${next}`);
    next += recordLength(r);
  }
  if (next !== range.start)
    throw new ZipLayoutError(`records end at ${next}, the directory starts at ${range.start}`);
  return out;
}
