/** S3ObjectStore against the local server (a separate file: aws-sdk-client-mock patches every S3Client). */
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { PreconditionFailedError, readAll } from '../../functions/core/object-store.ts';
import { assembleFile } from '../../functions/pipeline/segments-assemble.ts';
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

  it('puts a 12 MiB body and assembles 12 MiB of fresh bytes: parts stay under the 11 MiB request bodies it accepts', async () => {
    const client: S3Client = s3Client();
    const { src } = bucketNames();
    await createBuckets(client, [src]);
    const store = new S3ObjectStore(client, src);
    const MiB = 1024 * 1024;
    const big = randomBytes(12 * MiB);
    await store.put('manifest.json', big);
    expect((await readAll((await store.get('manifest.json')).body)).equals(big)).toBe(true);
    // 12 MiB of fresh bytes after a 6 MiB copied run: two uploaded parts of 6 MiB (one of 12 MiB
    // would be refused).
    const fresh = randomBytes(12 * MiB);
    const io = { readBytes: 0, reads: 0, uploadedBytes: 0, copiedBytes: 0, parts: 0 };
    await assembleFile({
      store,
      key: 'assembled',
      path: 'assembled',
      pieces: [
        { prev: { start: 0, end: 6 * MiB }, sha256: 'p' },
        { bytes: fresh, sha256: 'f' },
      ],
      previous: { path: 'manifest.json', key: 'manifest.json', bytes: big.length, sha256: 'x' },
      io,
    });
    const got = await readAll((await store.get('assembled')).body);
    expect(got.equals(Buffer.concat([big.subarray(0, 6 * MiB), fresh]))).toBe(true);
    expect(io).toMatchObject({ copiedBytes: 6 * MiB, uploadedBytes: 12 * MiB, parts: 3 });
  });
});
