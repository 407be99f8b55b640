/** The incremental tests' output store (the campaign's and the unseen projects'). */
import {
  type AssemblyPart,
  type GetResult,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
  readAll,
  uploadedBytes,
} from '../../functions/core/object-store.ts';
import type { FsObjectStore } from '../../functions/storage/fs.ts';

/**
 * A store over a folder whose `assemble` concatenates parts without S3's 5 MiB minimum (so lowered
 * thresholds exercise the copy planning), and which throws on the first write `fail` matches.
 */
export class LooseStore implements ObjectStore {
  fail?: (key: string) => boolean;
  /** A write whose key this answers with a promise waits for it first. */
  hold?: (key: string) => Promise<void> | undefined;
  failed: string[] = [];
  constructor(readonly inner: FsObjectStore) {}
  get description() {
    return this.inner.description;
  }
  private check(key: string) {
    if (this.fail?.(key)) {
      this.fail = undefined;
      this.failed.push(key);
      throw new Error(`injected fault writing ${key}`);
    }
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
    await this.hold?.(key);
    this.check(key);
    return this.inner.put(key, body, options);
  }
  async putStream(key: string, body: AsyncIterable<Uint8Array | string>, options?: PutOptions) {
    await this.hold?.(key);
    this.check(key);
    return this.inner.putStream(key, body, options);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  async assemble(key: string, parts: AssemblyPart[]): Promise<PutResult> {
    this.check(key);
    const out: Buffer[] = [];
    for (const p of parts) {
      if (!('copy' in p)) out.push(Buffer.from(await uploadedBytes(p)));
      else {
        const r = await this.inner.get(p.copy.key, { start: p.copy.start, end: p.copy.end });
        out.push(await readAll(r.body));
      }
    }
    return this.inner.put(key, Buffer.concat(out));
  }
}
