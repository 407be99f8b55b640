/**
 * The sinks a segment's writers write into (segments-render.ts): MemorySink for the empty run;
 * SegmentSink, which keeps the aggregate files as the segment's bodies and passes per-task files to
 * the render's PublishSink, each small one once with its final bytes.
 */

import { createHash } from 'node:crypto';
import { mapLimit } from '../core/bounded-map.ts';
import type { FileWriter, OutputSink } from '../core/formats/types.ts';
import { FLUSH_CONCURRENCY, type PublishSink } from './publish-sink.ts';

// ---- capture sinks ---------------------------------------------------------------------------

/** Holds files in memory (the empty run, and a segment's aggregate files). */
export class MemoryFiles {
  readonly files = new Map<string, Buffer[]>();
  text(path: string): string | undefined {
    const parts = this.files.get(path);
    return parts ? Buffer.concat(parts).toString('utf8') : undefined;
  }
  open(path: string): FileWriter {
    const parts: Buffer[] = [];
    this.files.set(path, parts);
    return {
      write: (c) => {
        parts.push(Buffer.from(typeof c === 'string' ? c : c));
      },
      close: async () => {},
    };
  }
}

export class MemorySink implements OutputSink {
  readonly mem = new MemoryFiles();
  open(path: string): FileWriter {
    return this.mem.open(path);
  }
  async writeFile(path: string, content: string | Uint8Array): Promise<void> {
    const w = this.mem.open(path);
    await w.write(content);
  }
  exists(path: string): boolean {
    return this.mem.files.has(path);
  }
  async copyFrom(path: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    const w = this.mem.open(path);
    for await (const c of source) await w.write(c);
  }
}

/** Small per-task file bytes one segment's sink of one format holds until the segment ends. */
export const SEGMENT_HOLD_BYTES = 16 * 1024 * 1024;

/**
 * One segment's sink of one format: the format's aggregate paths are held in memory, every other
 * file goes to the render's PublishSink. `exists` answers for this segment's files only, as a
 * writer run over just these tasks would see it.
 *
 * A per-task file up to the PublishSink's `compareBytes` (labels, VOC XML, masks) is held here
 * until the segment ends (`flush`): writers write one path once per annotation of a task (YOLO,
 * VOC, YOLO_OBB; the last write wins, as in Label Studio's converter), so only its final bytes
 * reach the PublishSink, once, and are compared with the previous manifest (an unchanged file is
 * not written). Memory: the held bytes of this segment's small per-task files of this format, at
 * most SEGMENT_HOLD_BYTES (past it the oldest held file is written; a later write of that path is
 * then stored again) plus one file; larger files and media copies stream through as before.
 */
export class SegmentSink implements OutputSink {
  readonly mem = new MemoryFiles();
  private readonly own = new Set<string>();
  /** Small per-task files waiting for `flush`: path → final bytes so far, oldest first. */
  private readonly held = new Map<string, Buffer>();
  private heldBytes = 0;
  /** Paths opened and not closed yet (they exist for the writer meanwhile). */
  private readonly writing = new Set<string>();
  /** Media copies (images, audio) this segment wrote: path → SHA-256 of the bytes copied. */
  readonly copies = new Map<string, string>();
  constructor(
    private readonly aggregate: ReadonlySet<string>,
    private readonly publish: PublishSink,
  ) {}
  get maxPathBytes(): number {
    return this.publish.maxPathBytes;
  }
  /** Per-task files this segment wrote (and the store accepted); call after `flush`. */
  files(): string[] {
    return [...this.own].filter((p) => !this.aggregate.has(p) && this.publish.exists(p));
  }
  /**
   * Writes the held per-task files (their final bytes) to the PublishSink, started in first-write
   * order, FLUSH_CONCURRENCY at a time.
   */
  async flush(): Promise<void> {
    const files = [...this.held];
    for (const [path] of files) this.unhold(path);
    await mapLimit(files, FLUSH_CONCURRENCY, ([path, body]) => this.publish.writeFile(path, body));
  }
  private unhold(path: string): void {
    const h = this.held.get(path);
    if (!h) return;
    this.held.delete(path);
    this.heldBytes -= h.length;
  }
  /** Holds a complete small file (the last write of its path), writing the oldest past the bound. */
  private async hold(path: string, body: Buffer): Promise<void> {
    this.unhold(path);
    this.held.set(path, body);
    this.heldBytes += body.length;
    for (const [p, b] of this.held) {
      if (this.heldBytes <= SEGMENT_HOLD_BYTES) break;
      this.unhold(p);
      await this.publish.writeFile(p, b);
    }
  }
  private claim(path: string): void {
    this.own.add(path);
    this.copies.delete(path);
    this.unhold(path);
  }
  open(path: string): FileWriter {
    this.claim(path);
    if (this.aggregate.has(path)) return this.mem.open(path);
    // `exists` is true while the file is written, as before.
    this.writing.add(path);
    const limit = this.publish.compareBytes;
    let parts: Buffer[] | undefined = [];
    let size = 0;
    let stream: FileWriter | undefined;
    return {
      write: async (c) => {
        const buf = typeof c === 'string' ? Buffer.from(c) : Buffer.from(c);
        if (parts) {
          parts.push(buf);
          size += buf.length;
          if (size <= limit) return;
          // Too large to hold: streamed (and always written) by the PublishSink.
          this.writing.delete(path);
          stream = this.publish.open(path);
          const first = parts;
          parts = undefined;
          for (const p of first) await stream.write(p);
          return;
        }
        await stream!.write(buf);
      },
      close: async () => {
        if (parts) {
          this.writing.delete(path);
          const body = Buffer.concat(parts);
          parts = undefined;
          await this.hold(path, body);
          return;
        }
        await stream!.close();
      },
    };
  }
  async writeFile(path: string, content: string | Uint8Array): Promise<void> {
    this.claim(path);
    if (this.aggregate.has(path)) {
      await this.mem.open(path).write(content);
      return;
    }
    const body = Buffer.from(content);
    if (body.length <= this.publish.compareBytes) {
      await this.hold(path, body);
      return;
    }
    await this.publish.writeFile(path, body);
  }
  exists(path: string): boolean {
    return (
      this.own.has(path) &&
      (this.aggregate.has(path) || this.held.has(path) || this.writing.has(path) || this.publish.exists(path))
    );
  }
  async copyFrom(path: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    this.claim(path);
    if (this.aggregate.has(path)) {
      const w = this.mem.open(path);
      for await (const c of source) await w.write(c);
      return;
    }
    const hash = createHash('sha256');
    async function* hashed() {
      for await (const c of source) {
        hash.update(c);
        yield c;
      }
    }
    await this.publish.copyFrom(path, hashed());
    this.copies.set(path, hash.digest('hex'));
  }
}
