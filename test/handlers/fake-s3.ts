/**
 * An in-memory S3 behind aws-sdk-client-mock, for what no local server does: real conditional
 * writes (412 PreconditionFailed / 409 ConditionalRequestConflict), injected throttling (503
 * SlowDown), objects vanishing between an event and the read, failing multipart parts. Every
 * command the pipeline sends is implemented; hooks let a test interfere with one call.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

export interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: Date;
}

export function s3Error(name: string, status: number, message = name): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });
}

type Input = Record<string, unknown> & { Bucket: string; Key: string };
export type Hook = (input: Input) => Promise<void> | void;

const etagOf = (b: Buffer) => `"${createHash('md5').update(b).digest('hex')}"`;

async function bodyBuffer(body: unknown): Promise<Buffer> {
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const parts: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array | string>) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

export class FakeS3 {
  readonly objects = new Map<string, StoredObject>();
  readonly mock = mockClient(S3Client);
  /** Hooks run before a command is served; throw to fail it. Keyed by command name. */
  readonly before = new Map<string, Hook>();
  private uploads = new Map<string, { bucket: string; key: string; parts: Map<number, Buffer> }>();
  private nextUpload = 1;

  readonly client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });

  constructor() {
    this.install();
  }

  static id(bucket: string, key: string) {
    return `${bucket}\n${key}`;
  }

  put(bucket: string, key: string, body: string | Buffer): void {
    const b = Buffer.from(body);
    this.objects.set(FakeS3.id(bucket, key), { body: b, etag: etagOf(b), lastModified: new Date() });
  }

  text(bucket: string, key: string): string | undefined {
    return this.objects.get(FakeS3.id(bucket, key))?.body.toString('utf8');
  }

  keys(bucket: string, prefix = ''): string[] {
    return [...this.objects.keys()]
      .filter((k) => k.startsWith(`${bucket}\n${prefix}`))
      .map((k) => k.slice(bucket.length + 1))
      .sort();
  }

  reset(): void {
    this.objects.clear();
    this.before.clear();
    this.mock.resetHistory();
  }

  restore(): void {
    this.mock.restore();
  }

  private async hook(name: string, input: Input) {
    await this.before.get(name)?.(input);
  }

  private check(bucket: string, key: string, input: Input) {
    const cur = this.objects.get(FakeS3.id(bucket, key));
    if (input.IfNoneMatch === '*' && cur)
      throw s3Error(
        'PreconditionFailed',
        412,
        'At least one of the pre-conditions you specified did not hold',
      );
    if (typeof input.IfMatch === 'string' && cur?.etag !== input.IfMatch)
      throw s3Error('PreconditionFailed', 412);
  }

  private install() {
    const m = this.mock;
    m.on(ListObjectsV2Command).callsFake(
      async (input: Input & { Prefix?: string; ContinuationToken?: string }) => {
        await this.hook('ListObjectsV2', input);
        const all = this.keys(input.Bucket, input.Prefix ?? '');
        const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
        const page = all.slice(start, start + 1000);
        const more = start + 1000 < all.length;
        return {
          Contents: page.map((Key) => {
            const o = this.objects.get(FakeS3.id(input.Bucket, Key))!;
            return { Key, Size: o.body.length, ETag: o.etag, LastModified: o.lastModified };
          }),
          IsTruncated: more,
          NextContinuationToken: more ? String(start + 1000) : undefined,
          KeyCount: page.length,
        };
      },
    );
    m.on(GetObjectCommand).callsFake(async (input: Input & { Range?: string }) => {
      await this.hook('GetObject', input);
      const o = this.objects.get(FakeS3.id(input.Bucket, input.Key));
      if (!o)
        throw new NoSuchKey({
          message: 'The specified key does not exist.',
          $metadata: { httpStatusCode: 404 },
        });
      let body = o.body;
      const r = input.Range ? /bytes=(\d+)-(\d+)/.exec(input.Range) : null;
      if (r) body = body.subarray(Number(r[1]), Number(r[2]) + 1);
      return {
        Body: Readable.from([body]) as never,
        ETag: o.etag,
        ContentLength: body.length,
        LastModified: o.lastModified,
      };
    });
    m.on(HeadObjectCommand).callsFake(async (input: Input) => {
      await this.hook('HeadObject', input);
      const o = this.objects.get(FakeS3.id(input.Bucket, input.Key));
      if (!o) throw s3Error('NotFound', 404);
      return { ETag: o.etag, ContentLength: o.body.length, LastModified: o.lastModified };
    });
    m.on(PutObjectCommand).callsFake(async (input: Input & { Body: unknown }) => {
      await this.hook('PutObject', input);
      this.check(input.Bucket, input.Key, input);
      const b = await bodyBuffer(input.Body);
      const etag = etagOf(b);
      this.objects.set(FakeS3.id(input.Bucket, input.Key), { body: b, etag, lastModified: new Date() });
      return { ETag: etag };
    });
    m.on(DeleteObjectCommand).callsFake(async (input: Input) => {
      await this.hook('DeleteObject', input);
      this.objects.delete(FakeS3.id(input.Bucket, input.Key));
      return {};
    });
    m.on(CopyObjectCommand).callsFake(async (input: Input & { CopySource: string }) => {
      const [bucket, ...rest] = input.CopySource.split('/');
      const o = this.objects.get(FakeS3.id(bucket, decodeURIComponent(rest.join('/'))));
      if (!o) throw new NoSuchKey({ message: 'no source', $metadata: { httpStatusCode: 404 } });
      this.objects.set(FakeS3.id(input.Bucket, input.Key), { ...o, lastModified: new Date() });
      return {};
    });
    m.on(CreateMultipartUploadCommand).callsFake(async (input: Input) => {
      await this.hook('CreateMultipartUpload', input);
      const id = `upload-${this.nextUpload++}`;
      this.uploads.set(id, { bucket: input.Bucket, key: input.Key, parts: new Map() });
      return { UploadId: id, Bucket: input.Bucket, Key: input.Key };
    });
    m.on(UploadPartCommand).callsFake(
      async (input: Input & { UploadId: string; PartNumber: number; Body: unknown }) => {
        await this.hook('UploadPart', input);
        const u = this.uploads.get(input.UploadId);
        if (!u) throw s3Error('NoSuchUpload', 404);
        const b = await bodyBuffer(input.Body);
        u.parts.set(input.PartNumber, b);
        return { ETag: etagOf(b) };
      },
    );
    m.on(CompleteMultipartUploadCommand).callsFake(async (input: Input & { UploadId: string }) => {
      await this.hook('CompleteMultipartUpload', input);
      const u = this.uploads.get(input.UploadId);
      if (!u) throw s3Error('NoSuchUpload', 404);
      this.check(input.Bucket, input.Key, input);
      const body = Buffer.concat([...u.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b));
      const etag = `"${createHash('md5').update(body).digest('hex')}-${u.parts.size}"`;
      this.objects.set(FakeS3.id(input.Bucket, input.Key), { body, etag, lastModified: new Date() });
      this.uploads.delete(input.UploadId);
      return {
        ETag: etag,
        Bucket: input.Bucket,
        Key: input.Key,
        Location: `https://${input.Bucket}.s3.amazonaws.com/${input.Key}`,
      };
    });
    m.on(AbortMultipartUploadCommand).callsFake(async (input: Input & { UploadId: string }) => {
      this.uploads.delete(input.UploadId);
      return {};
    });
  }

  /** Multipart uploads started and not completed nor aborted. */
  openUploads(): number {
    return this.uploads.size;
  }
}
