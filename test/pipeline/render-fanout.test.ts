/**
 * The render fan-out (plan → segment batches, several at once → commit) writes the same latest/
 * as the in-process render, byte for byte: two identical projects, one rendered by renderLatest,
 * the other by the fan-out steps, compared file by file (manifest entries and object bytes), on the
 * first render, after a few changed tasks (only the changed segments are planned), and when the
 * state moves on between the plan and the commit. The abort path releases the lock and leaves the
 * manifest alone.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { readAll } from '../../functions/core/object-store.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import { abortRender, commitRender } from '../../functions/pipeline/render-fanout-commit.ts';
import { type FanoutRef, fanoutPrefix } from '../../functions/pipeline/render-fanout-job.ts';
import { planRender } from '../../functions/pipeline/render-fanout-plan.ts';
import { renderSegmentJobs } from '../../functions/pipeline/render-fanout-segments.ts';
import { LAMBDA_MAX_SECONDS, renewLock } from '../../functions/pipeline/render-lock.ts';
import type { SegmentJob } from '../../functions/pipeline/segments.ts';
import { segmentIndexKey } from '../../functions/pipeline/segments.ts';
import { projectStore } from '../../functions/pipeline/state.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';
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
import { VersioningStore } from './versioning-store.ts';

const FORMATS = ['JSON', 'JSON_MIN', 'CSV', 'TSV', 'COCO', 'YOLO', 'VOC'];
const SEGMENT_SHARDS = 2;

async function project(zip = false) {
  const config = makeConfig({
    kind: 'image-bbox',
    formats: FORMATS,
    settings: { shardTasks: 4, keyShards: 4 },
  });
  config.projects[0].latest.zip = zip;
  const root = await tempDir();
  const ctx = fsContext(root, config);
  const out = new VersioningStore(new FsObjectStore(join(root, OUT)));
  ctx.stores.set(OUT, out);
  return { ctx, project: config.projects[0], out };
}
type P = Awaited<ReturnType<typeof project>>;

async function putTask(p: P, task: JsonObject): Promise<void> {
  const o = objectsOf(task, 'task')[0];
  await p.ctx.store(SRC).put(o.key, o.body);
  await ingestChanges(p.ctx, [change(o.key)]);
}

/** Two identical projects (a: rendered in-process, b: by the fan-out) holding tasks 1…n. */
async function twins(n: number, zip = false): Promise<[P, P]> {
  const a = await project(zip);
  const b = await project(zip);
  for (let i = 1; i <= n; i++) {
    await putTask(a, lsTask(i, 1, 'image-bbox'));
    await putTask(b, lsTask(i, 1, 'image-bbox'));
  }
  return [a, b];
}

/**
 * Plans, renders the items in batches of 3 (all batches at once), commits. `workerPuts`: the keys
 * the segment batches wrote (not the plan's, not the commit's).
 */
async function fanout(p: P, owner: string, beforeCommit?: () => Promise<void>, force?: boolean) {
  const plan = await planRender(p.ctx, p.project, { owner, segmentShards: SEGMENT_SHARDS, force });
  if (plan.status !== 'planned') throw new Error(`not planned: ${plan.status}`);
  const ref: FanoutRef = plan.ref;
  const items = await readJsonObject<SegmentJob[]>(p.ctx.store(ref.items.bucket), ref.items.key);
  const batches: SegmentJob[][] = [];
  for (let i = 0; i < items.length; i += 3) batches.push(items.slice(i, i + 3));
  const before = p.out.puts.length;
  const done = await Promise.all(batches.map((b) => renderSegmentJobs(p.ctx, p.project, ref, b)));
  const workerPuts = p.out.puts.slice(before);
  await beforeCommit?.();
  const commit = await commitRender(p.ctx, p.project, ref);
  return { ref, items, done, commit, workerPuts };
}

const manifestOf = (p: P) =>
  readJsonObject<Manifest>(p.ctx.store(OUT), projectPaths(p.project).latestManifest);

