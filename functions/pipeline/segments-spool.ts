/**
 * Segment bodies spooled to local files (Lambda: /tmp), so a render by segments holds no segment's
 * aggregate text in memory between rendering it and assembling the file: each body is written once
 * rendered (or once loaded from the fan-out's stored segment) and read back one at a time by the
 * assemble step (segments-render.ts, segments-assemble.ts).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A spooled body: its file and its length in bytes (`held`: kept in memory, the folder being full). */
export interface SpoolRef {
  spool: string;
  bytes: number;
  held?: Buffer;
}

/**
 * A folder of spooled bodies; `dispose` removes it. A body that would take the folder past
 * `maxBytes`, or that the disk has no room for (ENOSPC: Lambda's /tmp is 512 MB unless configured),
 * is kept in memory instead, as before spooling (counted in `heldBytes`).
 */
export class BodySpool {
  private n = 0;
  /** Bytes in spool files now, and bytes kept in memory because the folder was full. */
  usedBytes = 0;
  heldBytes = 0;
  /** Most bytes spooled or held at once (what the folder's disk and memory had to carry). */
  peakBytes = 0;
  private readonly removed = new WeakSet<SpoolRef>();
  private constructor(
    readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  /** A new spool folder under `dir` (default: the OS temp folder). */
  static async create(dir?: string, options: { maxBytes?: number } = {}): Promise<BodySpool> {
    const folder = await mkdtemp(join(dir ?? tmpdir(), 'ls-export-segments-'));
    return new BodySpool(folder, options.maxBytes ?? Number.POSITIVE_INFINITY);
  }

  /** Writes a body (UTF-8 for text); returns where it is. Throws what the disk throws but ENOSPC. */
  async write(body: string | Uint8Array): Promise<SpoolRef> {
    const buf = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
    const path = join(this.dir, `${++this.n}`);
    const hold = (): SpoolRef => {
      this.heldBytes += buf.length;
      this.peakBytes = Math.max(this.peakBytes, this.usedBytes + this.heldBytes);
      return { spool: path, bytes: buf.length, held: buf };
    };
    if (this.usedBytes + buf.length > this.maxBytes) return hold();
    try {
      await writeFile(path, buf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      await rm(path, { force: true });
      return hold();
    }
    this.usedBytes += buf.length;
    this.peakBytes = Math.max(this.peakBytes, this.usedBytes + this.heldBytes);
    return { spool: path, bytes: buf.length };
  }

  /** Removes one body once it is no longer needed (its file gone: nothing to do). */
  async remove(ref: SpoolRef): Promise<void> {
    if (this.removed.has(ref)) return;
    this.removed.add(ref);
    if (ref.held) {
      this.heldBytes -= ref.bytes;
      ref.held = undefined;
      return;
    }
    await rm(ref.spool, { force: true });
    this.usedBytes -= ref.bytes;
  }

  /** Removes the folder and every body in it. */
  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Reads a spooled body back; throws when the file is gone or has another length. */
export async function readSpooled(ref: SpoolRef): Promise<Buffer> {
  if (ref.held) return ref.held;
  const b = await readFile(ref.spool);
  if (b.length !== ref.bytes) throw new Error(`${ref.spool}: spooled ${ref.bytes} bytes, read ${b.length}`);
  return b;
}

/**
 * A body kept in the object store (a fan-out worker's stored segment, render-fanout-job.ts): read
 * each time it is needed, never spooled, so the commit's /tmp does not hold every segment's output.
 */
export interface StoredBodyRef {
  /** The object and the byte range `[start, end)` of the body in it. */
  stored: { key: string; start: number; end: number };
  bytes: number;
  /** Reads the range; throws when the object is gone or the range is short. */
  load: () => Promise<Buffer>;
}

/** A segment's aggregate output: held text, a spooled body, or a body in the object store. */
export type AggregateBody = string | SpoolRef | StoredBodyRef;

/** Whether a body is a spool file (or held by the spool) that the spool should remove. */
export const isSpooled = (b: AggregateBody): b is SpoolRef => typeof b !== 'string' && 'spool' in b;

/** The text of an aggregate body (a stored one read from the store now). */
export async function bodyText(b: AggregateBody): Promise<string> {
  if (typeof b === 'string') return b;
  return ('stored' in b ? await b.load() : await readSpooled(b)).toString('utf8');
}
