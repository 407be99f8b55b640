/**
 * The zip layout of `latest/<FORMAT>.zip` (core/zip-archive.ts): archives read by an independent
 * reader (yauzl), ZIP64 fields, the central directory read back, and the name rule shared with yazl.
 */
import { createHash } from 'node:crypto';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import yazl from 'yazl';
import {
  centralDirectory,
  centralDirectoryRange,
  dosDateTime,
  LS_RECORD_SHA256,
  localHeader,
  type PlacedRecord,
  readCentralDirectory,
  readLocalHeader,
  recordLength,
  ZIP_TAIL_BYTES,
  ZipLayoutError,
} from '../../functions/core/zip-archive.ts';
import { readZip } from '../helpers/zip-reader.ts';

const WHEN = new Date('2026-12-01T06:30:42Z');

/** A record for `name` holding `text` (deflated), and its metadata. */
function record(name: string, text: string | Buffer, when = WHEN) {
  const data = typeof text === 'string' ? Buffer.from(text) : text;
  const packed = deflateRawSync(data);
  const fields = {
    name,
    crc32: crc32(data),
    compressedSize: packed.length,
    size: data.length,
    method: 8 as const,
    ...dosDateTime(when),
  };
  const bytes = Buffer.concat([localHeader(fields), packed]);
  return { bytes, meta: { ...fields, recordSha256: createHash('sha256').update(bytes).digest('hex') } };
}

/** Records laid end to end and their central directory. */
function archive(records: Array<ReturnType<typeof record>>) {
  const placed: PlacedRecord[] = [];
  let offset = 0;
  for (const r of records) {
    placed.push({ ...r.meta, offset });
    offset += r.bytes.length;
  }
  return {
    bytes: Buffer.concat([...records.map((r) => r.bytes), centralDirectory(placed, offset)]),
    placed,
    cdStart: offset,
  };
}

/** The records of an archive as the pipeline reads them back: its tail, then its directory. */
function readBack(zip: Buffer) {
  const range = centralDirectoryRange(zip.subarray(Math.max(0, zip.length - ZIP_TAIL_BYTES)), zip.length);
  return readCentralDirectory(zip.subarray(range.start, range.end), range);
}

