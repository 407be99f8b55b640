/** S3ObjectStore against the local server (a separate file: aws-sdk-client-mock patches every S3Client). */
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { PreconditionFailedError, readAll } from '../../functions/core/object-store.ts';
import { S3ObjectStore } from '../../functions/storage/s3.ts';
import { bucketNames, createBuckets, s3Client } from '../integration/helpers.ts';

describe('S3ObjectStore on the local server', () => {
  it('emulates conditional writes for a server that ignores them (one process only)', async () => {
    const client: S3Client = s3Client();
    const { src } = bucketNames();
    await createBuckets(client, [src]);
    const plain = new S3ObjectStore(client, src);
    const emulated = new S3ObjectStore(client, src, { emulateConditionalWrites: true });
    await plain.put('k', 'v1');
    // fauxqs ignores IfNoneMatch: the plain store overwrites …
    await plain.put('k', 'v2', { ifNoneMatch: '*' });
    expect((await readAll((await plain.get('k')).body)).toString()).toBe('v2');
    // … the emulating store refuses, and serializes racing compare-and-swaps on one key.
    await expect(emulated.put('k', 'v3', { ifNoneMatch: '*' })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    const etag = (await emulated.head('k'))!.etag!;
    const results = await Promise.allSettled([
      emulated.put('k', 'a', { ifMatch: etag }),
      emulated.put('k', 'b', { ifMatch: etag }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected' && r.reason instanceof PreconditionFailedError),
    ).toHaveLength(1);
  });
});