/**
 * A manifest without what names the run (id, times, previous id) and with each file's version id
 * replaced by whether it is the one `before` named (`kept`) or a new one (`new`): version ids are
 * numbered per store, so two stores compare by which files got a new version.
 */
function comparable(m: Manifest, before?: Manifest): unknown {
  const prev = new Map<string, string | undefined>();
  for (const f of before?.formats ?? []) for (const x of f.files ?? []) prev.set(x.key, x.versionId);
  const { id: _id, createdAt: _c, timings: _t, previous: _p, ...rest } = m;
  return {
    ...rest,
    formats: m.formats.map((f) => ({
      ...f,
      files: f.files?.map((x) => ({
        ...x,
        versionId: x.versionId && prev.get(x.key) === x.versionId ? 'kept' : 'new',
      })),
      zip: undefined,
    })),
  };
}

/** The in-process render (a) and the fan-out (b) published the same manifest, write for write. */
async function expectSameManifest(a: P, b: P, before: { a?: Manifest; b?: Manifest }, label: string) {
  const ma = await manifestOf(a);
  const mb = await manifestOf(b);
  expect(comparable(mb, before.b), label).toEqual(comparable(ma, before.a));
  return { a: ma, b: mb };
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
    const [a, b] = await twins(60);
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    const first = await fanout(b, 'exec-1');
    let m = await expectSameManifest(a, b, {}, 'first');
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
    m = await expectSameManifest(a, b, m, 'second');
    expect(second.ref.segments).toBe(2);
    expect(second.commit).toMatchObject({ status: 'rendered', stored: 2, renderedHere: 0 });
    await expectSame(a, b, 'second');

    // A task added after the plan: the commit renders its segment itself.
    await putTask(a, lsTask(7, 3, 'image-bbox'));
    await putTask(b, lsTask(7, 3, 'image-bbox'));
    const third = await fanout(b, 'exec-3', async () => putTask(b, lsTask(200, 1, 'image-bbox')));
    await putTask(a, lsTask(200, 1, 'image-bbox'));
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    await expectSameManifest(a, b, m, 'third');
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

  it('with zips, the workers make the records of their files: the commit reads none back and writes the in-process zips', async () => {
    const [a, b] = await twins(40, true);
    const zipsOf = async (p: P) => {
      const m = await manifestOf(p);
      const out = new Map<string, Buffer>();
      for (const f of m.formats)
        if (f.zip) out.set(f.format, await readAll((await p.out.get(f.zip.key)).body));
      return { m, out };
    };
    // Keys the commit reads under latest/YOLO/ and latest/VOC/.
    const latestB = projectPaths(b.project).latest;
    const reads: string[] = [];
    const get = b.out.get.bind(b.out);
    let recording = false;
    b.out.get = (key, range, versionId) => {
      if (recording && (key.startsWith(`${latestB}YOLO/`) || key.startsWith(`${latestB}VOC/`)))
        reads.push(key);
      return get(key, range, versionId);
    };
    const both = async (label: string, owner: string) => {
      await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
      reads.length = 0;
      const r = await fanout(b, owner, async () => {
        recording = true;
      });
      recording = false;
      const za = await zipsOf(a);
      const zb = await zipsOf(b);
      expect([...zb.out.keys()].sort(), label).toEqual(['VOC', 'YOLO']);
      for (const [f, bytes] of za.out) expect(zb.out.get(f)!.equals(bytes), `${label} ${f}.zip`).toBe(true);
      expect(reads, label).toEqual([]);
      return { r, zips: zb.m.timings!.zips! };
    };
    const first = await both('first', 'exec-1');
    expect(first.r.commit).toMatchObject({ stored: first.r.ref.segments, renderedHere: 0 });
    expect(first.zips.YOLO.recordedEntries).toBe(first.zips.YOLO.entries);
    expect(first.zips.VOC.recordedEntries).toBe(first.zips.VOC.entries);
    // The workers stored their records next to their documents; the commit removed them.
    expect(first.r.workerPuts.filter((k) => /\.zip-(YOLO|VOC)$/.test(k)).length).toBe(
      2 * first.r.ref.segments,
    );

    for (const i of [5, 41]) {
      await putTask(a, lsTask(i, 9, 'image-bbox'));
      await putTask(b, lsTask(i, 9, 'image-bbox'));
    }
    a.ctx.clock.advance(60_000);
    b.ctx.clock.advance(60_000);
    const second = await both('second', 'exec-2');
    expect(second.zips.YOLO).toMatchObject({ mode: 'incremental', freshEntries: 2, recordedEntries: 2 });
    const ps = projectStore(b.ctx, b.project);
    const left: string[] = [];
    for await (const o of ps.store.list(`${ps.paths.state}render-fanout/`)) left.push(o.key);
    expect(left).toEqual([]);
  });

  it('after 1 changed task the workers write only its per-task files; without an index they compare in the commit', async () => {
    const [a, b] = await twins(40);
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    await fanout(b, 'exec-1');
    let m = await expectSameManifest(a, b, {}, 'first');
    const latestOfB = projectPaths(b.project).latest;
    const labelDirs = [`${latestOfB}YOLO/labels/`, `${latestOfB}VOC/Annotations/`];
    /** The per-task files (YOLO labels, VOC annotations) among keys, each once, sorted. */
    const perTask = (keys: string[]) =>
      [...new Set(keys.filter((k) => labelDirs.some((d) => k.startsWith(d))))].sort();
    const versions = (x: Manifest) =>
      new Set(x.formats.flatMap((f) => (f.files ?? []).map((y) => y.versionId)));

    // One task changes: its segment is re-rendered, but only the task's own label file is stored.
    await putTask(a, lsTask(5, 9, 'image-bbox'));
    await putTask(b, lsTask(5, 9, 'image-bbox'));
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    const one = await fanout(b, 'exec-2');
    /** The per-task files the in-process render stored (a new version since `before`). */
    const storedInA = async (before: Manifest) => {
      const had = versions(before);
      const now = await manifestOf(a);
      return perTask(
        now.formats.flatMap((f) => (f.files ?? []).filter((x) => !had.has(x.versionId)).map((x) => x.key)),
      );
    };
    const changedInA = await storedInA(m.a);
    // Only the task's own label: a task with several annotations writes its label file once per
    // annotation (the last wins), but the segment's sink compares only the final bytes.
    expect(changedInA.filter((k) => k.includes('/YOLO/'))).toEqual([
      `${latestOfB}YOLO/labels/img_000005.txt`,
    ]);
    expect(one.ref.segments).toBe(1);
    // Every write of the workers under latest/ is one of those (the segment has 8 tasks' labels).
    expect(perTask(one.workerPuts)).toEqual(changedInA);
    expect(one.workerPuts.filter((k) => k.startsWith(latestOfB) && !perTask([k]).length)).toEqual([]);
    const index = await readJsonObject<{
      segments: { id: string; formats: { YOLO?: { files: string[] } } }[];
    }>(b.ctx.store(OUT), segmentIndexKey(projectPaths(b.project).state));
    const segmentLabels = index.segments.find((x) => x.id === one.items[0].id)!.formats.YOLO!.files;
    expect(segmentLabels.filter((x) => x.startsWith('labels/')).length).toBeGreaterThan(5);
    m = await expectSameManifest(a, b, m, 'one task');
    expect(m.b.changes?.unchanged).toBeGreaterThan(0);

    // A forced render of an unchanged state re-renders every segment and stores no per-task file.
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS, force: true });
    const forced = await fanout(b, 'exec-3', undefined, true);
    expect(forced.ref.segments).toBe(forced.ref.total);
    const forcedInA = await storedInA(m.a);
    expect(perTask(forced.workerPuts)).toEqual(forcedInA);
    expect(forcedInA).toEqual([]);
    m = await expectSameManifest(a, b, m, 'forced');

    // Without the segment index the plan cannot tell a worker its previous files: the workers store
    // every label again, and the commit still names the previous versions of the unchanged ones.
    for (const p of [a, b]) await p.ctx.store(OUT).delete(segmentIndexKey(projectPaths(p.project).state));
    await putTask(a, lsTask(5, 4, 'image-bbox'));
    await putTask(b, lsTask(5, 4, 'image-bbox'));
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    const blind = await fanout(b, 'exec-4');
    expect(perTask(blind.workerPuts).length).toBeGreaterThan(60);
    const after = await expectSameManifest(a, b, m, 'no index');
    const kept = versions(m.b);
    const labels = after.b.formats.find((f) => f.format === 'YOLO')!.files!;
    const keptLabels = labels.filter((x) => kept.has(x.versionId) && x.path.startsWith('labels/')).length;
    const storedLabels = (await storedInA(m.a)).filter((k) => k.includes('/YOLO/labels/')).length;
    expect(keptLabels).toBe(labels.filter((x) => x.path.startsWith('labels/')).length - storedLabels);
    expect(keptLabels).toBeGreaterThan(20);
  });

  it('the commit reads stored bodies when it assembles each file: its spool holds one file, not every segment', async () => {
    const [a, b] = await twins(60);
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    // Every stored body is read once by the commit (COCO's too: the workers summarized it).
    const reads: string[] = [];
    const get = b.out.get.bind(b.out);
    b.out.get = async (key, range) => {
      if (key.endsWith('.bodies')) reads.push(`${key} ${range?.start}-${range?.end}`);
      return get(key, range);
    };
    const first = await fanout(b, 'exec-1');
    b.out.get = get;
    expect(reads.length).toBeGreaterThanOrEqual(first.ref.segments * 5);
    expect(reads.length).toBe(new Set(reads).size);
    const m = await expectSameManifest(a, b, {}, 'first');
    expect(first.ref.segments).toBe(first.ref.total);
    const aggregate = /(^|\/)(result\.(json|csv|tsv)|classes\.txt|notes\.json)$/;
    const files = m.b.formats.flatMap((f) => (f.files ?? []).filter((x) => aggregate.test(x.path)));
    const all = files.reduce((n, x) => n + x.bytes, 0);
    const largest = Math.max(...files.map((x) => x.bytes));
    expect(files.length).toBeGreaterThanOrEqual(5);
    // In-process the raw bodies of every segment wait in the spool; the commit spools only the
    // bodies made for the file it assembles (plus their raw text nowhere: read from the store).
    const spoolA = m.a.timings!.segments!.spoolPeakBytes!;
    const spoolB = m.b.timings!.segments!.spoolPeakBytes!;
    expect(spoolA).toBeGreaterThan(all * 0.9);
    expect(spoolB).toBeGreaterThan(0);
    expect(spoolB).toBeLessThanOrEqual(largest);
    // The workers stored each segment's bodies apart from its document, which holds ranges only.
    const bodyObjects = first.workerPuts.filter((k) => k.endsWith('.bodies'));
    expect(bodyObjects.length).toBe(first.ref.segments);

    // A stored body gone before the commit (a lost object): the commit fails and publishes nothing;
    // the next render (after the abort) renders every segment again.
    await putTask(a, lsTask(9, 5, 'image-bbox'));
    await putTask(b, lsTask(9, 5, 'image-bbox'));
    const plan = await planRender(b.ctx, b.project, { owner: 'exec-2', segmentShards: SEGMENT_SHARDS });
    if (plan.status !== 'planned') throw new Error(plan.status);
    const items = await readJsonObject<SegmentJob[]>(b.ctx.store(OUT), plan.ref.items.key);
    const before = b.out.puts.length;
    await renderSegmentJobs(b.ctx, b.project, plan.ref, items);
    const lost = b.out.puts.slice(before).filter((k) => k.endsWith('.bodies'));
    expect(lost.length).toBe(1);
    await b.ctx.store(OUT).delete(lost[0]);
    await expect(commitRender(b.ctx, b.project, plan.ref)).rejects.toThrow();
    expect(comparable(await manifestOf(b), m.b)).toEqual(comparable(m.b, m.b));
    await abortRender(b.ctx, b.project, 'exec-2', 'States.TaskFailed', 0);
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    await fanout(b, 'exec-3');
    await expectSame(a, b, 'after the lost body');
  });

  it('stored bodies: a transient read is tried again, other bytes are refused, a body outside the job is not used', async () => {
    const [a, b] = await twins(30);
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    // The first read of a .bodies object fails as a reset connection does: read again, same bytes.
    const get = b.out.get.bind(b.out);
    let resets = 0;
    b.out.get = async (key, range) => {
      if (key.endsWith('.bodies') && resets++ === 0)
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      return get(key, range);
    };
    const first = await fanout(b, 'exec-1');
    b.out.get = get;
    expect(resets).toBeGreaterThan(1);
    expect(first.commit).toMatchObject({ status: 'rendered', renderedHere: 0 });
    const m = await expectSameManifest(a, b, {}, 'after a reset');
    await expectSame(a, b, 'after a reset');

    const ps = projectStore(b.ctx, b.project);
    const planned = async (owner: string) => {
      const plan = await planRender(b.ctx, b.project, { owner, segmentShards: SEGMENT_SHARDS });
      if (plan.status !== 'planned') throw new Error(`${owner}: ${plan.status}`);
      const items = await readJsonObject<SegmentJob[]>(b.ctx.store(OUT), plan.ref.items.key);
      const before = b.out.puts.length;
      await renderSegmentJobs(b.ctx, b.project, plan.ref, items);
      const puts = b.out.puts.slice(before);
      return {
        ref: plan.ref,
        bodies: puts.filter((k) => k.endsWith('.bodies')),
        docs: puts.filter((k) => /segments\/[^/]+\.json$/.test(k)),
      };
    };
    // Other bytes of the same length in a stored body: the commit refuses them, publishes nothing.
    await putTask(a, lsTask(5, 9, 'image-bbox'));
    await putTask(b, lsTask(5, 9, 'image-bbox'));
    const two = await planned('exec-2');
    expect(two.bodies).toHaveLength(1);
    const stored = await readAll((await b.out.get(two.bodies[0])).body);
    const swapped = Buffer.from(stored);
    const at = swapped.indexOf('"id"');
    swapped[at + 1] = 'x'.charCodeAt(0);
    await b.out.put(two.bodies[0], swapped);
    await expect(commitRender(b.ctx, b.project, two.ref)).rejects.toThrow(/not the ones the segment stored/);
    expect(comparable(await manifestOf(b), m.b)).toEqual(comparable(m.b, m.b));
    await abortRender(b.ctx, b.project, 'exec-2', 'States.TaskFailed', 0);

    // A segment document naming a bodies object outside its job: the commit renders it itself
    // (after the abort every segment is planned again: latest/ is rewritten in full).
    const three = await planned('exec-3');
    expect(three.docs.length).toBe(three.ref.total);
    const doc = await readJsonObject<{ bodies: string }>(b.ctx.store(OUT), three.docs[0]);
    await b.out.put(three.docs[0], JSON.stringify({ ...doc, bodies: `${ps.paths.latest}JSON/result.json` }));
    const commit = await commitRender(b.ctx, b.project, three.ref);
    expect(commit).toMatchObject({ status: 'rendered', stored: three.ref.total - 1, renderedHere: 1 });
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    await expectSame(a, b, 'a foreign bodies key');
  });

  it('a format the index says fell back is not rendered by the workers: no label file rewritten after a change', async () => {
    const a = await project();
    const b = await project();
    // One image shown by tasks 3 and 30 (two segments): YOLO's and VOC's label files collide, so
    // both formats run over every task in the commit, and the segment index records that.
    for (let i = 1; i <= 40; i++) {
      const t = lsTask(i, 1, 'image-bbox');
      if (i === 30) (t.data as JsonObject).image = (lsTask(3, 1, 'image-bbox').data as JsonObject).image;
      await putTask(a, structuredClone(t));
      await putTask(b, structuredClone(t));
    }
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    await fanout(b, 'exec-1');
    let m = await expectSameManifest(a, b, {}, 'first');
    expect(Object.keys(m.b.timings?.segments?.fallback ?? {}).sort()).toEqual(['VOC', 'YOLO']);
    await putTask(a, lsTask(17, 4, 'image-bbox'));
    await putTask(b, lsTask(17, 4, 'image-bbox'));
    const fromA = a.out.puts.length;
    const fromB = b.out.puts.length;
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    const two = await fanout(b, 'exec-2');
    expect(two.items.every((j) => j.skip?.join() === 'VOC,YOLO')).toBe(true);
    const labels = (puts: string[]) => puts.filter((k) => /\/latest\/(YOLO|VOC)\//.test(k)).sort();
    // The same label writes as in-process (the changed task's own files), none by the workers.
    expect(labels(two.workerPuts)).toEqual([]);
    expect(labels(b.out.puts.slice(fromB))).toEqual(labels(a.out.puts.slice(fromA)));
    expect(labels(a.out.puts.slice(fromA)).length).toBeLessThanOrEqual(4);
    m = await expectSameManifest(a, b, m, 'after a change');
    expect(m.b.changes).toEqual(m.a.changes);
    await expectSame(a, b, 'after a change');
  });

  it('the fan-out that repairs an aborted one records the label config, so the next render is up to date', async () => {
    const b = await project();
    for (let i = 1; i <= 20; i++) await putTask(b, lsTask(i, 1, 'image-bbox'));
    await fanout(b, 'exec-0');
    const recorded = (await manifestOf(b)).labelConfig;
    expect(recorded?.sha256).toMatch(/^[0-9a-f]{64}$/);
    await putTask(b, lsTask(5, 9, 'image-bbox'));
    const plan = await planRender(b.ctx, b.project, { owner: 'exec-1', segmentShards: SEGMENT_SHARDS });
    if (plan.status !== 'planned') throw new Error(plan.status);
    await abortRender(b.ctx, b.project, 'exec-1', 'States.TaskFailed', 0);
    const repair = await fanout(b, 'exec-2');
    // Every segment again (the aborted render's record: latest/ rewritten in full) ...
    expect(repair.ref.segments).toBe(repair.ref.total);
    // ... and the manifest names the label config, as an in-process repair's does.
    expect((await manifestOf(b)).labelConfig).toEqual(recorded);
    expect(
      await planRender(b.ctx, b.project, { owner: 'exec-3', segmentShards: SEGMENT_SHARDS }),
    ).toMatchObject({
      status: 'up-to-date',
    });
  });

  it('a second plan while one runs is busy; abort fences the lock and leaves the manifest', async () => {
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
    // Held (marked aborted) for Lambda's longest run, so a segment worker still running cannot
    // write after the next render: that render is busy until then.
    const lock = await readJsonObject<{ owner: string; expiresAt: string; aborted?: string }>(
      ps.store,
      ps.paths.lock,
    );
    expect(lock).toMatchObject({ owner: 'exec-2', aborted: 'States.TaskFailed' });
    expect(Date.parse(lock.expiresAt) - b.ctx.now().getTime()).toBe(LAMBDA_MAX_SECONDS * 1000);
    await expect(renewLock(b.ctx, ps, 'exec-2')).rejects.toThrow(/no longer holds the render lock/);
    expect((await renderLatest(b.ctx, b.project, { segmentShards: SEGMENT_SHARDS })).status).toBe('busy');
    expect(await readJsonObject<Manifest>(ps.store, ps.paths.latestManifest)).toEqual(manifest);
    expect(await ps.store.head(ps.paths.dirty)).toBeDefined();
    const left: string[] = [];
    for await (const o of ps.store.list(fanoutPrefix(ps, 'exec-2'))) left.push(o.key);
    expect(left).toEqual([]);
    // The inflight record stays: the next render rewrites latest/ in full.
    expect(await ps.store.head(ps.paths.renderInflight)).toBeDefined();
    await expect(commitRender(b.ctx, b.project, plan.ref)).rejects.toThrow(/no longer holds the render lock/);
    b.ctx.clock.advance(LAMBDA_MAX_SECONDS * 1000 + 1);
    const next = await renderLatest(b.ctx, b.project, { segmentShards: SEGMENT_SHARDS });
    expect(next.status).toBe('rendered');
    expect(await ps.store.head(ps.paths.renderInflight)).toBeUndefined();
  });
});
