/** What the latest-zip tests share: files under `latest/YOLO/`, a zip's bytes, a previous zip. */
import { createHash } from 'node:crypto';
import { type ObjectStore, readAll } from '../../functions/core/object-store.ts';
import type { WrittenFile } from '../../functions/pipeline/hashing-sink.ts';
import type { PreviousZip } from '../../functions/pipeline/latest-zip.ts';

export const ZIP = 'latest/YOLO.zip';

export const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Stores `body` under `latest/YOLO/<path>` and returns its manifest entry (version id when given). */
export async function putFile(store: ObjectStore, path: string, body: string | Buffer): Promise<WrittenFile> {
  const key = `latest/YOLO/${path}`;
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const r = await store.put(key, bytes);
  return {
    path,
    key,
    bytes: bytes.length,
    sha256: sha(bytes),
    ...(r.versionId ? { versionId: r.versionId } : {}),
  };
}

/** The current bytes of a zip (a wrapping store's `inner` read directly, so its read log is left alone). */
export async function zipBytes(store: ObjectStore & { inner?: ObjectStore }, key = ZIP): Promise<Buffer> {
  return readAll((await (store.inner ?? store).get(key)).body);
}

/** The previous zip and the files it was made of, as render.ts passes them. */
export const previousOf = (zip: WrittenFile, files: readonly WrittenFile[]): PreviousZip => ({
  zip,
  files: new Map(files.map((f) => [f.path, f])),
});
