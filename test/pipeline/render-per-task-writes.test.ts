/**
 * Per-task label files of tasks with 2–3 annotations (YOLO, VOC and YOLO_OBB write one path once
 * per annotation, the last write wins): after one changed task, a render of latest/ stores exactly
 * that task's per-task files, once each — in-process (renderLatest) and by the fan-out (plan →
 * segment workers → commit) — and the files of the other multi-annotation tasks keep their
 * versions. The manifests of both agree, and every file's bytes equal a from-scratch render.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { readAll } from '../../functions/core/object-store.ts';
import { OutputNameError } from '../../functions/core/output-names.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { PublishSink } from '../../functions/pipeline/publish-sink.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import { commitRender } from '../../functions/pipeline/render-fanout-commit.ts';
import { planRender } from '../../functions/pipeline/render-fanout-plan.ts';
import { renderSegmentJobs } from '../../functions/pipeline/render-fanout-segments.ts';
import type { SegmentJob } from '../../functions/pipeline/segments.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';
import {
  change,
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

const FORMATS = ['YOLO', 'VOC', 'YOLO_OBB'];
const PER_TASK_DIRS = ['YOLO/labels/', 'VOC/Annotations/', 'YOLO_OBB/labels/'];
const SEGMENT_SHARDS = 2;
/** Task 20's image name, which its per-task files are named after. */
const TASK_20 = 'img_000020.';

async function project() {
  const config = makeConfig({
    kind: 'image-bbox',
    formats: FORMATS,
    settings: { shardTasks: 4, keyShards: 4 },
  });
  const root = await tempDir();
  const ctx = fsContext(root, config);
  const out = new VersioningStore(new FsObjectStore(join(root, OUT)));
  ctx.stores.set(OUT, out);
  return { ctx, project: config.projects[0], out };
}
type P = Awaited<ReturnType<typeof project>>;

/**
 * Task `i` with 2 or 3 annotations (by `i`), each from another generated version of the task, so
 * the annotations' regions differ; `seed` moves them all.
 */
function multiTask(i: number, seed: number): JsonObject {
  const base = lsTask(i, seed, 'image-bbox');
  const annotations: JsonObject[] = [];
  for (let k = 0, s = seed; annotations.length < 2 + (i % 2); s += 100, k++) {
    const a = (lsTask(i, s, 'image-bbox').annotations as JsonObject[] | undefined)?.[0];
    if (a) annotations.push({ ...a, id: i * 10 + annotations.length });
    if (k > 50) throw new Error(`no annotations for task ${i}`);
  }
  return { ...base, annotations };
}

async function putTask(p: P, task: JsonObject): Promise<void> {
  const o = objectsOf(task, 'task')[0];
  await p.ctx.store(SRC).put(o.key, o.body);
  await ingestChanges(p.ctx, [change(o.key)]);
}

async function fanout(p: P, owner: string) {
  const plan = await planRender(p.ctx, p.project, { owner, segmentShards: SEGMENT_SHARDS });
  if (plan.status !== 'planned') throw new Error(`not planned: ${plan.status}`);
  const items = await readJsonObject<SegmentJob[]>(p.ctx.store(plan.ref.items.bucket), plan.ref.items.key);
  const batches: SegmentJob[][] = [];
  for (let i = 0; i < items.length; i += 2) batches.push(items.slice(i, i + 2));
  await Promise.all(batches.map((b) => renderSegmentJobs(p.ctx, p.project, plan.ref, b)));
  await commitRender(p.ctx, p.project, plan.ref);
}

const manifestOf = (p: P) =>
  readJsonObject<Manifest>(p.ctx.store(OUT), projectPaths(p.project).latestManifest);

/** Per-task file keys among `keys` (with repeats), sorted. */
function perTaskKeys(p: P, keys: string[]): string[] {
  const latest = projectPaths(p.project).latest;
  return keys.filter((k) => PER_TASK_DIRS.some((d) => k.startsWith(`${latest}${d}`))).sort();
}

/** Manifest entries by key: `<bytes> <sha256> <versionId>`. */
function entries(m: Manifest): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of m.formats)
    for (const x of f.files ?? []) out.set(x.key, `${x.bytes} ${x.sha256} ${x.versionId}`);
  return out;
}

/** Every file of latest/ as `<format>/<path>` → `<bytes> <sha256>` and its stored bytes. */
async function latestOf(p: P): Promise<Map<string, string>> {
  const m = await manifestOf(p);
  const out = new Map<string, string>();
  for (const f of m.formats)
    for (const x of f.files ?? []) {
      const body = await readAll((await p.out.get(x.key)).body);
      out.set(`${f.format}/${x.path}`, `${x.bytes} ${x.sha256}\n${body.toString('utf8')}`);
    }
  return out;
}

