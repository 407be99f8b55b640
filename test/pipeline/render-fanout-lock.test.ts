/**
 * renewLock against S3's conditional writes (mocked S3: fauxqs ignores IfMatch, and the store's
 * emulation cannot interleave another writer between the read and the write): the renewal is a
 * PutObject with IfMatch the lock's ETag, so a takeover that lands between its read and its write
 * makes S3 answer 412 and the renewal fail with RenderLockLostError, leaving the new owner's lock.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { RenderLockLostError, renewLock } from '../../functions/pipeline/render-lock.ts';
import { acquireLock, projectStore } from '../../functions/pipeline/state.ts';
import { FakeS3 } from '../handlers/fake-s3.ts';
import { mockRuntime } from '../handlers/helpers.ts';
import { makeConfig, OUT, TestClock } from './helpers.ts';

const s3 = new FakeS3();
const config = makeConfig({ settings: { shardTasks: 4, keyShards: 4, lockTtlSeconds: 120 } });
const clock = new TestClock(Date.parse('2026-03-01T10:00:00.000Z'));
const rt = mockRuntime(s3, config, clock);
const ps = projectStore(rt.ctx, config.projects[0]);
const lock = () =>
  JSON.parse(s3.text(OUT, ps.paths.lock) ?? 'null') as { owner: string; expiresAt: string } | null;

afterAll(() => s3.restore());
beforeEach(() => s3.reset());

describe('renewLock (mocked S3 conditional writes)', () => {
  it('renews with IfMatch the ETag it read: the expiry moves to now + lockTtlSeconds', async () => {
    expect(await acquireLock(rt.ctx, ps, 'exec-1')).toBe(true);
    const etag = s3.objects.get(FakeS3.id(OUT, ps.paths.lock))!.etag;
    clock.advance(100_000);
    expect(await renewLock(rt.ctx, ps, 'exec-1')).toBe('2026-03-01T10:03:40.000Z');
    expect(lock()).toMatchObject({ owner: 'exec-1', expiresAt: '2026-03-01T10:03:40.000Z' });
    const puts = s3.mock.commandCalls(PutObjectCommand).filter((c) => c.args[0].input.Key === ps.paths.lock);
    expect(puts.at(-1)!.args[0].input.IfMatch).toBe(etag);
  });

  it('a takeover between the read and the write: S3 answers 412, the renewal fails, the new lock stays', async () => {
    expect(await acquireLock(rt.ctx, ps, 'exec-1')).toBe(true);
    s3.before.set('PutObject', (input) => {
      if (input.Key !== ps.paths.lock) return;
      s3.before.delete('PutObject');
      // Another render's takeover (its own IfMatch write) lands first.
      s3.put(OUT, ps.paths.lock, JSON.stringify({ owner: 'exec-2', acquiredAt: 'x', expiresAt: 'y' }));
    });
    const err = await renewLock(rt.ctx, ps, 'exec-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderLockLostError);
    expect((err as Error).message).toMatch(/render exec-1 of proj no longer holds the render lock/);
    expect(lock()?.owner).toBe('exec-2');
  });

  it('a sibling batch renewing between the read and the write: 412, read again, renewed', async () => {
    expect(await acquireLock(rt.ctx, ps, 'exec-1')).toBe(true);
    s3.before.set('PutObject', (input) => {
      if (input.Key !== ps.paths.lock) return;
      s3.before.delete('PutObject');
      // Another segment batch of the same execution renews first (its write changes the ETag).
      s3.put(OUT, ps.paths.lock, JSON.stringify({ owner: 'exec-1', acquiredAt: 'x', expiresAt: 'y' }));
    });
    clock.advance(10_000);
    const expiry = new Date(clock.t + 120_000).toISOString();
    expect(await renewLock(rt.ctx, ps, 'exec-1')).toBe(expiry);
    expect(lock()).toMatchObject({ owner: 'exec-1', expiresAt: expiry });
    const puts = s3.mock.commandCalls(PutObjectCommand).filter((c) => c.args[0].input.Key === ps.paths.lock);
    // acquire, the refused renewal, the sibling's (s3.put bypasses the client), the retried renewal.
    expect(puts.length).toBe(3);
    expect(puts[1].args[0].input.IfMatch).not.toBe(puts[2].args[0].input.IfMatch);
  });

  it('eight batches of one execution renewing at once all succeed; a fenced lock is not renewed', async () => {
    expect(await acquireLock(rt.ctx, ps, 'exec-1')).toBe(true);
    const all = await Promise.allSettled(Array.from({ length: 8 }, () => renewLock(rt.ctx, ps, 'exec-1')));
    expect(all.map((r) => r.status)).toEqual(Array(8).fill('fulfilled'));
    expect(lock()?.owner).toBe('exec-1');
    s3.put(
      OUT,
      ps.paths.lock,
      JSON.stringify({ owner: 'exec-1', acquiredAt: 'x', expiresAt: 'y', aborted: 'x' }),
    );
    await expect(renewLock(rt.ctx, ps, 'exec-1')).rejects.toThrow(RenderLockLostError);
  });

  it('a lock held by another owner, or none, is not renewed (no write)', async () => {
    s3.put(OUT, ps.paths.lock, JSON.stringify({ owner: 'exec-2', acquiredAt: 'x', expiresAt: 'y' }));
    await expect(renewLock(rt.ctx, ps, 'exec-1')).rejects.toThrow(/\(held by exec-2\)/);
    await rt.ctx.store(OUT).delete(ps.paths.lock);
    await expect(renewLock(rt.ctx, ps, 'exec-1')).rejects.toThrow(/lock missing or taken over/);
    expect(
      s3.mock.commandCalls(PutObjectCommand).filter((c) => c.args[0].input.Key === ps.paths.lock),
    ).toEqual([]);
  });
});
