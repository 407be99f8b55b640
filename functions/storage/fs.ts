/**
 * ObjectStore over a local folder: keys are paths relative to the root, with `/` separators.
 * Conditional writes are honoured with a content hash as the ETag, so tests of the pipeline's
 * concurrency logic can run on disk too.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type AssemblyPart,
  type GetResult,
  NotFoundError,
  type ObjectInfo,
  type ObjectStore,
  PreconditionFailedError,
  type PutOptions,
  uploadedBytes,
} from '../core/object-store.ts';
import { MAX_SEGMENT_BYTES, OutputNameError } from '../core/output-names.ts';
import { checkParts } from './assembly.ts';

let tmpCounter = 0;
const tmpPrefix = `.ls-export-${process.pid}-`;
/**
 * A unique short sibling name, so concurrent writes to one key never share a temporary file. Short
 * whatever the target's name: a file name of 255 bytes (the limit) must still be writable. `p` is a
 * normalised path (`join`'s): its folder is what precedes the last separator.
 */
const tmpName = (p: string) =>
  `${p.slice(0, Math.max(p.lastIndexOf('/'), p.lastIndexOf(sep)) + 1)}${tmpPrefix}${++tmpCounter}.tmp`;

/** An empty, `.` or `..` segment (a leading, doubled or trailing `/` included): `path`'s slow way. */
const IRREGULAR_SEGMENT = /(?:^|\/)\.{0,2}(?:\/|$)/;
/** Keys up to this many UTF-16 units cannot hold a segment over MAX_SEGMENT_BYTES (≤ 3 bytes a unit). */
const SHORT_KEY = Math.floor(MAX_SEGMENT_BYTES / 3);

/**
 * Bodies up to this size (bytes) are written with synchronous calls: a label file or a small XML
 * costs four thread-pool round trips asynchronously (open, write, close, rename), which dominated
 * YOLO and VOC exports of many small files; a blocking write of a few KiB is shorter than one.
 */
const SYNC_PUT_BYTES = 64 * 1024;

const etagOf = (data: Uint8Array | string) => `"${createHash('md5').update(data).digest('hex')}"`;

/**
 * A put's result. A text body's ETag (its MD5) is computed when first read: an export writing many
 * small files never reads it. Bytes are hashed at once (the caller may reuse the buffer).
 */
function putResult(body: Uint8Array | string): { etag?: string } {
  if (typeof body !== 'string') return { etag: etagOf(body) };
  let etag: string | undefined;
  return {
    get etag() {
      etag ??= etagOf(body);
      return etag;
    },
  };
}

export class FsObjectStore implements ObjectStore {
  /** Folders already created, so writing many files into one folder does not mkdir each time. */
  private readonly madeDirs = new Set<string>();

  /** `join(root, key)` for a key of plain segments is this plus the key. */
  private readonly base: string;

  /**
   * Entries the last `list` found that are not objects: a symbolic link to a folder or to nothing,
   * a FIFO, a socket, a device (key and what it is). A symbolic link to a file is listed as an
   * object (read through the link, as Label Studio's converter reads a folder's files).
   */
  readonly notListed: Array<{ key: string; kind: string }> = [];