describe('per-task files of multi-annotation tasks', () => {
  it('after 1 changed task, only its YOLO/VOC/YOLO_OBB files are stored (in-process and fan-out), once each', async () => {
    const a = await project();
    const b = await project();
    const N = 24;
    for (let i = 1; i <= N; i++) {
      await putTask(a, multiTask(i, 1));
      await putTask(b, multiTask(i, 1));
    }
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    await fanout(b, 'exec-1');
    const firstA = await manifestOf(a);
    const firstB = await manifestOf(b);
    // Every task's file of every format was stored on the first render, once.
    expect(new Set(perTaskKeys(a, a.out.puts)).size).toBe(N * FORMATS.length);
    expect(perTaskKeys(a, a.out.puts)).toHaveLength(N * FORMATS.length);
    expect(perTaskKeys(b, b.out.puts)).toHaveLength(N * FORMATS.length);

    // Task 20 changes (3 annotations → 3 others); its segment holds multi-annotation tasks too.
    const beforeA = a.out.puts.length;
    const beforeB = b.out.puts.length;
    await putTask(a, multiTask(20, 9));
    await putTask(b, multiTask(20, 9));
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    await fanout(b, 'exec-2');
    const secondA = await manifestOf(a);
    const secondB = await manifestOf(b);

    // The per-task files whose bytes changed: task 20's, one per format.
    const e1 = entries(firstA);
    const changed = [...entries(secondA)]
      .filter(([k, v]) => perTaskKeys(a, [k]).length === 1 && e1.get(k)?.split(' ')[1] !== v.split(' ')[1])
      .map(([k]) => k)
      .sort();
    expect(changed).toHaveLength(FORMATS.length);
    expect(changed.every((k) => k.includes(TASK_20))).toBe(true);
    expect(perTaskKeys(a, a.out.puts.slice(beforeA))).toEqual(changed);
    const latestB = projectPaths(b.project).latest;
    const latestA = projectPaths(a.project).latest;
    expect(perTaskKeys(b, b.out.puts.slice(beforeB))).toEqual(
      changed.map((k) => k.replace(latestA, latestB)),
    );
    expect(secondA.changes?.written).toBe(secondB.changes?.written);

    // Every other per-task file kept its version (not stored again).
    for (const [m0, m1] of [
      [firstA, secondA],
      [firstB, secondB],
    ]) {
      const before = entries(m0);
      for (const [k, v] of entries(m1))
        if (PER_TASK_DIRS.some((d) => k.includes(`/latest/${d}`)) && !k.includes(TASK_20))
          expect(v, k).toBe(before.get(k));
    }

    // Bytes and manifest entries equal a from-scratch render of the same tasks.
    const c = await project();
    for (let i = 1; i <= N; i++) await putTask(c, multiTask(i, i === 20 ? 9 : 1));
    await renderLatest(c.ctx, c.project, { segmentShards: SEGMENT_SHARDS });
    const want = await latestOf(c);
    for (const got of [await latestOf(a), await latestOf(b)]) {
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [k, v] of want) expect(got.get(k), k).toBe(v);
    }
  });

  it("a format rendered in one pass (fallback: a label outside the config) also stores only the changed task's files", async () => {
    const a = await project();
    const N = 16;
    /** Task 3 keeps a label outside the config: YOLO and YOLO_OBB render over every task. */
    const task = (i: number, seed: number): JsonObject => {
      const t = multiTask(i, seed);
      if (i !== 3) return t;
      const [first, ...rest] = t.annotations as JsonObject[];
      const [r0, ...rs] = first.result as JsonObject[];
      const odd = { ...r0, value: { ...(r0.value as JsonObject), rectanglelabels: ['NotInConfig'] } };
      return { ...t, annotations: [{ ...first, result: [odd, ...rs] }, ...rest] };
    };
    for (let i = 1; i <= N; i++) await putTask(a, task(i, 1));
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    const first = await manifestOf(a);
    expect(Object.keys(first.timings?.segments?.fallback ?? {}).sort()).toEqual(['YOLO', 'YOLO_OBB']);
    // (The first render writes YOLO's labels twice: its segment pass, discarded, then the one pass.)
    expect(new Set(perTaskKeys(a, a.out.puts)).size).toBe(N * FORMATS.length);

    const before = a.out.puts.length;
    await putTask(a, task(12, 9));
    await renderLatest(a.ctx, a.project, { segmentShards: SEGMENT_SHARDS });
    const second = await manifestOf(a);
    expect(Object.keys(second.timings?.segments?.fallback ?? {}).sort()).toEqual(['YOLO', 'YOLO_OBB']);
    const e1 = entries(first);
    const changed = [...entries(second)]
      .filter(([k, v]) => perTaskKeys(a, [k]).length === 1 && e1.get(k)?.split(' ')[1] !== v.split(' ')[1])
      .map(([k]) => k)
      .sort();
    expect(changed).toHaveLength(FORMATS.length);
    expect(changed.every((k) => k.includes('img_000012.'))).toBe(true);
    expect(perTaskKeys(a, a.out.puts.slice(before))).toEqual(changed);

    const c = await project();
    for (let i = 1; i <= N; i++) await putTask(c, task(i, i === 12 ? 9 : 1));
    await renderLatest(c.ctx, c.project, { segmentShards: SEGMENT_SHARDS });
    const want = await latestOf(c);
    const got = await latestOf(a);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, v] of want) expect(got.get(k), k).toBe(v);
  });

  it('PublishSink holdBytes: the last write of a held path is compared once; past the bound the oldest is written', async () => {
    const root = await tempDir();
    const store = new VersioningStore(new FsObjectStore(join(root, OUT)));
    const sha = (b: string) => createHash('sha256').update(b).digest('hex');
    const previous = new Map([
      [
        'labels/a.txt',
        { path: 'labels/a.txt', key: 'p/labels/a.txt', bytes: 4, sha256: sha('a-v2'), versionId: 'old' },
      ],
    ]);
    // Large bound: a.txt written twice, its final bytes equal the previous entry: nothing stored.
    const sink = new PublishSink(store, 'p/', previous, { holdBytes: 1024 });
    await sink.writeFile('labels/a.txt', 'a-v1');
    await sink.writeFile('labels/a.txt', 'a-v2');
    expect(sink.exists('labels/a.txt')).toBe(true);
    await sink.flush();
    expect(store.puts).toEqual([]);
    expect(sink.files).toEqual([{ ...previous.get('labels/a.txt'), key: 'p/labels/a.txt' }]);

    // Bound of 8 bytes: b.txt pushes a.txt out (written), a later write of a.txt is stored again.
    const small = new PublishSink(store, 'q/', previous, { holdBytes: 8 });
    await small.writeFile('labels/a.txt', 'a-v1');
    await small.writeFile('labels/b.txt', 'b-v1x');
    expect(store.puts).toEqual(['q/labels/a.txt']);
    await small.writeFile('labels/a.txt', 'a-v2');
    await small.flush();
    expect(store.puts).toEqual(['q/labels/a.txt', 'q/labels/b.txt', 'q/labels/a.txt']);
    expect(small.stats).toEqual({ written: 3, unchanged: 0, bytesWritten: 13 });
    expect(Object.fromEntries(small.files.map((f) => [f.path, f.sha256]))).toEqual({
      'labels/a.txt': sha('a-v2'),
      'labels/b.txt': sha('b-v1x'),
    });
  });
});

