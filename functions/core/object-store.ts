/**
 * One small storage interface (a port of core, beside OutputSink and MediaAccess) for everything
 * the project reads and writes: a local folder or an S3 bucket, implemented in functions/storage
 * (fs.ts, s3.ts). No AWS types leak through it, so the core and the pipeline run on either.
 */

export interface ObjectInfo {
  key: string;
  size?: number;
  etag?: string;
  lastModified?: Date;
}

export interface PutOptions {
  contentType?: string;
  /** Write only if the current object has this ETag (compare-and-swap). */
  ifMatch?: string;
  /** `*`: write only if no object exists under the key (create-only). */
  ifNoneMatch?: '*';
}

/** What a write made: the new object's ETag and, in a versioned bucket, its version id. */
export interface PutResult {
  etag?: string;
  /** S3's `x-amz-version-id` when the bucket is versioned (absent otherwise, and for folders). */
  versionId?: string;
}

export interface GetResult {
  body: AsyncIterable<Uint8Array>;
  etag?: string;
  size?: number;
}

/** A conditional write lost its race (S3 412 PreconditionFailed / 409 ConditionalRequestConflict). */
/**
 * One part of an object assembled in the store (ObjectStore.assemble): bytes uploaded, or the byte
 * range `[start, end)` of a stored object (pinned to `versionId` when given) copied server-side.
 */
export type AssemblyPart =
  | { body: Uint8Array }
  | { copy: { key: string; versionId?: string; start: number; end: number } }
  /** Bytes made when the store sends this part (`bytes` long), so one part is held at a time. */
  | { upload: { bytes: number; read: () => Promise<Uint8Array> } };

/** An assembly part's size in bytes (a copied range's length). */
export function partBytes(p: AssemblyPart): number {
  if ('body' in p) return p.body.length;
  if ('upload' in p) return p.upload.bytes;
  return p.copy.end - p.copy.start;
}

/**
 * An uploaded part's bytes (read now for a lazy one); throws RangeError when a lazy part's bytes
 * are not the size it announced (its size was checked against S3's part rules beforehand).
 */
export async function uploadedBytes(
  p: { body: Uint8Array } | { upload: { bytes: number; read: () => Promise<Uint8Array> } },
): Promise<Uint8Array> {
  if ('body' in p) return p.body;
  const b = await p.upload.read();
  if (b.length !== p.upload.bytes)
    throw new RangeError(`an assembly part announced ${p.upload.bytes} bytes and made ${b.length}`);
  return b;
}

/** S3's smallest multipart part (every part of an upload but the last): 5 MiB. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

export class PreconditionFailedError extends Error {
  constructor(readonly key: string) {
    super(`conditional write to ${key} failed: the object changed`);
    this.name = 'PreconditionFailedError';
  }
}

export class NotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no such object: ${key}`);
    this.name = 'NotFoundError';
  }
}

export interface ObjectStore {
  /** A description for messages, e.g. `s3://bucket` or a folder path. */
  readonly description: string;
  /** Most UTF-8 bytes of a key (sinks assume S3's 1,024 when a store does not say). */
  readonly maxKeyBytes?: number;
  /**
   * Lists keys under a prefix, in key order. `etags: true` asks for each object's ETag where the
   * store does not list it anyway (a folder store hashes the files then).
   */
  list(prefix: string, options?: { etags?: boolean }): AsyncIterable<ObjectInfo>;
  /**
   * Reads an object (or a byte range `[start, end)`); `versionId`: that version (S3, versioned
   * buckets; a folder store has one version and ignores it). Throws NotFoundError.
   */
  get(key: string, range?: { start: number; end: number }, versionId?: string): Promise<GetResult>;
  /** Metadata without the body; undefined when absent. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Writes a whole object; throws PreconditionFailedError when a condition fails. */
  put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<PutResult>;
  /** Streams a large object (multipart on S3); never leaves a partial object visible. */
  putStream(key: string, body: AsyncIterable<Uint8Array | string>, options?: PutOptions): Promise<PutResult>;
  delete(key: string): Promise<void>;
  /** Server-side copy when both keys live in the same store. */
  copy?(fromKey: string, toKey: string): Promise<void>;
  /**
   * Builds one object from parts, in order (S3: CreateMultipartUpload, UploadPart / UploadPartCopy,
   * CompleteMultipartUpload; aborted on failure, so no partial object appears). Every part but the
   * last must be ≥ MIN_PART_BYTES (S3's rule; throws RangeError otherwise).
   */
  assemble?(key: string, parts: AssemblyPart[], options?: { contentType?: string }): Promise<PutResult>;
  /** Stores a local file under a key (a plain file copy for a folder store). */
  putLocalFile?(key: string, path: string): Promise<void>;
}

export async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts);
}
