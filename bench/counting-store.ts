/**
 * Request and byte counts at the ObjectStore boundary (what the pipeline asks of a bucket, whatever
 * the store behind it: S3 over HTTP or a folder). GET bodies are counted as they stream; HEADs and
 * DELETEs are not counted; a LIST call counts once however many pages it takes.
 */
import {
  type AssemblyPart,
  type GetResult,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  partBytes,
} from '../functions/core/object-store.ts';

export interface Counter {
  gets: number;
  getBytes: number;
  puts: number;
  putBytes: number;
  lists: number;
  /** UploadPartCopy parts and the bytes they copied server-side. */
  copies: number;
  copiedBytes: number;
}

export const zero = (): Counter => ({
  gets: 0,
  getBytes: 0,
  puts: 0,
  putBytes: 0,
  lists: 0,
  copies: 0,
  copiedBytes: 0,
});

/** Counts what goes through a store (GET bodies are counted as they stream). */
export class CountingStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    readonly c: Counter,
  ) {}
  get description() {
    return this.inner.description;
  }
  async *list(prefix: string, options?: { etags?: boolean }): AsyncIterable<ObjectInfo> {
    this.c.lists++;
    yield* this.inner.list(prefix, options);
  }
  async get(key: string, range?: { start: number; end: number }, versionId?: string): Promise<GetResult> {
    const r = await this.inner.get(key, range, versionId);
    this.c.gets++;
    const c = this.c;
    return {
      ...r,
      body: (async function* () {
        for await (const chunk of r.body) {
          c.getBytes += chunk.length;
          yield chunk;
        }
      })(),
    };
  }
  head(key: string) {
    return this.inner.head(key);
  }
  async put(key: string, body: string | Uint8Array, options?: PutOptions) {
    this.c.puts++;
    this.c.putBytes += typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    return this.inner.put(key, body, options);
  }
  async putStream(key: string, body: AsyncIterable<Uint8Array | string>, options?: PutOptions) {
    this.c.puts++;
    const c = this.c;
    return this.inner.putStream(
      key,
      (async function* () {
        for await (const chunk of body) {
          c.putBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
          yield chunk;
        }
      })(),
      options,
    );
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  /** One multipart upload: uploaded parts count as written bytes, copied ranges as copies. */
  async assemble(key: string, parts: AssemblyPart[], options?: { contentType?: string }) {
    if (!this.inner.assemble) throw new Error('the store cannot assemble');
    this.c.puts++;
    for (const p of parts) {
      if ('copy' in p) {
        this.c.copies++;
        this.c.copiedBytes += partBytes(p);
      } else this.c.putBytes += partBytes(p);
    }
    return this.inner.assemble(key, parts, options);
  }
}
