/**
 * Snapshots fanned out on the render state machine (snapshot-fanout.ts), on the local S3 server.
 * The steps are the real handlers (render-plan with the execution input, render-segment batches
 * with the Map's BatchInput, render-commit), called in-process as the state machine would:
 *  - routing: the snapshot worker (runSnapshot) starts the port's execution, named after the
 *    export, when the snapshot has at least `minSegments` segments, and renders in-process below;
 *  - a fanned-out snapshot equals the in-process one byte for byte (every file, the manifest with
 *    the name replaced, the record's md5, counts and formats), for two snapshot option sets, with
 *    per-task files (YOLO, VOC), zips and a format the label config cannot render;
 *  - a snapshot with only JSON (no format by segments) is assembled from the stored bodies;
 *  - a nightly snapshot fans out too, and segments no batch stored (a tolerated failure) are
 *    rendered by the commit with the same bytes;
 *  - a Commit run again returns the completed snapshot unchanged (create-only manifest);
 *  - abort leaves no manifest, deletes what the workers wrote (the reservation kept) and marks the
 *    record failed; an abort after the manifest (commit failed later) completes the record.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '../../functions/core/object-store.ts';
import { createRenderCommitHandler } from '../../functions/handlers/render-commit.ts';
import { createRenderPlanHandler } from '../../functions/handlers/render-plan.ts';
import { createRenderSegmentHandler } from '../../functions/handlers/render-segment.ts';
import { type PipelineConfig, parseConfig, type SnapshotOptions } from '../../functions/pipeline/config.ts';
import type { RenderFanoutPort } from '../../functions/pipeline/context.ts';
import {
  createRecord,
  deleteRecord,
  type ExportRecord,
  getRecord,
} from '../../functions/pipeline/exports-records.ts';
import { nightlySnapshots, runSnapshot } from '../../functions/pipeline/exports-worker.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import type { FanoutRef } from '../../functions/pipeline/render-fanout-job.ts';
import { fanoutPrefix } from '../../functions/pipeline/render-fanout-job.ts';
import type { SegmentJob } from '../../functions/pipeline/segments.ts';
import { projectStore } from '../../functions/pipeline/state.ts';
import { syncProject } from '../../functions/pipeline/sync.ts';
import {
  bucketNames,
  createBuckets,
  type LocalRuntime,
  localRuntime,
  s3Client,
} from '../integration/helpers.ts';
import { lsTask, objectsOf, projectInput } from './helpers.ts';
import { OPTIONS } from './snapshot-fixtures.ts';

/** Per-task files (YOLO, VOC: zipped), aggregates, and one format the config cannot render (BRUSH_TO_PNG). */
const FORMATS = ['JSON', 'JSON_MIN', 'CSV', 'TSV', 'COCO', 'YOLO', 'VOC', 'BRUSH_TO_PNG'] as const;
const SEGMENT_SHARDS = 3;

let client: S3Client;
let names: ReturnType<typeof bucketNames>;
let config: PipelineConfig;
let rt: LocalRuntime;
const started: Array<{ name: string; input: Record<string, unknown> }> = [];

/** A port that records StartExecution calls (the state machine is run by `execute`). */
const port = (minSegments: number): RenderFanoutPort => ({
  minSegments,
  async start(_project, name, input) {
    const existed = started.some((s) => s.name === name);
    if (!existed) started.push({ name, input });
    return { executionArn: `arn:aws:states:eu-west-1:1:execution:render-proj:${name}`, existed };
  },
});

beforeAll(async () => {
  client = s3Client();
  names = bucketNames();
  await createBuckets(client, [names.src, names.out]);
  config = parseConfig({
    version: 1,
    projects: [
      projectInput({
        kind: 'image-bbox',
        source: { bucket: names.src, prefix: 'img' },
        export: { bucket: names.out, prefix: 'exports' },
        formats: ['JSON'],
        snapshot: { formats: FORMATS.filter((f) => f !== 'JSON'), nightly: true },
      }),
    ],
    settings: { shardTasks: 2, keyShards: 4 },
  });
  rt = localRuntime(client, config);
  const src = rt.ctx.store(names.src);
  for (let i = 1; i <= 36; i++) {
    const o = objectsOf(lsTask(i, 1, 'image-bbox'), 'task', 'img')[0];
    await src.put(o.key, o.body);
  }
  await syncProject(rt.ctx, config.projects[0]);
}, 60_000);

const project = () => config.projects[0];

