/**
 * An OutputSink wrapper that records, for every file written, its size and SHA-256 (for the
 * manifest) and the keys written (so a failed render can clean up after itself).
 */
import { createHash, type Hash } from 'node:crypto';
import type { FileWriter, OutputSink } from '../core/formats/types.ts';

/** One file of an export as the manifest lists it. */
export interface WrittenFile {
  /** Path below the format's folder, e.g. `labels/img1.txt`. */
  path: string;
  key: string;
  bytes: number;
  sha256: string;
  /** The S3 version holding exactly these bytes (versioned buckets; `latest/` only). */
  versionId?: string;
  /**
   * `chunks`: `sha256` is the SHA-256 of the file's chunk digests (an aggregate file assembled
   * server-side from segments, pipeline/segments-assemble.ts), not of its bytes.
   */
  sha256Of?: 'chunks';
}

export class HashingSink implements OutputSink {
  readonly files: WrittenFile[] = [];
  /** Keys of files opened, including unfinished ones. */
  readonly opened: string[] = [];

  constructor(
    private readonly inner: OutputSink,
    /** The key prefix the inner sink writes under (for the manifest). */
    private readonly keyPrefix: string,
  ) {}

  get maxPathBytes(): number | undefined {
    return this.inner.maxPathBytes;
  }

  private key(path: string): string {
    return `${this.keyPrefix}${path}`;
  }

  private record(path: string, hash: Hash, bytes: number): void {
    const i = this.files.findIndex((f) => f.path === path);
    const entry = { path, key: this.key(path), bytes, sha256: hash.digest('hex') };
    if (i >= 0) this.files[i] = entry;
    else this.files.push(entry);
  }

  open(path: string): FileWriter {
    this.opened.push(this.key(path));
    const inner = this.inner.open(path);
    const hash = createHash('sha256');
    let bytes = 0;
    return {
      write: (chunk) => {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        hash.update(buf);
        bytes += buf.length;
        return inner.write(buf);
      },
      close: async () => {
        await inner.close();
        // A file the inner sink dropped for its name (reported there) is not listed.
        if (this.inner.exists(path)) this.record(path, hash, bytes);
      },
    };
  }

  async writeFile(path: string, content: string | Uint8Array): Promise<void> {
    this.opened.push(this.key(path));
    const buf = typeof content === 'string' ? Buffer.from(content) : content;
    await this.inner.writeFile(path, buf);
    if (this.inner.exists(path)) this.record(path, createHash('sha256').update(buf), buf.length);
  }

  exists(path: string): boolean {
    return this.inner.exists(path);
  }

  async copyFrom(path: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    if (!this.inner.copyFrom) throw new Error('the output cannot copy media files');
    this.opened.push(this.key(path));
    const hash = createHash('sha256');
    let bytes = 0;
    async function* hashed() {
      for await (const c of source) {
        hash.update(c);
        bytes += c.length;
        yield c;
      }
    }
    // No local-file shortcut: every byte goes through the hash.
    await this.inner.copyFrom(path, hashed());
    if (this.inner.exists(path)) this.record(path, hash, bytes);
  }
}