describe('zip archive layout', () => {
  it('writes an archive an independent reader reads: names (UTF-8), bytes, times, our digest field', async () => {
    const a = archive([
      record('labels/a.txt', '0 0.5 0.5 0.1 0.1\n'),
      record('labels/ü ß.txt', ''),
      record('classes.txt', 'cat\ndog\n'),
    ]);
    const entries = await readZip(a.bytes);
    expect(entries.map((e) => [e.name, e.data.toString()])).toEqual([
      ['labels/a.txt', '0 0.5 0.5 0.1 0.1\n'],
      ['labels/ü ß.txt', ''],
      ['classes.txt', 'cat\ndog\n'],
    ]);
    // 06:30:42 UTC on 2026-12-01 in DOS fields (seconds halved).
    expect(entries[0].dosTime).toBe((6 << 11) | (30 << 5) | 21);
    expect(entries[0].dosDate).toBe((46 << 9) | (12 << 5) | 1);
    expect(entries[0].extraIds).toEqual([LS_RECORD_SHA256]);
  });

  it('reads back the records it wrote, each at its offset, with its record digest', () => {
    const a = archive([record('b.txt', 'bee'), record('a.txt', 'x'.repeat(10_000))]);
    const back = readBack(a.bytes);
    expect(back).toEqual(a.placed);
    // Each record is the bytes [offset, offset + recordLength) and hashes to its digest.
    for (const r of back) {
      const bytes = a.bytes.subarray(r.offset, r.offset + recordLength(r));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(r.recordSha256);
    }
  });

  it('a record moved to another archive at another offset is still read right (no offset inside)', async () => {
    const b = record('b.txt', 'second');
    const first = archive([record('a.txt', 'first'), b]);
    const moved = archive([b, record('c.txt', 'third')]);
    expect(first.bytes.includes(b.bytes)).toBe(true);
    expect((await readZip(moved.bytes)).map((e) => [e.name, e.data.toString()])).toEqual([
      ['b.txt', 'second'],
      ['c.txt', 'third'],
    ]);
  });

  it('past 65,534 entries writes the ZIP64 end records, read by yauzl and by readCentralDirectory', async () => {
    const n = 70_000;
    const records = Array.from({ length: n }, (_, i) =>
      record(`labels/${i}.txt`, i % 7 === 0 ? `${i}\n` : ''),
    );
    const a = archive(records);
    const tail = a.bytes.subarray(a.bytes.length - 22);
    expect(tail.readUInt16LE(10)).toBe(0xffff);
    const entries = await readZip(a.bytes, { data: false });
    expect(entries.length).toBe(n);
    expect(entries[69_997].name).toBe('labels/69997.txt');
    // One entry's bytes, from the offset the ZIP64 directory gives.
    const r = readBack(a.bytes)[69_993];
    const local = a.bytes.subarray(r.offset, r.offset + recordLength(r));
    expect(inflateRawSync(local.subarray(30 + r.name.length)).toString()).toBe('69993\n');
    expect(centralDirectoryRange(a.bytes.subarray(a.bytes.length - ZIP_TAIL_BYTES), a.bytes.length)).toEqual({
      start: a.cdStart,
      end: a.bytes.length - 98,
      entries: n,
    });
    expect(readBack(a.bytes).length).toBe(n);
  });

  it('sizes and offsets past 4 GiB go to ZIP64 extra fields and come back exact', () => {
    const big = {
      name: 'images/huge.tif',
      crc32: 7,
      compressedSize: 5_000_000_000,
      size: 6_000_000_000,
      method: 8 as const,
      ...dosDateTime(WHEN),
      recordSha256: 'ab'.repeat(32),
    };
    const small = {
      name: 'z.txt',
      crc32: 9,
      compressedSize: 3,
      size: 1,
      method: 8 as const,
      ...dosDateTime(WHEN),
      recordSha256: 'cd'.repeat(32),
    };
    // The local header carries the ZIP64 sizes too (20 more bytes).
    expect(recordLength(big)).toBe(30 + big.name.length + 20 + 5_000_000_000);
    expect(localHeader(big).readUInt32LE(18)).toBe(0xffffffff);
    expect(localHeader(big).readBigUInt64LE(30 + big.name.length + 4)).toBe(6_000_000_000n);
    const placed: PlacedRecord[] = [
      { ...big, offset: 0 },
      { ...small, offset: recordLength(big) },
    ];
    const cdStart = recordLength(big) + recordLength(small);
    const cd = centralDirectory(placed, cdStart);
    // The offset of the second record (past 4 GiB) and the directory's start need ZIP64.
    const range = centralDirectoryRange(cd.subarray(cd.length - ZIP_TAIL_BYTES), cdStart + cd.length);
    expect(range).toEqual({ start: cdStart, end: cdStart + cd.length - 98, entries: 2 });
    expect(readCentralDirectory(cd.subarray(0, range.end - range.start), range)).toEqual(placed);
  });

  it('refuses to reuse an archive of another writer (yazl: no digest, data descriptors) or one cut short', async () => {
    const z = new yazl.ZipFile();
    z.addBuffer(Buffer.from('x'), 'a.txt', { mtime: WHEN });
    z.end();
    const chunks: Buffer[] = [];
    for await (const c of z.outputStream as AsyncIterable<Buffer>) chunks.push(c);
    const other = Buffer.concat(chunks);
    expect(() => readBack(other)).toThrow(ZipLayoutError);
    expect(() => readBack(other)).toThrow(/no record digest/);
    const ours = archive([record('a.txt', 'x')]).bytes;
    expect(() => readBack(ours.subarray(0, ours.length - 1))).toThrow(ZipLayoutError);
    // A comment after the end record: not our layout.
    expect(() => readBack(Buffer.concat([ours, Buffer.from('c')]))).toThrow(/no end of central directory/);
    // A directory whose records do not tile the bytes before it.
    const a = archive([record('a.txt', 'x'), record('b.txt', 'y')]);
    const range = centralDirectoryRange(a.bytes.subarray(a.bytes.length - ZIP_TAIL_BYTES), a.bytes.length);
    expect(() =>
      readCentralDirectory(a.bytes.subarray(range.start, range.end), { ...range, start: range.start + 1 }),
    ).toThrow(/records end at/);
  });

  it('DOS times: UTC fields, two-second resolution, years before 1980 clamped', () => {
    expect(dosDateTime(new Date('1980-01-01T00:00:01Z'))).toEqual({ dosTime: 0, dosDate: 33 });
    expect(dosDateTime(new Date('1970-01-01T00:00:00Z'))).toEqual({ dosTime: 0, dosDate: 33 });
    expect(dosDateTime(new Date('2107-12-31T23:59:59Z'))).toEqual({
      dosTime: (23 << 11) | (59 << 5) | 29,
      dosDate: (127 << 9) | (12 << 5) | 31,
    });
  });
});

describe('readLocalHeader', () => {
  it('reads back what localHeader wrote, ZIP64 sizes included, at an offset', () => {
    const base = {
      name: 'labels/ä b.txt',
      crc32: 0xdeadbeef,
      method: 8 as const,
      dosTime: 0x6b2f,
      dosDate: 0x5b81,
    };
    for (const sizes of [
      { size: 1234, compressedSize: 99 },
      { size: 0xffffffff, compressedSize: 0x1_0000_0005 },
    ]) {
      const header = localHeader({ ...base, ...sizes });
      const b = Buffer.concat([Buffer.from('pad'), header, Buffer.from('data')]);
      const got = readLocalHeader(b, 3);
      expect(got).toEqual({ meta: { ...base, ...sizes }, headerLength: header.length });
    }
    expect(() => readLocalHeader(Buffer.alloc(40))).toThrow(/no local file header at 0/);
    const cut = localHeader({ ...base, size: 1, compressedSize: 1 }).subarray(0, 35);
    expect(() => readLocalHeader(cut)).toThrow(/cut short/);
  });
});
