/**
 * The render fan-out handlers against a mocked S3 (the shapes Step Functions passes): Plan →
 * ItemBatcher batches (several at once) → Commit publishes the same files as an in-process render;
 * the Catch's abort releases the lock; bad events are refused with the field and reason (snapshot
 * jobs without their export id or snapshot included); a latest/ execution input plans latest/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRenderCommitHandler } from '../../functions/handlers/render-commit.ts';
import { createRenderPlanHandler } from '../../functions/handlers/render-plan.ts';
import {
  createRenderSegmentHandler,
  renderSegmentEventSchema,
} from '../../functions/handlers/render-segment.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { rebuildProject } from '../../functions/pipeline/rebuild.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import type { FanoutRef } from '../../functions/pipeline/render-fanout-job.ts';
import type { SegmentJob } from '../../functions/pipeline/segments.ts';
import { lsTask, makeConfig, OUT, objectsOf, SRC, TestClock } from '../pipeline/helpers.ts';
import { FakeS3 } from './fake-s3.ts';
import { mockRuntime } from './helpers.ts';

const s3 = new FakeS3();
const config = makeConfig({
  formats: ['JSON', 'CSV', 'CONLL2003'],
  settings: { shardTasks: 5, keyShards: 4 },
});
const rt = mockRuntime(s3, config, new TestClock(Date.now()));
const plan = createRenderPlanHandler(() => rt);
const segment = createRenderSegmentHandler(() => rt);
const commit = createRenderCommitHandler(() => rt);
const paths = projectPaths(config.projects[0]);
const manifest = () => JSON.parse(s3.text(OUT, paths.latestManifest) ?? 'null') as Manifest | null;
const files = (m: Manifest) =>
  m.formats.flatMap((f) => (f.files ?? []).map((x) => `${f.format}/${x.path} ${x.bytes} ${x.sha256}`)).sort();

afterAll(() => s3.restore());
beforeAll(async () => {
  for (let i = 1; i <= 60; i++) {
    const o = objectsOf(lsTask(i, 3), 'task')[0];
    s3.put(SRC, o.key, o.body);
  }
  await rebuildProject(rt.ctx, config.projects[0]);
});

async function planned(owner: string): Promise<FanoutRef> {
  const r = (await plan({ projectId: 'proj', owner, segmentShards: 2 })) as {
    status: string;
    ref: FanoutRef;
  };
  expect(r.status).toBe('planned');
  return r.ref;
}

describe('render fan-out handlers', () => {
  it('plan → batches → commit publishes what an in-process render publishes', async () => {
    const ref = await planned('exec-1');
    expect(ref.items).toEqual({ bucket: OUT, key: `${paths.state}render-fanout/exec-1/items.json` });
    const items = JSON.parse(s3.text(OUT, ref.items.key)!) as SegmentJob[];
    expect(items.length).toBe(ref.segments);
    expect(ref.segments).toBe(ref.total);
    expect(ref.total).toBeGreaterThanOrEqual(6); // 60 tasks in shards of 5, 2 shards per segment
    expect(s3.text(OUT, paths.lock)).toContain('exec-1');
    const batches: SegmentJob[][] = [];
    for (let i = 0; i < items.length; i += 2) batches.push(items.slice(i, i + 2));
    const BatchInput = { projectId: 'proj', owner: ref.owner, startedAt: ref.startedAt };
    const results = await Promise.all(batches.map((Items) => segment({ Items, BatchInput })));
    expect(results.map((r) => r.segments)).toEqual(batches.map((b) => b.length));
    expect(results.reduce((n, r) => n + r.tasks, 0)).toBe(60);
    const done = await commit({ action: 'commit', ref });
    const m = manifest()!;
    expect(done).toEqual({
      project: 'proj',
      status: 'rendered',
      manifestId: m.id,
      tasks: 60,
      stored: ref.total,
      renderedHere: 0,
    });
    expect(m.timings?.segments).toMatchObject({ total: ref.total, rendered: ref.total });
    expect(s3.text(OUT, paths.lock)).toBeUndefined();
    expect(s3.keys(OUT, `${paths.state}render-fanout/`)).toEqual([]);
    const fanned = files(m);
    await renderLatest(rt.ctx, config.projects[0], { force: true, segmentShards: 2 });
    expect(files(manifest()!)).toEqual(fanned);
  });

  it('abort (the Catch) fences the lock and leaves the manifest', async () => {
    const before = s3.text(OUT, paths.latestManifest);
    const o = objectsOf(lsTask(7, 9), 'task')[0];
    s3.put(SRC, o.key, o.body);
    await rebuildProject(rt.ctx, config.projects[0]);
    const ref = await planned('exec-2');
    expect(await plan({ projectId: 'proj', owner: 'exec-3' })).toMatchObject({ status: 'busy' });
    const r = await commit({
      action: 'abort',
      projectId: 'proj',
      owner: 'exec-2',
      error: { Error: 'States.TaskFailed', Cause: 'segment n0000000001 timed out' },
    });
    expect(r).toEqual({ project: 'proj', status: 'aborted', released: true });
    // Held, marked aborted, until no worker of the execution can still run (render-lock.ts).
    expect(JSON.parse(s3.text(OUT, paths.lock)!)).toMatchObject({
      owner: 'exec-2',
      aborted: 'States.TaskFailed',
    });
    expect(await plan({ projectId: 'proj', owner: 'exec-3' })).toMatchObject({ status: 'busy' });
    expect(s3.text(OUT, paths.latestManifest)).toBe(before);
    expect(s3.keys(OUT, `${paths.state}render-fanout/`)).toEqual([]);
    await expect(commit({ action: 'commit', ref })).rejects.toThrow(/no longer holds the render lock/);
    // A batch of the aborted execution still running (its lock gone) fails before writing.
    const latestBefore = s3
      .keys(OUT, paths.latest)
      .map((k) => `${k} ${s3.objects.get(FakeS3.id(OUT, k))!.etag}`);
    const shard = s3.keys(OUT, paths.taskShards)[0];
    const Items = [{ id: 'n0000000000', shards: { [shard]: s3.objects.get(FakeS3.id(OUT, shard))!.etag } }];
    const BatchInput = { projectId: 'proj', owner: 'exec-2', startedAt: ref.startedAt };
    await expect(segment({ Items, BatchInput })).rejects.toMatchObject({
      name: 'RenderLockLostError',
      message: expect.stringMatching(/^render exec-2 of proj no longer holds the render lock/),
    });
    expect(s3.keys(OUT, `${paths.state}render-fanout/`)).toEqual([]);
    expect(s3.keys(OUT, paths.latest).map((k) => `${k} ${s3.objects.get(FakeS3.id(OUT, k))!.etag}`)).toEqual(
      latestBefore,
    );
    // The fence runs out (15 minutes later): the next tests take the lock.
    s3.objects.delete(FakeS3.id(OUT, paths.lock));
  });

  it('refuses bad events with the field and reason', async () => {
    await expect(plan({ projectId: 'proj', owner: 'a/b' })).rejects.toThrow(/owner/);
    await expect(plan({ projectId: 'missing', owner: 'x' })).rejects.toThrow(/no configured project/);
    const BatchInput = { projectId: 'proj', owner: 'exec-9', startedAt: new Date().toISOString() };
    await expect(segment({ Items: [], BatchInput })).rejects.toThrow(/Items/);
    await expect(
      segment({
        Items: [{ id: 'n0000000000', shards: { 'other/_state/tasks/n0.jsonl': '"e"' } }],
        BatchInput,
      }),
    ).rejects.toThrow(
      /Items\[0\] \(segment n0000000000\): shard key other\/_state\/tasks\/n0.jsonl is not under/,
    );
    // A segment's `skip` (formats the commit runs over every task) reaches the worker; unknown
    // format names are refused.
    const job = { id: 'n0000000000', shards: {}, skip: ['VOC', 'YOLO'] };
    expect(renderSegmentEventSchema.parse({ Items: [job], BatchInput }).Items[0].skip).toEqual([
      'VOC',
      'YOLO',
    ]);
    await expect(segment({ Items: [{ ...job, skip: ['NOPE'] }], BatchInput })).rejects.toThrow(/skip/);
    await expect(commit({ action: 'publish', projectId: 'proj', owner: 'x' })).rejects.toThrow(/action/);
    // Snapshot jobs: the plan needs the export id, a snapshot batch its snapshot (and a latest/ one none).
    await expect(plan({ projectId: 'proj', owner: 'x', input: { kind: 'snapshot' } })).rejects.toThrow(
      /a snapshot job needs its exportId/,
    );
    await expect(
      segment({ Items: [{ id: 'n0', shards: {} }], BatchInput: { ...BatchInput, kind: 'snapshot' } }),
    ).rejects.toThrow(/a snapshot job \(and only one\) has its snapshot/);
    await expect(
      commit({ action: 'abort', projectId: 'proj', owner: 'x', input: { kind: 'snapshot' } }),
    ).rejects.toThrow(/abort of a snapshot job: the input has no exportId/);
    const ref = {
      kind: 'snapshot',
      project: 'proj',
      owner: 'x',
      startedAt: new Date().toISOString(),
      segmentShards: 2,
      force: true,
      items: { bucket: OUT, key: 'k' },
      segments: 0,
      total: 0,
    };
    await expect(commit({ action: 'commit', ref })).rejects.toThrow(
      /a snapshot job \(and only one\) has its snapshot/,
    );
  });

  it('a latest/ execution input (what routeRender starts) plans a latest/ render', async () => {
    const r = (await plan({
      projectId: 'proj',
      owner: 'v9-latest-input',
      segmentShards: 2,
      force: true,
      input: { projectId: 'proj', stateVersion: 9, segments: { changed: 3, total: 3 } },
    })) as { status: string; ref: FanoutRef };
    expect(r.status).toBe('planned');
    expect([r.ref.kind, r.ref.snapshot]).toEqual(['latest', null]);
    await commit({
      action: 'abort',
      projectId: 'proj',
      owner: 'v9-latest-input',
      input: { projectId: 'proj' },
    });
  });
});
