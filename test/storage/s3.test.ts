/** S3ObjectStore: version ids passed back, conditional writes, retries left to the SDK, content types, encryption headers, multipart failure, listing pages. */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, PreconditionFailedError } from '../../functions/core/object-store.ts';
import {
  ASSEMBLE_CONCURRENCY,
  contentTypeFor,
  S3ObjectStore,
  SINGLE_PUT_MAX_BYTES,
} from '../../functions/storage/s3.ts';
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

  it('put sends a body over 10 MiB in parts (unless conditional); smaller ones in one request', async () => {
    const big = Buffer.alloc(SINGLE_PUT_MAX_BYTES + 1, 'x');
    await store().put('big', big);
    expect(s3.mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(s3.mock.commandCalls(CreateMultipartUploadCommand)).toHaveLength(1);
    expect(s3.mock.commandCalls(UploadPartCommand).length).toBeGreaterThanOrEqual(2);
    expect(s3.text('b', 'big')).toBe(big.toString());
    await store().put('small', Buffer.alloc(SINGLE_PUT_MAX_BYTES, 'y'));
    await store().put('cond', big, { ifNoneMatch: '*' });
    expect(s3.mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['small', 'cond']);
  });

  it('get pins a version when given one (a ranged read of the version a manifest names)', async () => {
    s3.put('b', 'k', 'hello world');
    await collect((await store().get('k', { start: 2, end: 5 }, 'v-123')).body);
    await collect((await store().get('k')).body);
    const [pinned, plain] = s3.mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input);
    expect(pinned).toMatchObject({ Bucket: 'b', Key: 'k', Range: 'bytes=2-4', VersionId: 'v-123' });
    expect(plain).not.toHaveProperty('VersionId');
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

/**
 * The S3 VersionId of each write comes back in the PutResult (latest/manifest.json pins versions by
 * it). The local S3 server has no versioning, so a client instance of its own is mocked here.
 */
describe('S3ObjectStore version ids (mocked S3 responses)', () => {
  const client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  let m: ReturnType<typeof mockClient>;
  beforeAll(() => {
    m = mockClient(client);
  });
  const versioned = (versionId: string | undefined) => {
    const v = versionId ? { VersionId: versionId } : {};
    m.reset();
    m.on(PutObjectCommand).resolves({ ETag: '"put"', ...v });
    m.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    m.on(UploadPartCommand).callsFake(async (input: { PartNumber: number }) => ({
      ETag: `"p${input.PartNumber}"`,
    }));
    m.on(CompleteMultipartUploadCommand).resolves({ ETag: '"done-2"', ...v });
    return new S3ObjectStore(client, 'b', { partSize: 5 * 1024 * 1024 });
  };
  async function* stream(...chunks: Uint8Array[]) {
    yield* chunks;
  }
  const big = Buffer.alloc(6 * 1024 * 1024, 1);

  afterAll(() => m.restore());

  it('put returns the VersionId of PutObject, none when S3 sends none', async () => {
    expect(await versioned('v-put').put('k', 'x')).toEqual({ etag: '"put"', versionId: 'v-put' });
    const plain = await versioned(undefined).put('k', 'x');
    expect(plain).toEqual({ etag: '"put"' });
    expect(plain).not.toHaveProperty('versionId');
  });

  it('putStream returns the VersionId of a single PutObject and of a completed multipart upload', async () => {
    expect(await versioned('v-small').putStream('k', stream(Buffer.from('small')))).toEqual({
      etag: '"put"',
      versionId: 'v-small',
    });
    expect(m.commandCalls(PutObjectCommand)).toHaveLength(1);
    expect(await versioned('v-multi').putStream('k', stream(big, big))).toEqual({
      etag: '"done-2"',
      versionId: 'v-multi',
    });
    expect(m.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(1);
    expect(await versioned(undefined).putStream('k', stream(big, big))).not.toHaveProperty('versionId');
    expect(await versioned(undefined).putStream('k', stream(Buffer.from('s')))).not.toHaveProperty(
      'versionId',
    );
  });

  it('assemble sends up to ASSEMBLE_CONCURRENCY parts at once, makes each lazy part once, completes them in order', async () => {
    const store = versioned('v-par');
    let inFlight = 0;
    let most = 0;
    m.on(UploadPartCommand).callsFake(async (input: { PartNumber: number }) => {
      inFlight++;
      most = Math.max(most, inFlight);
      // Later parts answer sooner: completion order is not part order.
      await new Promise((r) => setTimeout(r, 40 - input.PartNumber * 4));
      inFlight--;
      return { ETag: `"p${input.PartNumber}"` };
    });
    const made: number[] = [];
    const parts = Array.from({ length: 9 }, (_, i) => ({
      upload: {
        bytes: i < 8 ? 5 * 1024 * 1024 : 3,
        read: async () => {
          made.push(i);
          return Buffer.alloc(i < 8 ? 5 * 1024 * 1024 : 3, i);
        },
      },
    }));
    expect(await store.assemble('k', parts)).toEqual({ etag: '"done-2"', versionId: 'v-par' });
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(ASSEMBLE_CONCURRENCY);
    expect([...made].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const complete = m.commandCalls(CompleteMultipartUploadCommand)[0].args[0].input;
    expect(complete.MultipartUpload?.Parts).toEqual(
      Array.from({ length: 9 }, (_, i) => ({ PartNumber: i + 1, ETag: `"p${i + 1}"` })),
    );
    const bodies = m.commandCalls(UploadPartCommand).map((c) => c.args[0].input);
    for (const b of bodies) expect((b.Body as Buffer)[0]).toBe((b.PartNumber ?? 0) - 1);
  });

  it('assemble returns the VersionId of CompleteMultipartUpload, none when S3 sends none', async () => {
    const parts = [{ body: new Uint8Array(big) }, { body: Buffer.from('tail') }];
    expect(await versioned('v-asm').assemble('k', parts)).toEqual({ etag: '"done-2"', versionId: 'v-asm' });
    expect(m.commandCalls(UploadPartCommand)).toHaveLength(2);
    const plain = await versioned(undefined).assemble('k', parts);
    expect(plain).toEqual({ etag: '"done-2"' });
    expect(plain).not.toHaveProperty('versionId');
  });
});
