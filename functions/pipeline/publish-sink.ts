/**
 * The OutputSink of one format's fixed folder `latest/<FORMAT>/`: it writes only files whose bytes
 * changed since the previous manifest. A file is hashed (SHA-256) before it is stored: one that
 * fits in `bufferBytes` (per-task labels, masks, XML, most copied images) is held in memory until
 * it is complete, and when its size and hash equal the previous manifest's entry it is not written
 * at all — the entry (with its version id) is carried over. A larger file (aggregate results,
 * big media) is streamed to the store as it is produced (multipart on S3) and always written.
 * A path written again in one render is stored again, unless the earlier write is still held:
 * with `holdBytes` (one-pass renders) small files wait for `flush`, so a label written once per
 * annotation is compared once, with its final bytes (segments get this from SegmentSink instead).
 * Name limits and name-error skips are the wrapped StoreSink's (core/store-sink.ts).
 */

import { createHash, type Hash } from 'node:crypto';
import { mapLimit } from '../core/bounded-map.ts';
import type { FileWriter, OutputSink } from '../core/formats/types.ts';
import type { ObjectStore } from '../core/object-store.ts';
import type { Report } from '../core/report.ts';
import { type StoredFile, StoreSink } from '../core/store-sink.ts';
import type { WrittenFile } from './hashing-sink.ts';

/** Files held in memory to compare them before writing, per file (1 MiB by default). */
export const DEFAULT_COMPARE_BYTES = 1024 * 1024;

export interface PublishSinkOptions {
  /** Where files that cannot be written under their name are reported (skipped, not failed). */
  report?: Report;
  /** Largest file hashed before it is written (compared with the previous manifest). */
  bufferBytes?: number;
  /**
   * Bytes of small files (each ≤ `bufferBytes`) held until `flush` (default 0: none), so a path
   * written again meanwhile (YOLO/VOC: once per annotation, the last wins) is compared and written
   * once, with its final bytes. Past this bound the oldest held file is written (a later write of
   * it is then stored again). The caller must `flush` when the writers have finished.
   */
  holdBytes?: number;
  /** The format whose files these are: named in the skip of a file that cannot be written. */
  format?: string;
  /**
   * Called with each small file's entry and final bytes once they are settled (written or carried
   * over): the render makes its zip record then (zip-records.ts), so the zip need not read it back.
   */
  onSmallFile?: (file: WrittenFile, body: Buffer) => Promise<void>;
}

/** Held bytes of a one-pass render's sink (PublishSinkOptions.holdBytes). */
export const DEFAULT_HOLD_BYTES = 16 * 1024 * 1024;

/**
 * Held per-task files written at once by a flush (here and segments-sinks.ts): S3 answers a PUT in
 * tens of milliseconds, and a segment of 1,000 image tasks holds thousands of label files (one at a
 * time: minutes per batch).
 */
export const FLUSH_CONCURRENCY = 8;

/** What a PublishSink did: files stored, files left as they were, bytes stored. */
export interface PublishStats {
  written: number;
  unchanged: number;
  bytesWritten: number;
}

export class PublishSink implements OutputSink {
  /** Every file of this render's output, as the manifest lists it (written or carried over). */
  private readonly entries = new Map<string, WrittenFile>();
  /** Keys stored by this render (complete or not), for cleanup after a failure. */
  readonly opened: string[] = [];
  readonly stats: PublishStats = { written: 0, unchanged: 0, bytesWritten: 0 };
  private readonly claimed = new Set<string>();
  /** Paths this render stored (or started storing). */
  private readonly storedPaths = new Set<string>();
  /** Paths whose objects may not hold the previous manifest's bytes (distrust). */
  private readonly distrusted = new Set<string>();
  private readonly stored = new Map<string, StoredFile>();
  private readonly inner: StoreSink;
  private readonly bufferBytes: number;
  private readonly holdBytes: number;
  private readonly onSmallFile?: (file: WrittenFile, body: Buffer) => Promise<void>;
  /** Small files waiting for `flush` (holdBytes > 0): path → final bytes so far, oldest first. */
  private readonly held = new Map<string, Buffer>();
  private heldBytes = 0;

