/** Reads of small stored objects as text or JSON, with the ETag a later conditional write needs. */
import { createHash } from 'node:crypto';
import { NotFoundError, type ObjectStore, readAll } from '../core/object-store.ts';

export interface TextWithEtag {
  text: string;
  etag: string;
  bytes: number;
}

/** A store's ETag for a body it returned without one (the folder store's scheme: quoted MD5). */
const md5Etag = (buf: Buffer) => `"${createHash('md5').update(buf).digest('hex')}"`;

/** Reads an object as UTF-8 text with its ETag; undefined when absent. Other store errors propagate. */
export async function readText(store: ObjectStore, key: string): Promise<TextWithEtag | undefined> {
  try {
    const r = await store.get(key);
    const buf = await readAll(r.body);
    return { text: buf.toString('utf8'), etag: r.etag ?? md5Etag(buf), bytes: buf.length };
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** Reads and parses a JSON object with its ETag; undefined when absent; throws SyntaxError on bad JSON. */
export async function readJson<T>(
  store: ObjectStore,
  key: string,
): Promise<{ value: T; etag: string } | undefined> {
  const r = await readText(store, key);
  return r ? { value: JSON.parse(r.text) as T, etag: r.etag } : undefined;
}
