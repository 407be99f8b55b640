/**
 * latest/ rendered by segments: after a random sequence of task adds, updates (new annotations,
 * new data columns, a label outside the config) and deletes, every file under latest/<FORMAT>/ is
 * byte for byte what one run over every task writes into a fresh prefix — every aggregate format
 * (JSON, JSON_MIN, CSV, TSV, COCO, COCO_WITH_IMAGES, BRUSH_TO_COCO, CONLL2003, YOLO classes/notes)
 * and the per-task files (YOLO labels, VOC, the image copies of *_WITH_IMAGES and VOC, read from
 * s3://ls-media/images/ through the project's media policy). Segments are small (2 shards of 4
 * tasks) so there are many, and aggregate files are assembled from copied ranges with a tiny part
 * size (the store below enforces no 5 MiB minimum), so the part planning runs on every render.
 * Also: one changed task costs the same requests for 200 and 2,000 tasks; with images, the same
 * media reads (its segment's images, each once) and only its own image written, for 40 and 200
 * tasks; an image shown by tasks of two segments is one copy with the same bytes (COCO_WITH_IMAGES
 * stays by segments, YOLO's colliding label files fall back); two images named alike fall back.
 */
import { describe, expect, it } from 'vitest';
import { CONFIGS, rng } from '../../bench/generate.ts';
import { encodeRle } from '../../functions/core/brush/rle.ts';
import { parseJson } from '../../functions/core/json/parse.ts';
import type { JsonObject } from '../../functions/core/json/value.ts';
import type { MediaAccess } from '../../functions/core/media.ts';
import {
  type AssemblyPart,
  type GetResult,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
  readAll,
  uploadedBytes,
} from '../../functions/core/object-store.ts';
import { parseConfig, snapshotOptionsSchema } from '../../functions/pipeline/config.ts';
import { runProjectExport } from '../../functions/pipeline/export-run.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import { type SegmentIndex, segmentIndexKey } from '../../functions/pipeline/segments.ts';
import { snapshotTransform } from '../../functions/pipeline/snapshot-filter.ts';
import { jpegBytes } from '../core/images/fake-media.ts';
import {
  change,
  type FsContext,
  fsContext,
  lsTask,
  OUT,
  objectsOf,
  projectInput,
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
  /** Keys written (put or assembled), in order. */
  putKeys: string[] = [];
  constructor(readonly inner: ObjectStore) {}
  get description() {
    return this.inner.description;
  }
  async *list(prefix: string, options?: { etags?: boolean }): AsyncIterable<ObjectInfo> {
    this.c.lists++;
    yield* this.inner.list(prefix, options);
  }
  async get(key: string, range?: { start: number; end: number }, versionId?: string): Promise<GetResult> {
    const r = await this.inner.get(key, range, versionId);
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
    this.putKeys.push(key);
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
      if (!('copy' in p)) {
        const body = await uploadedBytes(p);
        out.push(Buffer.from(body));
        this.c.putBytes += body.length;
      } else {
        const r = await this.inner.get(p.copy.key, { start: p.copy.start, end: p.copy.end });
        out.push(await readAll(r.body));
        this.c.copies++;
        this.c.copiedBytes += p.copy.end - p.copy.start;
      }
    }
    this.c.puts++;
    this.putKeys.push(key);
    return this.inner.put(key, Buffer.concat(out));
  }
}

const LS_DEFAULTS = snapshotOptionsSchema.parse(undefined);

/** Media reads by the render: files opened and files read (each read is one GET of the media). */
interface MediaCounts {
  opens: number;
  reads: number;
  /** URLs read, in order. */
  urls: string[];
}

interface Setup {
  ctx: FsContext;
  out: CountingStore;
  media: MediaCounts;
  project: ReturnType<typeof parseConfig>['projects'][number];
}

/** The bucket image tasks point at (`s3://ls-media/images/img_<i>.jpg`, bench/generate.ts). */
const MEDIA = 'ls-media';

