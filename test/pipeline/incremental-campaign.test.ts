/**
 * QA campaign against issue 10's claim "after a random sequence of changes, the incremental
 * `latest/` equals a from-scratch render byte for byte, every format", on projects and change
 * sequences unlike render-segments.test.ts's: Label Studio's own exports and configs
 * (test/fixtures/label-studio: COCO rectangles/polygons, YOLO rectangles/keypoints/OBB/polygons,
 * JSON_MIN polygons, CSV tasks with colliding keys and non-ASCII), the bench generators
 * (image-bbox, text-ner, audio-asr) and a config with many controls (rectangles, polygons,
 * keypoints, brush masks, choices, textarea, rating, non-ASCII labels). Tasks get odd ids (gaps,
 * 15-digit ids, 16-digit ids that go to the `x` shard), many annotations, cancelled and ground-truth
 * annotations, data columns that come and go, labels outside the config, and images shared by
 * tasks of different segments. Each seeded sequence adds, updates and deletes tasks (the last of a
 * segment, a whole segment, everything, then re-adds), changes the label config and the export
 * options between renders, and injects a store fault into one render (retried by the next).
 *
 * Every implemented format of the registry is configured (a format the label config does not
 * support writes nothing), on tiny segments (1–3 shards of 2–5 tasks). After every round, two
 * incremental renders of the same changes are compared with a from-scratch render (a fresh project
 * that ingested only the live tasks, rendered once at the same time):
 * - A: renderLatest with the multipart thresholds lowered (minMultipartBytes 0, minPartBytes
 *   1–400: aggregate files assembled from copied ranges), one segment at a time;
 * - B: the fan-out (planRender → renderSegmentJobs in batches of 2, one after the other →
 *   commitRender, which takes the default thresholds; a failed execution is aborted), also
 *   compared with A.
 * Compared: the bytes of every key under latest/ (manifest aside; zips by their entries' names and
 * bytes, since a zip whose files did not change is kept with an older render's entry times), each
 * manifest's file list (path, bytes, sha256; a file assembled from copied ranges has a digest of
 * its chunks' digests, `sha256Of: "chunks"`, compared by size and its bytes), and each manifest
 * entry against the object it names. Rendering is sequential so an injected fault hits the same
 * write on every run. The last test is the campaign's one finding, fixed: a segment worker of an
 * aborted execution writing under latest/ after the next render (Abort now fences the lock).
 * CAMPAIGN_SEEDS=n and CAMPAIGN_ROUNDS=n (env) run n sequences per project (default 1) of n rounds
 * (default 3); CAMPAIGN_SEED_START=n (default 1) is the first seed, for sequences not run before.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIGS, generateTask, rng } from '../../bench/generate.ts';
import { encodeRle } from '../../functions/core/brush/rle.ts';
import { implementedFormats } from '../../functions/core/formats/registry.ts';
import { parseJson } from '../../functions/core/json/parse.ts';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { readAll } from '../../functions/core/object-store.ts';
import { type PipelineConfig, parseConfig } from '../../functions/pipeline/config.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import { abortRender, commitRender } from '../../functions/pipeline/render-fanout-commit.ts';
import { planRender } from '../../functions/pipeline/render-fanout-plan.ts';
import { renderSegmentJobs } from '../../functions/pipeline/render-fanout-segments.ts';
import { LAMBDA_MAX_SECONDS } from '../../functions/pipeline/render-lock.ts';
import type { SegmentJob } from '../../functions/pipeline/segments.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';
import { jpegBytes } from '../core/images/fake-media.ts';
import {
  change,
  type FsContext,
  fsContext,
  listKeys,
  OUT,
  objectsOf,
  readJsonObject,
  removeTempDirsOfPassedTests,
  SRC,
  tempDir,
} from './helpers.ts';
import { compareLatest, type Finding, type LatestSide, latestOf, zipEntries } from './latest-compare.ts';
import { LooseStore } from './loose-store.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/label-studio');
const fixture = (p: string) => readFileSync(join(FIXTURES, p), 'utf8');
const MEDIA = 'ls-media';
const FORMATS = implementedFormats() as string[];

type Rng = () => number;
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

// ---- projects -------------------------------------------------------------------------------------

/** A 6×5 mask with a filled square, as Label Studio's RGBA RLE. */
const BRUSH_RLE = encodeRle(
  Array.from({ length: 6 * 5 * 4 }, (_, k) => {
    const p = Math.floor(k / 4);
    const [x, y] = [p % 6, Math.floor(p / 6)];
    return k % 4 === 3 && x >= 1 && x <= 3 && y >= 1 && y <= 3 ? 255 : 0;
  }),
);

const MIXED_CONFIG = `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Кошка"/><Label value="狗"/><Label value="Café"/></RectangleLabels>
  <PolygonLabels name="poly" toName="image"><Label value="Кошка"/><Label value="Road"/></PolygonLabels>
  <KeyPointLabels name="kp" toName="image"><Label value="nose"/><Label value="ẞeye"/></KeyPointLabels>
  <BrushLabels name="brush" toName="image"><Label value="Кошка"/><Label value="Sky"/></BrushLabels>
  <Choices name="quality" toName="image"><Choice value="good"/><Choice value="bad ✗"/></Choices>
  <TextArea name="caption" toName="image"/>
  <Rating name="stars" toName="image"/>
</View>`;
const MIXED_LABELS = {
  box: ['Кошка', '狗', 'Café'],
  poly: ['Кошка', 'Road'],
  kp: ['nose', 'ẞeye'],
  brush: ['Кошка', 'Sky'],
};

type Plain = Record<string, unknown>;

interface Kind {
  name: string;
  config: string;
  /** A second label config the sequence switches to (and back). */
  config2: string;
  /** Task `id`'s body (no id yet), drawn with `r`. */
  task(r: Rng, id: number | string): Plain;
  /** Key of the media field tasks show (set to a shared/own image), if any. */
  mediaKey?: 'image' | 'audio';
}

function fromFixtures(files: string[]): Plain[] {
  return files.flatMap((f) => JSON.parse(fixture(f)) as Plain[]);
}

