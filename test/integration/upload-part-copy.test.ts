/**
 * S3 UploadPartCopy on the local server (fauxqs ≥ 2): a multipart upload whose first part is a byte
 * range copied from an existing object and whose last part is uploaded, read back byte for byte.
 * AWS's limits hold: a ranged copy source must exceed 5 MiB and every part but the last is ≥ 5 MiB.
 */
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { bucketNames, createBuckets, s3Client } from './helpers.ts';

const MiB = 1024 * 1024;

describe('UploadPartCopy on the local S3 server', () => {
  it('assembles an object from a copied byte range of another object plus an uploaded part', async () => {
    const client = s3Client();
    const { src: Bucket } = bucketNames();
    await createBuckets(client, [Bucket]);
    const source = randomBytes(6 * MiB + 123);
    await client.send(new PutObjectCommand({ Bucket, Key: 'source.bin', Body: source }));

    // Bytes 1000 … 1000 + 5 MiB + 9 of the source (inclusive range, as HTTP's Range header).
    const first = 1000;
    const last = first + 5 * MiB + 9;
    const tail = Buffer.from('and an uploaded last part\n');
    const Key = 'assembled.bin';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const copied = await client.send(
      new UploadPartCopyCommand({
        Bucket,
        Key,
        UploadId,
        PartNumber: 1,
        CopySource: `${Bucket}/source.bin`,
        CopySourceRange: `bytes=${first}-${last}`,
      }),
    );
    const uploaded = await client.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: tail }),
    );
    expect(copied.CopyPartResult?.ETag).toMatch(/^"?[0-9a-f]{32}"?$/);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: copied.CopyPartResult?.ETag },
            { PartNumber: 2, ETag: uploaded.ETag },
          ],
        },
      }),
    );

    const got = await client.send(new GetObjectCommand({ Bucket, Key }));
    const body = Buffer.from(await got.Body!.transformToByteArray());
    const expected = Buffer.concat([source.subarray(first, last + 1), tail]);
    expect(body.length).toBe(5 * MiB + 10 + tail.length);
    expect(body.equals(expected)).toBe(true);
    // A multipart object's ETag is "<md5 of the part MD5s>-<part count>".
    expect(got.ETag).toMatch(/-2"?$/);
  });

  it('refuses a ranged copy from a source of 5 MiB or less, as S3 does', async () => {
    const client = s3Client();
    const { src: Bucket } = bucketNames();
    await createBuckets(client, [Bucket]);
    await client.send(new PutObjectCommand({ Bucket, Key: 'small.bin', Body: randomBytes(1024) }));
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: 'x.bin' }));
    await expect(
      client.send(
        new UploadPartCopyCommand({
          Bucket,
          Key: 'x.bin',
          UploadId,
          PartNumber: 1,
          CopySource: `${Bucket}/small.bin`,
          CopySourceRange: 'bytes=0-99',
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidRequest' });
  });
});