/**
 * The image of task `i` as a JPEG header (sizes vary, so bytes differ per image). Tasks whose id
 * is a multiple of 13 have no image in the media bucket: the *_WITH_IMAGES formats report them
 * and keep the raw URL.
 */
async function putImage(ctx: FsContext, i: number, bytes = jpegBytes(100 + (i % 7), 80 + (i % 5), 3, i)) {
  if (i % 13 === 0) return;
  await ctx.store(MEDIA).put(`images/img_${String(i).padStart(6, '0')}.jpg`, bytes);
}

/** The image project's config plus brush labels (BRUSH_TO_COCO needs them). */
const BRUSH_CONFIG = CONFIGS['image-bbox'].replace(
  '</View>',
  '  <BrushLabels name="brush" toName="image">\n    <Label value="Cat"/>\n    <Label value="Dog"/>\n  </BrushLabels>\n</View>',
);

/** A 6×5 mask with a filled 3×3 square, as Label Studio's RGBA RLE. */
const BRUSH_RLE = encodeRle(
  Array.from({ length: 6 * 5 * 4 }, (_, k) => {
    const p = Math.floor(k / 4);
    const [x, y] = [p % 6, Math.floor(p / 6)];
    return k % 4 === 3 && x >= 1 && x <= 3 && y >= 1 && y <= 3 ? 255 : 0;
  }),
);

/**
 * Task `i` of the image project with a brush region on every third task: its label (`Cat` or
 * `Dog` by `i` and `seed`) makes the first-seen category order differ between segments.
 */
function brushTask(i: number, seed: number): JsonObject {
  const t = lsTask(i, seed, 'image-bbox');
  const ann = (t.annotations as JsonObject[])[0];
  if (ann && i % 3 === 0)
    (ann.result as JsonObject[]).unshift(
      parseJson(
        JSON.stringify({
          id: `brush${i}`,
          type: 'brushlabels',
          from_name: 'brush',
          to_name: 'image',
          original_width: 6,
          original_height: 5,
          image_rotation: 0,
          value: { format: 'rle', rle: BRUSH_RLE, brushlabels: [(i + seed) % 2 ? 'Cat' : 'Dog'] },
        }),
      ) as JsonObject,
    );
  return t;
}

async function setup(
  kind: 'image-bbox' | 'text-ner',
  formats: string[],
  labelConfig?: string,
): Promise<Setup> {
  // Image projects read their images from s3://ls-media/images/ (the project's media policy).
  const config = parseConfig({
    version: 1,
    projects: [
      {
        ...projectInput({ kind, formats }),
        ...(labelConfig ? { labelConfig: { inline: labelConfig } } : {}),
        ...(kind === 'image-bbox'
          ? { media: { s3Prefixes: [`s3://${MEDIA}/images/`], uploadPrefix: `s3://${MEDIA}/upload/` } }
          : {}),
      },
    ],
    settings: { shardTasks: 4, keyShards: 4 },
  });
  const ctx = fsContext(await tempDir(), config);
  const inner = ctx.store(OUT);
  const out = new CountingStore(inner);
  const store = ctx.store.bind(ctx);
  ctx.store = (b) => (b === OUT ? out : store(b));
  const media: MediaCounts = { opens: 0, reads: 0, urls: [] };
  const open = ctx.media.bind(ctx);
  ctx.media = (project): MediaAccess => {
    const inner = open(project);
    return {
      async open(url) {
        media.opens++;
        const f = await inner.open(url);
        return {
          ...f,
          read(range) {
            media.reads++;
            media.urls.push(url);
            return f.read(range);
          },
        };
      },
    };
  };
  return { ctx, out, media, project: config.projects[0] };
}

async function putTask(s: Setup, task: JsonObject): Promise<void> {
  if (s.project.media.s3Prefixes.length > 0) await putImage(s.ctx, Number(task.id));
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
      expect(got.equals(bytes), `${label} ${format}/${path} bytes`).toBe(true);
      compared++;
    }
  }
  return compared;
}

