/**
 * Renewing the project's render lock (`_state/render.lock`, taken by state.ts acquireLock) from the
 * steps of a fanned-out render: an execution can outlive `settings.lockTtlSeconds`, so each segment
 * batch and the commit push the expiry forward before they write. The renewal is a compare-and-swap
 * on the lock object (IfMatch its ETag): it succeeds only while the lock still names `owner`, so a
 * step whose lock expired and was taken over by another render fails before writing anything.
 */
import { PreconditionFailedError } from '../core/object-store.ts';
import type { PipelineContext } from './context.ts';
import { readJson } from './object-text.ts';
import type { ProjectStore } from './state.ts';

/** The lock object's body (as state.ts writes it). */
interface LockDoc {
  owner: string;
  acquiredAt: string;
  expiresAt: string;
  /** Set by fenceLock: the execution was aborted; nobody may renew, the lock just runs out. */
  aborted?: string;
}

/**
 * Lambda's longest run (15 minutes): a segment worker started before an Abort cannot write after
 * this long, whatever timeout the stack gives it.
 */
export const LAMBDA_MAX_SECONDS = 900;

/** Conditional writes a renewal tries while siblings of its execution renew the same lock. */
const RENEW_ATTEMPTS = 8;

/** The render lock is missing or held by another owner: the step must not write. */
export class RenderLockLostError extends Error {
  constructor(
    readonly project: string,
    readonly owner: string,
    /** Who holds it now (undefined: nobody, or the holder changed during the renewal). */
    readonly holder?: string,
  ) {
    super(
      `render ${owner} of ${project} no longer holds the render lock (${
        holder ? `held by ${holder}` : 'lock missing or taken over'
      }); nothing written`,
    );
    this.name = 'RenderLockLostError';
  }
}

/**
 * Extends the lock held by `owner` to now + `settings.lockTtlSeconds` (keeps `acquiredAt`).
 * Returns the new expiry (ISO time). Throws RenderLockLostError when the lock is missing, names
 * another owner or is fenced (aborted); other store errors as is. An expired lock that still names
 * `owner` is renewed (nobody took it over).
 *
 * The segment batches of one execution run at once and renew the same lock: a sibling's renewal
 * between this read and this write makes the IfMatch fail (412) although the lock is still ours.
 * So a 412 is followed by a fresh read: still `owner`'s and not fenced, the renewal is retried
 * with the new ETag (a sibling's expiry is as good as ours, but retrying keeps the rule "the
 * expiry is at least now + TTL"); anyone else's, it is lost. After RENEW_ATTEMPTS 412s in a row
 * it is reported lost too.
 */
export async function renewLock(ctx: PipelineContext, ps: ProjectStore, owner: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const cur = await readJson<LockDoc>(ps.store, ps.paths.lock);
    if (!cur || cur.value.owner !== owner || cur.value.aborted)
      throw new RenderLockLostError(ps.project.id, owner, cur?.value.owner);
    if (!cur.etag)
      throw new Error(`render lock ${ps.paths.lock}: the store returned no ETag to renew it with`);
    const now = ctx.now();
    const doc: LockDoc = {
      owner,
      acquiredAt: cur.value.acquiredAt,
      expiresAt: new Date(now.getTime() + ctx.config.settings.lockTtlSeconds * 1000).toISOString(),
    };
    try {
      await ps.store.put(ps.paths.lock, JSON.stringify(doc), {
        ifMatch: cur.etag,
        contentType: 'application/json',
      });
      return doc.expiresAt;
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      // Changed since the read: a sibling batch's renewal (read again) or a takeover (lost).
      if (attempt >= RENEW_ATTEMPTS) throw new RenderLockLostError(ps.project.id, owner);
    }
  }
}

/**
 * Abort's hold on the lock instead of releasing it: a segment worker of the aborted execution may
 * still be running (Lambda invocations are not cancelled when the Map fails) and write per-task
 * files under latest/ after the next render committed, leaving objects the manifest does not
 * name that later renders never rewrite. So the lock keeps `owner`, is marked `aborted` (renewals
 * fail, so such a worker stops before its next segment) and expires `fenceSeconds` from now
 * (default LAMBDA_MAX_SECONDS), after every worker of the execution has ended; the next render
 * then takes it over and, finding the in-flight record, rewrites latest/ whole. Returns whether
 * `owner` held the lock (nothing is written otherwise). Throws what the store throws.
 */
export async function fenceLock(
  ctx: PipelineContext,
  ps: ProjectStore,
  owner: string,
  cause: string,
  fenceSeconds = LAMBDA_MAX_SECONDS,
): Promise<boolean> {
  const cur = await readJson<LockDoc>(ps.store, ps.paths.lock);
  if (!cur || cur.value.owner !== owner) return false;
  const doc: LockDoc = {
    ...cur.value,
    expiresAt: new Date(ctx.now().getTime() + fenceSeconds * 1000).toISOString(),
    aborted: cause.slice(0, 200) || 'aborted',
  };
  try {
    await ps.store.put(ps.paths.lock, JSON.stringify(doc), {
      ...(cur.etag ? { ifMatch: cur.etag } : {}),
      contentType: 'application/json',
    });
  } catch (err) {
    // Taken over meanwhile (it had expired): the new holder's lock stays.
    if (err instanceof PreconditionFailedError) return false;
    throw err;
  }
  return true;
}
