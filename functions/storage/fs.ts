/**
 * ObjectStore over a local folder: keys are paths relative to the root, with `/` separators.
 * Conditional writes are honoured with a content hash as the ETag, so tests of the pipeline's
 * concurrency logic can run on disk too.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  createReadStream,
  createWriteStream,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
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

/**
 * Local files up to this size (bytes) are copied by one synchronous read and write. The kernel's
 * copy (`fs.copyFile`: copy_file_range plus truncate, chmod, chown and time calls on the target)
 * cost 120-200 µs of system time per file here, a read and a write 40 µs: copying 10,000 small WAVs
 * for ASR_MANIFEST took 1.2-2.0 s against 0.4 s (Python's shutil.copy: 1.3 s).
 */
const SMALL_COPY_BYTES = 1024 * 1024;

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

/**
 * Opens `path` for reading without blocking (a FIFO put in a file's place would block `open`, and a
 * blocked main thread hears no Ctrl-C) and checks that it is a regular file: its descriptor and
 * size. Throws an error (code `EINVAL`) for anything else.
 */
export function openRegularFileSync(path: string): { fd: number; size: number } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const s = fstatSync(fd);
  if (!s.isFile()) {
    closeSync(fd);
    throw Object.assign(new Error(`not a regular file: ${path}`), { code: 'EINVAL' });
  }
  return { fd, size: s.size };
}

/**
 * The bytes of the regular file at `path` if it is at most SMALL_COPY_BYTES long, else undefined
 * (a larger regular file). Throws for a path that is not a regular file (openRegularFileSync).
 */
function readSmallFileSync(path: string): Uint8Array | undefined {
  const { fd, size } = openRegularFileSync(path);
  try {
    if (size > SMALL_COPY_BYTES) return undefined;
    // One byte more than the size: a file that grew since is read to its end or left to copyFile.
    const buf = Buffer.allocUnsafe(size + 1);
    // A short read of a regular file is its end: no second read to see 0 bytes.
    let n = 0;
    for (let r = 1; n < buf.length && r > 0; ) {
      const want = buf.length - n;
      r = readSync(fd, buf, n, want, n);
      n += r;
      if (r < want) break;
    }
    return n <= size ? buf.subarray(0, n) : undefined;
  } finally {
    closeSync(fd);
  }
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

  /** See the constructor's `newFilesInPlace`. */
  private readonly newFilesInPlace: boolean;

  /**
   * `root`: the folder (created on the first write). `newFilesInPlace`: a small object whose file
   * does not exist yet is written under its own name (created exclusively), not beside it and
   * renamed; an existing file is still replaced by a rename. One call fewer per new file (a YOLO
   * label, a VOC XML, a copied WAV; not measurable through the CLI here), but another process may
   * see a new file before its bytes are all written: for a folder one export fills, which nobody
   * reads during the run (`ls-export convert`), not for a folder standing for a bucket that readers
   * share.
   */
  constructor(
    readonly root: string,
    options: { newFilesInPlace?: boolean } = {},
  ) {
    this.base = join(root, 'x').slice(0, -1);
    this.newFilesInPlace = options.newFilesInPlace ?? false;
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

  /** `_versionId`: a folder keeps one version of a file, so it reads the current one. */
  async get(key: string, range?: { start: number; end: number }, _versionId?: string): Promise<GetResult> {
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
      this.writeSmallSync(p, body);
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

  /**
   * Writes a small body to `p` with synchronous calls: created in place when new and
   * `newFilesInPlace`, else written beside it and renamed (a reader never sees a half-written file).
   */
  private writeSmallSync(p: string, body: string | Uint8Array): void {
    const dir = dirname(p);
    if (!this.madeDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    if (this.newFilesInPlace && this.createSync(p, body)) return;
    const tmp = tmpName(p);
    try {
      writeFileSync(tmp, body);
      renameSync(tmp, p);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Creates `p` with `body` if no file has that name (false if one has). A file this call created
   * and could not fill is removed.
   */
  private createSync(p: string, body: string | Uint8Array): boolean {
    let fd: number;
    try {
      fd = openSync(p, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    try {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
      closeSync(fd);
    } catch (err) {
      try {
        closeSync(fd);
      } catch {}
      rmSync(p, { force: true });
      throw err;
    }
    return true;
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

  /**
   * Copies the local regular file `path` to `key`: a small file by one read and write, a larger one
   * by the kernel. Throws (code `EINVAL`) when `path` is not a regular file.
   */
  async putLocalFile(key: string, path: string): Promise<void> {
    const p = this.path(key);
    const small = readSmallFileSync(path);
    if (small) {
      this.writeSmallSync(p, small);
      return;
    }
    await this.ensureDir(dirname(p));
    // Copied beside the target and renamed, like every other write: a symbolic or hard link
    // already at the target's name is replaced, never written through.
    const tmp = tmpName(p);
    try {
      await copyFile(path, tmp, constants.COPYFILE_EXCL);
      await rename(tmp, p);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const { body } = await this.get(fromKey);
    await this.putStream(toKey, body);
  }
}
