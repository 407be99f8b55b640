/**
 * Media for the pipeline's exports: Label Studio upload paths (`/data/upload/…`) resolve under the
 * project's `media.uploadPrefix` in S3; anything else goes to a fallback (s3:// and http(s) URLs).
 */
import { type MediaAccess, MediaError, type MediaFile } from '../core/media.ts';
import { NotFoundError, type ObjectStore } from '../storage/types.ts';

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export class UploadPrefixMedia implements MediaAccess {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
    private readonly fallback?: MediaAccess,
  ) {}

  async open(url: string): Promise<MediaFile> {
    let path = url;
    if (/^\/?upload\//.test(path)) path = `/data/${path.replace(/^\//, '')}`;
    if (!path.startsWith('/data/upload/')) {
      if (this.fallback) return this.fallback.open(url);
      throw new MediaError(`${url}: no media access configured for this URL`, url);
    }
    const rel = safeDecode(path.slice('/data/upload/'.length).split('?')[0]);
    if (rel.split('/').includes('..')) throw new MediaError(`${url}: path escapes the upload folder`, url);
    const base = this.prefix === '' || this.prefix.endsWith('/') ? this.prefix : `${this.prefix}/`;
    const key = `${base}${rel}`;
    const info = await this.store.head(key);
    if (!info) throw new MediaError(`${url}: not found at ${this.store.description}/${key}`, url);
    const store = this.store;
    return {
      name: rel.split('/').pop() ?? rel,
      size: info.size,
      read: (range) =>
        (async function* () {
          try {
            yield* (await store.get(key, range)).body;
          } catch (err) {
            if (err instanceof NotFoundError) throw new MediaError(`${url}: no such object`, url);
            throw err;
          }
        })(),
    };
  }
}