function region(r: Rng, kind: 'box' | 'poly' | 'kp' | 'brush', labels: string[]): Plain {
  const label = pick(r, labels);
  const base = {
    id: `r${Math.floor(r() * 1e9).toString(36)}`,
    from_name: kind,
    to_name: 'image',
    original_width: 640,
    original_height: 480,
    image_rotation: 0,
  };
  const x = Math.round(r() * 8000) / 100;
  const y = Math.round(r() * 8000) / 100;
  if (kind === 'box')
    return {
      ...base,
      type: 'rectanglelabels',
      value: {
        x,
        y,
        width: 10 + r() * 10,
        height: 5 + r() * 10,
        rotation: r() < 0.2 ? 30 : 0,
        rectanglelabels: [label],
      },
    };
  if (kind === 'poly')
    return {
      ...base,
      type: 'polygonlabels',
      value: {
        points: [
          [x, y],
          [x + 5, y + 1],
          [x + 2, y + 7],
        ],
        closed: true,
        polygonlabels: [label],
      },
    };
  if (kind === 'kp')
    return { ...base, type: 'keypointlabels', value: { x, y, width: 0.5, keypointlabels: [label] } };
  return {
    ...base,
    original_width: 6,
    original_height: 5,
    type: 'brushlabels',
    value: { format: 'rle', rle: BRUSH_RLE, brushlabels: [label] },
  };
}

function mixedAnnotation(r: Rng, outside: boolean): Plain[] {
  const result: Plain[] = [];
  for (const k of ['box', 'poly', 'kp', 'brush'] as const) {
    const n = Math.floor(r() * 3);
    for (let i = 0; i < n; i++)
      result.push(region(r, k, outside && r() < 0.3 ? ['Outside'] : MIXED_LABELS[k]));
  }
  if (r() < 0.6)
    result.push({
      id: 'q',
      type: 'choices',
      from_name: 'quality',
      to_name: 'image',
      value: { choices: [pick(r, ['good', 'bad ✗'])] },
    });
  if (r() < 0.5)
    result.push({
      id: 't',
      type: 'textarea',
      from_name: 'caption',
      to_name: 'image',
      value: { text: [pick(r, ['a "cat"', 'ünï\ncode', 'x,y;z\t'])] },
    });
  if (r() < 0.5)
    result.push({
      id: 's',
      type: 'rating',
      from_name: 'stars',
      to_name: 'image',
      value: { rating: 1 + Math.floor(r() * 5) },
    });
  return result;
}

/** Clones a fixture task (annotations and all), dropping its id. */
function fixtureTask(tasks: Plain[], r: Rng): Plain {
  const t = structuredClone(pick(r, tasks));
  delete t.id;
  return t;
}

const KINDS: Kind[] = [
  {
    name: 'mixed-controls',
    config: MIXED_CONFIG,
    config2: MIXED_CONFIG.replace('<Label value="Café"/>', '<Label value="Café"/><Label value="Outside"/>'),
    mediaKey: 'image',
    task: (r) => ({
      data: { image: '' },
      annotations: [] as Plain[],
      __result: () => mixedAnnotation(r, r() < 0.2),
    }),
  },
  {
    name: 'ls-coco',
    config: fixture('test_export_coco/label_config.xml'),
    config2: fixture('test_export_yolo/label_config_polygons.xml'),
    mediaKey: 'image',
    task: (r) =>
      fixtureTask(fromFixtures(['test_export_coco/data.json', 'test_export_json_min/data.json']), r),
  },
  {
    name: 'ls-yolo',
    config: fixture('test_export_yolo/label_config.xml'),
    config2: fixture('test_export_yolo/label_config_obb.xml'),
    mediaKey: 'image',
    task: (r) =>
      fixtureTask(
        fromFixtures([
          'test_export_yolo/data.json',
          'test_export_yolo/data_obb.json',
          'test_export_yolo/data_polygons.json',
        ]),
        r,
      ),
  },
  {
    name: 'ls-keypoints',
    config: fixture('test_export_yolo/label_config_keypoints.xml'),
    config2: fixture('test_export_yolo/label_config.xml'),
    mediaKey: 'image',
    task: (r) =>
      fixtureTask(fromFixtures(['test_export_yolo/data_keypoints.json', 'test_export_yolo/data.json']), r),
  },
  {
    name: 'ls-csv',
    config:
      '<View><Text name="text" value="$text"/><Choices name="text" toName="text"><Choice value="positive"/><Choice value="negative"/></Choices></View>',
    config2:
      '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/></Choices></View>',
    task: (r) =>
      fixtureTask(
        fromFixtures([
          'test_export_csv/csv_test.json',
          'test_export_csv/csv_test2.json',
          'test_export_csv/csv_test_colliding_keys.json',
          'test_export_csv/csv_test_colliding_keys_mixed.json',
          'test_export_csv/csv_test_history.json',
        ]),
        r,
      ),
  },
  ...(['image-bbox', 'text-ner', 'audio-asr'] as const).map(
    (k): Kind => ({
      name: `bench-${k}`,
      config: CONFIGS[k],
      config2:
        k === 'text-ner'
          ? CONFIGS[k].replace('</Labels>', '<Label value="EXTRA"/></Labels>')
          : CONFIGS['image-bbox'],
      mediaKey: k === 'image-bbox' ? 'image' : k === 'audio-asr' ? 'audio' : undefined,
      task: (r) => {
        const t = generateTask(k, 1 + Math.floor(r() * 1000), 1 + Math.floor(r() * 1000)) as Plain;
        delete t.id;
        return t;
      },
    }),
  ),
];

// ---- task mutation ---------------------------------------------------------------------------------

/** Media of the sequence: `pool` image names, some shared by tasks of different segments. */
function mediaUrl(kind: Kind, r: Rng): string {
  const k = Math.floor(r() * 12);
  if (kind.mediaKey === 'audio') return `/data/upload/7/clip_${k}.wav`;
  // Ids ≥ 10 are missing from the media bucket (the *_WITH_IMAGES formats report them).
  return r() < 0.1 ? `/data/upload/3/up_${k}.jpg` : `s3://${MEDIA}/images/img_${k}.jpg`;
}

