/**
 * latest/ rendered by segments: after a random sequence of task adds, updates (new annotations,
 * new data columns, a label outside the config) and deletes, every file under latest/<FORMAT>/ is
 * byte for byte what one run over every task writes into a fresh prefix — every aggregate format
 * (JSON, JSON_MIN, CSV, TSV, COCO, CONLL2003, YOLO classes/notes) and the per-task files (YOLO
 * labels, VOC). Segments are small (2 shards of 4 tasks) so there are many, and aggregate files are
 * assembled from copied ranges with a tiny part size (the store below enforces no 5 MiB minimum),
 * so the part planning runs on every render. Also: one changed task costs the same requests for
 * 200 and 2,000 tasks.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../functions/core/json/value.ts';
import {
  type AssemblyPart,
  type GetResult,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
  readAll,
} from '../../functions/core/object-store.ts';
import { snapshotOptionsSchema } from '../../functions/pipeline/config.ts';
import { runProjectExport } from '../../functions/pipeline/export-run.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import { snapshotTransform } from '../../functions/pipeline/snapshot-filter.ts';
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

interface Counts {
  gets: number;
  getBytes: number;
  puts: number;
  putBytes: number;
  lists: number;
  copies: number;
  copiedBytes: number;
}
const zero = (): Counts => ({
  gets: 0,
  getBytes: 0,
  puts: 0,
  putBytes: 0,
  lists: 0,
  copies: 0,
  copiedBytes: 0,
});

/**
 * Counts requests and bytes; `assemble` concatenates parts (copied ranges read from the inner
 * store) without S3's 5 MiB part minimum, so small files exercise the copy planning.
 */
