/**
 * A write-once, read-once text buffer that keeps memory flat: text stays in memory up to a limit
 * (1 MiB), then moves to a temporary file (the OS temp dir — /tmp on Lambda). The file's name is removed as
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
  /** Reads everything back in order (file pieces of `chunkBytes`, default 256 KiB), then releases the storage. */
  drain(chunkBytes?: number): AsyncIterable<Uint8Array>;
  /** Releases the storage without reading (on failure). */
  dispose(): Promise<void>;
}

export interface SpoolOptions {
  /** Bytes kept in memory before spilling to a file (default 1 MiB), and between writes to it. */
  memoryLimit?: number;
  /** Where the temporary file goes (default: the OS temp dir). */
  dir?: string;
}

/**
 * Default bytes held in memory (one buffer, allocated on the first write). Was 8 MiB, held as one
 * buffer per write plus an 8 MiB copy to write them out: 16 MiB at COCO's first spill.
 */
export const SPOOL_MEMORY_BYTES = 1024 * 1024;

export function createSpool(opts: SpoolOptions = {}): Spool {
  return new FileBackedSpool(opts.memoryLimit ?? SPOOL_MEMORY_BYTES, opts.dir);
}

/**
 * Text is encoded straight into one buffer of `memoryLimit` bytes, reused after each write to the
 * file: no buffer per write. Buffers per write (COCO: one per region) lived long enough to be
 * promoted to V8's old generation and held their memory until the next full collection.
 */
class FileBackedSpool implements Spool {
  private buf?: Buffer;
  /** Bytes of `buf` in use. */
  private used = 0;
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
    this.buf ??= Buffer.allocUnsafe(Math.max(1, this.memoryLimit));
    const room = this.buf.length - this.used;
    // A UTF-16 unit is 1 to 3 UTF-8 bytes: measure only text that may not fit.
    if (text.length * 3 > room) {
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > room) {
        await this.spill();
        if (bytes > this.buf.length) {
          // Larger than the whole buffer: straight to the file.
          await this.writeFile(Buffer.from(text, 'utf8'));
          this.size += bytes;
          return;
        }
      }
    }
    const n = this.buf.write(text, this.used, 'utf8');
    this.used += n;
    this.size += n;
  }

  /** Moves the buffered bytes to the temporary file (created on first use). */
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
    if (this.buf && this.used > 0) await this.writeFile(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private async writeFile(bytes: Buffer): Promise<void> {
    for (let off = 0; off < bytes.length; ) {
      const { bytesWritten } = await this.file!.write(bytes, off, bytes.length - off, this.fileBytes);
      off += bytesWritten;
      this.fileBytes += bytesWritten;
    }
  }

  async *drain(chunkBytes = 256 * 1024): AsyncGenerator<Uint8Array> {
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
      // The buffer is not reused after this: the sink may keep the piece.
      const tail = this.buf?.subarray(0, this.used);
      this.buf = undefined;
      this.used = 0;
      if (tail?.length) yield tail;
    } finally {
      await this.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.buf = undefined;
    this.used = 0;
    const file = this.file;
    const dir = this.leftoverDir;
    this.file = undefined;
    this.leftoverDir = undefined;
    this.fileBytes = 0;
    await file?.close().catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
