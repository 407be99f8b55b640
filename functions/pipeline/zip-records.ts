/**
 * Zip records made while a render writes `latest/<FORMAT>/`, so `latest/<FORMAT>.zip` need not read
 * the files back (pipeline/latest-zip.ts): each small per-task file (≤ the PublishSink's compare
 * size: labels, VOC XML, masks, small copied media) is deflated into its record (local header +
 * data, core/zip-archive.ts) the moment its final bytes are known, written or carried over, and
 * appended to one local file per format (Lambda: /tmp). The zip writer takes a file's record from
 * here when it was made from the bytes the manifest names (same size and SHA-256) at the zip's
 * time; any other file is read from the store as before.
 *
 * A fan-out segment worker stores its records as one object per format next to its segment
 * document (`storeRecords`); the commit reads each such object once (`loadStored`), so a first zip
 * of a million label files costs one GET per segment and format, not one per file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, crc32 as zlibCrc32 } from 'node:zlib';
import type { FormatName } from '../core/config/formats.ts';
import { type ObjectStore, readAll } from '../core/object-store.ts';
import { dosDateTime, localHeader, type PlacedRecord, readLocalHeader } from '../core/zip-archive.ts';
import type { WrittenFile } from './hashing-sink.ts';
import type { PublishSinkOptions } from './publish-sink.ts';

/** Most bytes of records kept per render (all formats); past it files are read back by the zip. */
export const MAX_RECORDED_BYTES = 2 * 1024 * 1024 * 1024;
/**
 * Most bytes of records a fan-out segment worker keeps per job: its /tmp is 2 GiB
 * (infra/constructs/render-fanout.ts), and the commit reads each stored object whole.
 */
export const WORKER_RECORDED_BYTES = 256 * 1024 * 1024;

/** A file's zip entry name: its path with `\\` as `/` (as yazl, the CLI's zip writer, stores it). */
export const entryName = (path: string) => path.replace(/\\/g, '/');

/** One file's record: its metadata and header, and its deflated bytes. */
export interface FreshRecord {
  meta: Omit<PlacedRecord, 'offset'>;
  header: Buffer;
  data: Buffer[];
  /** Bytes of the file (uncompressed). */
  sourceBytes: number;
}

/** A record made from `body`, the whole file at `path`, deflated in one call, dated `mtime`. */
export function recordOf(path: string, body: Uint8Array, mtime: Date): FreshRecord {
  return recordFrom(path, body.length, zlibCrc32(body), [deflateRawSync(body)], mtime);
}

/** A record from a file's size, CRC-32 and deflated chunks (large files: deflated as a stream). */
export function recordFrom(
  path: string,
  size: number,
  crc32: number,
  data: Buffer[],
  mtime: Date,
): FreshRecord {
  const compressedSize = data.reduce((n, c) => n + c.length, 0);
  const fields = {
    name: entryName(path),
    crc32,
    compressedSize,
    size,
    method: 8 as const,
    ...dosDateTime(mtime),
  };
  const header = localHeader(fields);
  const digest = createHash('sha256').update(header);
  for (const c of data) digest.update(c);
  return { meta: { ...fields, recordSha256: digest.digest('hex') }, header, data, sourceBytes: size };
}

/** Where a record is in a format's record file, and the file it was made from. */
interface Recorded {
  at: number;
  length: number;
  bytes: number;
  sha256: string;
}

/** A stored segment's records of one format: the object, and per record [path, SHA-256 of the file, start]. */
export interface StoredRecords {
  key: string;
  bytes: number;
  entries: [string, string, number][];
}

