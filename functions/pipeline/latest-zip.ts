/**
 * `latest/<FORMAT>.zip` (and a snapshot's `<FORMAT>.zip`): one format's files in one archive, entries
 * in path order (core/zip-archive.ts lays out the bytes).
 *
 * Written at a cost proportional to the change: when the previous render's zip is known (its
 * manifest entry, pinned by version id), its central directory is read (two ranged GETs) and every
 * entry whose file is unchanged (same size and SHA-256 in the previous and the new manifest) keeps
 * its record, copied server-side by byte range (segments-assemble.ts: UploadPartCopy for runs
 * ≥ 5 MiB, read back and uploaded below that, the whole file put below 16 MiB). Only changed
 * files are read and deflated (their records spooled to the OS temp folder until assembled), and
 * the central directory is written anew: O(changed bytes) read and compressed, O(entries) of
 * directory. After a failed render (a repair) the previous zip is still reused in a versioned
 * bucket: the version its manifest names is unchanged whatever the key holds. Otherwise (no usable
 * previous zip: first render, a repair without versions, snapshots, an archive of another writer,
 * nothing reusable) the archive is streamed whole, each file read once.
 * A file's fresh record is read from the store only when the render did not make it: a render of
 * a project with zips deflates each small per-task file as it writes it (zip-records.ts; a fan-out
 * commit loads the records its segment workers stored), so a first zip of label files reads none.
 * A reused entry keeps the time of the render that wrote it; a new one gets this render's.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { crc32, createDeflateRaw } from 'node:zlib';
import { NotFoundError, type ObjectStore, readAll } from '../core/object-store.ts';
import { OrderedWork } from '../core/ordered-work.ts';
import type { Report } from '../core/report.ts';
import {
  centralDirectory,
  centralDirectoryRange,
  type PlacedRecord,
  readCentralDirectory,
  recordLength,
  ZIP_TAIL_BYTES,
  ZipLayoutError,
} from '../core/zip-archive.ts';
import { zipEntrySkip } from '../core/zip-entry.ts';
import type { WrittenFile } from './hashing-sink.ts';
import { type AssembleIo, assembleFile, type Piece } from './segments-assemble.ts';
import { BodySpool } from './segments-spool.ts';
import { entryName, type FreshRecord, recordFrom, recordOf } from './zip-records.ts';

/**
 * Files read and deflated at once, and the most bytes of them (by their manifest sizes) in flight:
 * each holds its deflated bytes until its turn to be written. Small files (labels, XML) are mostly
 * request latency, so many go at once; large ones (images, an aggregate result) one budget's worth.
 */
const READ_CONCURRENCY = 32;
const READ_BUDGET_BYTES = 64 * 1024 * 1024;
/**
 * Most bytes of changed files an incremental zip reads and spools before it is assembled; past it
 * the archive is streamed whole instead (one pass, nothing spooled).
 */
export const MAX_INCREMENTAL_FRESH_BYTES = 2 * 1024 * 1024 * 1024;
/** Files up to this size are read whole and deflated in one call; larger ones are streamed. */
const SMALL_FILE_BYTES = 1024 * 1024;

/** An object read for a zip does not hold the bytes its manifest entry names. */
export class ZipSourceError extends Error {
  constructor(key: string, detail: string) {
    super(`${key} does not hold the bytes the manifest names (${detail}); the zip is not written`);
    this.name = 'ZipSourceError';
  }
}

/** The previous render's zip and the files it was made of (the previous manifest's entries by path). */
export interface PreviousZip {
  zip: WrittenFile;
  files: ReadonlyMap<string, WrittenFile>;
}

/** How a zip was written, for the manifest's timings and the benchmark. */
export interface ZipStats {
  mode: 'unchanged' | 'incremental' | 'full';
  /** Why an incremental write was not possible (previous archive unusable), when it was tried. */
  fullReason?: string;
  entries: number;
  /** Entries whose record was reused from the previous archive / read, deflated and written. */
  reusedEntries: number;
  freshEntries: number;
  /** Fresh entries whose record the render made as it wrote the file (zip-records.ts): not read. */
  recordedEntries: number;
  /** Bytes of files read for fresh entries; of the previous archive read (directory, short runs). */
  sourceBytesRead: number;
  zipBytesRead: number;
  /** Archive bytes uploaded / copied server-side. */
  uploadedBytes: number;
  copiedBytes: number;
}

export interface ZipResult {
  entry: WrittenFile;
  written: boolean;
  stats: ZipStats;
}

const sameContent = (a: WrittenFile | undefined, b: WrittenFile) =>
  a !== undefined &&
  a.bytes === b.bytes &&
  a.sha256 === b.sha256 &&
  (a.sha256Of ?? '') === (b.sha256Of ?? '');

