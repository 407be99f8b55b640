/**
 * Segment bodies spooled to local files (Lambda: /tmp), so a render by segments holds no segment's
 * aggregate text in memory between rendering it and assembling the file: each body is written once
 * rendered (or once loaded from the fan-out's stored segment) and read back one at a time by the
 * assemble step (segments-render.ts, segments-assemble.ts).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A spooled body: its file and its length in bytes. */
export interface SpoolRef {
  spool: string;
  bytes: number;
}

/** A folder of spooled bodies; `dispose` removes it. */
export class BodySpool {
  private n = 0;
  private constructor(readonly dir: string) {}

  /** A new spool folder under `dir` (default: the OS temp folder). */
  static async create(dir?: string): Promise<BodySpool> {
    return new BodySpool(await mkdtemp(join(dir ?? tmpdir(), 'ls-export-segments-')));
  }

  /** Writes a body (UTF-8 for text); returns where it is. */
  async write(body: string | Uint8Array): Promise<SpoolRef> {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    const path = join(this.dir, `${++this.n}`);
    await writeFile(path, buf);
    return { spool: path, bytes: buf.length };
  }

  /** Removes one body once it is no longer needed (its file gone: nothing to do). */
  async remove(ref: SpoolRef): Promise<void> {
    await rm(ref.spool, { force: true });
  }

  /** Removes the folder and every body in it. */
  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Reads a spooled body back; throws when the file is gone or has another length. */
export async function readSpooled(ref: SpoolRef): Promise<Buffer> {
  const b = await readFile(ref.spool);
  if (b.length !== ref.bytes) throw new Error(`${ref.spool}: spooled ${ref.bytes} bytes, read ${b.length}`);
  return b;
}

/** A segment's aggregate output: held text, or a spooled body. */
export type AggregateBody = string | SpoolRef;

/** The text of an aggregate body. */
export async function bodyText(b: AggregateBody): Promise<string> {
  return typeof b === 'string' ? b : (await readSpooled(b)).toString('utf8');
}