  constructor(readonly root: string) {
    this.base = join(root, 'x').slice(0, -1);
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  get description(): string {
    return this.root;
  }

  /**
   * The file path of a key. Throws OutputNameError for a key the folder cannot hold (a NUL, a
   * segment over 255 bytes, escaping the root), before any folder is created for it.
   */
  private path(key: string): string {
    // A short key of plain segments (no NUL) passes every check below, and joins as root + key.
    if (key.length <= SHORT_KEY && !IRREGULAR_SEGMENT.test(key) && !key.includes('\0'))
      return this.base + key;
    const segments = key.split('/').filter(Boolean);
    if (key.includes('\0')) throw new OutputNameError(key, 'a file name cannot hold a NUL character');
    if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES))
      throw new OutputNameError(key, `a file name is longer than ${MAX_SEGMENT_BYTES} bytes (ENAMETOOLONG)`);
    const p = join(this.root, ...segments);
    const rel = relative(this.root, p);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw new OutputNameError(key, 'the key escapes the folder');
    return p;
  }

  async *list(prefix: string, options: { etags?: boolean } = {}): AsyncIterable<ObjectInfo> {
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        const key = () => relative(this.root, full).split(sep).join('/');
        if (e.isDirectory()) await walk(full);
        else if (e.isFile()) keys.push(key());
        else if (e.isSymbolicLink()) {
          // Followed to a file only: a link to a folder could loop.
          const target = await stat(full).catch(() => undefined);
          if (target?.isFile()) keys.push(key());
          else
            this.notListed.push({
              key: key(),
              kind: target ? 'a symbolic link to a folder' : 'a symbolic link to nothing',
            });
        } else
          this.notListed.push({
            key: key(),
            kind: e.isFIFO() ? 'a FIFO' : e.isSocket() ? 'a socket' : 'a device',
          });
      }
    };
    this.notListed.length = 0;
    await walk(this.root);
    keys.sort();
    this.notListed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const key of keys) {
      if (!key.startsWith(prefix)) continue;
      const s = await stat(this.path(key));
      const etag = options.etags ? etagOf(await readFile(this.path(key))) : undefined;
      yield { key, size: s.size, lastModified: s.mtime, ...(etag ? { etag } : {}) };
    }
  }

  async get(key: string, range?: { start: number; end: number }): Promise<GetResult> {
    const p = this.path(key);
    let size: number;
    try {
      size = (await stat(p)).size;
    } catch {
      throw new NotFoundError(key);
    }
    const body = range
      ? size === 0 || range.start >= size
        ? Readable.from([])
        : createReadStream(p, { start: range.start, end: Math.min(range.end, size) - 1 })
      : createReadStream(p, { highWaterMark: 1 << 20 });
    return { body, size };
  }

  /** `etag: false` skips hashing the file (its size and time only). */
  async head(key: string, etag = true): Promise<ObjectInfo | undefined> {
    try {
      const p = this.path(key);
      const s = await stat(p);
      return {
        key,
        size: s.size,
        lastModified: s.mtime,
        ...(etag ? { etag: etagOf(await readFile(p)) } : {}),
      };
    } catch {
      return undefined;
    }
  }

  private async check(key: string, options?: PutOptions): Promise<void> {
    if (!options?.ifMatch && !options?.ifNoneMatch) return;
    const current = await this.head(key);
    if (options.ifNoneMatch === '*' && current) throw new PreconditionFailedError(key);
    if (options.ifMatch && current?.etag !== options.ifMatch) throw new PreconditionFailedError(key);
  }

  async put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<{ etag?: string }> {
    await this.check(key, options);
    const p = this.path(key);
    // Write beside the target and rename: a reader never sees a half-written file.
    const small =
      typeof body === 'string'
        ? body.length <= SYNC_PUT_BYTES && Buffer.byteLength(body) <= SYNC_PUT_BYTES
        : body.length <= SYNC_PUT_BYTES;
    if (small) {
      const dir = dirname(p);
      if (!this.madeDirs.has(dir)) {
        mkdirSync(dir, { recursive: true });
        this.madeDirs.add(dir);
      }
      const tmp = tmpName(p);
      try {
        writeFileSync(tmp, body);
        renameSync(tmp, p);
      } catch (err) {
        rmSync(tmp, { force: true });
        throw err;
      }
      return putResult(body);
    }
    await this.ensureDir(dirname(p));
    const tmp = tmpName(p);
    try {
      await writeFile(tmp, body);
      await rename(tmp, p);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return putResult(body);
  }

  async putStream(
    key: string,
    body: AsyncIterable<Uint8Array | string>,
    options?: PutOptions,
  ): Promise<{ etag?: string }> {
    await this.check(key, options);
    const p = this.path(key);
    await this.ensureDir(dirname(p));
    // Write beside the target and rename: a reader never sees a half-written file.
    const tmp = tmpName(p);
    try {
      await pipeline(Readable.from(body), createWriteStream(tmp));
      await rename(tmp, p);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return {};
  }

  /**
   * The parts streamed in order into the object (copied ranges read from their files as streams,
   * lazy parts made one at a time), written like putStream: memory holds one piece, not the object.
   */
  async assemble(key: string, parts: AssemblyPart[]): Promise<{ etag?: string }> {
    checkParts(parts);
    const sources = new Map<string, number>();
    for (const p of parts)
      if ('copy' in p) {
        const size = sources.get(p.copy.key) ?? (await this.head(p.copy.key, false))?.size;
        if (size === undefined) throw new NotFoundError(p.copy.key);
        if (p.copy.end > size)
          throw new RangeError(`${p.copy.key} has ${size} bytes; cannot copy up to ${p.copy.end}`);
        sources.set(p.copy.key, size);
      }
    const get = this.get.bind(this);
    const md5 = createHash('md5');
    await this.putStream(
      key,
      (async function* () {
        for (const p of parts) {
          const pieces = 'copy' in p ? (await get(p.copy.key, p.copy)).body : [await uploadedBytes(p)];
          for await (const b of pieces) {
            md5.update(b);
            yield b;
          }
        }
      })(),
    );
    return { etag: `"${md5.digest('hex')}"` };
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async putLocalFile(key: string, path: string): Promise<void> {
    const p = this.path(key);
    await this.ensureDir(dirname(p));
    await copyFile(path, p);
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const { body } = await this.get(fromKey);
    await this.putStream(toKey, body);
  }
}