let annotationIds = 1000;

/** A task `id` of `kind`, with random extras (many/cancelled/ground-truth annotations, columns, labels). */
function makeTask(kind: Kind, r: Rng, id: number | string, round: number): JsonObject {
  const t = kind.task(r, id) as Plain & { data: Plain; annotations: Plain[]; __result?: () => Plain[] };
  const gen = t.__result;
  delete t.__result;
  t.data = { ...(t.data ?? {}) };
  if (gen) {
    const n = r() < 0.1 ? 0 : r() < 0.2 ? 4 + Math.floor(r() * 4) : 1;
    t.annotations = Array.from({ length: n }, () => ({ id: 0, completed_by: 1, result: gen() }));
  }
  if (kind.mediaKey) t.data[kind.mediaKey] = mediaUrl(kind, r);
  // Data columns that come and go (CSV/TSV column set), non-ASCII values.
  for (const c of ['colA', 'colB', 'spalte_ü', '列'])
    if (r() < 0.25) t.data[c] = pick(r, ['v', 'ä,ö', 'x\ny', 7, null, { n: 1 }]);
  const anns = Array.isArray(t.annotations) ? t.annotations : [];
  // Many annotations now and then: copies of the first.
  if (anns.length > 0 && r() < 0.15) for (let i = 0; i < 3; i++) anns.push(structuredClone(anns[0]));
  for (const a of anns) {
    a.id = annotationIds++;
    a.was_cancelled = r() < 0.1;
    a.ground_truth = r() < 0.08;
    a.updated_at = roundStamp(round, 0);
    // A label outside the config (COCO/YOLO category fallbacks).
    if (r() < 0.05)
      for (const res of (a.result as Plain[]) ?? []) {
        const v = res.value as Plain | undefined;
        for (const k of ['rectanglelabels', 'polygonlabels', 'keypointlabels', 'labels', 'choices'])
          if (v && Array.isArray(v[k])) v[k] = ['NotInConfig'];
      }
  }
  t.annotations = anns;
  t.updated_at = roundStamp(round, 1);
  return parseJson(JSON.stringify({ id, ...t })) as JsonObject;
}

/**
 * Round `round`'s `updated_at` (annotations: `day` 0, tasks: 1), later with every round: the state
 * keeps the version with the newest one (records.ts), so a date that wrapped (the month of
 * `round % 9` did at round 9: QA, 2026-12-01) made a later update look older and be ignored.
 */
function roundStamp(round: number, day: 0 | 1): string {
  return new Date(Date.UTC(2026, 0, 1 + 2 * round + day)).toISOString().replace('Z', '000Z');
}

/** Task ids: small with gaps, 15-digit ids (numeric shards far apart), 16-digit ids (the `x` shard). */
function newId(r: Rng, used: Set<string>): number | string {
  for (;;) {
    const x = r();
    const id: number | string =
      x < 0.8
        ? 1 + Math.floor(r() * 80)
        : x < 0.9
          ? 999_999_999_999_000 + Math.floor(r() * 10)
          : `${1234567890123456 + Math.floor(r() * 5)}`;
    if (!used.has(String(id))) return id;
  }
}

// ---- environments ----------------------------------------------------------------------------------

interface Env {
  /** Its temp folder (one folder per bucket below). */
  root: string;
  ctx: FsContext;
  out: LooseStore;
  config: PipelineConfig;
}

interface Geometry {
  shardTasks: number;
  segmentShards: number;
  minPartBytes: number;
}

function projectConfig(labelConfig: string, options: Plain, zip: boolean, g: Geometry): PipelineConfig {
  const input = projectConfigInput(labelConfig, g);
  return parseConfig({
    ...input,
    projects: [{ ...input.projects[0], options, latest: { serialization: 'export', zip } }],
  });
}

/** The campaign's project (every format, media in s3://ls-media/), before parsing. */
function projectConfigInput(labelConfig: string, g: Geometry) {
  return {
    version: 1,
    projects: [
      {
        id: 'proj',
        lsProjectId: 7,
        source: { bucket: SRC, prefix: 'annotations' },
        labelConfig: { inline: labelConfig },
        formats: FORMATS,
        export: { bucket: OUT, prefix: 'exports' },
        media: { s3Prefixes: [`s3://${MEDIA}/images/`], uploadPrefix: `s3://${MEDIA}/upload/` },
      } as Plain,
    ],
    settings: { shardTasks: g.shardTasks, keyShards: 3 },
  };
}

async function newEnv(config: PipelineConfig): Promise<Env> {
  const root = await tempDir();
  recordTempDir(root);
  const ctx = fsContext(root, config);
  const out = new LooseStore(new FsObjectStore(join(root, OUT)));
  ctx.stores.set(OUT, out);
  const media = ctx.store(MEDIA);
  for (let k = 0; k < 12; k++) {
    if (k >= 10) continue;
    await media.put(`images/img_${k}.jpg`, jpegBytes(60 + k, 40 + (k % 3), 3, k));
    await media.put(`upload/3/up_${k}.jpg`, jpegBytes(30 + k, 20, 3, 100 + k));
    await media.put(`upload/7/clip_${k}.wav`, Buffer.from(`RIFF fake audio ${k}`));
  }
  return { root, ctx, out, config };
}

/** Temp folders: deleted after a passing test, kept and named after a failing one. */
const recordTempDir = removeTempDirsOfPassedTests();

async function putTask(e: Env, task: JsonObject) {
  const o = objectsOf(task, 'task')[0];
  await e.ctx.store(SRC).put(o.key, o.body);
  await ingestChanges(e.ctx, [change(o.key)]);
}

async function deleteTask(e: Env, id: string) {
  const key = `annotations/${id}.json`;
  await e.ctx.store(SRC).delete(key);
  await ingestChanges(e.ctx, [change(key, 'removed')]);
}

const project = (e: Env) => e.config.projects[0];