  /**
   * @param prefix key prefix of the folder, ending in `/` (`…/latest/<FORMAT>/`)
   * @param previous the previous manifest's files of this format by path (empty: write everything)
   */
  constructor(
    store: ObjectStore,
    private readonly prefix: string,
    private readonly previous: ReadonlyMap<string, WrittenFile>,
    options: PublishSinkOptions = {},
  ) {
    this.bufferBytes = options.bufferBytes ?? DEFAULT_COMPARE_BYTES;
    this.holdBytes = options.holdBytes ?? 0;
    this.onSmallFile = options.onSmallFile;
    this.inner = new StoreSink(store, prefix, {
      report: options.report,
      ...(options.format ? { format: options.format } : {}),
      onFile: (f) => this.stored.set(f.path, f),
    });
  }

  get maxPathBytes(): number {
    return this.inner.maxPathBytes;
  }

  /** Largest file compared with the previous manifest before it is written (bytes). */
  get compareBytes(): number {
    return this.bufferBytes;
  }

  /** The format's files in the order they were finished. */
  get files(): WrittenFile[] {
    return [...this.entries.values()];
  }

  /**
   * Lists a file this sink did not write itself: an aggregate file assembled from segments, or a
   * per-task file of a segment that was not re-rendered (its previous entry carried over).
   */
  adopt(entry: WrittenFile, written: boolean): void {
    this.claimed.add(entry.path);
    this.entries.set(entry.path, entry);
    if (written) {
      this.opened.push(entry.key);
      this.stats.written++;
      this.stats.bytesWritten += entry.bytes;
    } else this.stats.unchanged++;
  }

  /**
   * Marks a path whose object may no longer hold the previous manifest's bytes (a fan-out segment
   * worker wrote it for an output the commit discarded): written again even when the rendered
   * bytes equal the previous entry, and deleted when this render does not list it
   * (`distrustedKeys`).
   */
  distrust(path: string): void {
    this.distrusted.add(path);
  }

  /** The keys of the distrusted paths (the render deletes those its manifest does not name). */
  distrustedKeys(): string[] {
    return [...this.distrusted].map((p) => `${this.prefix}${p}`);
  }

  /** The previous manifest's entry of a path (undefined when it had none). */
  previousEntry(path: string): WrittenFile | undefined {
    return this.previous.get(path);
  }

  exists(path: string): boolean {
    return this.claimed.has(path);
  }

  private claim(path: string): void {
    this.claimed.add(path);
    this.entries.delete(path);
    const h = this.held.get(path);
    if (h) {
      this.held.delete(path);
      this.heldBytes -= h.length;
    }
  }

  /** Writes a complete small file unless its bytes equal the previous manifest's entry. */
  private async emit(path: string, body: Buffer): Promise<void> {
    await this.settle(path, body, createHash('sha256').update(body));
  }

  /**
   * A complete small file (`hash`: of its bytes so far): carried over when its bytes equal the
   * previous manifest's entry, else written; then handed to `onSmallFile` when it is listed.
   */
  private async settle(path: string, body: Buffer, hash: Hash): Promise<void> {
    if (!this.reuse(path, body.length, hash.copy().digest('hex'))) await this.putWhole(path, body, hash);
    const entry = this.onSmallFile && this.entries.get(path);
    if (entry) await this.onSmallFile!(entry, body);
  }

  /** Holds a complete small file (claimed) until `flush`, writing the oldest past `holdBytes`. */
  private async hold(path: string, body: Buffer): Promise<void> {
    this.held.set(path, body);
    this.heldBytes += body.length;
    for (const [p, b] of this.held) {
      if (this.heldBytes <= this.holdBytes) break;
      this.held.delete(p);
      this.heldBytes -= b.length;
      await this.emit(p, b);
    }
  }

  /**
   * Writes the held files (PublishSinkOptions.holdBytes), FLUSH_CONCURRENCY at a time; call when the
   * writers have finished.
   */
  async flush(): Promise<void> {
    const files = [...this.held];
    this.held.clear();
    this.heldBytes = 0;
    await mapLimit(files, FLUSH_CONCURRENCY, ([p, b]) => this.emit(p, b));
  }

