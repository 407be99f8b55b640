/**
 * Compare-and-swap updates of one object (IfMatch / IfNoneMatch). Losing a race (412/409 →
 * PreconditionFailedError) is application logic and retried here; throttling and 5xx errors are
 * retried by the S3 client itself (storage/s3.ts), never here.
 */
import { type ObjectStore, PreconditionFailedError } from '../core/object-store.ts';
import type { PipelineContext } from './context.ts';
import { ConflictError } from './errors.ts';
import { readText, type TextWithEtag } from './object-text.ts';

export interface CasOptions {
  /** Writes tried before giving up with ConflictError. */
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
 * when another writer won. `update` returns undefined for "nothing to change" (and may throw to
 * abort). Throws ConflictError after `attempts` lost races; other store errors propagate.
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
      await ctx.sleep(conflictBackoffMs(ctx, attempt));
    }
  }
}

/** Full-jitter backoff after a lost race, ms: uniform in [0, min(2000, 25·2^attempt)). */
function conflictBackoffMs(ctx: PipelineContext, attempt: number): number {
  const cap = Math.min(2000, 25 * 2 ** attempt);
  return Math.floor((ctx.random ?? Math.random)() * cap);
}