describe('a per-task file the store cannot hold under its name', () => {
  it("is reported under its format (in-process and fan-out), and the task's other files are published", async () => {
    for (const render of ['in-process', 'fan-out'] as const) {
      const p = await project();
      // The store refuses task 4's per-task files by name, as a folder store does for a name it
      // cannot hold (storage/fs.ts OutputNameError).
      const put = p.out.put.bind(p.out);
      p.out.put = async (key, body, options) => {
        if (key.includes('/img_000004.')) throw new OutputNameError(key, 'a name the test store refuses');
        return put(key, body, options);
      };
      for (let i = 1; i <= 4; i++) await putTask(p, multiTask(i, 1));
      if (render === 'in-process') await renderLatest(p.ctx, p.project, { segmentShards: SEGMENT_SHARDS });
      else await fanout(p, 'exec-1');
      const m = await manifestOf(p);
      const refused = (m.report?.skipped ?? []).filter((e) =>
        e.reason.includes('a name the test store refuses'),
      );
      // One entry per format, naming it (before: no format, so the summary counted an input).
      expect(refused.map((e) => e.format).sort(), render).toEqual(['VOC', 'YOLO', 'YOLO_OBB']);
      const yolo = m.formats.find((f) => f.format === 'YOLO');
      expect(
        yolo?.files?.filter((x) => x.path.startsWith('labels/')).map((x) => x.path),
        render,
      ).toEqual(['labels/img_000001.txt', 'labels/img_000002.txt', 'labels/img_000003.txt']);
    }
  });
});
