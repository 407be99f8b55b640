/**
 * An OutputSink that streams each export file into an ObjectStore (a folder or an S3 prefix).
 * Small writes are batched; a bounded queue between the writer and the upload gives backpressure,
 * so memory does not grow with the export. Pure over core's two ports (OutputSink in, ObjectStore
 * out), so the CLI, the pipeline and the tests all use this one sink over whatever store they have.
 */
import type { FileWriter, OutputSink } from './formats/types.ts';
import type { ObjectStore, PutResult } from './object-store.ts';
import { isOutputNameError, S3_MAX_KEY_BYTES } from './output-names.ts';
import { PathSet } from './path-set.ts';
import { type Report, reasonOf } from './report.ts';

const BATCH_BYTES = 256 * 1024;
const MAX_QUEUED = 8;

/** A single-producer, single-consumer async queue of chunks with a bounded length. */
class ChunkChannel implements AsyncIterable<Uint8Array> {
  private queue: Uint8Array[] = [];
  private done = false;
  private failed: unknown;
  private wakeConsumer?: () => void;
  private wakeProducer?: () => void;

  async push(chunk: Uint8Array): Promise<void> {
    if (this.failed) throw this.failed;
    this.queue.push(chunk);
    this.wakeConsumer?.();
    while (this.queue.length >= MAX_QUEUED && !this.failed) {
      await new Promise<void>((r) => (this.wakeProducer = r));
    }
  }

  end(): void {
    this.done = true;
    this.wakeConsumer?.();
  }

  fail(err: unknown): void {
    this.failed = err;
    this.wakeProducer?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (this.queue.length > 0) {
        const c = this.queue.shift()!;
        this.wakeProducer?.();
        yield c;
        continue;
      }
      if (this.done) return;
      await new Promise<void>((r) => (this.wakeConsumer = r));
      this.wakeConsumer = undefined;
    }
  }
}

export interface StoreSinkOptions {
  /**
   * Where a file that cannot be written under its name is reported (one skip each, with the path
   * and the reason); the export goes on without it. Without a report such failures reject.
   */
  report?: Report;
  /**
   * Called once per file the store accepted, with its key, size and what the store returned
   * (the version id in a versioned bucket); not called for dropped files.
   */
  onFile?: (file: StoredFile) => void;
  /** The format whose files these are: named in the skip of a file that cannot be written. */
  format?: string;
  /**
   * Keep each closed file's path and size for `files` and `distinctPaths` (default true). False
   * keeps only counts: an export of one file per task then needs ≈ its paths' characters + 25 bytes
   * a file (core/path-set.ts) instead of ≈ 120 (the CLI without --zip).
   */
  keepFiles?: boolean;
}

/** One file a StoreSink wrote: its path, key, size in bytes, and the store's answer to the write. */
export interface StoredFile extends PutResult {
  path: string;
  key: string;
  bytes: number;
}

/**
 * Files of one export under a key prefix of a store. Name limits: `maxPathBytes` is the store's key
 * limit (S3's 1,024 bytes unless the store says otherwise) minus the prefix, so writers can keep
 * every key within it (core/output-names.ts). A write that still fails because of its name
 * (core/output-names.ts isOutputNameError) is reported and dropped; other failures reject.
 */