  /** Carries the previous entry over when the bytes are the same; true if it did. */
  private reuse(path: string, bytes: number, sha256: string): boolean {
    // A path written twice in one render (YOLO: one label file per annotation, the last wins) must
    // be stored again: the key no longer holds the previous version's bytes.
    if (this.storedPaths.has(path) || this.distrusted.has(path)) return false;
    const prev = this.previous.get(path);
    if (!prev || prev.bytes !== bytes || prev.sha256 !== sha256) return false;
    this.entries.set(path, { ...prev, key: `${this.prefix}${path}` });
    this.stats.unchanged++;
    return true;
  }

  /** Records a file the inner sink stored (or forgets it when the sink dropped it for its name). */
  private record(path: string, hash: Hash): void {
    const s = this.stored.get(path);
    this.stored.delete(path);
    if (!s || !this.inner.exists(path)) {
      this.claimed.delete(path);
      return;
    }
    this.entries.set(path, {
      path,
      key: s.key,
      bytes: s.bytes,
      sha256: hash.digest('hex'),
      ...(s.versionId ? { versionId: s.versionId } : {}),
    });
    this.stats.written++;
    this.stats.bytesWritten += s.bytes;
  }

  private async putWhole(path: string, body: Buffer, hash: Hash): Promise<void> {
    this.opened.push(`${this.prefix}${path}`);
    this.storedPaths.add(path);
    await this.inner.writeFile(path, body);
    this.record(path, hash);
  }

  open(path: string): FileWriter {
    this.claim(path);
    const hash = createHash('sha256');
    let held: Buffer[] | undefined = [];
    let heldBytes = 0;
    let stream: FileWriter | undefined;
    const startStream = async () => {
      this.opened.push(`${this.prefix}${path}`);
      this.storedPaths.add(path);
      stream = this.inner.open(path);
      const first = held!;
      held = undefined;
      for (const c of first) await stream.write(c);
    };
    return {
      write: async (chunk) => {
        const buf =
          typeof chunk === 'string'
            ? Buffer.from(chunk)
            : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        hash.update(buf);
        if (held) {
          held.push(buf);
          heldBytes += buf.length;
          if (heldBytes > this.bufferBytes) await startStream();
          return;
        }
        await stream!.write(buf);
      },
      close: async () => {
        if (held) {
          const body = Buffer.concat(held);
          held = undefined;
          if (this.holdBytes > 0) return this.hold(path, body);
          await this.settle(path, body, hash);
          return;
        }
        await stream!.close();
        this.record(path, hash);
      },
    };
  }

  async writeFile(path: string, content: string | Uint8Array): Promise<void> {
    this.claim(path);
    const body = Buffer.from(content);
    if (this.holdBytes > 0 && body.length <= this.bufferBytes) return this.hold(path, body);
    const hash = createHash('sha256').update(body);
    if (body.length > this.bufferBytes) {
      if (!this.reuse(path, body.length, hash.copy().digest('hex'))) await this.putWhole(path, body, hash);
      return;
    }
    await this.settle(path, body, hash);
  }

  /**
   * Copies a media file: up to `bufferBytes` it is read and hashed first (an unchanged copy is not
   * written); a larger one is streamed into the store while it is hashed.
   */
  async copyFrom(path: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    this.claim(path);
    try {
      await this.copyClaimed(path, source);
    } catch (err) {
      // A source that fails (a media fetch cut midway) stores nothing: the path is free again.
      if (!this.inner.exists(path)) this.claimed.delete(path);
      throw err;
    }
  }

  private async copyClaimed(path: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    const hash = createHash('sha256');
    const it = source[Symbol.asyncIterator]();
    const held: Buffer[] = [];
    let heldBytes = 0;
    for (;;) {
      const r = await it.next();
      if (r.done) {
        await this.settle(path, Buffer.concat(held), hash);
        return;
      }
      const buf = Buffer.from(r.value);
      hash.update(buf);
      held.push(buf);
      heldBytes += buf.length;
      if (heldBytes > this.bufferBytes) break;
    }
    async function* rest() {
      yield* held;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        const buf = Buffer.from(r.value);
        hash.update(buf);
        yield buf;
      }
    }
    this.opened.push(`${this.prefix}${path}`);
    this.storedPaths.add(path);
    await this.inner.copyFrom(path, rest());
    this.record(path, hash);
  }
}