const byPath = (a: WrittenFile, b: WrittenFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * The files an archive holds, of `sorted` (in path order): a name the zip format refuses, and a
 * second path with another's entry name (`a/b` and `a\\b`), are passed to `leftOut` and left out.
 */
function zipped(
  sorted: readonly WrittenFile[],
  leftOut: (path: string, reason: string) => void,
): WrittenFile[] {
  const files: WrittenFile[] = [];
  const names = new Set<string>();
  for (const f of sorted) {
    const skip = zipEntrySkip(f.path);
    const name = entryName(f.path);
    if (skip) leftOut(f.path, skip.reason);
    else if (names.has(name))
      leftOut(f.path, `its zip entry name ${name} is another file's; it is left out of the archive`);
    else {
      names.add(name);
      files.push(f);
    }
  }
  return files;
}

/**
 * Reads `f` (the current object under its key), checks it against its manifest entry (size, and
 * SHA-256 unless that is of chunks: ZipSourceError otherwise) and deflates it into a record.
 */
async function freshRecord(store: ObjectStore, f: WrittenFile, mtime: Date): Promise<FreshRecord> {
  const r = await store.get(f.key);
  const hash = createHash('sha256');
  let record: FreshRecord;
  if (f.bytes <= SMALL_FILE_BYTES) {
    // Labels, XML: read whole and deflated in one call (a zlib stream per file cost ≈ 0.3 ms of CPU).
    const body = await readAll(r.body);
    hash.update(body);
    record = recordOf(f.path, body, mtime);
  } else {
    const deflate = createDeflateRaw();
    const data: Buffer[] = [];
    let crc = 0;
    let bytes = 0;
    deflate.on('data', (c: Buffer) => data.push(c));
    const ended = new Promise<void>((resolve, reject) => {
      deflate.on('end', resolve);
      deflate.on('error', reject);
    });
    for await (const c of r.body) {
      hash.update(c);
      crc = crc32(c, crc);
      bytes += c.length;
      if (!deflate.write(c)) await new Promise((resolve) => deflate.once('drain', resolve));
    }
    deflate.end();
    await ended;
    record = recordFrom(f.path, bytes, crc, data, mtime);
  }
  const sha256 = hash.digest('hex');
  if (record.sourceBytes !== f.bytes || (f.sha256Of !== 'chunks' && sha256 !== f.sha256))
    throw new ZipSourceError(
      f.key,
      `${record.sourceBytes} bytes, sha256 ${sha256}; the manifest names ${f.bytes} bytes, ${f.sha256}`,
    );
  return record;
}

/**
 * The previous archive's records by entry name, read from the version its manifest entry names
 * (in a versioned bucket; elsewhere the current object, whose size must be the manifest's).
 * Throws ZipLayoutError when it cannot be reused.
 */
async function previousRecords(
  store: ObjectStore,
  zip: WrittenFile,
  stats: ZipStats,
): Promise<Map<string, PlacedRecord>> {
  if (!zip.versionId) {
    const head = await store.head(zip.key);
    if (head?.size !== zip.bytes)
      throw new ZipLayoutError(
        `${zip.key} holds ${head?.size ?? 'no'} bytes, the manifest names ${zip.bytes}`,
      );
  }
  const read = async (start: number, end: number) => {
    let b: Buffer;
    try {
      b = await readAll((await store.get(zip.key, { start, end }, zip.versionId)).body);
    } catch (err) {
      if (err instanceof NotFoundError)
        throw new ZipLayoutError(`${zip.key} (version ${zip.versionId ?? 'current'}) is gone`);
      throw err;
    }
    stats.zipBytesRead += b.length;
    if (b.length !== end - start)
      throw new ZipLayoutError(`read ${b.length} bytes of ${zip.key} at ${start}, wanted ${end - start}`);
    return b;
  };
  const tailStart = Math.max(0, zip.bytes - ZIP_TAIL_BYTES);
  const range = centralDirectoryRange(await read(tailStart, zip.bytes), zip.bytes);
  const records = readCentralDirectory(await read(range.start, range.end), range);
  return new Map(records.map((r) => [r.name, r]));
}

/**
 * Zips `files` into `key`. With `previous` (the last committed render's zip and files), unchanged
 * entries are reused from it (module comment); a zip whose files all equal the previous ones is
 * returned as it was, unwritten. Entry names the zip format refuses are reported and left out.
 * Throws ZipSourceError when an object read does not match its manifest entry, and what the
 * store throws (nothing is stored then).
 */
export async function writeLatestZip(input: {
  store: ObjectStore;
  files: readonly WrittenFile[];
  key: string;
  mtime: Date;
  report: Report;
  previous?: PreviousZip;
  /** Write the zip even when its files equal the previous ones (a repair rewrites every key). */
  alwaysWrite?: boolean;
  /**
   * A file's record made by the render from the bytes the manifest names, at `mtime`
   * (ZipRecords.get); undefined: the file is read from the store.
   */
  recorded?: (f: WrittenFile) => Promise<FreshRecord | undefined>;
  /** Smallest multipart file and part (tests of the assembly use less than S3's sizes). */
  minMultipartBytes?: number;
  minPartBytes?: number;
}): Promise<ZipResult> {
  const { store, key, report, previous } = input;
  const sorted = [...input.files].sort(byPath);
  const stats: ZipStats = {
    mode: 'full',
    entries: 0,
    reusedEntries: 0,
    freshEntries: 0,
    recordedEntries: 0,
    sourceBytesRead: 0,
    zipBytesRead: 0,
    uploadedBytes: 0,
    copiedBytes: 0,
  };
  // Names the zip refuses, and a second path with the same entry name (`a/b` and `a\\b`), are
  // reported and left out — every render, also when the zip is kept as it was.
  const files = zipped(sorted, (path, reason) => report.skip({ source: `output file ${path}`, reason }));
  let alwaysWrite = input.alwaysWrite ?? false;
  // The key holds the previous zip? A zip deleted (or cut) under the key by someone else is written
  // again, also when the new bytes equal it (QA s10b F2, review s11 F3). One HEAD.
  const intact = async () => (await store.head(previous!.zip.key))?.size === previous!.zip.bytes;
  if (
    previous &&
    !alwaysWrite &&
    sorted.length === previous.files.size &&
    sorted.every((f) => sameContent(previous.files.get(f.path), f))
  ) {
    if (await intact()) {
      stats.mode = 'unchanged';
      stats.entries = stats.reusedEntries = files.length;
      return { entry: previous.zip, written: false, stats };
    }
    alwaysWrite = true;
  }
  stats.entries = files.length;
  let reusable: Map<string, PlacedRecord> | undefined;
  if (previous) {
    try {
      reusable = await previousRecords(store, previous.zip, stats);
    } catch (err) {
      if (!(err instanceof ZipLayoutError)) throw err;
      stats.fullReason = err.message;
    }
  }
  // Which path each entry of the previous zip was made of (the same rule): a record is reused only
  // for its own path, never for another path that now takes its name (review s11 F1).
  const previousPaths = new Map(
    previous
      ? zipped([...previous.files.values()].sort(byPath), () => {}).map((f) => [entryName(f.path), f.path])
      : [],
  );
  const reuseOf = (f: WrittenFile) => {
    const name = entryName(f.path);
    const r = reusable?.get(name);
    return r &&
      previousPaths.get(name) === f.path &&
      r.size === f.bytes &&
      sameContent(previous?.files.get(f.path), f)
      ? r
      : undefined;
  };
  if (reusable) {
    const fresh = files.filter((f) => !reuseOf(f));
    const freshBytes = fresh.reduce((n, f) => n + f.bytes, 0);
    if (fresh.length === files.length) stats.fullReason = 'no entry of the previous zip is reusable';
    else if (freshBytes > MAX_INCREMENTAL_FRESH_BYTES)
      stats.fullReason = `${freshBytes} bytes of changed files (more than ${MAX_INCREMENTAL_FRESH_BYTES})`;
    else
      return writeIncremental({
        ...input,
        files,
        previous: previous!,
        reuseOf,
        stats,
        alwaysWrite: alwaysWrite || !(await intact()),
      });
  }
  return writeStreamed(store, files, key, recordMaker(input, stats), stats);
}

/** Makes a file's record: the render's (input.recorded) when it has one, else read from the store. */
function recordMaker(
  input: { store: ObjectStore; mtime: Date; recorded?: (f: WrittenFile) => Promise<FreshRecord | undefined> },
  stats: ZipStats,
): (f: WrittenFile) => Promise<FreshRecord> {
  return async (f) => {
    const r = await input.recorded?.(f);
    if (r) {
      stats.recordedEntries++;
      return r;
    }
    return freshRecord(input.store, f, input.mtime);
  };
}

/** The whole archive in one pass: each file read, deflated and streamed out in order. */
async function writeStreamed(
  store: ObjectStore,
  files: readonly WrittenFile[],
  key: string,
  makeRecord: (f: WrittenFile) => Promise<FreshRecord>,
  stats: ZipStats,
): Promise<ZipResult> {
  const hash = createHash('sha256');
  let bytes = 0;
  async function* archive(): AsyncGenerator<Buffer> {
    const placed: PlacedRecord[] = [];
    const ready: FreshRecord[] = [];
    const work = new OrderedWork<FreshRecord>(
      READ_CONCURRENCY,
      (r) => {
        ready.push(r);
      },
      READ_BUDGET_BYTES,
    );
    const emit = function* (r: FreshRecord) {
      placed.push({ ...r.meta, offset: bytes });
      stats.freshEntries++;
      stats.sourceBytesRead += r.sourceBytes;
      for (const c of [r.header, ...r.data]) {
        hash.update(c);
        bytes += c.length;
        yield c;
      }
    };
    for (const f of files) {
      await work.add(() => makeRecord(f), f.bytes);
      while (ready.length) yield* emit(ready.shift()!);
    }
    await work.drain();
    while (ready.length) yield* emit(ready.shift()!);
    const cd = centralDirectory(placed, bytes);
    hash.update(cd);
    bytes += cd.length;
    yield cd;
  }
  const put = await store.putStream(key, archive(), { contentType: 'application/zip' });
  stats.uploadedBytes = bytes;
  return {
    entry: {
      path: key.slice(key.lastIndexOf('/') + 1),
      key,
      bytes,
      sha256: hash.digest('hex'),
      ...(put?.versionId ? { versionId: put.versionId } : {}),
    },
    written: true,
    stats,
  };
}

/**
 * Unchanged entries' records by range from the previous archive, changed ones read, deflated and
 * spooled, then one assembly (segments-assemble.ts) with the new central directory last.
 */
async function writeIncremental(input: {
  store: ObjectStore;
  files: readonly WrittenFile[];
  key: string;
  mtime: Date;
  previous: PreviousZip;
  reuseOf: (f: WrittenFile) => PlacedRecord | undefined;
  stats: ZipStats;
  alwaysWrite: boolean;
  recorded?: (f: WrittenFile) => Promise<FreshRecord | undefined>;
  minMultipartBytes?: number;
  minPartBytes?: number;
}): Promise<ZipResult> {
  const { store, files, key, previous, reuseOf, stats } = input;
  const makeRecord = recordMaker(input, stats);
  stats.mode = 'incremental';
  const spool = await BodySpool.create(tmpdir());
  try {
    const pieces: Piece[] = [];
    const placed: PlacedRecord[] = [];
    let offset = 0;
    // Consecutive reused records that are consecutive in the previous zip are one piece (one
    // object per run, not per entry); its digest is of its records' digests.
    let run: { start: number; end: number; digests: ReturnType<typeof createHash> } | undefined;
    const endRun = () => {
      if (run) pieces.push({ prev: { start: run.start, end: run.end }, sha256: run.digests.digest('hex') });
      run = undefined;
    };
    // Reused and fresh entries go through one ordered queue, so files keep being read a few at a
    // time across runs of reused entries.
    const work = new OrderedWork<FreshRecord | PlacedRecord>(
      READ_CONCURRENCY,
      async (r) => {
        if ('header' in r) {
          endRun();
          stats.freshEntries++;
          stats.sourceBytesRead += r.sourceBytes;
          const body = Buffer.concat([r.header, ...r.data]);
          pieces.push({ spooled: await spool.write(body), sha256: r.meta.recordSha256 });
          placed.push({ ...r.meta, offset });
          offset += body.length;
        } else {
          const from = r.offset;
          const length = recordLength(r);
          if (run?.end !== from) {
            endRun();
            run = { start: from, end: from, digests: createHash('sha256') };
          }
          run!.end += length;
          run!.digests.update(r.recordSha256);
          // The previous zip's record object, moved to its new offset (each is used once).
          r.offset = offset;
          placed.push(r);
          offset += length;
          stats.reusedEntries++;
        }
      },
      READ_BUDGET_BYTES,
    );
    for (const f of files) {
      const old = reuseOf(f);
      await work.add(old ? async () => old : () => makeRecord(f), old ? 0 : f.bytes);
    }
    await work.drain();
    endRun();
    const cd = centralDirectory(placed, offset);
    pieces.push({ bytes: cd, sha256: createHash('sha256').update(cd).digest('hex') });
    const io: AssembleIo = { readBytes: 0, reads: 0, uploadedBytes: 0, copiedBytes: 0, parts: 0 };
    const r = await assembleFile({
      store,
      key,
      path: key.slice(key.lastIndexOf('/') + 1),
      pieces,
      previous: previous.zip,
      minMultipartBytes: input.minMultipartBytes,
      minPartBytes: input.minPartBytes,
      alwaysWrite: input.alwaysWrite,
      io,
    });
    stats.zipBytesRead += io.readBytes;
    stats.uploadedBytes = io.uploadedBytes;
    stats.copiedBytes = io.copiedBytes;
    return { entry: r.entry, written: r.written, stats };
  } finally {
    await spool.dispose();
  }
}