async function renderA(e: Env, g: Geometry) {
  // One segment at a time, so an injected fault hits the same write on every run.
  return renderLatest(e.ctx, project(e), {
    segmentShards: g.segmentShards,
    minMultipartBytes: 0,
    minPartBytes: g.minPartBytes,
    concurrency: 1,
  });
}

/** The fan-out: plan, segment jobs in batches of 2 (all at once), commit. */
async function renderB(e: Env, g: Geometry, owner: string) {
  const p = project(e);
  const plan = await planRender(e.ctx, p, { owner, segmentShards: g.segmentShards });
  if (plan.status !== 'planned') return plan.status;
  const items = await readJsonObject<SegmentJob[]>(e.ctx.store(plan.ref.items.bucket), plan.ref.items.key);
  const batches: SegmentJob[][] = [];
  for (let i = 0; i < items.length; i += 2) batches.push(items.slice(i, i + 2));
  try {
    // Batches one after the other (deterministic write order for the injected faults).
    for (const b of batches) await renderSegmentJobs(e.ctx, p, plan.ref, b);
    return (await commitRender(e.ctx, p, plan.ref)).status;
  } catch (err) {
    // As the state machine's Catch does: Abort, then the execution fails. Abort's fence (the lock
    // held for Lambda's longest run, tested below) is cut to 0 s here: the next render's clock must
    // stay the in-process twin's, whose bytes (COCO's date_created) it is compared with.
    await abortRender(e.ctx, p, owner, 'States.TaskFailed', 0);
    throw err;
  }
}

/** Compares `got`'s latest/ with `want`'s (latest-compare.ts); the reference must have written files. */
async function compare(label: string, got: Env, want: Env, manifestToo: boolean): Promise<Finding[]> {
  const r = await compareLatest(label, side(got), side(want), manifestToo);
  expect(r.wantFiles, `${label}: the reference wrote files`).toBeGreaterThan(0);
  return r.findings;
}

const side = (e: Env): LatestSide => ({ store: e.out.inner, paths: projectPaths(project(e)) });

// ---- the campaign ----------------------------------------------------------------------------------

const SEEDS = Number(process.env.CAMPAIGN_SEEDS ?? 1);
/** The first seed (seeds SEED_START … SEED_START + SEEDS - 1). */
const SEED_START = Number(process.env.CAMPAIGN_SEED_START ?? 1);
/** Rounds of changes after the first render. */
const ROUNDS = Number(process.env.CAMPAIGN_ROUNDS ?? 3);
/** Where a fault is injected: per-task files (segment workers), aggregate files (assembly), zips, the manifest. */
const FAULT_TARGETS = [
  'YOLO/labels/',
  'VOC/Annotations/',
  'BRUSH_TO_PNG/',
  'COCO_WITH_IMAGES/images/',
  'JSON/result.json',
  'CSV/result.csv',
  'COCO/result.json',
  'BRUSH_TO_COCO/result_coco.json',
  'YOLO.zip',
  'manifest.json',
];
const OPTION_SETS: Plain[] = [
  {},
  { csvSeparator: ';', onlyAnnotated: true },
  { fixCocoImagePerTask: true, yoloDataYaml: true, cocoAnnotator: true },
  { fixNewestAnnotationWins: true, brushNames: 'image', copyAudio: false },
];

interface SequenceLog {
  lines: string[];
}

/** What the campaign compared: rounds (renders of both paths checked) and files compared. */
const stats = { rounds: 0, files: 0, faults: 0 };

