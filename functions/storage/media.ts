/**
 * MediaAccess for the CLI and the Lambdas: Label Studio upload paths against a local copy of its
 * upload folder, local-files URLs against a document root, `s3://` URIs through S3, http(s) URLs
 * with a timeout and a size limit, and plain local paths.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve, sep } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { type MediaAccess, MediaError, type MediaFile } from '../core/media.ts';
import { parseS3Url, S3ObjectStore } from './s3.ts';
import { NotFoundError } from './types.ts';

export interface LocalMediaOptions {
  /** A local copy of Label Studio's upload folder (`/data/upload/…` paths resolve here). */
  uploadDir?: string;
  /** Root for Label Studio local-files URLs (`/data/local-files/?d=…`). */
  localFilesRoot?: string;
  /** An S3 client for `s3://` media, created on first use. */
  s3?: () => S3Client;
  /** Limits for http(s) downloads. */
  httpTimeoutMs?: number;
  httpMaxBytes?: number;
}

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

function localFile(path: string, name: string): Promise<MediaFile> {
  return stat(path).then(
    (s) => {
      if (!s.isFile()) throw new Error('not a file');
      return {
        name,
        size: s.size,
        localPath: path,
        // Lazy: the file is opened only when the bytes are iterated (a sink that copies by path
        // never iterates them, and an eager stream would hold a descriptor open).
        read: async function* (range?: { start: number; end: number }) {
          if (range && (s.size === 0 || range.start >= s.size)) return;
          yield* range
            ? createReadStream(path, { start: range.start, end: Math.min(range.end, s.size) - 1 })
            : createReadStream(path);
        },
      };
    },
    () => {
      throw new Error(`file not found: ${path}`);
    },
  );
}

export class LocalMedia implements MediaAccess {
  private s3Client?: S3Client;

  constructor(private readonly options: LocalMediaOptions = {}) {}

  async open(url: string): Promise<MediaFile> {
    try {
      return await this.resolve(url);
    } catch (err) {
      if (err instanceof MediaError) throw err;
      throw new MediaError(`${url}: ${(err as Error).message}`, url);
    }
  }

  private async resolve(raw: string): Promise<MediaFile> {
    let url = raw;
    if (/^\/?upload\//.test(url)) url = `/data/${url.replace(/^\//, '')}`;
    if (url.startsWith('/data/upload/')) {
      const root = this.options.uploadDir;
      if (!root)
        throw new MediaError(
          `${raw}: a Label Studio upload path needs --upload-dir (a copy of its upload folder)`,
          raw,
        );
      const rel = safeDecode(url.slice('/data/upload/'.length));
      const path = resolve(root, rel);
      if (!path.startsWith(resolve(root) + sep))
        throw new MediaError(`${raw}: path escapes the upload folder`, raw);
      return localFile(path, basename(path));
    }
    const localFiles = /^\/data\/[^?]*\?d=(.*)$/.exec(url);
    if (localFiles) {
      const root = this.options.localFilesRoot;
      if (!root) throw new MediaError(`${raw}: a local-files URL needs a local files root`, raw);
      const path = resolve(root, safeDecode(localFiles[1]));
      if (!path.startsWith(resolve(root) + sep))
        throw new MediaError(`${raw}: path escapes the local files root`, raw);
      return localFile(path, basename(path));
    }
    if (url.startsWith('s3://')) return this.s3(url);
    if (/^https?:\/\//i.test(url)) return this.http(url);
    if (/^[a-z][a-z0-9+.-]*:/i.test(url)) throw new MediaError(`${raw}: unsupported URL scheme`, raw);
    return localFile(resolve(url), basename(url));
  }

  private async s3(url: string): Promise<MediaFile> {
    if (!this.options.s3) throw new MediaError(`${url}: no S3 access configured`, url);
    this.s3Client ??= this.options.s3();
    const { bucket, prefix: key } = parseS3Url(url);
    const store = new S3ObjectStore(this.s3Client, bucket);
    const info = await store.head(key);
    if (!info) throw new MediaError(`${url}: no such object`, url);
    return {
      name: basename(key),
      size: info.size,
      read: (range) => {
        async function* gen() {
          try {
            yield* (await store.get(key, range)).body;
          } catch (err) {
            if (err instanceof NotFoundError) throw new MediaError(`${url}: no such object`, url);
            throw err;
          }
        }
        return gen();
      },
    };
  }

  private async http(url: string): Promise<MediaFile> {
    const timeout = this.options.httpTimeoutMs ?? 30_000;
    const maxBytes = this.options.httpMaxBytes ?? 512 * 1024 * 1024;
    const name = basename(new URL(url).pathname);
    return {
      name,
      read: (range) => {
        async function* gen() {
          const res = await fetch(url, {
            signal: AbortSignal.timeout(timeout),
            headers: range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {},
          });
          if (!res.ok || !res.body) throw new MediaError(`${url}: HTTP ${res.status}`, url);
          let total = 0;
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            total += chunk.length;
            if (total > maxBytes) throw new MediaError(`${url}: larger than ${maxBytes} bytes`, url);
            yield chunk;
          }
        }
        return gen();
      },
    };
  }
}