class CountingStore implements ObjectStore {
  c = zero();
  constructor(readonly inner: ObjectStore) {}
  get description() {
    return this.inner.description;
  }
  async *list(prefix: string, options?: { etags?: boolean }): AsyncIterable<ObjectInfo> {
    this.c.lists++;
    yield* this.inner.list(prefix, options);
  }
  async get(key: string, range?: { start: number; end: number }): Promise<GetResult> {
    const r = await this.inner.get(key, range);
    const body = await readAll(r.body);
    this.c.gets++;
    this.c.getBytes += body.length;
    return {
      ...r,
      body: (async function* () {
        yield body;
      })(),
    };
  }
  head(key: string) {
    this.c.gets++;
    return this.inner.head(key);
  }
  async put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<PutResult> {
    this.c.puts++;
    this.c.putBytes += Buffer.byteLength(body);
    return this.inner.put(key, body, options);
  }
  async putStream(key: string, body: AsyncIterable<Uint8Array | string>, options?: PutOptions) {
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(Buffer.from(c));
    return this.put(key, Buffer.concat(parts), options);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  async assemble(key: string, parts: AssemblyPart[]): Promise<PutResult> {
    const out: Buffer[] = [];
    for (const p of parts) {
      if ('body' in p) {
        out.push(Buffer.from(p.body));
        this.c.putBytes += p.body.length;
      } else {
        const r = await this.inner.get(p.copy.key, { start: p.copy.start, end: p.copy.end });
        out.push(await readAll(r.body));
        this.c.copies++;
        this.c.copiedBytes += p.copy.end - p.copy.start;
      }
    }
    this.c.puts++;
    return this.inner.put(key, Buffer.concat(out));
  }
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LS_DEFAULTS = snapshotOptionsSchema.parse(undefined);

interface Setup {
  ctx: FsContext;
  out: CountingStore;
  project: ReturnType<typeof makeConfig>['projects'][number];
}

async function setup(kind: 'image-bbox' | 'text-ner', formats: string[]): Promise<Setup> {
  const config = makeConfig({ kind, formats, settings: { shardTasks: 4, keyShards: 4 } });
  const ctx = fsContext(await tempDir(), config);
  const inner = ctx.store(OUT);
  const out = new CountingStore(inner);
  const store = ctx.store.bind(ctx);
  ctx.store = (b) => (b === OUT ? out : store(b));
  return { ctx, out, project: config.projects[0] };
}

async function putTask(s: Setup, task: JsonObject): Promise<void> {
  const o = objectsOf(task, 'task')[0];
  await s.ctx.store(SRC).put(o.key, o.body);
  await ingestChanges(s.ctx, [change(o.key)]);
}

async function deleteTask(s: Setup, task: JsonObject): Promise<void> {
  const o = objectsOf(task, 'task')[0];
  await s.ctx.store(SRC).delete(o.key);
  await ingestChanges(s.ctx, [change(o.key, 'removed')]);
}

const RENDER = { segmentShards: 2, minMultipartBytes: 0, minPartBytes: 300 };

/** Every file of latest/<FORMAT>/ equals a full run's into a fresh prefix; returns the files compared. */
async function expectLatestEqualsFull(s: Setup, label: string): Promise<number> {
  const paths = projectPaths(s.project);
  const inner = s.out.inner;
  const fresh = `${paths.base}fresh-${label}/`;
  const full = await runProjectExport(s.ctx, {
    project: s.project,
    store: inner,
    prefix: fresh,
    formats: s.project.formats,
    now: s.ctx.now(),
    transform: snapshotTransform(LS_DEFAULTS),
  });
  const manifest = await readJsonObject<Manifest>(inner, paths.latestManifest);
  // Every result is accounted for in the manifest as in a full run (issue 11's region counts).
  expect(manifest.report.regions, `${label} regions`).toEqual(full.report.regions);
  expect(Object.keys(manifest.report.regions ?? {}).length, `${label} regions`).toBeGreaterThan(0);
  let compared = 0;
  for (const format of s.project.formats) {
    const want = new Map<string, Buffer>();
    for await (const o of inner.list(`${fresh}${format}/`))
      want.set(o.key.slice(`${fresh}${format}/`.length), await readAll((await inner.get(o.key)).body));
    const listed = manifest.formats
      .find((f) => f.format === format)!
      .files!.map((f) => f.path)
      .sort();
    expect(listed, `${label} ${format} files`).toEqual([...want.keys()].sort());
    for (const [path, bytes] of want) {
      const got = await readAll((await inner.get(`${paths.latestFormat(format)}${path}`)).body);
      expect(got.toString('utf8'), `${label} ${format}/${path}`).toBe(bytes.toString('utf8'));
      compared++;
    }
  }
  return compared;
}

describe('latest/ by segments equals a full render', () => {
  for (const [kind, formats] of [
    ['image-bbox', ['JSON', 'JSON_MIN', 'CSV', 'TSV', 'COCO', 'YOLO', 'VOC']],
    ['text-ner', ['JSON', 'JSON_MIN', 'CSV', 'CONLL2003']],
  ] as const) {
    it(`${kind}: after random adds, updates and deletes, byte for byte`, async () => {
      const s = await setup(kind, [...formats]);
      const r = rng(kind.length * 7919);
      const live = new Map<number, JsonObject>();
      for (let i = 1; i <= 120; i++) {
        const t = lsTask(i, 1, kind);
        live.set(i, t);
        await putTask(s, t);
      }
      let m = await renderLatest(s.ctx, s.project, RENDER);
      expect(m.manifest!.timings!.segments!.rendered).toBe(m.manifest!.timings!.segments!.total);
      await expectLatestEqualsFull(s, 'r0');
      let nextId = 300;
      let sawPartial = false;
      for (let round = 1; round <= 6; round++) {
        const ops = 1 + Math.floor(r() * 5);
        for (let k = 0; k < ops; k++) {
          const x = r();
          const ids = [...live.keys()];
          if (x < 0.3) {
            // add: sometimes past the end (new segment), sometimes into a gap
            const id = r() < 0.5 ? nextId++ : 121 + Math.floor(r() * 150);
            if (live.has(id)) continue;
            const t = lsTask(id, 1, kind);
            live.set(id, t);
            await putTask(s, t);
          } else if (x < 0.75) {
            const id = ids[Math.floor(r() * ids.length)];
            const t = lsTask(id, 2 + round, kind);
            // a new data column for CSV/TSV now and then
            if (r() < 0.3) (t.data as JsonObject)[`extra_${round}`] = `v${round}`;
            (t as { updated_at: string }).updated_at = `2026-0${round}-01T00:00:00.000000Z`;
            live.set(id, t);
            await putTask(s, t);
          } else {
            const id = ids[Math.floor(r() * ids.length)];
            await deleteTask(s, live.get(id)!);
            live.delete(id);
          }
        }
        s.ctx.clock.advance(60_000);
        m = await renderLatest(s.ctx, s.project, RENDER);
        const seg = m.manifest!.timings!.segments!;
        if (seg.rendered < seg.total) sawPartial = true;
        expect(m.manifest!.counts.tasks).toBe(live.size);
        const n = await expectLatestEqualsFull(s, `r${round}`);
        expect(n).toBeGreaterThanOrEqual(formats.length);
      }
      expect(sawPartial).toBe(true);
    }, 120_000);
  }

  it('a label outside the config falls back to one run over every task for COCO/YOLO, still byte for byte', async () => {
    const s = await setup('image-bbox', ['JSON', 'COCO', 'YOLO']);
    for (let i = 1; i <= 40; i++) await putTask(s, lsTask(i, 1, 'image-bbox'));
    await renderLatest(s.ctx, s.project, RENDER);
    const t = lsTask(17, 5, 'image-bbox');
    const ann = (t.annotations as JsonObject[])[0];
    if (ann) {
      const res = (ann.result as JsonObject[])[0];
      if (res) (res.value as JsonObject).rectanglelabels = ['NotInTheConfig'];
    }
    (t as { updated_at: string }).updated_at = '2026-05-01T00:00:00.000000Z';
    await putTask(s, t);
    const m = await renderLatest(s.ctx, s.project, RENDER);
    expect(Object.keys(m.manifest!.timings!.segments!.fallback ?? {}).sort()).toEqual(['COCO', 'YOLO']);
    await expectLatestEqualsFull(s, 'fallback');
  }, 60_000);
});

describe('one changed task costs the same for 200 and 2,000 tasks', () => {
  async function costOfOneChange(n: number): Promise<Counts> {
    const s = await setup('text-ner', ['JSON', 'JSON_MIN', 'CSV', 'CONLL2003']);
    // State written directly by ingest in batches of 100 objects.
    const objects = Array.from({ length: n }, (_, i) => objectsOf(lsTask(i + 1, 1, 'text-ner'), 'task')[0]);
    for (const o of objects) await s.ctx.store(SRC).put(o.key, o.body);
    for (let i = 0; i < n; i += 100)
      await ingestChanges(
        s.ctx,
        objects.slice(i, i + 100).map((o) => change(o.key)),
      );
    await renderLatest(s.ctx, s.project, RENDER);
    const t = lsTask(n / 2, 9, 'text-ner');
    (t as { updated_at: string }).updated_at = '2026-05-01T00:00:00.000000Z';
    await putTask(s, t);
    s.out.c = zero();
    const m = await renderLatest(s.ctx, s.project, RENDER);
    expect(m.manifest!.timings!.segments!.rendered).toBe(1);
    expect(m.manifest!.timings!.shardsRead).toBe(2);
    const cost = { ...s.out.c };
    await expectLatestEqualsFull(s, 'one');
    return cost;
  }

  it('same request counts; bytes read and written bounded by a segment plus the index', async () => {
    const small = await costOfOneChange(200);
    const large = await costOfOneChange(2000);
    // Requests: identical (segment shards, the index, ranged reads around the changed segment,
    // one assembled write per aggregate file, the manifest).
    expect(large.gets).toBe(small.gets);
    expect(large.puts).toBe(small.puts);
    expect(large.lists).toBe(small.lists);
    // Bytes: only the segment index grows with N (one entry per segment); aggregate bytes are copied.
    expect(large.copiedBytes).toBeGreaterThan(small.copiedBytes * 5);
    expect(large.putBytes - small.putBytes).toBeLessThan(large.copiedBytes / 5);
  }, 300_000);
});
