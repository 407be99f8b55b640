/**
 * ObjectStore over an S3 bucket (or any S3-compatible endpoint): streaming multipart uploads
 * (lib-storage, aborted on failure), conditional writes (IfMatch/IfNoneMatch → PreconditionFailedError
 * on 412/409), a content type from the key's extension, and optional server-side encryption headers.
 * Throttling (503 SlowDown), 5xx and network errors are retried by the S3 client's own retry
 * strategy only (`s3ClientConfig`: standard mode, `maxAttempts` in total); this class never retries.
 */

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
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
  type S3ClientConfig,
  S3ServiceException,
  type ServerSideEncryption,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { mapLimit } from '../core/bounded-map.ts';
import {
  type AssemblyPart,
  type GetResult,
  NotFoundError,
  type ObjectInfo,
  type ObjectStore,
  PreconditionFailedError,
  type PutOptions,
  type PutResult,
  uploadedBytes,
} from '../core/object-store.ts';
import { checkParts } from './assembly.ts';

export { parseS3Url } from '../core/s3-url.ts';

export interface S3StoreOptions {
  /** Multipart part size for streamed uploads (S3 minimum 5 MiB). */
  partSize?: number;
  /** Parts uploaded in parallel. */
  queueSize?: number;
  /** Server-side encryption for every write (`AES256`, or `aws:kms` with an optional key id). */
  sse?: { type: 'AES256' } | { type: 'aws:kms'; kmsKeyId?: string };
  /**
   * Emulate conditional writes in this process (HEAD + compare under a per-key lock) for local
   * S3 servers that ignore IfMatch/IfNoneMatch (fauxqs). Correct only within one process.
   */
  emulateConditionalWrites?: boolean;
}

/** Attempts per S3 request (the first try included) unless the caller says otherwise. */
export const DEFAULT_S3_MAX_ATTEMPTS = 5;
/**
 * Parts of one assembled object sent at once (UploadPart / UploadPartCopy). One at a time, a
 * full render's commit waited a round trip per part (≈ 1,500 parts of 8 MiB for 12 GB); each part
 * in flight holds its bytes (≤ 10 MiB, made when it is sent), so 4 hold ≤ 40 MiB.
 */
export const ASSEMBLE_CONCURRENCY = 4;
/** Bodies above this go in parts (put): 10 MiB, under the 11 MiB request bodies fauxqs accepts. */
export const SINGLE_PUT_MAX_BYTES = 10 * 1024 * 1024;

/**
 * S3 client settings from explicit values (an endpoint for S3-compatible servers forces path style).
 * Retries are the SDK's standard mode: throttling (SlowDown), 5xx and transient network errors,
 * with jittered exponential backoff, `maxAttempts` attempts in total (default 5).
 */
export function s3ClientConfig(opts: {
  region?: string;
  endpoint?: string;
  maxAttempts?: number;
}): S3ClientConfig {
  return {
    region: opts.region ?? 'us-east-1',
    maxAttempts: opts.maxAttempts ?? DEFAULT_S3_MAX_ATTEMPTS,
    retryMode: 'standard',
    ...(opts.endpoint ? { endpoint: opts.endpoint, forcePathStyle: true } : {}),
  };
}

const status = (err: unknown) =>
  err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;

export const isPreconditionFailure = (err: unknown) =>
  err instanceof S3ServiceException &&
  (status(err) === 412 ||
    status(err) === 409 ||
    err.name === 'PreconditionFailed' ||
    err.name === 'ConditionalRequestConflict');

const isNotFound = (err: unknown) =>
  err instanceof S3ServiceException &&
  (err.name === 'NoSuchKey' || err.name === 'NotFound' || status(err) === 404);

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
  tsv: 'text/tab-separated-values; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  conll: 'text/plain; charset=utf-8',
  xml: 'application/xml',
  zip: 'application/zip',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  wav: 'audio/wav',
  npy: 'application/octet-stream',
};

/** A content type from the key's extension (undefined: S3's default). */
export function contentTypeFor(key: string): string | undefined {
  const m = /\.([A-Za-z0-9]+)$/.exec(key);
  return m ? CONTENT_TYPES[m[1].toLowerCase()] : undefined;
}