/** Runs the state machine's steps for a started execution: Plan → batches of 2 (all at once) → Commit. */
async function execute(name: string, input: Record<string, unknown>) {
  const plan = (await createRenderPlanHandler(() => rt)({
    projectId: project().id,
    owner: name,
    segmentShards: SEGMENT_SHARDS,
    input,
  })) as { status: string; ref: FanoutRef };
  expect(plan.status).toBe('planned');
  const { ref } = plan;
  const items = JSON.parse(
    (await readAll((await rt.ctx.store(ref.items.bucket).get(ref.items.key)).body)).toString(),
  ) as SegmentJob[];
  const segment = createRenderSegmentHandler(() => rt);
  const batches: SegmentJob[][] = [];
  for (let i = 0; i < items.length; i += 2) batches.push(items.slice(i, i + 2));
  await Promise.all(
    batches.map((Items) =>
      segment({
        Items,
        BatchInput: {
          projectId: project().id,
          owner: ref.owner,
          startedAt: ref.startedAt,
          kind: ref.kind,
          snapshot: ref.snapshot,
        },
      }),
    ),
  );
  const commit = (await createRenderCommitHandler(() => rt)({ action: 'commit', ref })) as Record<
    string,
    unknown
  >;
  return { ref, items, commit };
}

async function filesUnder(prefix: string): Promise<Map<string, Buffer>> {
  const store = rt.ctx.store(names.out);
  const out = new Map<string, Buffer>();
  for await (const o of store.list(prefix))
    out.set(o.key.slice(prefix.length), await readAll((await store.get(o.key)).body));
  return out;
}

/** A new API export of the snapshot options and formats, made with `fanout` (or none) as the port. */
async function snapshotWith(
  fanout: RenderFanoutPort | undefined,
  options: SnapshotOptions,
  formats: readonly string[],
): Promise<ExportRecord> {
  rt.ctx.renderFanout = fanout;
  try {
    const record = await createRecord(rt.ctx, project(), {
      options,
      trigger: 'api',
      formats: [...formats] as never,
    });
    return await runSnapshot(rt.ctx, project(), record);
  } finally {
    rt.ctx.renderFanout = undefined;
  }
}

/** Expects the two records' snapshots to hold the same bytes (manifest: names replaced). */
async function expectSame(fanned: ExportRecord, inProcess: ExportRecord) {
  const paths = projectPaths(project());
  const a = fanned.snapshot.name;
  const b = inProcess.snapshot.name;
  const got = await filesUnder(paths.snapshot(a));
  const want = await filesUnder(paths.snapshot(b));
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  expect([...got.keys()]).toEqual(
    expect.arrayContaining(['manifest.json', 'snapshot.json', 'CSV/result.csv']),
  );
  for (const [path, bytes] of want) {
    // export.json is the name's reservation (export id, trigger), written when the record was made.
    if (path === 'export.json') continue;
    if (path === 'manifest.json') expect(got.get(path)!.toString().replaceAll(a, b)).toBe(bytes.toString());
    else expect(got.get(path)!.equals(bytes), path).toBe(true);
  }
  const view = (r: ExportRecord, name: string) =>
    JSON.stringify({
      status: r.status,
      md5: r.md5,
      counters: r.counters,
      formats: r.converted_formats.map(({ id: _id, ...c }) => c),
    }).replaceAll(name, 'NAME');
  expect(view(fanned, a)).toBe(view(inProcess, b));
}

