/**
 * A write-once, read-once text buffer that keeps memory flat: text stays in memory up to a limit,
 * then moves to a temporary file (the OS temp dir — /tmp on Lambda) that is deleted after reading.
 *
 * COCO needs it because its file lists `images`, then `categories`, then `annotations`: images
 * stream straight into result.json, categories are known only at the end (labels outside the
 * config add categories as they appear), so annotations wait here until `finish`.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Spool {
  write(text: string): Promise<void>;
  /** Bytes written so far. */
  readonly size: number;
  /** Reads everything back, then releases the storage. */
  drain(): AsyncIterable<Uint8Array>;
  /** Releases the storage without reading (on failure). */
  dispose(): Promise<void>;
  /** Whether the text moved to a temporary file. */
  readonly spilled: boolean;
}

export interface SpoolOptions {
  /** Bytes kept in memory before spilling to a file. */
  memoryLimit?: number;
  /** Where the temporary file goes (default: the OS temp dir). */
  dir?: string;
}

export function createSpool(opts: SpoolOptions = {}): Spool {
  return new HybridSpool(opts.memoryLimit ?? 8 * 1024 * 1024, opts.dir);
}

class HybridSpool implements Spool {
  private chunks: Buffer[] = [];
  private memoryBytes = 0;
  private file?: { dir: string; path: string; handle: FileHandle };
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  size = 0;

  constructor(
    private readonly memoryLimit: number,
    private readonly dir?: string,
  ) {}

  async write(text: string): Promise<void> {
    if (text === '') return;
    const buf = Buffer.from(text, 'utf8');
    this.size += buf.length;
    if (!this.file && this.memoryBytes + buf.length <= this.memoryLimit) {
      this.chunks.push(buf);
      this.memoryBytes += buf.length;
      return;
    }
    if (!this.file) {
      const dir = await mkdtemp(join(this.dir ?? tmpdir(), 'ls-export-'));
      const path = join(dir, 'spool');
      this.file = { dir, path, handle: await open(path, 'w') };
      this.pending = this.chunks;
      this.pendingBytes = this.memoryBytes;
      this.chunks = [];
      this.memoryBytes = 0;
    }
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (this.pendingBytes >= 1024 * 1024) await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.file || this.pendingBytes === 0) return;
    const data = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    await this.file.handle.write(data);
  }

  async *drain(): AsyncIterable<Uint8Array> {
    try {
      if (!this.file) {
        const chunks = this.chunks;
        this.chunks = [];
        this.memoryBytes = 0;
        yield* chunks;
        return;
      }
      await this.flush();
      await this.file.handle.close();
      for await (const chunk of createReadStream(this.file.path, { highWaterMark: 256 * 1024 })) {
        yield chunk as Buffer;
      }
    } finally {
      await this.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.chunks = [];
    this.pending = [];
    const file = this.file;
    this.file = undefined;
    if (file) {
      await file.handle.close().catch(() => {});
      await rm(file.dir, { recursive: true, force: true });
    }
  }

  get spilled(): boolean {
    return this.file !== undefined;
  }
}
