/**
 * Local media files for PolicyMedia (storage/media.ts): a file is opened only when its path and
 * its real path (symbolic links resolved) both lie under one of the allowed roots, so a link cannot
 * lead a task out of them. The checks and small ranged reads (a WAV's or an image's header) are
 * synchronous calls: they take microseconds, and one file per task through libuv's thread pool cost
 * more in hand-offs than the calls themselves (ASR_MANIFEST, VOC).
 */
import { closeSync, createReadStream, readSync, realpathSync, statSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { basename, sep } from 'node:path';
import { type MediaFile, mediaFailed, mediaRefused } from '../core/media.ts';
import { openRegularFileSync } from './fs.ts';

/** Whether `path` is `root` or lies below it (both absolute and resolved). */
export const within = (root: string, path: string) =>
  path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/** Ranged reads up to this size are made synchronously (a file header). */
const SMALL_READ_BYTES = 64 * 1024;

/** The real path of `path` (symbolic links resolved by the C library), or undefined if missing. */
function realPathOf(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

/** Bytes `[start, end)` of a local file, read synchronously (fewer when the file is shorter). */
function readRange(path: string, start: number, end: number): Uint8Array {
  const { fd } = openRegularFileSync(path);
  try {
    const buf = Buffer.allocUnsafe(end - start);
    const n = readSync(fd, buf, 0, buf.length, start);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Passes a media file's bytes through the run's byte budget (PolicyMedia's metering). */
export type Meter = (
  url: string,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
) => AsyncIterable<Uint8Array>;

/** Charges `bytes` read of media `url` to the run's byte budget; throws MediaError `refused` past it. */
export type Charge = (url: string, bytes: number) => void;

export class LocalFiles {
  /** Each root with its symbolic links resolved (a missing root stays as given). */
  private readonly realRoots = new Map<string, Promise<string>>();

  /**
   * `meter`: the run's byte budget for bytes read through `read`; `charge`: the same budget for a
   * file a sink copies by its path (the whole size, when `copyByPath` is called).
   */
  constructor(
    private readonly meter: Meter,
    private readonly charge: Charge = () => {},
  ) {}

  /**
   * Opens local file `path` (absolute, resolved) for media `url`. MediaError `refused` when the
   * path or its real path is outside `roots`; `failed` when it is missing or not a file. The bytes
   * are read only when iterated (a sink that copies by path never reads them).
   */
  async open(url: string, path: string, roots: string[]): Promise<MediaFile> {
    if (!roots.some((r) => within(r, path))) throw mediaRefused(url, 'outside the allowed media roots');
    const real = realPathOf(path);
    if (real === undefined) throw mediaFailed(url, `file not found: ${path}`);
    const allowed = await Promise.all(roots.map((r) => this.realRoot(r)));
    if (!allowed.some((r) => within(r, real)))
      throw mediaRefused(url, 'outside the allowed media roots (a symbolic link leads out of them)');
    const s = statSync(real);
    if (!s.isFile()) throw mediaFailed(url, `not a file: ${path}`);
    const { meter, charge } = this;
    let charged = false;
    return {
      name: basename(path),
      size: s.size,
      // A copy by path reads bytes no `read` meters: the whole size counts against the run's byte
      // budget (once), and past it the copy is refused.
      copyByPath: () => {
        if (!charged) {
          charged = true;
          charge(url, s.size);
        }
        return real;
      },
      // Lazy: an eager stream would hold a descriptor open.
      read: (range) =>
        (async function* () {
          if (range && (s.size === 0 || range.start >= s.size)) return;
          if (range && range.end - range.start <= SMALL_READ_BYTES) {
            yield* meter(url, [readRange(real, range.start, Math.min(range.end, s.size))]);
            return;
          }
          const stream = range
            ? createReadStream(real, { start: range.start, end: Math.min(range.end, s.size) - 1 })
            : createReadStream(real);
          yield* meter(url, stream);
        })(),
    };
  }

  private realRoot(root: string): Promise<string> {
    let p = this.realRoots.get(root);
    if (!p) {
      p = realpath(root).catch(() => root);
      this.realRoots.set(root, p);
    }
    return p;
  }
}
