/** ObjectStore over an S3 bucket (or any S3-compatible endpoint). */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import {
  type GetResult,
  NotFoundError,
  type ObjectInfo,
  type ObjectStore,
  PreconditionFailedError,
  type PutOptions,
} from './types.ts';

export interface S3StoreOptions {
  /** Multipart part size for streamed uploads (S3 minimum 5 MiB). */
  partSize?: number;
  /** Parts uploaded in parallel. */
  queueSize?: number;
}

/** Parses `s3://bucket/prefix` into its parts. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`not an s3:// URL: ${url}`);
  return { bucket: m[1], prefix: m[2] };
}

/** S3 client settings from explicit values (endpoint for S3-compatible servers forces path style). */
export function s3ClientConfig(opts: { region?: string; endpoint?: string }): S3ClientConfig {
  return {
    region: opts.region ?? 'us-east-1',
    ...(opts.endpoint ? { endpoint: opts.endpoint, forcePathStyle: true } : {}),
  };
}

const isPreconditionFailure = (err: unknown) =>
  err instanceof S3ServiceException &&
  (err.$metadata.httpStatusCode === 412 || err.$metadata.httpStatusCode === 409 || err.name === 'PreconditionFailed');

const isNotFound = (err: unknown) =>
  err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404);

export class S3ObjectStore implements ObjectStore {
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    private readonly options: S3StoreOptions = {},
  ) {}

  get description(): string {
    return `s3://${this.bucket}`;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: prefix })) {
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        yield { key: o.Key, size: o.Size, etag: o.ETag, lastModified: o.LastModified };
      }
    }
  }

  async get(key: string, range?: { start: number; end: number }): Promise<GetResult> {
    try {
      const r = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.start}-${Math.max(range.start, range.end - 1)}` } : {}),
        }),
      );
      return { body: r.Body as unknown as AsyncIterable<Uint8Array>, etag: r.ETag, size: r.ContentLength };
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(key);
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: r.ContentLength, etag: r.ETag, lastModified: r.LastModified };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async put(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<{ etag?: string }> {
    try {
      const r = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: options.contentType,
          IfMatch: options.ifMatch,
          IfNoneMatch: options.ifNoneMatch,
        }),
      );
      return { etag: r.ETag };
    } catch (err) {
      if (isPreconditionFailure(err)) throw new PreconditionFailedError(key);
      throw err;
    }
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array | string>, options: PutOptions = {}): Promise<{ etag?: string }> {
    // lib-storage aborts the multipart upload when a part fails, so no partial object appears.
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: Readable.from(body),
        ContentType: options.contentType,
        IfMatch: options.ifMatch,
        IfNoneMatch: options.ifNoneMatch,
      },
      partSize: this.options.partSize ?? 8 * 1024 * 1024,
      queueSize: this.options.queueSize ?? 4,
      leavePartsOnError: false,
    });
    try {
      const r = await upload.done();
      return { etag: r.ETag };
    } catch (err) {
      if (isPreconditionFailure(err)) throw new PreconditionFailedError(key);
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    await this.client.send(
      new CopyObjectCommand({ Bucket: this.bucket, Key: toKey, CopySource: `${this.bucket}/${encodeURIComponent(fromKey).replaceAll('%2F', '/')}` }),
    );
  }
}
