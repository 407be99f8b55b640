/**
 * A write-once, read-once text buffer that keeps memory flat: text stays in memory up to a limit,
 * then moves to a temporary file (the OS temp dir — /tmp on Lambda). The file's name is removed as
 * soon as it is open (POSIX keeps it readable through the handle), so an aborted export leaves
 * nothing behind.
 *
 * Writers whose format puts something known only at the end *before* a long array use it: COCO
 * (categories before annotations) and BRUSH_TO_COCO (annotations before categories, after images).
 */
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Spool {
  write(text: string): Promise<void>;
  /** Bytes written so far. */
  readonly size: number;
  /** Whether the text moved to a temporary file. */
  readonly spilled: boolean;
  /** Reads everything back in order, then releases the storage. */
  drain(chunkBytes?: number): AsyncIterable<Uint8Array>;
  /** Releases the storage without reading (on failure). */
  dispose(): Promise<void>;
}

export interface SpoolOptions {
  /** Bytes kept in memory before spilling to a file. */
  memoryLimit?: number;
  /** Where the temporary file goes (default: the OS temp dir). */
  dir?: string;
}

export function createSpool(opts: SpoolOptions = {}): Spool {
  return new FileBackedSpool(opts.memoryLimit ?? 8 * 1024 * 1024, opts.dir);
}

class FileBackedSpool implements Spool {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private file?: FileHandle;
  /** Set only where the folder could not be removed while the file is open (not POSIX). */
  private leftoverDir?: string;
  private fileBytes = 0;
  size = 0;

  constructor(
    private readonly memoryLimit: number,
    private readonly dir?: string,
  ) {}

  get spilled(): boolean {
    return this.file !== undefined;
  }

  async write(text: string): Promise<void> {
    if (text === '') return;
    const buf = Buffer.from(text, 'utf8');
    this.size += buf.length;
    this.chunks.push(buf);
    this.buffered += buf.length;
    if (this.buffered >= Math.min(this.memoryLimit, this.file ? 1024 * 1024 : this.memoryLimit))
      await this.spill();
  }

  private async spill(): Promise<void> {
    if (!this.file) {
      const dir = await mkdtemp(join(this.dir ?? tmpdir(), 'ls-export-'));
      this.file = await open(join(dir, 'spool'), 'w+');
      try {
        await rm(dir, { recursive: true });
      } catch {
        this.leftoverDir = dir;
      }
    }
    const buf = Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    for (let off = 0; off < buf.length; ) {
      const { bytesWritten } = await this.file.write(buf, off, buf.length - off, this.fileBytes);
      off += bytesWritten;
      this.fileBytes += bytesWritten;
    }
  }

  async *drain(chunkBytes = 1024 * 1024): AsyncGenerator<Uint8Array> {
    try {
      if (this.file) {
        for (let pos = 0; pos < this.fileBytes; ) {
          // A new buffer per chunk: sinks may queue chunks without copying them.
          const buf = Buffer.allocUnsafe(Math.min(chunkBytes, this.fileBytes - pos));
          const { bytesRead } = await this.file.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) throw new Error('the temporary spool file ended early');
          pos += bytesRead;
          yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
        }
      }
      const tail = this.chunks;
      this.chunks = [];
      yield* tail;
    } finally {
      await this.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    const file = this.file;
    const dir = this.leftoverDir;
    this.file = undefined;
    this.leftoverDir = undefined;
    this.fileBytes = 0;
    await file?.close().catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
