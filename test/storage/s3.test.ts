/** S3ObjectStore: conditional writes, retries left to the SDK, content types, encryption headers, multipart failure, listing pages. */
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, PreconditionFailedError } from '../../functions/core/object-store.ts';
import { contentTypeFor, S3ObjectStore } from '../../functions/storage/s3.ts';
import { FakeS3, s3Error } from '../handlers/fake-s3.ts';

const s3 = new FakeS3();
const store = (opts = {}) => new S3ObjectStore(s3.client, 'b', opts);

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

afterAll(() => s3.restore());
beforeEach(() => s3.reset());

describe('S3ObjectStore (mocked S3)', () => {
  it('maps 412 and 409 on conditional writes to PreconditionFailedError', async () => {
    await store().put('k', 'v1');
    await expect(store().put('k', 'v2', { ifNoneMatch: '*' })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    await expect(store().put('k', 'v2', { ifMatch: '"nope"' })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    s3.before.set('PutObject', () => {
      throw s3Error('ConditionalRequestConflict', 409);
    });
    await expect(
      store().put('k', 'v3', { ifMatch: s3.objects.get(FakeS3.id('b', 'k'))!.etag }),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(s3.text('b', 'k')).toBe('v1');
  });

  it('sends each request once: throttling is left to the SDK client (which mocks bypass)', async () => {
    s3.put('b', 'k', 'hello');
    s3.before.set('GetObject', () => {
      throw s3Error('SlowDown', 503);
    });
    await expect(store().get('k')).rejects.toMatchObject({ name: 'SlowDown' });
    expect(s3.mock.commandCalls(GetObjectCommand)).toHaveLength(1);
    s3.before.set('PutObject', () => {
      throw s3Error('InternalError', 500);
    });
    await expect(store().put('k', 'v2')).rejects.toMatchObject({ name: 'InternalError' });
    expect(s3.mock.commandCalls(PutObjectCommand)).toHaveLength(1);
    s3.before.set('ListObjectsV2', () => {
      throw s3Error('SlowDown', 503);
    });
    await expect(collect(store().list('p/'))).rejects.toMatchObject({ name: 'SlowDown' });
    expect(s3.mock.commandCalls(ListObjectsV2Command)).toHaveLength(1);
  });

  it('reports missing objects as NotFoundError (get) and undefined (head)', async () => {
    await expect(store().get('missing')).rejects.toBeInstanceOf(NotFoundError);
    expect(await store().head('missing')).toBeUndefined();
  });

  it('sets a content type from the extension and encryption headers when configured', async () => {
    await store({ sse: { type: 'aws:kms', kmsKeyId: 'key-1' } }).put('a/manifest.json', '{}');
    expect(s3.mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: 'a/manifest.json',
      ContentType: 'application/json',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'key-1',
    });
    expect(contentTypeFor('x/result.csv')).toMatch(/^text\/csv/);
    expect(contentTypeFor('x/123')).toBeUndefined();
  });

  it('aborts a multipart upload whose part fails and leaves no object', async () => {
    s3.before.set('UploadPart', (input) => {
      if (input.PartNumber === 2) throw s3Error('InternalError', 500);
    });
    const big = Buffer.alloc(6 * 1024 * 1024, 1);
    async function* body() {
      yield big;
      yield big;
    }
    await expect(store({ partSize: 5 * 1024 * 1024 }).putStream('big.bin', body())).rejects.toThrow();
    expect(s3.mock).toHaveReceivedCommand(AbortMultipartUploadCommand);
    expect(s3.mock.commandCalls(UploadPartCommand).length).toBeGreaterThanOrEqual(2);
    expect(s3.keys('b')).toEqual([]);
  });

  it('lists every page of a large prefix in key order', async () => {
    for (let i = 0; i < 2500; i++) s3.put('b', `p/${String(i).padStart(5, '0')}`, 'x');
    const keys: string[] = [];
    for await (const o of store().list('p/')) keys.push(o.key);
    expect(keys).toHaveLength(2500);
    expect(keys[0]).toBe('p/00000');
    expect(keys[2499]).toBe('p/02499');
    expect(s3.mock.commandCalls(ListObjectsV2Command)).toHaveLength(3);
  });
});
