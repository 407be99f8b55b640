/** Integration helpers: S3 clients, buckets and runtimes against the fauxqs server of global-setup.ts. */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { LocalBus } from '../../functions/local/notification-bus.ts';
import type { PipelineConfig } from '../../functions/pipeline/config.ts';
import { silentLogger } from '../../functions/pipeline/context.ts';
import { createRuntime, type Runtime } from '../../functions/runtime/env.ts';
import { s3ClientConfig } from '../../functions/storage/s3.ts';
import { TestClock } from '../pipeline/helpers.ts';

/** The local S3 server's URL; throws in a test file that is not in vitest's `integration` project. */
export function endpoint(): string {
  const port = inject('s3Port');
  if (!port) {
    throw new Error(
      'No local S3 server in this Vitest project: put the test under test/integration/ or name it ' +
        '*.int.test.ts (see SERVER_TESTS in vitest.config.ts).',
    );
  }
  return `http://127.0.0.1:${port}`;
}

export function s3Client(): S3Client {
  return new S3Client({
    ...s3ClientConfig({ endpoint: endpoint(), region: 'us-east-1' }),
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/** Fresh bucket names for one test (the server is shared by every test file). */
export function bucketNames(): { src: string; out: string; media: string } {
  const id = randomBytes(4).toString('hex');
  return { src: `src-${id}`, out: `out-${id}`, media: `media-${id}` };
}

export async function createBuckets(client: S3Client, names: string[]): Promise<void> {
  for (const Bucket of names) await client.send(new CreateBucketCommand({ Bucket }));
}

export interface LocalRuntime extends Runtime {
  bus: LocalBus;
  clock: TestClock;
}

/**
 * A handler runtime over fauxqs: conditional writes emulated in-process (fauxqs ignores them),
 * and S3 notifications emitted by a LocalBus for everything written through its stores.
 */
export function localRuntime(
  client: S3Client,
  config: PipelineConfig,
  options: { partSize?: number; clock?: TestClock } = {},
): LocalRuntime {
  const bus = new LocalBus();
  const clock = options.clock ?? new TestClock(Date.now());
  const rt = createRuntime({
    config,
    client,
    log: silentLogger,
    now: clock.now,
    sleep: async () => {},
    storeOptions: {
      emulateConditionalWrites: true,
      ...(options.partSize ? { partSize: options.partSize } : {}),
    },
    wrapStore: (store, bucket) => bus.wrap(store, bucket),
  });
  return { ...rt, bus, clock };
}