export class StoreSink implements OutputSink {
  /** Paths written in this export (marked once closed: `distinctCount`). */
  private readonly written = new PathSet();
  /** Paths reported as not writable under their name (reported once each). */
  private readonly dropped = new Set<string>();
  /**
   * With `keepFiles`: the closed files' paths and sizes, in the order they were closed, as two
   * flat arrays (an object per file was ≈4 MiB of the heap at 100,000 label files).
   */
  private readonly closedPaths: string[] | undefined;
  private readonly closedBytes: number[] | undefined;
  private closed = 0;
  private distinctClosed = 0;
  private anyBytes = false;
  readonly maxPathBytes: number;

  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
    private readonly options: StoreSinkOptions = {},
  ) {
    this.maxPathBytes = (store.maxKeyBytes ?? S3_MAX_KEY_BYTES) - Buffer.byteLength(this.key(''));
    if (options.keepFiles !== false) {
      this.closedPaths = [];
      this.closedBytes = [];
    }
  }

  private key(path: string): string {
    return this.prefix ? `${this.prefix.replace(/\/+$/, '')}/${path}` : path;
  }

  /** Whether a failed write is one file's name problem that the report takes instead. */
  private droppable(err: unknown): boolean {
    return this.options.report !== undefined && isOutputNameError(err);
  }

  private drop(path: string, err: unknown): void {
    this.written.delete(path);
    // One entry per path: a file written twice (a YOLO label per annotation) fails twice alike.
    if (this.dropped.has(path)) return;
    this.dropped.add(path);
    const { format } = this.options;
    this.options.report?.skip({
      source: `output file ${path}`,
      ...(format ? { format } : {}),
      reason: `it cannot be written under this name (${reasonOf(err)}); it is left out`,
    });
  }

  exists(path: string): boolean {
    return this.written.has(path);
  }

  /** The closed files' records; throws for a sink made with `keepFiles: false`. */
  private kept(): { paths: string[]; bytes: number[] } {
    if (!this.closedPaths || !this.closedBytes)
      throw new Error('this StoreSink keeps no file list (keepFiles: false)');
    return { paths: this.closedPaths, bytes: this.closedBytes };
  }

  /**
   * The distinct paths of the closed files (a file rewritten counts once), in the order each was
   * first closed. Throws for a sink made with `keepFiles: false`.
   */
  distinctPaths(): string[] {
    return [...new Set(this.kept().paths)];
  }

  /** How many distinct paths were closed (a file rewritten counts once). */
  get distinctCount(): number {
    return this.distinctClosed;
  }

  /** How many files were closed (a file rewritten counts each time). */
  get closedCount(): number {
    return this.closed;
  }

  /** Whether some closed file has at least one byte. */
  wroteBytes(): boolean {
    return this.anyBytes;
  }

  /**
   * Every file of this export, with its key and size in bytes, in the order they were closed
   * (built on each call). Throws for a sink made with `keepFiles: false`.
   */
  get files(): Array<{ path: string; key: string; bytes: number }> {
    const { paths, bytes } = this.kept();
    return paths.map((path, i) => ({ path, key: this.key(path), bytes: bytes[i]! }));
  }

  /** Records a closed file; the store's result (its ETag) is read only when `onFile` takes it. */
  private stored(path: string, key: string, bytes: number, result?: PutResult): void {
    this.closed++;
    if (this.written.mark(path)) this.distinctClosed++;
    if (bytes > 0) this.anyBytes = true;
    this.closedPaths?.push(path);
    this.closedBytes?.push(bytes);
    const onFile = this.options.onFile;
    if (onFile) onFile({ path, key, bytes, ...result });
  }

  open(path: string): FileWriter {
    this.written.add(path);
    const key = this.key(path);
    const channel = new ChunkChannel();
    // Strings are encoded as they are written (a writer's text is a rope of many small strings:
    // kept until the batch was joined, those pieces outlived young-generation collections and
    // were copied by each), and the batch is the bytes of their join: a high surrogate ending one
    // string waits to pair with the next string's low surrogate, and a batch ends as its joined
    // text would (a surrogate left alone there is U+FFFD, as Buffer.from writes it).
    let pending: Buffer[] = [];
    /** UTF-16 units written since the last batch (the batch size). */
    let pendingBytes = 0;
    /** A high surrogate that ended the last string of the batch. */
    let held = '';
    let bytes = 0;
    let dropped = false;
    let result: PutResult = {};
    const upload = this.store.putStream(key, channel).then(
      (r) => {
        result = r ?? {};
      },
      (err) => {
        channel.fail(err);
        if (!this.droppable(err)) throw err;
        dropped = true;
        this.drop(path, err);
      },
    );
    upload.catch(() => {}); // surfaced by write()/close()
    const unlessDropped = (err: unknown) => {
      if (!dropped) throw err;
    };
    const flush = async () => {
      if (pendingBytes === 0) return;
      if (held) pending.push(Buffer.from(held));
      held = '';
      const buf = pending.length === 1 ? pending[0] : Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      bytes += buf.length;
      await channel.push(buf);
    };
    return {
      write: (chunk) => {
        if (dropped) return;
        if (typeof chunk === 'string') {
          pendingBytes += chunk.length;
          let text = held ? held + chunk : chunk;
          held = '';
          const last = text.charCodeAt(text.length - 1);
          if (last >= 0xd800 && last <= 0xdbff) {
            held = text.slice(-1);
            text = text.slice(0, -1);
          }
          if (text) pending.push(Buffer.from(text, 'utf8'));
          if (pendingBytes >= BATCH_BYTES) return flush().catch(unlessDropped);
          return;
        }
        return flush()
          .then(() => {
            bytes += chunk.length;
            return channel.push(chunk);
          })
          .catch(unlessDropped);
      },
      close: async () => {
        if (!dropped) await flush().catch(unlessDropped);
        channel.end();
        await upload;
        if (!dropped) this.stored(path, key, bytes, result);
      },
    };
  }

  async writeFile(path: string, content: string | Uint8Array): Promise<void> {
    this.written.add(path);
    const key = this.key(path);
    let result: PutResult;
    try {
      result = (await this.store.put(key, content)) ?? {};
    } catch (err) {
      if (!this.droppable(err)) throw err;
      this.drop(path, err);
      return;
    }
    this.stored(path, key, typeof content === 'string' ? Buffer.byteLength(content) : content.length, result);
  }

  async copyFrom(
    path: string,
    source: AsyncIterable<Uint8Array>,
    local?: { path: string; size?: number },
  ): Promise<void> {
    this.written.add(path);
    const key = this.key(path);
    try {
      // A local file of known size is copied by the store itself (a folder: a plain file copy);
      // without its size it is streamed like any other source, so the bytes are counted.
      if (local?.size !== undefined && this.store.putLocalFile) {
        await this.store.putLocalFile(key, local.path);
        this.stored(path, key, local.size);
        return;
      }
      let bytes = 0;
      async function* counted() {
        for await (const c of source) {
          bytes += c.length;
          yield c;
        }
      }
      const result = (await this.store.putStream(key, counted())) ?? {};
      this.stored(path, key, bytes, result);
    } catch (err) {
      if (!this.droppable(err)) {
        // The stores write nothing for a failed stream (folder: temp file removed; S3: one PUT
        // or an aborted multipart upload), so the path is free again.
        this.written.delete(path);
        throw err;
      }
      this.drop(path, err);
    }
  }
}