describe('latest/ by segments equals a full render', () => {
  for (const [name, kind, formats, labelConfig, task] of [
    [
      'image-bbox',
      'image-bbox',
      [
        'JSON',
        'JSON_MIN',
        'CSV',
        'TSV',
        'COCO',
        'YOLO',
        'VOC',
        'COCO_WITH_IMAGES',
        'YOLO_WITH_IMAGES',
        'YOLO_OBB_WITH_IMAGES',
      ],
    ],
    ['text-ner', 'text-ner', ['JSON', 'JSON_MIN', 'CSV', 'CONLL2003']],
    // Rectangles and brush masks; categories first seen in another order in each segment.
    ['image-brush', 'image-bbox', ['COCO', 'BRUSH_TO_COCO'], BRUSH_CONFIG, brushTask],
  ] as const) {
    const taskOf = (i: number, seed: number) => (task ? task(i, seed) : lsTask(i, seed, kind));
    it(`${name}: after random adds, updates and deletes, byte for byte`, async () => {
      const s = await setup(kind, [...formats], labelConfig);
      const r = rng(kind.length * 7919);
      const live = new Map<number, JsonObject>();
      for (let i = 1; i <= 120; i++) {
        const t = taskOf(i, 1);
        live.set(i, t);
        await putTask(s, t);
      }
      let m = await renderLatest(s.ctx, s.project, RENDER);
      expect(m.manifest!.timings!.segments!.rendered).toBe(m.manifest!.timings!.segments!.total);
      await expectLatestEqualsFull(s, 'r0');
      if (formats.includes('BRUSH_TO_COCO' as never)) {
        // Brush masks traced, both brush labels among the categories, and segments that first
        // see them in different orders (so their own category ids are mapped).
        const paths = projectPaths(s.project);
        const text = (
          await readAll(
            (
              await s.out.inner.get(`${paths.latestFormat('BRUSH_TO_COCO')}result_coco.json`)
            ).body,
          )
        ).toString();
        expect(text).toContain('"name": "Cat"');
        expect(text).toContain('"name": "Dog"');
        expect(text).toMatch(/"segmentation": \[\n\s+\[\n\s+\d/);
        const index = await readJsonObject<SegmentIndex>(s.out.inner, segmentIndexKey(paths.state));
        const orders = new Set(
          index.segments.map((e) =>
            (e.formats.BRUSH_TO_COCO?.categories ?? []).map((c) => /"name": (.*),/.exec(c)?.[1]).join('|'),
          ),
        );
        expect(orders.size).toBeGreaterThan(1);
      }
      // The images are readable: nearly every task's image is copied (not those of ids 13, 26, …,
      // missing from the media bucket, nor those of tasks left out for having no annotation).
      for (const f of m.manifest!.formats.filter((f) => f.format.endsWith('_WITH_IMAGES'))) {
        const copies = f.files!.filter((x) => x.path.startsWith('images/')).length;
        expect(copies, f.format).toBeGreaterThan(100);
        expect(copies, f.format).toBeLessThanOrEqual(120 - 9);
      }
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
            const t = taskOf(id, 1);
            live.set(id, t);
            await putTask(s, t);
          } else if (x < 0.75) {
            const id = ids[Math.floor(r() * ids.length)];
            const t = taskOf(id, 2 + round);
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
        // Every format was assembled from segments (none fell back to a run over every task).
        expect(seg.fallback ?? {}, `r${round}`).toEqual({});
        expect(m.manifest!.counts.tasks).toBe(live.size);
        const n = await expectLatestEqualsFull(s, `r${round}`);
        expect(n).toBeGreaterThanOrEqual(formats.length);
      }
      expect(sawPartial).toBe(true);
    }, 600_000);
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

    // The next change elsewhere: COCO/YOLO run over every task again, JSON still by one segment
    // (before, the index had no COCO/YOLO layouts and every segment of every format re-rendered).
    const other = lsTask(33, 6, 'image-bbox');
    (other as { updated_at: string }).updated_at = '2026-06-01T00:00:00.000000Z';
    await putTask(s, other);
    s.ctx.clock.advance(60_000);
    const next = (await renderLatest(s.ctx, s.project, RENDER)).manifest!.timings!.segments!;
    expect(next.rendered).toBe(1);
    expect(next.total).toBeGreaterThan(4);
    expect(Object.keys(next.fallback ?? {}).sort()).toEqual(['COCO', 'YOLO']);
    await expectLatestEqualsFull(s, 'carried');

    // Task 17 back inside the config: the formats stay on one run until every segment renders
    // (forced here), which tries the segments again.
    const back = lsTask(17, 7, 'image-bbox');
    (back as { updated_at: string }).updated_at = '2026-07-01T00:00:00.000000Z';
    await putTask(s, back);
    s.ctx.clock.advance(60_000);
    const again = (await renderLatest(s.ctx, s.project, RENDER)).manifest!.timings!.segments!;
    expect(Object.keys(again.fallback ?? {}).sort()).toEqual(['COCO', 'YOLO']);
    await expectLatestEqualsFull(s, 'still-carried');
    s.ctx.clock.advance(60_000);
    const forced = (await renderLatest(s.ctx, s.project, { ...RENDER, force: true })).manifest!.timings!
      .segments!;
    expect(forced.rendered).toBe(forced.total);
    expect(forced.fallback ?? {}).toEqual({});
    await expectLatestEqualsFull(s, 'recovered');
  }, 120_000);
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

describe('*_WITH_IMAGES by segments: image copies of unchanged segments are neither fetched nor written', () => {
  const FORMATS = ['COCO_WITH_IMAGES', 'YOLO_WITH_IMAGES', 'YOLO_OBB_WITH_IMAGES'];
  const imageUrl = (i: number) => `s3://${MEDIA}/images/img_${String(i).padStart(6, '0')}.jpg`;

  /** An image task with at least one annotation (the generator leaves some without). */
  function annotatedImageTask(i: number, seed: number): JsonObject {
    for (let k = seed; ; k++) {
      const t = lsTask(i, k, 'image-bbox');
      if ((t.annotations as JsonObject[]).length > 0) return t;
    }
  }

  async function project(n: number): Promise<Setup> {
    const s = await setup('image-bbox', FORMATS);
    const objects = Array.from({ length: n }, (_, i) => objectsOf(lsTask(i + 1, 1, 'image-bbox'), 'task')[0]);
    for (let i = 1; i <= n; i++) await putImage(s.ctx, i);
    for (const o of objects) await s.ctx.store(SRC).put(o.key, o.body);
    for (let i = 0; i < n; i += 100)
      await ingestChanges(
        s.ctx,
        objects.slice(i, i + 100).map((o) => change(o.key)),
      );
    await renderLatest(s.ctx, s.project, RENDER);
    return s;
  }

  async function costOfOneImageChange(n: number) {
    const s = await project(n);
    // Task 22 (the same change at every n) gets new annotations and its image new bytes (same URL).
    const id = 22;
    const t = annotatedImageTask(id, 9);
    (t as { updated_at: string }).updated_at = '2026-05-01T00:00:00.000000Z';
    await putTask(s, t);
    const image = jpegBytes(321, 123, 3, 77);
    await putImage(s.ctx, id, image);
    s.out.c = zero();
    s.out.putKeys = [];
    s.media.opens = 0;
    s.media.reads = 0;
    s.media.urls = [];
    const m = await renderLatest(s.ctx, s.project, RENDER);
    expect(m.manifest!.timings!.segments!.rendered).toBe(1);
    expect(m.manifest!.timings!.segments!.fallback ?? {}).toEqual({});
    const paths = projectPaths(s.project);
    const imagePuts = s.out.putKeys.filter((k) => k.includes('/images/'));
    // Written: the changed task's image, once per format, and no other image.
    expect(imagePuts.sort()).toEqual(
      FORMATS.map((f) => `${paths.latestFormat(f)}images/${imagePuts[0]?.split('/images/')[1]}`).sort(),
    );
    expect(imagePuts[0]).toContain('img_' + String(id).padStart(6, '0'));
    for (const k of imagePuts)
      expect((await readAll((await s.out.inner.get(k)).body)).equals(image)).toBe(true);
    // Fetched: only images of the changed segment's tasks (2 shards of 4 tasks), the changed one
    // among them, each once for the three formats (SharedMedia, core/shared-media.ts).
    const urls = new Set(s.media.urls);
    expect(urls.has(imageUrl(id))).toBe(true);
    expect(urls.size).toBeLessThanOrEqual(8);
    expect(s.media.reads).toBe(urls.size);
    const cost = {
      reads: s.media.reads,
      urls: [...urls].sort(),
      imagePuts: imagePuts.length,
      puts: s.out.c.puts,
    };
    await expectLatestEqualsFull(s, 'one-image');
    return cost;
  }

  it('after one changed task: the same media reads and PUTs for 40 and 200 tasks, only its image written', async () => {
    const small = await costOfOneImageChange(40);
    const large = await costOfOneImageChange(200);
    expect(large.reads).toBe(small.reads);
    expect(large.urls.length).toBe(small.urls.length);
    expect(large.imagePuts).toBe(FORMATS.length);
    expect(large.puts).toBe(small.puts);
  }, 300_000);

  it('an image shown by tasks of two segments: one copy, same bytes, by segments; two images named alike fall back', async () => {
    const s = await project(40);
    const sorted = (o: object | undefined) => Object.keys(o ?? {}).sort();
    const update = async (t: JsonObject, day: number) => {
      (t as { updated_at: string }).updated_at = `2026-05-0${day}T00:00:00.000000Z`;
      await putTask(s, t);
      s.ctx.clock.advance(60_000);
      return (await renderLatest(s.ctx, s.project, RENDER)).manifest!.timings!.segments!;
    };
    // Task 30 (another segment than task 3) now shows task 3's image: both segments copy
    // images/<its name> with the same bytes. COCO_WITH_IMAGES stays by segments; YOLO's label
    // files (labels/<image stem>.txt, the last task's wins) collide, so YOLO falls back.
    const t = annotatedImageTask(30, 4);
    (t.data as JsonObject).image = imageUrl(3);
    let seg = await update(t, 1);
    expect(sorted(seg.fallback)).toEqual(['YOLO_OBB_WITH_IMAGES', 'YOLO_WITH_IMAGES']);
    expect(seg.fallback!.YOLO_WITH_IMAGES).toMatch(/both write labels\//);
    await expectLatestEqualsFull(s, 'shared');
    // Another change elsewhere: the index is reused (one segment rendered), still equal.
    seg = await update(annotatedImageTask(11, 6), 2);
    expect(seg.rendered).toBe(1);
    expect(sorted(seg.fallback)).toEqual(['YOLO_OBB_WITH_IMAGES', 'YOLO_WITH_IMAGES']);
    await expectLatestEqualsFull(s, 'shared-2');
    // Two uploads named alike with other bytes, in tasks of two segments: images/same.jpg is
    // written by both with different bytes, so every format copying it falls back (a run over
    // every task keeps the first one and warns).
    for (const [dir, w] of [
      [1, 111],
      [2, 222],
    ] as const)
      await s.ctx.store(MEDIA).put(`upload/${dir}/same.jpg`, jpegBytes(w, 50, 3, dir));
    const u = annotatedImageTask(5, 7);
    (u.data as JsonObject).image = '/data/upload/1/same.jpg';
    await update(u, 3);
    const v = annotatedImageTask(35, 7);
    (v.data as JsonObject).image = '/data/upload/2/same.jpg';
    seg = await update(v, 4);
    expect(sorted(seg.fallback)).toEqual(FORMATS.slice().sort());
    expect(seg.fallback!.COCO_WITH_IMAGES).toMatch(/both write images\/same\.jpg/);
    await expectLatestEqualsFull(s, 'named-alike');
    // Back to their own images: by segments again, and equal.
    for (const [id, seed] of [
      [30, 5],
      [35, 5],
    ] as const)
      seg = await update(annotatedImageTask(id, seed), 5);
    expect(seg.fallback ?? {}).toEqual({});
    await expectLatestEqualsFull(s, 'collision-gone');
  }, 300_000);
});
