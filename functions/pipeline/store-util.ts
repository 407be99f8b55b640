/** Small helpers over ObjectStore: text reads with ETags, compare-and-swap updates, bounded parallelism. */
import { createHash } from 'node:crypto';
import { NotFoundError, type ObjectStore, PreconditionFailedError, readAll } from '../storage/types.ts';
import type { PipelineContext } from './context.ts';
import { ConflictError } from './errors.ts';

export interface TextWithEtag {
  text: string;
  etag: string;
  bytes: number;
}

/** A store's ETag for a body it returned without one (the folder store's scheme: quoted MD5). */
const md5Etag = (buf: Buffer) => `"${createHash('md5').update(buf).digest('hex')}"`;

/** Reads an object as UTF-8 text with its ETag; undefined when absent. */
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

export async function readJson<T>(
  store: ObjectStore,
  key: string,
): Promise<{ value: T; etag: string } | undefined> {
  const r = await readText(store, key);
  return r ? { value: JSON.parse(r.text) as T, etag: r.etag } : undefined;
}

export interface CasOptions {
  attempts: number;
  contentType?: string;
  /** The current content, when the caller has just read it (saves one GET on the first attempt). */
  initial?: TextWithEtag | null;
}

export interface CasResult {
  changed: boolean;
  etag?: string;
  attempts: number;
  /** Bytes read and written (for the benchmark). */
  bytesRead: number;
  bytesWritten: number;
}

/**
 * Compare-and-swap: reads the object, computes the new text, writes it only if the object did not
 * change meanwhile (IfMatch, or IfNoneMatch for a new object), and retries with jittered backoff
 * when another writer won. `update` returns undefined for "nothing to change".
 */
export async function casUpdate(
  ctx: PipelineContext,
  store: ObjectStore,
  key: string,
  update: (current: string | undefined) => string | undefined,
  options: CasOptions,
): Promise<CasResult> {
  let initial = options.initial;
  let bytesRead = 0;
  let bytesWritten = 0;
  for (let attempt = 1; ; attempt++) {
    const current = initial !== undefined ? (initial ?? undefined) : await readText(store, key);
    initial = undefined;
    bytesRead += current?.bytes ?? 0;
    const next = update(current?.text);
    if (next === undefined || next === current?.text) {
      return { changed: false, etag: current?.etag, attempts: attempt, bytesRead, bytesWritten };
    }
    try {
      const r = await store.put(key, next, {
        contentType: options.contentType,
        ...(current ? { ifMatch: current.etag } : { ifNoneMatch: '*' as const }),
      });
      bytesWritten += Buffer.byteLength(next);
      return { changed: true, etag: r.etag, attempts: attempt, bytesRead, bytesWritten };
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      if (attempt >= options.attempts) throw new ConflictError(key, attempt);
      ctx.log('debug', 'conditional write lost its race; retrying', { key, attempt });
      await ctx.sleep(backoff(ctx, attempt));
    }
  }
}

export function backoff(ctx: PipelineContext, attempt: number): number {
  const cap = Math.min(2000, 25 * 2 ** attempt);
  return Math.floor((ctx.random ?? Math.random)() * cap);
}

/** Runs `fn` over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}

/** Like mapLimit, but collects each item's outcome instead of failing fast. */
export async function settleLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  return mapLimit(items, limit, async (item) => {
    try {
      return { status: 'fulfilled', value: await fn(item) } as PromiseFulfilledResult<R>;
    } catch (reason) {
      return { status: 'rejected', reason } as PromiseRejectedResult;
    }
  });
}

export const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