async function runSequence(kind: Kind, seed: number, log: SequenceLog): Promise<Finding[]> {
  // Each sequence numbers its annotations from 1000: one seed run alone (-t) is the sequence it is
  // in the whole file (the counter used to go on from the tests before it).
  annotationIds = 1000;
  const r = rng(seed * 7919 + kind.name.length);
  const g: Geometry = {
    shardTasks: 2 + Math.floor(r() * 4),
    segmentShards: 1 + Math.floor(r() * 3),
    minPartBytes: 1 + Math.floor(r() * 400),
  };
  let labelConfig = kind.config;
  let options: Plain = {};
  const zip = r() < 0.3;
  let cfg = projectConfig(labelConfig, options, zip, g);
  const a = await newEnv(cfg);
  const b = await newEnv(cfg);
  const live = new Map<string, JsonObject>();
  const findings: Finding[] = [];
  log.lines.push(`kind ${kind.name} seed ${seed} geometry ${JSON.stringify(g)} zip ${zip}`);
  log.lines.push(`folders: in-process ${a.root}, fan-out ${b.root}`);
  const apply = async (f: (e: Env) => Promise<void>) => {
    await f(a);
    await f(b);
  };
  const add = async (id: number | string, round: number) => {
    const t = makeTask(kind, r, id, round);
    live.set(String(id), t);
    await apply((e) => putTask(e, t));
  };
  const del = async (id: string) => {
    live.delete(id);
    await apply((e) => deleteTask(e, id));
  };
  const used = () => new Set(live.keys());
  for (let i = 0; i < 16; i++) await add(newId(r, used()), 0);
  const setConfig = async () => {
    cfg = projectConfig(labelConfig, options, zip, g);
    for (const e of [a, b]) {
      e.config = cfg;
      (e.ctx as { config: PipelineConfig }).config = cfg;
    }
  };
  for (let round = 0; round <= ROUNDS; round++) {
    if (round > 0) {
      const op = r();
      const ids = [...live.keys()];
      const numeric = ids.filter((x) => /^\d{1,15}$/.test(x)).map(Number);
      if (round === 4 && r() < 0.5) {
        log.lines.push(`r${round}: delete everything (${ids.length})`);
        for (const id of ids) await del(id);
      } else if (op < 0.15 && numeric.length > 0) {
        // Empty the segment of a random task.
        const span = g.shardTasks * g.segmentShards;
        const seg = Math.floor(pick(r, numeric) / span);
        const gone = numeric.filter((x) => Math.floor(x / span) === seg);
        log.lines.push(`r${round}: empty segment ${seg} (${gone.join(',')})`);
        for (const id of gone) await del(String(id));
      } else if (op < 0.3 && numeric.length > 0) {
        const span = g.shardTasks * g.segmentShards;
        const seg = Math.floor(pick(r, numeric) / span);
        const last = Math.max(...numeric.filter((x) => Math.floor(x / span) === seg));
        log.lines.push(`r${round}: delete the last task of segment ${seg} (${last})`);
        await del(String(last));
      }
      const n = 1 + Math.floor(r() * 6);
      const ops: string[] = [];
      for (let k = 0; k < n; k++) {
        const x = r();
        const cur = [...live.keys()];
        if (x < 0.4 || cur.length === 0) {
          const id = newId(r, used());
          ops.push(`add ${id}`);
          await add(id, round);
        } else if (x < 0.8) {
          const id = pick(r, cur);
          ops.push(`update ${id}`);
          await add(/^\d+$/.test(id) && id.length <= 15 ? Number(id) : id, round);
        } else {
          const id = pick(r, cur);
          ops.push(`delete ${id}`);
          await del(id);
        }
      }
      log.lines.push(`r${round}: ${ops.join('; ')}`);
      if (r() < 0.25) {
        labelConfig = labelConfig === kind.config ? kind.config2 : kind.config;
        log.lines.push(`r${round}: label config -> ${labelConfig === kind.config ? 'config' : 'config2'}`);
        await setConfig();
      }
      if (r() < 0.25) {
        options = pick(r, OPTION_SETS);
        log.lines.push(`r${round}: options -> ${JSON.stringify(options)}`);
        await setConfig();
      }
      // A failed render in between: one write under latest/ fails, the next render retries.
      if (r() < 0.35) {
        const target = pick(r, FAULT_TARGETS);
        log.lines.push(`r${round}: fault on the first write of latest/${target}… (both paths)`);
        for (const e of [a, b]) {
          const latest = projectPaths(project(e)).latest;
          e.out.fail = (key) => key.startsWith(`${latest}${target}`);
        }
        await renderA(a, g).catch(() => undefined);
        await renderB(b, g, `fail-${round}`).catch(() => undefined);
        for (const e of [a, b]) {
          log.lines.push(`r${round}: fault hit ${e.out.failed.at(-1) ?? 'nothing'}`);
          stats.faults += e.out.failed.length;
          e.out.fail = undefined;
          e.out.failed = [];
        }
      }
    }
    for (const e of [a, b]) e.ctx.clock.advance(60_000);
    await renderA(a, g);
    await renderB(b, g, `exec-${round}`);
    // From scratch: a fresh project that ingests only the live tasks, rendered once at the time of
    // the render that wrote latest/ (COCO's date_created). A first render puts every file whole,
    // whatever the multipart thresholds, so one reference serves both paths rendered at one time.
    const createdAt = async (e: Env) =>
      Date.parse(
        (await readJsonObject<Manifest>(e.out.inner, projectPaths(project(e)).latestManifest)).createdAt,
      );
    const reference = async (at: number) => {
      const ref = await newEnv(cfg);
      ref.ctx.clock.t = at;
      for (const t of live.values()) await putTask(ref, t);
      await renderLatest(ref.ctx, project(ref), { segmentShards: g.segmentShards });
      return ref;
    };
    // Each path's own render time: an injected fault may have hit one path only, whose retry then
    // renders a minute later than the other's (QA, 2026-12-01: seed 403 compared the fan-out with
    // a reference of the in-process time, differing in COCO's date_created alone).
    const [atA, atB] = [await createdAt(a), await createdAt(b)];
    const ref = await reference(atA);
    const refB = atB === atA ? ref : await reference(atB);
    const label = `${kind.name} seed ${seed} r${round}`;
    const fa = await compare(`${label} in-process`, a, ref, true);
    const fb = [
      ...(await compare(`${label} fan-out`, b, refB, true)),
      ...(atB === atA ? await compare(`${label} fan-out vs in-process`, b, a, true) : []),
    ];
    stats.rounds++;
    stats.files += (await latestOf(side(ref))).files.size;
    findings.push(...fa, ...fb);
    if (fa.length + fb.length > 0) {
      const refs = refB === ref ? ref.root : `${ref.root} (in-process), ${refB.root} (fan-out)`;
      log.lines.push(`r${round}: ${fa.length + fb.length} differences; reference folder ${refs}`);
      break;
    }
  }
  return findings;
}

describe('incremental latest/ equals a from-scratch render (campaign)', () => {
  afterAll(() => {
    console.log(
      `campaign: ${stats.rounds} rounds compared, ${stats.files} reference files, ${stats.faults} faults hit`,
    );
  });
  for (const kind of KINDS)
    for (let s = SEED_START; s < SEED_START + SEEDS; s++)
      it(`${kind.name} seed ${s}: every format, in-process and fan-out`, async () => {
        const log: SequenceLog = { lines: [] };
        const findings = await runSequence(kind, s, log);
        if (findings.length > 0)
          console.log(
            [...log.lines, ...findings.slice(0, 8).map((f) => `${f.what}: ${f.detail}`)].join('\n'),
          );
        expect(findings.slice(0, 8)).toEqual([]);
      }, 600_000);
});

/** The bench's image-bbox task `i` with generator seed `content`, last updated at `updatedAt`. */
const imageTask = (i: number, content: number, updatedAt: string) =>
  parseJson(
    JSON.stringify({ ...generateTask('image-bbox', i, content), updated_at: updatedAt }),
  ) as JsonObject;

/** A project of the bench's image-bbox config rendering `formats` (and `latest/<FORMAT>.zip` with `zip`). */
function imageProject(g: Geometry, formats: string[], zip?: boolean): PipelineConfig {
  const input = projectConfigInput(KINDS.find((k) => k.name === 'bench-image-bbox')!.config, g);
  return parseConfig({
    ...input,
    projects: [
      {
        ...input.projects[0],
        formats,
        ...(zip === undefined ? {} : { latest: { serialization: 'export', zip } }),
      },
    ],
  });
}

