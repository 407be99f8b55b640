/**
 * The render fan-out (plan → segment batches, several at once → commit) writes the same latest/
 * as the in-process render, byte for byte: two identical projects, one rendered by renderLatest,
 * the other by the fan-out steps, compared file by file (manifest entries and object bytes), on the
 * first render, after a few changed tasks (only the changed segments are planned), and when the
 * state moves on between the plan and the commit. The abort path releases the lock and leaves the
 * manifest alone.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { readAll } from '../../functions/core/object-store.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import {
  abortRender,
  commitRender,
  type FanoutRef,
  fanoutPrefix,
  planRender,
  renderSegmentJobs,
} from '../../functions/pipeline/render-fanout.ts';
import type { SegmentJob } from '../../functions/pipeline/segments.ts';
import { projectStore } from '../../functions/pipeline/state.ts';
import {
  change,
  type FsContext,
  fsContext,
  lsTask,
  makeConfig,
  OUT,
  objectsOf,
  readJsonObject,
  SRC,
  tempDir,
} from './helpers.ts';

const FORMATS = ['JSON', 'JSON_MIN', 'CSV', 'TSV', 'COCO', 'YOLO', 'VOC'];
const SEGMENT_SHARDS = 2;

async function project() {
  const config = makeConfig({
    kind: 'image-bbox',
    formats: FORMATS,
    settings: { shardTasks: 4, keyShards: 4 },
  });
  const ctx = fsContext(await tempDir(), config);
  return { ctx, project: config.projects[0] };
}
type P = Awaited<ReturnType<typeof project>>;

async function putTask(p: P, task: JsonObject): Promise<void> {
  const o = objectsOf(task, 'task')[0];
  await p.ctx.store(SRC).put(o.key, o.body);
  await ingestChanges(p.ctx, [change(o.key)]);
}

/** Plans, renders the items in batches of 3 (all batches at once), commits. */
async function fanout(p: P, owner: string, beforeCommit?: () => Promise<void>) {
  const plan = await planRender(p.ctx, p.project, { owner, segmentShards: SEGMENT_SHARDS });
  if (plan.status !== 'planned') throw new Error(`not planned: ${plan.status}`);
  const ref: FanoutRef = plan.ref;
  const items = await readJsonObject<SegmentJob[]>(p.ctx.store(ref.items.bucket), ref.items.key);
  const batches: SegmentJob[][] = [];
  for (let i = 0; i < items.length; i += 3) batches.push(items.slice(i, i + 3));
  const done = await Promise.all(batches.map((b) => renderSegmentJobs(p.ctx, p.project, ref, b)));
  await beforeCommit?.();
  const commit = await commitRender(p.ctx, p.project, ref);
  return { ref, items, done, commit };
}

/** Every format's manifest entries (path, bytes, sha256) and object bytes, by format/path. */
async function latestOf(ctx: FsContext, p: P['project']): Promise<Map<string, string>> {
  const paths = projectPaths(p);
  const store = ctx.store(OUT);
  const m = await readJsonObject<Manifest>(store, paths.latestManifest);
  const out = new Map<string, string>();
  for (const f of m.formats)
    for (const x of f.files ?? []) {
      const bytes = await readAll((await store.get(x.key)).body);
      out.set(`${f.format}/${x.path}`, `${x.bytes} ${x.sha256}\n${bytes.toString('utf8')}`);
    }
  return out;
}

async function expectSame(a: P, b: P, label: string) {
  const want = await latestOf(a.ctx, a.project);
  const got = await latestOf(b.ctx, b.project);
  expect([...got.keys()].sort(), label).toEqual([...want.keys()].sort());
  for (const [k, v] of want) expect(got.get(k), `${label} ${k}`).toBe(v);
  expect(want.size).toBeGreaterThan(FORMATS.length);
}

