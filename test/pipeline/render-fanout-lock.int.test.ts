/**
 * The render fan-out keeps its lock on the local S3 server (fauxqs; conditional writes emulated
 * by the store, as for every integration test): an execution that outlives `lockTtlSeconds`
 * holds the lock because every segment batch and the commit renew it, and a batch whose lock
 * expired and was taken over by another render fails before it writes anything (the Map fails,
 * Abort runs and leaves the new owner's lock alone).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProjectConfig } from '../../functions/pipeline/config.ts';
import type { PipelineContext } from '../../functions/pipeline/context.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { abortRender, commitRender } from '../../functions/pipeline/render-fanout-commit.ts';
import { type FanoutRef, fanoutPrefix } from '../../functions/pipeline/render-fanout-job.ts';
import { planRender } from '../../functions/pipeline/render-fanout-plan.ts';
import { renderSegmentJobs } from '../../functions/pipeline/render-fanout-segments.ts';
import { RenderLockLostError } from '../../functions/pipeline/render-lock.ts';
import type { SegmentJob } from '../../functions/pipeline/segments.ts';
import { type ProjectStore, projectStore } from '../../functions/pipeline/state.ts';
import { bucketNames, createBuckets, localRuntime, s3Client } from '../integration/helpers.ts';
import { lsTask, makeConfig, objectsOf, readJsonObject, TestClock } from './helpers.ts';

const TTL_SECONDS = 60;

interface Setup {
  ctx: PipelineContext;
  clock: TestClock;
  project: ProjectConfig;
  ps: ProjectStore;
}

async function setup(names: ReturnType<typeof bucketNames>): Promise<Setup> {
  const client = s3Client();
  await createBuckets(client, [names.src, names.out]);
  const config = makeConfig({
    kind: 'image-bbox',
    source: { bucket: names.src, prefix: 'ls' },
    export: { bucket: names.out, prefix: 'exports' },
    formats: ['JSON', 'CSV', 'YOLO'],
    settings: { shardTasks: 4, keyShards: 4, lockTtlSeconds: TTL_SECONDS },
  });
  const clock = new TestClock(Date.parse('2026-03-01T10:00:00.000Z'));
  const rt = localRuntime(client, config, { clock });
  const project = config.projects[0];
  const objs = Array.from(
    { length: 24 },
    (_, i) => objectsOf(lsTask(i + 1, 1, 'image-bbox'), 'task', 'ls')[0],
  );
  for (const o of objs) await rt.ctx.store(names.src).put(o.key, o.body);
  await ingestChanges(
    rt.ctx,
    objs.map((o, i) => ({
      bucket: names.src,
      key: o.key,
      kind: 'created' as const,
      sequencer: String(i + 1).padStart(8, '0'),
    })),
  );
  return { ctx: rt.ctx, clock, project, ps: projectStore(rt.ctx, project) };
}

async function planned(s: Setup, owner: string): Promise<{ ref: FanoutRef; items: SegmentJob[] }> {
  const plan = await planRender(s.ctx, s.project, { owner, segmentShards: 1 });
  if (plan.status !== 'planned') throw new Error(`${owner}: not planned (${plan.status})`);
  return { ref: plan.ref, items: await readJsonObject<SegmentJob[]>(s.ps.store, plan.ref.items.key) };
}

const lockOf = (s: Setup) =>
  readJsonObject<{ owner: string; acquiredAt: string; expiresAt: string }>(s.ps.store, s.ps.paths.lock);

async function keys(s: Setup, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of s.ps.store.list(prefix)) out.push(o.key);
  return out;
}

describe('render fan-out lock on fauxqs', () => {
  let names: ReturnType<typeof bucketNames>;
  beforeAll(() => {
    names = bucketNames();
  });

  it('each segment batch and the commit renew the lock: an execution outlives lockTtlSeconds', async () => {
    const s = await setup(names);
    const { ref, items } = await planned(s, 'exec-1');
    expect(items.length).toBeGreaterThanOrEqual(3);
    const first = await lockOf(s);
    expect(first.expiresAt).toBe('2026-03-01T10:01:00.000Z');

    s.clock.advance(50_000);
    await renderSegmentJobs(s.ctx, s.project, ref, items.slice(0, 1));
    const renewed = await lockOf(s);
    expect(renewed).toEqual({ ...first, expiresAt: '2026-03-01T10:01:50.000Z' });

    // Past the first expiry: without the renewal another render would take the lock over here.
    s.clock.advance(50_000);
    expect(await planRender(s.ctx, s.project, { owner: 'exec-2', segmentShards: 1 })).toMatchObject({
      status: 'busy',
    });
    await renderSegmentJobs(s.ctx, s.project, ref, items.slice(1));
    expect((await lockOf(s)).expiresAt).toBe('2026-03-01T10:02:40.000Z');

    s.clock.advance(50_000);
    const commit = await commitRender(s.ctx, s.project, ref);
    expect(commit).toMatchObject({ status: 'rendered', stored: items.length, renderedHere: 0 });
    expect(await s.ps.store.head(s.ps.paths.lock)).toBeUndefined();
  });

  it('a batch whose lock was taken over writes nothing and fails; the new owner renders', async () => {
    const s = await setup(bucketNames());
    const old = await planned(s, 'exec-1');
    s.clock.advance((TTL_SECONDS + 1) * 1000);
    // exec-1 stalled past its lock's expiry: another execution takes the lock over.
    const next = await planned(s, 'exec-2');
    expect((await lockOf(s)).owner).toBe('exec-2');

    const err = await renderSegmentJobs(s.ctx, s.project, old.ref, old.items).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderLockLostError);
    expect((err as Error).message).toBe(
      `render exec-1 of ${s.project.id} no longer holds the render lock (held by exec-2); nothing written`,
    );
    expect(await keys(s, s.ps.paths.latest)).toEqual([]);
    expect(await keys(s, `${fanoutPrefix(s.ps, 'exec-1')}segments/`)).toEqual([]);
    await expect(commitRender(s.ctx, s.project, old.ref)).rejects.toBeInstanceOf(RenderLockLostError);
    expect(await keys(s, s.ps.paths.latest)).toEqual([]);
    // The Catch's Abort: the lock belongs to exec-2 and stays.
    expect(await abortRender(s.ctx, s.project, 'exec-1', 'RenderLockLostError')).toMatchObject({
      released: false,
    });
    expect((await lockOf(s)).owner).toBe('exec-2');

    await renderSegmentJobs(s.ctx, s.project, next.ref, next.items);
    const commit = await commitRender(s.ctx, s.project, next.ref);
    expect(commit.status).toBe('rendered');
    const m = await readJsonObject<Manifest>(s.ps.store, s.ps.paths.latestManifest);
    expect(m.counts.tasks).toBe(24);
  });
});
