/**
 * The CLI's media reader loads the AWS SDK only when a task names s3:// media; that path still
 * reads objects (one client per run, one store per bucket) from the local S3 server.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { s3Client as cliS3Client } from '../../functions/cli/sources.ts';
import { readAll } from '../../functions/core/object-store.ts';
import { LocalMedia } from '../../functions/storage/local-media.ts';
import { S3ObjectStore } from '../../functions/storage/s3.ts';
import { bucketNames, createBuckets, endpoint, s3Client } from './helpers.ts';

describe('LocalMedia s3:// media (SDK loaded lazily)', () => {
  it('reads objects of two buckets through one client made on first use', async () => {
    const client = s3Client();
    const names = bucketNames();
    await createBuckets(client, [names.src, names.media]);
    await new S3ObjectStore(client, names.media).put('img/a.jpg', 'AAAA');
    await new S3ObjectStore(client, names.src).put('b.jpg', 'BBBBBB');
    let made = 0;
    const media = new LocalMedia({
      s3: async (): Promise<S3Client> => {
        made++;
        return cliS3Client({ endpoint: endpoint() });
      },
    });
    expect(made).toBe(0);
    const a = await media.open(`s3://${names.media}/img/a.jpg`);
    expect(a).toMatchObject({ name: 'a.jpg', size: 4 });
    expect((await readAll(a.read())).toString()).toBe('AAAA');
    const b = await media.open(`s3://${names.src}/b.jpg`);
    expect((await readAll(b.read({ start: 1, end: 3 }))).toString()).toBe('BB');
    await expect(media.open(`s3://${names.media}/img/missing.jpg`)).rejects.toThrow(/not found/);
    expect(made).toBe(1);
  });
});