describe('render fan-out', () => {
  it('plan → concurrent segment batches → commit equals the in-process render, byte for byte', async () => {
    const a = await project();
    const b = await project();
    for (let i = 1; i <= 60; i++) {
      await putTask(a, lsTask(i, 1, 'image-bbox'));
      await putTask(b, lsTask(i, 1, 'image-bbox'));
    }
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    const first = await fanout(b, 'exec-1');
    expect(first.ref.segments).toBe(first.ref.total);
    expect(first.ref.total).toBeGreaterThan(3);
    expect(first.done.reduce((n, d) => n + d.tasks, 0)).toBe(60);
    expect(first.commit).toMatchObject({ status: 'rendered', stored: first.ref.segments, renderedHere: 0 });
    await expectSame(a, b, 'first');

    // Two tasks change: only their segments are planned and rendered by the workers.
    for (const i of [5, 41]) {
      await putTask(a, lsTask(i, 9, 'image-bbox'));
      await putTask(b, lsTask(i, 9, 'image-bbox'));
    }
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    const second = await fanout(b, 'exec-2');
    expect(second.ref.segments).toBe(2);
    expect(second.commit).toMatchObject({ status: 'rendered', stored: 2, renderedHere: 0 });
    await expectSame(a, b, 'second');

    // A task added after the plan: the commit renders its segment itself.
    await putTask(a, lsTask(7, 3, 'image-bbox'));
    await putTask(b, lsTask(7, 3, 'image-bbox'));
    const third = await fanout(b, 'exec-3', async () => putTask(b, lsTask(200, 1, 'image-bbox')));
    await putTask(a, lsTask(200, 1, 'image-bbox'));
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    expect(third.ref.segments).toBe(1);
    expect(third.commit).toMatchObject({ status: 'rendered', stored: 1, renderedHere: 1 });
    await expectSame(a, b, 'third');

    const ps = projectStore(b.ctx, b.project);
    const left: string[] = [];
    for await (const o of ps.store.list(`${ps.paths.state}render-fanout/`)) left.push(o.key);
    expect(left).toEqual([]);
    expect(await ps.store.head(ps.paths.lock)).toBeUndefined();
    expect(await ps.store.head(ps.paths.renderInflight)).toBeUndefined();
  });

  it('a second plan while one runs is busy; abort releases the lock and leaves the manifest', async () => {
    const b = await project();
    for (let i = 1; i <= 20; i++) await putTask(b, lsTask(i, 1, 'image-bbox'));
    await fanout(b, 'exec-1');
    const ps = projectStore(b.ctx, b.project);
    const manifest = await readJsonObject<Manifest>(ps.store, ps.paths.latestManifest);
    await putTask(b, lsTask(3, 7, 'image-bbox'));
    const plan = await planRender(b.ctx, b.project, { owner: 'exec-2', segmentShards: SEGMENT_SHARDS });
    expect(plan.status).toBe('planned');
    expect(await planRender(b.ctx, b.project, { owner: 'exec-x' })).toMatchObject({ status: 'busy' });
    if (plan.status !== 'planned') return;
    const items = await readJsonObject<SegmentJob[]>(ps.store, plan.ref.items.key);
    await renderSegmentJobs(b.ctx, b.project, plan.ref, items);
    const aborted = await abortRender(b.ctx, b.project, 'exec-2', 'States.TaskFailed');
    expect(aborted).toEqual({ project: b.project.id, status: 'aborted', released: true });
    expect(await ps.store.head(ps.paths.lock)).toBeUndefined();
    expect(await readJsonObject<Manifest>(ps.store, ps.paths.latestManifest)).toEqual(manifest);
    expect(await ps.store.head(ps.paths.dirty)).toBeDefined();
    const left: string[] = [];
    for await (const o of ps.store.list(fanoutPrefix(ps, 'exec-2'))) left.push(o.key);
    expect(left).toEqual([]);
    // The inflight record stays: the next render rewrites latest/ in full.
    expect(await ps.store.head(ps.paths.renderInflight)).toBeDefined();
    await expect(commitRender(b.ctx, b.project, plan.ref)).rejects.toThrow(/no longer holds the render lock/);
    const next = await renderLatest(b.ctx, b.project, { segmentShards: SEGMENT_SHARDS });
    expect(next.status).toBe('rendered');
    expect(await ps.store.head(ps.paths.renderInflight)).toBeUndefined();
  });
});
