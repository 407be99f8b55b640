/**
 * A test double of a versioned export bucket over a folder store (the local S3 server has no
 * versioning): shared by the render fan-out and per-task write tests.
 */
import type {
  AssemblyPart,
  GetResult,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
} from '../../functions/core/object-store.ts';
import type { FsObjectStore } from '../../functions/storage/fs.ts';

/**
 * The export bucket as a versioned bucket would answer: a folder store whose every completed write
 * returns a new version id (`v1`, `v2`, …); the keys written are recorded in order.
 */
export class VersioningStore implements ObjectStore {
  readonly puts: string[] = [];
  private n = 0;
  constructor(private readonly inner: FsObjectStore) {}
  get description() {
    return this.inner.description;
  }
  private stored(key: string, r: PutResult): PutResult {
    this.puts.push(key);
    return { ...r, versionId: `v${++this.n}` };
  }
  list(prefix: string, options?: { etags?: boolean }): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix, options);
  }
  get(key: string, range?: { start: number; end: number }, versionId?: string): Promise<GetResult> {
    return this.inner.get(key, range, versionId);
  }
  head(key: string) {
    return this.inner.head(key);
  }
  async put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<PutResult> {
    return this.stored(key, await this.inner.put(key, body, options));
  }
  async putStream(key: string, body: AsyncIterable<Uint8Array | string>, options?: PutOptions) {
    return this.stored(key, await this.inner.putStream(key, body, options));
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  async assemble(key: string, parts: AssemblyPart[]): Promise<PutResult> {
    return this.stored(key, await this.inner.assemble(key, parts));
  }
}
