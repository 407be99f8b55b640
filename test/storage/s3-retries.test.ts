/**
 * What the S3 client does with a 503 SlowDown, through a real S3Client over an in-process HTTP
 * handler (no network, no aws-sdk-client-mock: a mock replaces `send`, the SDK's retries included).
 * The store adds no attempts of its own (test/storage/s3.test.ts shows one `send` per call).
 */
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readAll } from '../../functions/core/object-store.ts';
import { DEFAULT_S3_MAX_ATTEMPTS, S3ObjectStore, s3ClientConfig } from '../../functions/storage/s3.ts';

describe('S3 client retries (the SDK standard retry strategy, configured by s3ClientConfig)', () => {
  const slowDown = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>r1</RequestId></Error>`;

  /** An S3 store whose HTTP layer answers `failures` SlowDowns, then 200 with `hello`. */
  function throttled(failures: number, maxAttempts?: number) {
    const seen: string[] = [];
    const requestHandler = {
      handle: async (request: { method: string; path: string }) => {
        seen.push(`${request.method} ${request.path}`);
        const fail = seen.length <= failures;
        return {
          response: {
            statusCode: fail ? 503 : 200,
            reason: fail ? 'Slow Down' : 'OK',
            headers: fail
              ? { 'content-type': 'application/xml', 'x-amz-request-id': 'r1' }
              : { 'content-type': 'text/plain', etag: '"e1"', 'content-length': '5' },
            body: Readable.from([Buffer.from(fail ? slowDown : 'hello')]),
          },
        };
      },
      updateHttpClientConfig: () => {},
      httpHandlerConfigs: () => ({}),
    };
    const client = new S3Client({
      ...s3ClientConfig({ region: 'us-east-1', maxAttempts }),
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      requestHandler: requestHandler as never,
    });
    return { store: new S3ObjectStore(client, 'b'), seen };
  }

  beforeEach(() => {
    vi.spyOn(Math, 'random').mockReturnValue(0); // the SDK's jittered backoff becomes 0 ms
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('gives up on a persistent SlowDown after exactly maxAttempts HTTP requests', async () => {
    const { store, seen } = throttled(Number.POSITIVE_INFINITY, 3);
    await expect(store.get('k')).rejects.toMatchObject({ name: 'SlowDown' });
    expect(seen).toHaveLength(3);
    expect(new Set(seen)).toEqual(new Set([seen[0]])); // the same GetObject, retried
  });

  it('uses DEFAULT_S3_MAX_ATTEMPTS (5) in total by default, not attempts multiplied by a second loop', async () => {
    const { store, seen } = throttled(Number.POSITIVE_INFINITY);
    await expect(store.head('k')).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    expect(seen).toHaveLength(DEFAULT_S3_MAX_ATTEMPTS);
    expect(DEFAULT_S3_MAX_ATTEMPTS).toBe(5);
  });

  it('succeeds when the throttling stops before the attempts run out', async () => {
    const { store, seen } = throttled(2, 3);
    expect((await readAll((await store.get('k')).body)).toString()).toBe('hello');
    expect(seen).toHaveLength(3);
  });
});
