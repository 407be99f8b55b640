/** Turns the CLI's INPUT (a file, a folder, or s3://bucket/prefix) into a task source. */

import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SingleFileSource } from '../core/readers/single-file.ts';
import type { TaskSource } from '../core/readers/source.ts';
import { StorageObjectsSource } from '../core/readers/storage-objects.ts';
import { FsObjectStore } from '../storage/fs.ts';
import { parseS3Url, S3ObjectStore, s3ClientConfig } from '../storage/s3.ts';
import type { ObjectStore } from '../storage/types.ts';

export class InputNotFoundError extends Error {}

export interface S3Settings {
  endpoint?: string;
  region?: string;
}

const isLoopback = (url: string) =>
  /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

/**
 * The CLI's S3 client. A local test server accepts any credentials, so a loopback endpoint without
 * configured credentials gets dummy ones; everything else uses the SDK's usual credential chain.
 */
export function s3Client(settings: S3Settings, env: NodeJS.ProcessEnv = process.env): S3Client {
  const localCredentials =
    settings.endpoint && isLoopback(settings.endpoint) && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {};
  return new S3Client({ ...s3ClientConfig(settings), ...localCredentials });
}

export async function openSource(input: string, s3: S3Settings): Promise<TaskSource> {
  if (input.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(input);
    const store = new S3ObjectStore(s3Client(s3), bucket);
    if (/\.(json|jsonl|ndjson)$/i.test(prefix) && (await store.head(prefix)))
      return new SingleFileSource(store, prefix);
    return new StorageObjectsSource(store, prefix);
  }
  const path = resolve(input);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new InputNotFoundError(`input not found: ${input}`);
  if (info.isDirectory()) return new StorageObjectsSource(new FsObjectStore(path), '');
  return new SingleFileSource(new FsObjectStore(dirname(path)), basename(path));
}

/** Reads a small file (the label config) from disk or S3. */
export async function readTextFile(location: string, s3: S3Settings): Promise<string> {
  let store: ObjectStore;
  let key: string;
  if (location.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(location);
    store = new S3ObjectStore(s3Client(s3), bucket);
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