export class S3ObjectStore implements ObjectStore {
  private readonly locks = new Map<string, Promise<void>>();

  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    private readonly options: S3StoreOptions = {},
  ) {}

  get description(): string {
    return `s3://${this.bucket}`;
  }

  private sseParams() {
    const sse = this.options.sse;
    if (!sse) return {};
    return {
      ServerSideEncryption: sse.type as ServerSideEncryption,
      ...(sse.type === 'aws:kms' && sse.kmsKeyId ? { SSEKMSKeyId: sse.kmsKeyId } : {}),
    };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        yield { key: o.Key, size: o.Size, etag: o.ETag, lastModified: o.LastModified };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async get(key: string, range?: { start: number; end: number }, versionId?: string): Promise<GetResult> {
    try {
      const r = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(versionId ? { VersionId: versionId } : {}),
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

  /** Runs a conditional write under a per-key lock, checking the condition first (emulation only). */
  private async conditional<T>(key: string, options: PutOptions, write: () => Promise<T>): Promise<T> {
    if (!this.options.emulateConditionalWrites || (!options.ifMatch && !options.ifNoneMatch)) return write();
    const prev = this.locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = prev.then(() => mine);
    this.locks.set(key, chained);
    await prev;
    try {
      const current = await this.head(key);
      if (options.ifNoneMatch === '*' && current) throw new PreconditionFailedError(key);
      if (options.ifMatch && current?.etag !== options.ifMatch) throw new PreconditionFailedError(key);
      return await write();
    } finally {
      release();
      if (this.locks.get(key) === chained) this.locks.delete(key);
    }
  }

  async put(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    // A large unconditional body (a manifest of many files) goes in parts, as putStream sends it:
    // one request body stays under the 11 MiB a local S3 server (fauxqs) accepts. S3 takes 5 GB.
    if (!options.ifMatch && !options.ifNoneMatch && Buffer.byteLength(body) > SINGLE_PUT_MAX_BYTES)
      return this.putStream(
        key,
        (async function* () {
          yield body;
        })(),
        options,
      );
    try {
      return await this.conditional(key, options, async () => {
        const r = await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentType: options.contentType ?? contentTypeFor(key),
            IfMatch: options.ifMatch,
            IfNoneMatch: options.ifNoneMatch,
            ...this.sseParams(),
          }),
        );
        return { etag: r.ETag, ...(r.VersionId ? { versionId: r.VersionId } : {}) };
      });
    } catch (err) {
      if (isPreconditionFailure(err)) throw new PreconditionFailedError(key);
      throw err;
    }
  }

  async putStream(
    key: string,
    body: AsyncIterable<Uint8Array | string>,
    options: PutOptions = {},
  ): Promise<PutResult> {
    try {
      return await this.conditional(key, options, async () => {
        // lib-storage aborts the multipart upload when a part fails, so no partial object appears.
        const upload = new Upload({
          client: this.client,
          params: {
            Bucket: this.bucket,
            Key: key,
            Body: Readable.from(body),
            ContentType: options.contentType ?? contentTypeFor(key),
            IfMatch: options.ifMatch,
            IfNoneMatch: options.ifNoneMatch,
            ...this.sseParams(),
          },
          partSize: this.options.partSize ?? 8 * 1024 * 1024,
          queueSize: this.options.queueSize ?? 4,
          leavePartsOnError: false,
        });
        const r = await upload.done();
        return { etag: r.ETag, ...(r.VersionId ? { versionId: r.VersionId } : {}) };
      });
    } catch (err) {
      if (isPreconditionFailure(err)) throw new PreconditionFailedError(key);
      throw err;
    }
  }

  /**
   * One multipart upload: uploaded parts by UploadPart, copied ranges by UploadPartCopy (the
   * source version pinned with `?versionId=`), parts sent one at a time in order; the upload is
   * aborted when a part or the completion fails.
   */
  async assemble(
    key: string,
    parts: AssemblyPart[],
    options: { contentType?: string } = {},
  ): Promise<PutResult> {
    checkParts(parts);
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        ContentType: options.contentType ?? contentTypeFor(key),
        ...this.sseParams(),
      }),
    );
    try {
      // Parts go ASSEMBLE_CONCURRENCY at a time; mapLimit keeps them in part-number order.
      const done = await mapLimit(parts, ASSEMBLE_CONCURRENCY, async (part, i) => {
        const PartNumber = i + 1;
        if (!('copy' in part)) {
          const Body = await uploadedBytes(part);
          const r = await this.client.send(
            new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId, PartNumber, Body }),
          );
          return { PartNumber, ETag: r.ETag };
        }
        const c = part.copy;
        const source = `${this.bucket}/${encodeURIComponent(c.key).replaceAll('%2F', '/')}`;
        const r = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId,
            PartNumber,
            CopySource: c.versionId ? `${source}?versionId=${encodeURIComponent(c.versionId)}` : source,
            CopySourceRange: `bytes=${c.start}-${c.end - 1}`,
          }),
        );
        return { PartNumber, ETag: r.CopyPartResult?.ETag };
      });
      const r = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: done },
        }),
      );
      return { etag: r.ETag, ...(r.VersionId ? { versionId: r.VersionId } : {}) };
    } catch (err) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId }))
        .catch(() => {});
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: toKey,
        CopySource: `${this.bucket}/${encodeURIComponent(fromKey).replaceAll('%2F', '/')}`,
        ContentType: contentTypeFor(toKey),
        MetadataDirective: contentTypeFor(toKey) ? 'REPLACE' : undefined,
        ...this.sseParams(),
      }),
    );
  }
}