/** One format's records: an append-only local file and an index by path (the last record wins). */
class FormatRecords {
  readonly index = new Map<string, Recorded>();
  size = 0;
  private constructor(
    private readonly fh: FileHandle,
    readonly file: string,
  ) {}
  static async create(file: string): Promise<FormatRecords> {
    return new FormatRecords(await open(file, 'w+'), file);
  }
  /** Appends bytes; positions are taken at once, so concurrent appends do not interleave. */
  async append(bytes: Buffer): Promise<number> {
    const at = this.size;
    this.size += bytes.length;
    await this.fh.write(bytes, 0, bytes.length, at);
    return at;
  }
  async read(at: number, length: number): Promise<Buffer> {
    const b = Buffer.alloc(length);
    const { bytesRead } = await this.fh.read(b, 0, length, at);
    if (bytesRead !== length)
      throw new Error(`${this.file}: read ${bytesRead} bytes at ${at}, wanted ${length}`);
    return b;
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

/**
 * The records of one render, per format, in a temp folder; `dispose` removes it. Safe for
 * concurrent `add`s (a sink flushes several files at once).
 */
export class ZipRecords {
  private readonly formats = new Map<FormatName, Promise<FormatRecords>>();
  private readonly opened: FormatRecords[] = [];
  private recordedBytes = 0;
  /**
   * Records made here / loaded from stored segments; files left to the zip over the cap, and
   * records that could not be written or loaded (`failed`: a full disk, a stored object gone).
   */
  readonly stats = { made: 0, loaded: 0, overCap: 0, failed: 0 };
  /** Set by the first failure: a full disk would fail every later record too. */
  private stopped = false;
  private constructor(
    private readonly dir: string,
    /** The zip's time: records carry it (a record of another time is not used). */
    readonly mtime: Date,
    private readonly maxBytes: number,
  ) {}

  /** A new set of record files under `dir` (default: the OS temp folder). */
  static async create(mtime: Date, options: { dir?: string; maxBytes?: number } = {}): Promise<ZipRecords> {
    const dir = await mkdtemp(join(options.dir ?? tmpdir(), 'ls-export-zip-records-'));
    return new ZipRecords(dir, mtime, options.maxBytes ?? MAX_RECORDED_BYTES);
  }

  private of(format: FormatName): Promise<FormatRecords> {
    let f = this.formats.get(format);
    if (!f) {
      f = FormatRecords.create(join(this.dir, format)).then((r) => {
        this.opened.push(r);
        return r;
      });
      this.formats.set(format, f);
    }
    return f;
  }

  /** Whether another `bytes` bytes of records fit under the cap (counted when they do). */
  private take(bytes: number): boolean {
    if (this.recordedBytes + bytes > this.maxBytes) {
      this.stats.overCap++;
      return false;
    }
    this.recordedBytes += bytes;
    return true;
  }

  /**
   * Deflates `body` (the final bytes of `file`, of `format`) into its record and keeps it. Never
   * throws: records are a shortcut, so one that cannot be written (a full disk) is dropped, the set
   * stops recording, and the zip reads those files back.
   */
  async add(format: FormatName, file: Pick<WrittenFile, 'path' | 'sha256'>, body: Buffer): Promise<void> {
    if (this.stopped) return;
    const r = recordOf(file.path, body, this.mtime);
    const bytes = Buffer.concat([r.header, ...r.data]);
    if (!this.take(bytes.length)) return;
    try {
      const records = await this.of(format);
      const at = await records.append(bytes);
      records.index.set(file.path, { at, length: bytes.length, bytes: body.length, sha256: file.sha256 });
      this.stats.made++;
    } catch {
      this.fail();
    }
  }

  private fail(): void {
    this.stats.failed++;
    this.stopped = true;
  }

  /**
   * The record of `file` (of `format`) when one was made from its bytes (same size and SHA-256) at
   * this set's time; undefined otherwise, also when the record cannot be read back or does not
   * describe the file (counted in `stats.failed`: the zip then reads the file, checked against its
   * manifest entry). Never throws.
   */
  async get(format: FormatName, file: WrittenFile, mtime: Date): Promise<FreshRecord | undefined> {
    if (mtime.getTime() !== this.mtime.getTime() || file.sha256Of) return undefined;
    const f = this.formats.get(format);
    const records = f && (await f.catch(() => undefined));
    const r = records?.index.get(file.path);
    if (!records || !r || r.bytes !== file.bytes || r.sha256 !== file.sha256) return undefined;
    let bytes: Buffer;
    let header: ReturnType<typeof readLocalHeader>;
    try {
      bytes = await records.read(r.at, r.length);
      header = readLocalHeader(bytes);
    } catch {
      this.stats.failed++;
      return undefined;
    }
    const { meta, headerLength } = header;
    if (
      meta.name !== entryName(file.path) ||
      meta.size !== file.bytes ||
      headerLength + meta.compressedSize !== r.length
    ) {
      this.stats.failed++;
      return undefined;
    }
    return {
      meta: { ...meta, recordSha256: createHash('sha256').update(bytes).digest('hex') },
      header: bytes.subarray(0, headerLength),
      data: [bytes.subarray(headerLength)],
      sourceBytes: 0,
    };
  }

  /**
   * Stores the records of every format as one object each, `<prefix><FORMAT>` (a fan-out segment
   * worker, next to its segment document), streamed from the record files; returns what the commit
   * needs to load them (nothing after a failure: the commit's zip then reads those files back).
   * Throws what the store throws.
   */
  async storeRecords(
    store: ObjectStore,
    prefix: string,
  ): Promise<Partial<Record<FormatName, StoredRecords>>> {
    const out: Partial<Record<FormatName, StoredRecords>> = {};
    if (this.stopped) return out;
    for (const [format, f] of this.formats) {
      const records = await f;
      if (records.size === 0) continue;
      const key = `${prefix}${format}`;
      await store.putStream(key, createReadStream(records.file), { contentType: 'application/octet-stream' });
      out[format] = {
        key,
        bytes: records.size,
        entries: [...records.index].map(([path, r]) => [path, r.sha256, r.at]),
      };
    }
    return out;
  }

  /**
   * Adds the records a segment worker stored (one GET of ≤ WORKER_RECORDED_BYTES). Never throws: an
   * object gone, of another length, or whose records do not parse adds nothing (those files are
   * read back by the zip) and counts in `stats.failed`.
   */
  async loadStored(store: ObjectStore, format: FormatName, stored: StoredRecords): Promise<void> {
    if (this.stopped || !this.take(stored.bytes)) return;
    try {
      const body = await readAll((await store.get(stored.key)).body);
      if (body.length !== stored.bytes)
        throw new Error(
          `${stored.key} holds ${body.length} bytes of zip records, its segment names ${stored.bytes}`,
        );
      // Every record parsed before any is kept: a bad object adds none.
      const found = stored.entries.map(([path, sha256, start]) => {
        const { meta, headerLength } = readLocalHeader(body, start);
        const length = headerLength + meta.compressedSize;
        if (start + length > body.length)
          throw new Error(`${stored.key}: the record of ${path} runs past its end`);
        return { path, sha256, start, length, bytes: meta.size };
      });
      const records = await this.of(format);
      const base = await records.append(body);
      for (const r of found) {
        records.index.set(r.path, { at: base + r.start, length: r.length, bytes: r.bytes, sha256: r.sha256 });
        this.stats.loaded++;
      }
    } catch {
      this.fail();
    }
  }

  /** Loads a stored segment's records (StoredSegment.zipRecords) of the formats `wanted` accepts. */
  async loadSegment(
    store: ObjectStore,
    stored: Partial<Record<FormatName, StoredRecords>> | undefined,
    wanted: (format: FormatName) => boolean,
  ): Promise<void> {
    for (const [f, r] of Object.entries(stored ?? {}) as [FormatName, StoredRecords][])
      if (wanted(f)) await this.loadStored(store, f, r);
  }

  /** Closes and removes the record files. */
  async dispose(): Promise<void> {
    await Promise.allSettled(this.opened.map((r) => r.close()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A PublishSink's option making each small file's zip record in `records` (none without). */
export function zipRecording(
  records: ZipRecords | undefined,
  format: FormatName,
): Pick<PublishSinkOptions, 'onSmallFile'> {
  return records ? { onSmallFile: (file, body) => records.add(format, file, body) } : {};
}