/**
 * A segment job of a fan-out whose execution was aborted (another batch failed: the Map fails, but
 * a running segment Lambda is not stopped) renews the lock only before each segment, so it goes on
 * writing its per-task files under latest/. When Abort released the lock, that write could land
 * after a later execution committed: the current object then held bytes the manifest did not
 * name, and later renders kept it (they compare with the manifest, not the object). Abort now
 * fences the lock (render-lock.ts): the next render is busy until no worker can still run, then
 * repairs latest/ (in-flight record).
 */
describe('fan-out: a segment job of an aborted execution', () => {
  it('cannot write under latest/ after the next render: Abort fences the lock until every worker has ended', async () => {
    const g: Geometry = { shardTasks: 4, segmentShards: 1, minPartBytes: 100 };
    const e = await newEnv(imageProject(g, ['JSON', 'YOLO']));
    const p = project(e);
    const task = (i: number, seed: number) => imageTask(i, seed, `2026-0${seed}-01T00:00:00.000000Z`);
    for (let i = 1; i <= 16; i++) await putTask(e, task(i, 1));
    expect(await renderB(e, g, 'exec-1')).toBe('rendered');
    const label = `${projectPaths(p).latest}YOLO/labels/img_000010.txt`;
    // Task 10 (segment n…2) changes; exec-2 plans and its segment job stops at task 10's label.
    await putTask(e, task(10, 2));
    const plan = await planRender(e.ctx, p, { owner: 'exec-2', segmentShards: 1 });
    if (plan.status !== 'planned') throw new Error(plan.status);
    const jobs = await readJsonObject<SegmentJob[]>(e.ctx.store(plan.ref.items.bucket), plan.ref.items.key);
    expect(jobs).toHaveLength(1);
    let release!: () => void;
    let reached!: () => void;
    const atWrite = new Promise<void>((r) => (reached = r));
    const written: string[] = [];
    let held = false;
    e.out.hold = (key) => {
      written.push(key);
      if (held || key !== label) return undefined;
      held = true;
      reached();
      return new Promise<void>((r) => (release = r));
    };
    const zombie = renderSegmentJobs(e.ctx, p, plan.ref, jobs);
    const first = await Promise.race([atWrite.then(() => 'held'), zombie.then(() => 'finished')]);
    expect(first, written.join('\n')).toBe('held');
    // Another batch failed: Abort fences exec-2's lock; task 10 changes again, and exec-3 cannot
    // start while a worker of exec-2 may still be running.
    await abortRender(e.ctx, p, 'exec-2', 'States.TaskFailed');
    await putTask(e, task(10, 3));
    expect(await renderB(e, g, 'exec-3')).toBe('busy');
    // The held worker resumes within Lambda's limit and writes task 10's label as of exec-2.
    release();
    await zombie.catch(() => undefined);
    // Past the fence (no worker of exec-2 can still run), exec-3 renders and repairs latest/.
    e.ctx.clock.advance(LAMBDA_MAX_SECONDS * 1000 + 1);
    expect(await renderB(e, g, 'exec-3')).toBe('rendered');
    const named = async () => {
      const m = await readJsonObject<Manifest>(e.out.inner, projectPaths(p).latestManifest);
      return m.formats.find((f) => f.format === 'YOLO')!.files!.find((x) => x.key === label)!.sha256;
    };
    const current = async () =>
      createHash('sha256')
        .update(await readAll((await e.out.inner.get(label)).body))
        .digest('hex');
    expect(await current()).toBe(await named());
    // Another change elsewhere: exec-4 renders; the label still holds the manifest's bytes.
    await putTask(e, task(3, 4));
    expect(await renderB(e, g, 'exec-4')).toBe('rendered');
    expect(await current()).toBe(await named());
  });
});

/**
 * The in-process render's segments run a few at a time (mapLimit). When one failed, the render
 * used to reject at once while its other segments went on writing per-task files under latest/,
 * after its cleanup and its lock release (in a Lambda: into the next invocation of the warm
 * container). A write landing after the next render committed left an object whose bytes the
 * manifest did not name, for good. Now the render rejects only once its running segments have
 * ended, and none starts after the failure (QA s6 F1).
 */
describe('in-process: a segment fails while another is writing', () => {
  it('the render rejects only after the other segment ended; the next render equals a from-scratch one', async () => {
    const g: Geometry = { shardTasks: 1, segmentShards: 1, minPartBytes: 100 };
    const cfg = imageProject(g, ['YOLO']);
    const e = await newEnv(cfg);
    const p = project(e);
    const task = (i: number, seed: number) => imageTask(i, seed, `2026-0${seed}-01T00:00:00.000000Z`);
    for (let i = 1; i <= 6; i++) await putTask(e, task(i, 1));
    const render = () => renderLatest(e.ctx, p, { segmentShards: 1, concurrency: 2 });
    expect((await render()).status).toBe('rendered');
    // Tasks 1 and 2 change (two segments rendered at once): task 1's label write fails while task
    // 2's is held.
    await putTask(e, task(1, 2));
    await putTask(e, task(2, 2));
    const latest = projectPaths(p).latest;
    let release!: () => void;
    let reached!: () => void;
    const atWrite = new Promise<void>((r) => (reached = r));
    let held = false;
    e.out.hold = (key) => {
      if (held || key !== `${latest}YOLO/labels/img_000002.txt`) return undefined;
      held = true;
      reached();
      return new Promise<void>((r) => (release = r));
    };
    e.out.fail = (key) => key === `${latest}YOLO/labels/img_000001.txt`;
    e.ctx.clock.advance(60_000);
    let settled = false;
    const failing = render().finally(() => {
      settled = true;
    });
    failing.catch(() => undefined);
    await atWrite;
    await new Promise((r) => setTimeout(r, 300));
    expect(e.out.failed).toEqual([`${latest}YOLO/labels/img_000001.txt`]);
    expect(settled).toBe(false); // the held segment is still writing: the render has not given up yet
    release();
    await expect(failing).rejects.toThrow(/injected fault/);
    e.out.hold = undefined;
    // Task 2 changes again; the next render repairs latest/ and equals a from-scratch render.
    await putTask(e, task(2, 3));
    e.ctx.clock.advance(60_000);
    expect((await render()).status).toBe('rendered');
    const ref = await newEnv(cfg);
    ref.ctx.clock.t = Date.parse(
      (await readJsonObject<Manifest>(e.out.inner, projectPaths(p).latestManifest)).createdAt,
    );
    for (const [i, seed] of [
      [1, 2],
      [2, 3],
      [3, 1],
      [4, 1],
      [5, 1],
      [6, 1],
    ])
      await putTask(ref, task(i, seed));
    await renderLatest(ref.ctx, project(ref), { segmentShards: 1 });
    expect(await compare('after the failed render', e, ref, true)).toEqual([]);
  });
});

