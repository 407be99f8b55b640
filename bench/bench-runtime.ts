/**
 * The bench's pipeline runtime over one of two object stores:
 *  - `s3`: the local S3 server (fauxqs) over HTTP, as the Lambdas reach S3;
 *  - `folder`: FsObjectStore, one folder per bucket under `root` (no server holding every object
 *    in memory: what lets the render bench run 1,000,000 tasks on one machine).
 * Either way `count` (when given) sees every request at the ObjectStore boundary (CountingStore).
 */
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../functions/pipeline/config.ts';
import { silentLogger } from '../functions/pipeline/context.ts';
import { createRuntime, type Runtime } from '../functions/runtime/env.ts';
import { FsObjectStore } from '../functions/storage/fs.ts';
import { s3ClientConfig } from '../functions/storage/s3.ts';
import { type Counter, CountingStore } from './counting-store.ts';

export type StoreSpec = { kind: 's3'; endpoint: string } | { kind: 'folder'; root: string };

/** An S3 client for the local server at `endpoint` (fixed bench credentials). */
export function benchClient(endpoint: string): S3Client {
  return new S3Client({
    ...s3ClientConfig({ endpoint, region: 'us-east-1' }),
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
}

/** A runtime whose buckets live in `spec`; each store wrapped in a CountingStore when `count` is given. */
export function benchRuntime(config: PipelineConfig, spec: StoreSpec, count?: Counter): Runtime {
  // The folder store never sends a request: the client is only there because the runtime wants one.
  const client = benchClient(spec.kind === 's3' ? spec.endpoint : 'http://127.0.0.1:9');
  return createRuntime({
    config,
    client,
    log: silentLogger,
    storeOptions: { emulateConditionalWrites: true },
    wrapStore: (store, bucket) => {
      const s = spec.kind === 'folder' ? new FsObjectStore(join(spec.root, bucket)) : store;
      return count ? new CountingStore(s, count) : s;
    },
  });
}
