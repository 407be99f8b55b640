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
import { type WideEncoding, wideEncoding } from './input-encoding.ts';
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
  const wide = wideEncoding(await firstBytes(path, 64));
  if (wide) return new WideEncodingFileSource(store, basename(path), wide);
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

/**
 * A JSON export saved as UTF-16 (or UTF-32): skipped whole with a reason naming the encoding,
 * instead of read as UTF-8 and reported as "not a JSON array or object: it starts with "\ufffd"".
 */
class WideEncodingFileSource extends SingleFileSource {
  readonly #encoding: WideEncoding;

  constructor(store: ObjectStore, key: string, encoding: WideEncoding) {
    super(store, key);
    this.#encoding = encoding;
  }

  override async *tasks(report: Report): AsyncGenerator<SourceTask> {
    const { description, iconv } = this.#encoding;
    report.skip({
      source: this.key.split('/').pop() ?? this.key,
      reason: `the file is ${description}; Label Studio's exports are UTF-8: convert it (e.g. iconv -f ${iconv} -t UTF-8)`,
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
