/**
 * A versioned bucket in memory (the zip tests: fast for archives of many entries): every write a
 * new version, a delete a delete marker; reads and `assemble`'s copies may pin a version, as S3's
 * GetObject and UploadPartCopy do.
 */
import {
  type AssemblyPart,
  type GetResult,
  NotFoundError,
  type ObjectInfo,
  type ObjectStore,
  type PutResult,
  uploadedBytes,
} from '../../functions/core/object-store.ts';

export class MemoryVersions implements ObjectStore {
  readonly description = 'mem://versions';
  private readonly store = new Map<string, Array<{ id: string; body?: Buffer }>>();
  private n = 0;
  private pick(key: string, versionId?: string) {
    const list = this.store.get(key) ?? [];
    const v = versionId ? list.find((x) => x.id === versionId) : list.at(-1);
    if (!v?.body) throw new NotFoundError(key);
    return v as { id: string; body: Buffer };
  }
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for (const key of [...this.store.keys()].filter((k) => k.startsWith(prefix)).sort()) yield { key };
  }
  async get(key: string, range?: { start: number; end: number }, versionId?: string): Promise<GetResult> {
    const b = this.pick(key, versionId).body;
    const body = range ? b.subarray(range.start, range.end) : b;
    return {
      body: (async function* () {
        yield body;
      })(),
      size: body.length,
    };
  }
  async head(key: string): Promise<ObjectInfo | undefined> {
    const v = this.store.get(key)?.at(-1);
    return v?.body && { key, size: v.body.length };
  }
  private add(key: string, body?: Buffer): PutResult {
    const v = { id: `v${++this.n}`, body };
    this.store.set(key, [...(this.store.get(key) ?? []), v]);
    return { versionId: v.id };
  }
  async put(key: string, body: string | Uint8Array): Promise<PutResult> {
    return this.add(key, Buffer.from(body));
  }
  async putStream(key: string, body: AsyncIterable<Uint8Array | string>): Promise<PutResult> {
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(Buffer.from(c));
    return this.put(key, Buffer.concat(parts));
  }
  async delete(key: string): Promise<void> {
    this.add(key);
  }
  async assemble(key: string, parts: AssemblyPart[]): Promise<PutResult> {
    const out: Buffer[] = [];
    for (const p of parts)
      out.push(
        'copy' in p
          ? this.pick(p.copy.key, p.copy.versionId).body.subarray(p.copy.start, p.copy.end)
          : Buffer.from(await uploadedBytes(p)),
      );
    return this.put(key, Buffer.concat(out));
  }
}
