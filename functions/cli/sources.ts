/** Turns the CLI's INPUT (a file, a folder, or s3://bucket/prefix) into a task source. */

import { open, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../core/object-store.ts';
import { SingleFileSource } from '../core/readers/single-file.ts';
import type { SourceTask, TaskSource } from '../core/readers/source.ts';
import { StorageObjectsSource } from '../core/readers/storage-objects.ts';
import type { Report } from '../core/report.ts';
import { parseS3Url } from '../core/s3-url.ts';
import { FsObjectStore } from '../storage/fs.ts';
import type { S3Settings } from './s3-client.ts';

export type { S3Settings } from './s3-client.ts';

export class InputNotFoundError extends Error {}

/**
 * The CLI's S3 client (see s3-client.ts), with the AWS SDK loaded on first use only: a local
 * convert never loads it.
 */
export async function s3Client(
  settings: S3Settings,
  env: NodeJS.ProcessEnv = process.env,
): Promise<S3Client> {
  return (await import('./s3-client.ts')).s3Client(settings, env);
}

/** An S3ObjectStore for `bucket` (the AWS SDK loaded on first use). */
async function s3Store(settings: S3Settings, bucket: string): Promise<ObjectStore> {
  const { S3ObjectStore } = await import('../storage/s3.ts');
  return new S3ObjectStore(await s3Client(settings), bucket);
}

export async function openSource(input: string, s3: S3Settings): Promise<TaskSource> {
  if (input.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(input);
    const store = await s3Store(s3, bucket);
    if (/\.(json|jsonl|ndjson)$/i.test(prefix) && (await store.head(prefix)))
      return new SingleFileSource(store, prefix);
    // Listing one key answers early: a missing bucket (NoSuchBucket), denied access, no credentials,
    // a wrong endpoint — or a key or prefix with nothing under it.
    for await (const _ of store.list(prefix)) return new StorageObjectsSource(store, prefix);
    throw new InputNotFoundError(`input not found: no object at or under ${input}`);
  }
  const path = resolve(input);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new InputNotFoundError(`input not found: ${input}`);
  if (info.isDirectory()) return folderSource(input, path);
  const store = new FsObjectStore(dirname(path));
  const utf16 = utf16Encoding(await firstBytes(path, 64));
  if (utf16) return new Utf16FileSource(store, basename(path), utf16);
  return new SingleFileSource(store, basename(path));
}

/** Up to `n` bytes from the start of a local file (fewer for a shorter one, none if unreadable). */
async function firstBytes(path: string, n: number): Promise<Uint8Array> {
  const file = await open(path).catch(() => undefined);
  if (!file) return new Uint8Array(0);
  try {
    const buf = new Uint8Array(n);
    const { bytesRead } = await file.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } catch {
    return new Uint8Array(0);
  } finally {
    await file.close();
  }
}

const OPENERS = new Set([0x5b, 0x7b]); // `[`, `{`
const JSON_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Without a byte order mark: the byte order whose code units, read from `b`, are JSON whitespace
 * up to a `[` or `{` (its first character), each unit's other bytes NUL; `unit` is 2 (UTF-16) or
 * 4 (UTF-32). Undefined when neither order reads so (UTF-8, or too few bytes read).
 */
function nulPattern(b: Uint8Array, unit: 2 | 4): 'LE' | 'BE' | undefined {
  for (const order of ['LE', 'BE'] as const) {
    const at = order === 'LE' ? 0 : unit - 1;
    for (let i = 0; i + unit <= b.length; i += unit) {
      const unitBytes = b.subarray(i, i + unit);
      if (unitBytes.some((byte, j) => j !== at && byte !== 0)) break;
      const c = unitBytes[at];
      if (OPENERS.has(c)) return order;
      if (!JSON_WHITESPACE.has(c)) break;
    }
  }
  return undefined;
}

/**
 * How a file's first bytes say it is UTF-16 or UTF-32 — its byte order mark (FF FE, FE FF,
 * FF FE 00 00, 00 00 FE FF), or JSON whitespace and a `[`/`{` with NUL bytes in the pattern of
 * the encoding (`[` 00 00 00 for UTF-32 LE, 00 `[` for UTF-16 BE, …) — e.g.
 * `UTF-16 LE (it starts with a byte order mark)`; undefined for anything else (UTF-8, with or
 * without its BOM, is read as usual). Give it the first 64 bytes or so: leading whitespace longer
 * than that is not looked past.
 */
export function utf16Encoding(b: Uint8Array): string | undefined {
  const bom = 'it starts with a byte order mark';
  if (b[0] === 0xff && b[1] === 0xfe)
    return b.length >= 4 && b[2] === 0 && b[3] === 0 ? `UTF-32 LE (${bom})` : `UTF-16 LE (${bom})`;
  if (b[0] === 0xfe && b[1] === 0xff) return `UTF-16 BE (${bom})`;
  if (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return `UTF-32 BE (${bom})`;
  // UTF-32 first: its `[` 00 00 00 also starts like UTF-16 LE's `[` 00.
  const utf32 = nulPattern(b, 4);
  if (utf32) return `UTF-32 ${utf32} (each of its characters comes with three NUL bytes)`;
  const utf16 = nulPattern(b, 2);
  if (utf16) return `UTF-16 ${utf16} (its characters alternate with NUL bytes)`;
  return undefined;
}

/**
 * A JSON export saved as UTF-16 (or UTF-32): skipped whole with a reason naming the encoding,
 * instead of read as UTF-8 and reported as "not a JSON array or object: it starts with "\ufffd"".
 */
class Utf16FileSource extends SingleFileSource {
  readonly #encoding: string;

  constructor(store: ObjectStore, key: string, encoding: string) {
    super(store, key);
    this.#encoding = encoding;
  }

  override async *tasks(report: Report): AsyncGenerator<SourceTask> {
    const encoding = this.#encoding;
    // iconv's name: UTF-16 reads (and drops) a byte order mark; without one, the byte order is named.
    const iconv = encoding.includes('byte order mark')
      ? encoding.slice(0, 6)
      : encoding.slice(0, 9).replace(' ', '');
    report.skip({
      source: this.key.split('/').pop() ?? this.key,
      reason: `the file is ${encoding}; Label Studio's exports are UTF-8: convert it (e.g. iconv -f ${iconv} -t UTF-8)`,
    });
    yield* [];
  }
}

/** Reads a small file (the label config) from disk or S3. */
export async function readTextFile(location: string, s3: S3Settings): Promise<string> {
  let store: ObjectStore;
  let key: string;
  if (location.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(location);
    store = await s3Store(s3, bucket);
    key = prefix;
  } else {
    const path = resolve(location);
    store = new FsObjectStore(dirname(path));
    key = basename(path);
  }
  const { body } = await store.get(key);
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

/**
 * A folder of task or annotation files; what it holds that is not a file (a FIFO, a symbolic link
 * to a folder or to nothing) is reported as a skipped input, not dropped in silence.
 */
function folderSource(input: string, path: string): TaskSource {
  const store = new FsObjectStore(path);
  const objects = new StorageObjectsSource(store, '');
  return {
    description: objects.description,
    async *tasks(report) {
      yield* objects.tasks(report);
      for (const e of store.notListed)
        report.skip({
          source: join(input, e.key),
          reason: `${e.kind} is not read (a folder input is read file by file)`,
        });
    },
  };
}
