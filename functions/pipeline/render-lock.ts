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
}

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
 * another owner, or changed between the read and the conditional write; other store errors as is.
 * An expired lock that still names `owner` is renewed (nobody took it over).
 */
export async function renewLock(ctx: PipelineContext, ps: ProjectStore, owner: string): Promise<string> {
  const cur = await readJson<LockDoc>(ps.store, ps.paths.lock);
  if (!cur || cur.value.owner !== owner)
    throw new RenderLockLostError(ps.project.id, owner, cur?.value.owner);
  if (!cur.etag) throw new Error(`render lock ${ps.paths.lock}: the store returned no ETag to renew it with`);
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
  } catch (err) {
    if (err instanceof PreconditionFailedError) throw new RenderLockLostError(ps.project.id, owner);
    throw err;
  }
  return doc.expiresAt;
}