/**
 * The state changes between a fan-out's segment jobs and its commit (QA s6 F5/F6). A worker writes
 * its segment's per-task files straight under latest/; when the commit finds the segment's shards
 * moved it renders the segment itself. It used to compare those files with the previous manifest
 * only: a task changed back (its label again the manifest's bytes) kept the worker's object
 * while the manifest named other bytes, and a task added then deleted left the worker's label and
 * image under latest/. The commit now rewrites what a discarded worker output wrote, and deletes
 * what it no longer lists; a zip checks each object against its manifest entry (a mismatch fails
 * the render, whose retry rewrites latest/ whole).
 */
describe('fan-out: the state changes between the segment jobs and the commit', () => {
  const g: Geometry = { shardTasks: 1, segmentShards: 1, minPartBytes: 100 };
  const config = (zip: boolean) => imageProject(g, ['JSON', 'YOLO', 'VOC'], zip);
  /** Task `i` with the content of generator seed `content`, last updated on day `stamp`. */
  const task = (i: number, content: number, stamp: number) =>
    imageTask(i, content, `2026-01-0${stamp}T00:00:00.000000Z`);
  /** Plans a fan-out and runs its segment jobs; the commit is the caller's. */
  const planAndRun = async (e: Env, owner: string) => {
    const plan = await planRender(e.ctx, project(e), { owner, segmentShards: 1 });
    if (plan.status !== 'planned') throw new Error(plan.status);
    const jobs = await readJsonObject<SegmentJob[]>(e.ctx.store(plan.ref.items.bucket), plan.ref.items.key);
    await renderSegmentJobs(e.ctx, project(e), plan.ref, jobs);
    return plan.ref;
  };
  /** A from-scratch render of `tasks` at the time of `e`'s manifest. */
  const fromScratch = async (e: Env, tasks: JsonObject[]) => {
    const ref = await newEnv(e.config);
    ref.ctx.clock.t = Date.parse(
      (await readJsonObject<Manifest>(e.out.inner, projectPaths(project(e)).latestManifest)).createdAt,
    );
    for (const t of tasks) await putTask(ref, t);
    await renderLatest(ref.ctx, project(ref), { segmentShards: 1 });
    return ref;
  };
  const first = async (zip = false) => {
    const e = await newEnv(config(zip));
    for (let i = 1; i <= 6; i++) await putTask(e, task(i, 1, 1));
    expect(await renderB(e, g, 'exec-1')).toBe('rendered');
    return e;
  };

  it('a task changed back: the commit rewrites the labels its worker wrote, and a later render keeps them', async () => {
    const e = await first();
    await putTask(e, task(2, 2, 2));
    e.ctx.clock.advance(60_000);
    const ref = await planAndRun(e, 'exec-2');
    await putTask(e, task(2, 1, 3)); // back to the published content
    expect((await commitRender(e.ctx, project(e), ref)).status).toBe('rendered');
    const live = [1, 2, 3, 4, 5, 6].map((i) => task(i, 1, i === 2 ? 3 : 1));
    expect(await compare('after the commit', e, await fromScratch(e, live), true)).toEqual([]);
    await putTask(e, task(5, 2, 4));
    e.ctx.clock.advance(60_000);
    expect(await renderB(e, g, 'exec-3')).toBe('rendered');
    live[4] = task(5, 2, 4);
    expect(await compare('a later render', e, await fromScratch(e, live), true)).toEqual([]);
  });

  it('a task added then deleted: the commit deletes what its worker wrote for it', async () => {
    const e = await first();
    await putTask(e, task(8, 2, 2));
    e.ctx.clock.advance(60_000);
    const ref = await planAndRun(e, 'exec-2');
    const latest = projectPaths(project(e)).latest;
    const written = await listKeys(e.out.inner, `${latest}YOLO/labels/`);
    expect(written).toContain(`${latest}YOLO/labels/img_000008.txt`);
    await deleteTask(e, '8');
    expect((await commitRender(e.ctx, project(e), ref)).status).toBe('rendered');
    expect(await listKeys(e.out.inner, `${latest}YOLO/labels/`)).not.toContain(
      `${latest}YOLO/labels/img_000008.txt`,
    );
    const live = [1, 2, 3, 4, 5, 6].map((i) => task(i, 1, 1));
    expect(await compare('after the commit', e, await fromScratch(e, live), true)).toEqual([]);
  });

  /**
   * Plans a fan-out and runs its segment jobs; then `between`, then the same jobs again (a Map
   * retry). With `dies`, the first attempt dies after writing its per-task files, before storing
   * its document (the store refuses that write).
   */
  const planRunAndRetry = async (e: Env, owner: string, between: () => Promise<void>, dies = false) => {
    const plan = await planRender(e.ctx, project(e), { owner, segmentShards: 1 });
    if (plan.status !== 'planned') throw new Error(plan.status);
    const jobs = await readJsonObject<SegmentJob[]>(e.ctx.store(plan.ref.items.bucket), plan.ref.items.key);
    if (dies) {
      e.out.fail = (key) => /\/render-fanout\/[^/]+\/segments\/[^/.]+\.json$/.test(key);
      await expect(renderSegmentJobs(e.ctx, project(e), plan.ref, jobs)).rejects.toThrow(/injected fault/);
    } else await renderSegmentJobs(e.ctx, project(e), plan.ref, jobs);
    await between();
    await renderSegmentJobs(e.ctx, project(e), plan.ref, jobs);
    return plan.ref;
  };

  /** Task 8 added, its label written by the first attempt, then deleted before the retry. */
  const deletedBeforeRetry = async (dies: boolean) => {
    const e = await first();
    await putTask(e, task(8, 2, 2));
    e.ctx.clock.advance(60_000);
    const latest = projectPaths(project(e)).latest;
    const label = `${latest}YOLO/labels/img_000008.txt`;
    const ref = await planRunAndRetry(
      e,
      'exec-2',
      async () => {
        expect(await listKeys(e.out.inner, `${latest}YOLO/labels/`)).toContain(label);
        await deleteTask(e, '8');
      },
      dies,
    );
    expect((await commitRender(e.ctx, project(e), ref)).status).toBe('rendered');
    expect(await listKeys(e.out.inner, `${latest}YOLO/labels/`)).not.toContain(label);
    const live = [1, 2, 3, 4, 5, 6].map((i) => task(i, 1, 1));
    expect(await compare('after the commit', e, await fromScratch(e, live), true)).toEqual([]);
  };

  // A Map child retried after the state changed (QA s6 incremental, left open): the retry renders
  // another state than its first attempt. The commit renders such a segment itself (every ingest
  // writes a new record, so the shard ETags are never the plan's again), distrusting what the
  // worker wrote; the first attempt's files are distrusted too through the retry's document
  // (StoredSegment.superseded): without it the first test's label stayed under latest/, in no
  // manifest. The second held before (the commit rewrites a changed task's files).
  it('a segment job retried after a task was deleted: the label its first attempt wrote is deleted', () =>
    deletedBeforeRetry(false));

  it('a segment job retried while a task changed and changed back: the commit renders it again', async () => {
    const e = await first();
    await putTask(e, task(3, 2, 2));
    e.ctx.clock.advance(60_000);
    const ref = await planRunAndRetry(e, 'exec-2', async () => {
      // The first attempt wrote task 3's new label; the retry sees the published task 3 and keeps
      // the published label (carried over, not written).
      await putTask(e, task(3, 1, 1));
    });
    // The planned content again (a new record all the same: another event), so the commit must not
    // adopt the retry's output, rendered from another state, which left the first attempt's object.
    await putTask(e, task(3, 2, 2));
    expect((await commitRender(e.ctx, project(e), ref)).status).toBe('rendered');
    const live = [1, 2, 3, 4, 5, 6].map((i) => (i === 3 ? task(3, 2, 2) : task(i, 1, 1)));
    expect(await compare('after the commit', e, await fromScratch(e, live), true)).toEqual([]);
  });

  // Not covered before 2026-12-01: an attempt that wrote per-task files and died before storing its
  // document left no record of them. Each attempt now marks itself first (attempts/<job>/<id>); the
  // commit renders a segment with an unaccounted attempt itself, writing its published files again,
  // and sweeps latest/. Both tests fail without the markers (checked).
  it('a segment job whose first attempt died before storing its output, then a task was deleted: its label is deleted', () =>
    deletedBeforeRetry(true));

  it('a segment job whose first attempt died before storing its output, then a task changed back: its label is rewritten', async () => {
    const e = await first();
    await putTask(e, task(3, 2, 2));
    e.ctx.clock.advance(60_000);
    const latest = projectPaths(project(e)).latest;
    const label = `${latest}YOLO/labels/img_000003.txt`;
    const published = (await readAll((await e.out.inner.get(label)).body)).toString();
    const ref = await planRunAndRetry(
      e,
      'exec-2',
      async () => {
        expect((await readAll((await e.out.inner.get(label)).body)).toString()).not.toBe(published);
        await putTask(e, task(3, 1, 3)); // back to the published content: the retry carries it over
      },
      true,
    );
    expect((await commitRender(e.ctx, project(e), ref)).status).toBe('rendered');
    expect((await readAll((await e.out.inner.get(label)).body)).toString()).toBe(published);
    const live = [1, 2, 3, 4, 5, 6].map((i) => task(i, 1, i === 3 ? 3 : 1));
    expect(await compare('after the commit', e, await fromScratch(e, live), true)).toEqual([]);
  });

  it('an object changed behind the manifest: the zip keeps the published bytes; a change of its task repairs it', async () => {
    const e = await first(true);
    const paths = projectPaths(project(e));
    const label = `${paths.latest}YOLO/labels/img_000003.txt`;
    const published = (await readAll((await e.out.inner.get(label)).body)).toString();
    await e.out.inner.put(label, '0 0.5 0.5 0.1 0.1\n'); // what a stray writer might leave
    await putTask(e, task(5, 2, 2));
    e.ctx.clock.advance(60_000);
    // The zip is written from the previous zip's records for unchanged files (not read again, so
    // the stray bytes go unnoticed) and holds what the manifest names; a file read for a changed
    // entry is still checked (latest-zip.test.ts: ZipSourceError).
    const r = await renderLatest(e.ctx, project(e), { segmentShards: 1 });
    expect(r.manifest?.timings?.zips?.YOLO).toMatchObject({ mode: 'incremental', freshEntries: 1 });
    const yolo = r.manifest!.formats.find((f) => f.format === 'YOLO')!;
    const entries = zipEntries(await readAll((await e.out.inner.get(yolo.zip!.key)).body));
    expect(entries.find((x) => x.name === 'labels/img_000003.txt')?.data.toString()).toBe(published);
    expect((await readAll((await e.out.inner.get(label)).body)).toString()).not.toBe(published);
    // Task 3 changes: its label file is written again, and read for the zip.
    await putTask(e, task(3, 2, 3));
    e.ctx.clock.advance(60_000);
    const retry = await renderLatest(e.ctx, project(e), { segmentShards: 1 });
    expect(retry.status).toBe('rendered');
    const live = [1, 2, 3, 4, 5, 6].map((i) =>
      i === 3 ? task(3, 2, 3) : task(i, i === 5 ? 2 : 1, i === 5 ? 2 : 1),
    );
    expect(await compare('after the retry', e, await fromScratch(e, live), true)).toEqual([]);
  });
});