describe('snapshot fan-out on S3', () => {
  it('routes by segment count: below the threshold in-process, from it a named execution', async () => {
    const below = await snapshotWith(port(100), OPTIONS.defaults, ['JSON', 'CSV']);
    expect(below.status).toBe('completed');
    expect(started).toEqual([]);
    // 36 tasks in 18 shards: 2 segments of 10 shards.
    const above = await snapshotWith(port(2), OPTIONS.defaults, ['JSON', 'CSV']);
    expect(above.status).toBe('in_progress');
    expect(started).toEqual([
      {
        name: `snapshot-${above.id}-${above.snapshot.name}`,
        input: {
          kind: 'snapshot',
          projectId: 'proj',
          exportId: above.id,
          snapshot: above.snapshot.name,
          segments: { total: 2 },
        },
      },
    ]);
    // A retried request for the same export names the same execution (started once).
    rt.ctx.renderFanout = port(2);
    const retried = await runSnapshot(rt.ctx, project(), await getRecord(rt.ctx, project(), above.id));
    rt.ctx.renderFanout = undefined;
    expect(retried.status).toBe('in_progress');
    expect(started).toHaveLength(1);
    // No manifest until the execution commits.
    const ps = projectStore(rt.ctx, project());
    expect(await ps.store.head(`${above.snapshot.prefix}manifest.json`)).toBeUndefined();
    const { commit } = await execute(started[0].name, started[0].input);
    expect(commit).toMatchObject({ exportId: above.id, status: 'completed', existing: false });
    await expectSame(await getRecord(rt.ctx, project(), above.id), below);
    started.length = 0;
  }, 120_000);

  for (const label of ['onlyAnnotated', 'anonymize', 'expanded'] as const)
    it(`a fanned-out snapshot equals the in-process one byte for byte (${label})`, async () => {
      const options = OPTIONS[label];
      const inProcess = await snapshotWith(undefined, options, FORMATS);
      expect(inProcess.status).toBe('completed');
      const fanned = await snapshotWith(port(1), options, FORMATS);
      expect(fanned.status).toBe('in_progress');
      const run = started.pop()!;
      const { ref, items, commit } = await execute(run.name, run.input);
      expect(items.length).toBeGreaterThan(3);
      // Every segment came from the workers (none rendered in the commit).
      expect(commit).toMatchObject({ status: 'completed', stored: items.length });
      const done = await getRecord(rt.ctx, project(), fanned.id);
      expect(done.converted_formats.find((c) => c.export_type === 'BRUSH_TO_PNG')?.status).toBe('failed');
      await expectSame(done, inProcess);
      const files = await filesUnder(done.snapshot.prefix);
      expect([...files.keys()]).toEqual(expect.arrayContaining(['YOLO.zip', 'VOC.zip', 'COCO/result.json']));
      // The job's objects are gone.
      const ps = projectStore(rt.ctx, project());
      const left: string[] = [];
      for await (const o of ps.store.list(fanoutPrefix(ps, run.name))) left.push(o.key);
      expect(left).toEqual([]);
      // A Commit run again: the completed snapshot is returned as it is, nothing rewritten.
      const again = await createRenderCommitHandler(() => rt)({ action: 'commit', ref });
      expect(again).toMatchObject({ status: 'completed', existing: true, stored: 0 });
      const after = await filesUnder(done.snapshot.prefix);
      expect([...after.keys()].sort()).toEqual([...files.keys()].sort());
      for (const [path, bytes] of files) expect(after.get(path)!.equals(bytes), path).toBe(true);
    }, 120_000);

  it('a snapshot with only JSON is assembled from the stored segment bodies', async () => {
    const inProcess = await snapshotWith(undefined, OPTIONS.onlyAnnotated, ['JSON']);
    const fanned = await snapshotWith(port(1), OPTIONS.onlyAnnotated, ['JSON']);
    const run = started.pop()!;
    const { items, commit } = await execute(run.name, run.input);
    expect(items.length).toBeGreaterThan(3);
    expect(commit).toMatchObject({ status: 'completed', stored: items.length });
    const paths = projectPaths(project());
    const a = await filesUnder(paths.snapshot(fanned.snapshot.name));
    const b = await filesUnder(paths.snapshot(inProcess.snapshot.name));
    expect(a.get('snapshot.json')!.equals(b.get('snapshot.json')!)).toBe(true);
    const done = await getRecord(rt.ctx, project(), fanned.id);
    expect(done.md5).toBe(inProcess.md5);
    expect(done.counters).toEqual(inProcess.counters);
  }, 60_000);

  it('a nightly snapshot fans out the same way; segments no batch stored are rendered by the commit', async () => {
    const inProcess = await snapshotWith(undefined, project().snapshot.options, [
      'JSON',
      ...FORMATS.slice(1),
    ]);
    rt.ctx.renderFanout = port(1);
    const [r] = await nightlySnapshots(rt.ctx, ['proj']).finally(() => {
      rt.ctx.renderFanout = undefined;
    });
    expect(r.status).toBe('in_progress');
    const run = started.pop()!;
    expect(run.input).toMatchObject({ kind: 'snapshot', exportId: r.exportId });
    // Only the first batch ran (a tolerated failure): the commit renders the other segments itself.
    const plan = (await createRenderPlanHandler(() => rt)({
      projectId: 'proj',
      owner: run.name,
      segmentShards: SEGMENT_SHARDS,
      input: run.input,
    })) as { ref: FanoutRef };
    const items = JSON.parse(
      (await readAll((await rt.ctx.store(names.out).get(plan.ref.items.key)).body)).toString(),
    ) as SegmentJob[];
    await createRenderSegmentHandler(() => rt)({
      Items: items.slice(0, 2),
      BatchInput: {
        projectId: 'proj',
        owner: run.name,
        startedAt: plan.ref.startedAt,
        kind: 'snapshot',
        snapshot: plan.ref.snapshot,
      },
    });
    const commit = await createRenderCommitHandler(() => rt)({ action: 'commit', ref: plan.ref });
    expect(commit).toMatchObject({ status: 'completed', stored: 2 });
    const done = await getRecord(rt.ctx, project(), r.exportId!);
    expect(done.snapshot.trigger).toBe('nightly');
    await expectSame(done, inProcess);
  }, 60_000);

  it('abort: no manifest, the workers’ files deleted (reservation kept), the record failed', async () => {
    const fanned = await snapshotWith(port(1), OPTIONS.defaults, FORMATS);
    const run = started.pop()!;
    const plan = (await createRenderPlanHandler(() => rt)({
      projectId: 'proj',
      owner: run.name,
      segmentShards: SEGMENT_SHARDS,
      input: run.input,
    })) as { ref: FanoutRef };
    const items = JSON.parse(
      (await readAll((await rt.ctx.store(names.out).get(plan.ref.items.key)).body)).toString(),
    ) as SegmentJob[];
    // One batch ran (it wrote per-task files), then the Map failed: the Catch runs Abort.
    await createRenderSegmentHandler(() => rt)({
      Items: items.slice(0, 2),
      BatchInput: {
        projectId: 'proj',
        owner: run.name,
        startedAt: plan.ref.startedAt,
        kind: 'snapshot',
        snapshot: plan.ref.snapshot,
      },
    });
    const prefix = fanned.snapshot.prefix;
    const before = await filesUnder(prefix);
    expect([...before.keys()].some((k) => k.startsWith('YOLO/'))).toBe(true);
    const r = await createRenderCommitHandler(() => rt)({
      action: 'abort',
      projectId: 'proj',
      owner: run.name,
      error: { Error: 'States.TaskFailed', Cause: 'batch failed' },
      input: run.input,
    });
    expect(r).toMatchObject({ status: 'aborted', record: 'failed' });
    expect([...(await filesUnder(prefix)).keys()]).toEqual(['export.json']);
    const record = await getRecord(rt.ctx, project(), fanned.id);
    expect(record.status).toBe('failed');
    expect(record.traceback).toContain('States.TaskFailed');
    const ps = projectStore(rt.ctx, project());
    const left: string[] = [];
    for await (const o of ps.store.list(fanoutPrefix(ps, run.name))) left.push(o.key);
    expect(left).toEqual([]);
  }, 60_000);

  it('abort of an export deleted meanwhile removes the job and leaves the rest alone', async () => {
    const fanned = await snapshotWith(port(1), OPTIONS.defaults, ['JSON']);
    const run = started.pop()!;
    await createRenderPlanHandler(() => rt)({ projectId: 'proj', owner: run.name, input: run.input });
    await deleteRecord(rt.ctx, project(), fanned.id);
    const r = await createRenderCommitHandler(() => rt)({
      action: 'abort',
      projectId: 'proj',
      owner: run.name,
      input: run.input,
    });
    expect(r).toMatchObject({ status: 'aborted', record: 'gone' });
    const ps = projectStore(rt.ctx, project());
    const left: string[] = [];
    for await (const o of ps.store.list(fanoutPrefix(ps, run.name))) left.push(o.key);
    expect(left).toEqual([]);
  }, 60_000);

  it('abort after the manifest was written (the commit failed later) completes the record, deletes nothing', async () => {
    const fanned = await snapshotWith(port(1), OPTIONS.defaults, ['JSON', 'CSV']);
    const run = started.pop()!;
    const { ref } = await execute(run.name, run.input);
    const prefix = fanned.snapshot.prefix;
    const files = await filesUnder(prefix);
    // The record as if the commit had failed after the manifest.
    const { updateRecord } = await import('../../functions/pipeline/exports-records.ts');
    await updateRecord(rt.ctx, project(), fanned.id, (x) => ({ ...x, status: 'in_progress', md5: '' }));
    const r = await createRenderCommitHandler(() => rt)({
      action: 'abort',
      projectId: 'proj',
      owner: ref.owner,
      input: run.input,
    });
    expect(r).toMatchObject({ record: 'completed', deleted: 0 });
    const after = await filesUnder(prefix);
    expect([...after.keys()].sort()).toEqual([...files.keys()].sort());
    const record = await getRecord(rt.ctx, project(), fanned.id);
    expect(record.status).toBe('completed');
    expect(record.md5).not.toBe('');
  }, 60_000);
});
