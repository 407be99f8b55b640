/**
 * Snapshots rendered by the segment engine (segments-snapshot.ts renderSnapshot) write, byte for
 * byte, what the one-pass path writes (snapshot.ts renderSnapshotOnePass: snapshot.json first,
 * then each format converted from it) — for text, image bbox, polygon, keypoint, brush and audio
 * projects, every format the catalogue has (those a config does not support are skipped alike),
 * several snapshot options, and an empty project: every file under the snapshot's prefix
 * (snapshot.json, each format's files, the zips), the manifest and the results the records get.
 * Segments are small (2 shards of 4 tasks), so every non-empty project has several.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIGS } from '../../bench/generate.ts';
import { FORMAT_NAMES } from '../../functions/core/config/formats.ts';
import { parseJson } from '../../functions/core/json/parse.ts';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { type ObjectStore, PreconditionFailedError, readAll } from '../../functions/core/object-store.ts';
import { parseConfig, type SnapshotOptions, snapshotOptionsSchema } from '../../functions/pipeline/config.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderSnapshot } from '../../functions/pipeline/segments-snapshot.ts';
import {
  type RenderedSnapshot,
  renderSnapshotOnePass,
  writeSnapshotManifest,
} from '../../functions/pipeline/snapshot.ts';
import { jpegBytes } from '../core/images/fake-media.ts';
import { change, type FsContext, fsContext, lsTask, OUT, objectsOf, SRC, tempDir } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const fixture = (...p: string[]) => readFileSync(join(FIXTURES, ...p), 'utf8');
const MEDIA = 'ls-media';
const AT = new Date('2026-03-01T10:15:00.000Z');

/** Every format of the catalogue, and a name that is none (skipped as `unknown format`). */
const ALL = ['JSON', ...FORMAT_NAMES.filter((f) => f !== 'JSON'), 'NOT_A_FORMAT'];

const opts = (o: unknown): SnapshotOptions => snapshotOptionsSchema.parse(o);
const OPTIONS: Record<string, SnapshotOptions> = {
  defaults: opts(undefined),
  onlyAnnotated: opts({ task_filter_options: { only_with_annotations: true } }),
  anonymize: opts({ anonymize: true }),
  finishedOnly: opts({ task_filter_options: { finished: 'only' } }),
  skippedAnnotations: opts({ annotation_filter_options: { usual: false, skipped: true } }),
  expanded: opts({
    serialization_options: { drafts: { only_id: false }, annotations__completed_by: { only_id: false } },
  }),
};

/**
 * `n` copies of the first task of a fixture file, ids 1…n, each its own image; every 4th without
 * annotations.
 */
function copies(text: string, n: number): JsonObject[] {
  return Array.from({ length: n }, (_, i) => {
    const t = (parseJson(text) as JsonObject[])[0];
    t.id = i + 1;
    const data = t.data as JsonObject;
    data.image = String(data.image).replace(/(\.[a-z]+)?$/, `-${i}$1`);
    if (i % 4 === 3) t.annotations = [];
    return t;
  });
}

interface Project {
  config: string;
  tasks: () => JsonObject[];
  media?: boolean;
}

const PROJECTS: Record<string, Project> = {
  text: { config: CONFIGS['text-ner'], tasks: () => Array.from({ length: 30 }, (_, i) => lsTask(i + 1)) },
  'image-bbox': {
    config: CONFIGS['image-bbox'],
    tasks: () => Array.from({ length: 26 }, (_, i) => lsTask(i + 1, 1, 'image-bbox')),
    media: true,
  },
  polygons: {
    config: fixture('label-studio', 'test_export_yolo', 'label_config_polygons.xml'),
    tasks: () => copies(fixture('label-studio', 'test_export_yolo', 'data_polygons.json'), 20),
  },
  keypoints: {
    config: fixture('label-studio', 'test_export_yolo', 'label_config_keypoints.xml'),
    tasks: () => copies(fixture('label-studio', 'test_export_yolo', 'data_keypoints.json'), 20),
  },
  brush: {
    config: fixture('cases', 'br-13-brush-png-names-unmappable', 'config.xml'),
    tasks: () => copies(fixture('cases', 'br-13-brush-png-names-unmappable', 'tasks.json'), 18),
  },
  audio: {
    config: CONFIGS['audio-asr'],
    tasks: () => Array.from({ length: 22 }, (_, i) => lsTask(i + 1, 1, 'audio-asr')),
  },
  empty: { config: CONFIGS['text-ner'], tasks: () => [] },
};

async function setup(
  p: Project,
): Promise<{ ctx: FsContext; project: ReturnType<typeof parseConfig>['projects'][number] }> {
  const config = parseConfig({
    version: 1,
    projects: [
      {
        id: 'proj',
        source: { bucket: SRC, prefix: 'annotations' },
        labelConfig: { inline: p.config },
        formats: ['JSON'],
        export: { bucket: OUT, prefix: 'exports' },
        ...(p.media ? { media: { s3Prefixes: [`s3://${MEDIA}/images/`] } } : {}),
      },
    ],
    settings: { shardTasks: 4, keyShards: 4 },
  });
  const ctx = fsContext(await tempDir(), config);
  const tasks = p.tasks();
  const keys: string[] = [];
  for (const t of tasks) {
    const o = objectsOf(t, 'task')[0];
    await ctx.store(SRC).put(o.key, o.body);
    keys.push(o.key);
    // Image tasks read their images (all but every 13th) from s3://ls-media/images/.
    if (p.media && Number(t.id) % 13 !== 0)
      await ctx
        .store(MEDIA)
        .put(
          `images/img_${String(t.id).padStart(6, '0')}.jpg`,
          jpegBytes(90 + (Number(t.id) % 7), 70, 3, Number(t.id)),
        );
  }
  if (keys.length > 0)
    await ingestChanges(
      ctx,
      keys.map((k) => change(k)),
    );
  return { ctx, project: config.projects[0] };
}

/** Every object under a snapshot's prefix, by path below it. */
async function filesOf(ctx: FsContext, prefix: string): Promise<Map<string, Buffer>> {
  const store = ctx.store(OUT);
  const out = new Map<string, Buffer>();
  for await (const o of store.list(prefix))
    out.set(o.key.slice(prefix.length), await readAll((await store.get(o.key)).body));
  return out;
}

/** What a record is given (names replaced, so two snapshots' results compare). */
const results = (s: RenderedSnapshot, name: string) =>
  JSON.stringify({ base: s.base, converted: s.converted }).replaceAll(name, 'NAME');

/** Renders both ways; expects equal bytes everywhere; returns the engine's snapshot and files. */
async function expectSameAsOnePass(
  label: string,
  ctx: FsContext,
  project: Setup['project'],
  options: SnapshotOptions,
) {
  const paths = projectPaths(project);
  const old = await renderSnapshotOnePass(ctx, project, `one-pass-${label}`, options, ALL, AT);
  const now = await renderSnapshot(ctx, project, `engine-${label}`, options, ALL, AT, {
    segmentShards: 2,
    onePassFallback: false,
  });
  const want = await filesOf(ctx, paths.snapshot(`one-pass-${label}`));
  const got = await filesOf(ctx, paths.snapshot(`engine-${label}`));
  expect([...got.keys()].sort(), `${label}: files`).toEqual([...want.keys()].sort());
  for (const [path, bytes] of want) {
    const text = (b: Buffer) =>
      path === 'manifest.json' ? b.toString('utf8').replaceAll(`one-pass-${label}`, `engine-${label}`) : b;
    if (path.endsWith('.zip') || path.endsWith('.png') || path.endsWith('.npy'))
      expect(got.get(path)!.equals(bytes), `${label}: ${path}`).toBe(true);
    else expect(text(got.get(path)!).toString(), `${label}: ${path}`).toBe(text(bytes).toString());
  }
  expect(results(now, `engine-${label}`)).toBe(results(old, `one-pass-${label}`));
  return { now, files: got };
}
type Setup = Awaited<ReturnType<typeof setup>>;

describe('snapshots by segments equal the one-pass snapshot, byte for byte', () => {
  const cases: Array<[string, string[]]> = [
    ['text', Object.keys(OPTIONS)],
    ['image-bbox', ['defaults', 'onlyAnnotated', 'anonymize']],
    ['polygons', ['defaults', 'onlyAnnotated']],
    ['keypoints', ['defaults', 'anonymize']],
    ['brush', ['defaults', 'onlyAnnotated']],
    ['audio', ['defaults', 'anonymize', 'expanded']],
    ['empty', ['defaults']],
  ];
  for (const [kind, optionNames] of cases) {
    it(`${kind}: every format, options ${optionNames.join(', ')}`, async () => {
      const { ctx, project } = await setup(PROJECTS[kind]);
      for (const o of optionNames) {
        const { now, files } = await expectSameAsOnePass(o, ctx, project, OPTIONS[o]);
        const snapshot = files.get('snapshot.json')!.toString('utf8');
        if (kind === 'empty') {
          expect(snapshot).toBe('[]');
          expect(now.engine!.segments).toBe(0);
        } else {
          // Several segments, so the file is put together from several bodies.
          expect(now.engine!.segments, `${kind} ${o}`).toBeGreaterThan(1);
          expect(now.base.counts.tasks, `${kind} ${o}`).toBeGreaterThan(0);
          expect(snapshot.startsWith('[{')).toBe(true);
        }
        // Formats by segments were rendered by them, not by the one-run fallback.
        const completed = now.converted.filter((c) => c.status === 'completed' && c.format !== 'JSON');
        expect(completed.length, `${kind} ${o}`).toBeGreaterThan(2);
        expect(
          completed.filter((c) => !(c.format in now.engine!.fallback)).length,
          `${kind} ${o}: formats by segments`,
        ).toBeGreaterThan(0);
      }
    }, 120_000);
  }
});

/** The export bucket's store, recording the keys read and able to fail the segment plan's listing. */
function watchOut(ctx: FsContext) {
  const inner = ctx.store(OUT);
  const seen = { gets: [] as string[], failPlan: false };
  const store = ctx.store.bind(ctx);
  const out: ObjectStore = Object.create(inner, {
    get: {
      value: (key: string, range?: { start: number; end: number }) => {
        seen.gets.push(key);
        return inner.get(key, range);
      },
    },
    list: {
      value: (prefix: string, options?: { etags?: boolean }) => {
        if (seen.failPlan && options?.etags) throw new Error('listing with ETags is down');
        return inner.list(prefix, options);
      },
    },
  });
  ctx.store = (b) => (b === OUT ? out : store(b));
  return seen;
}

describe('snapshots by segments: one read of the state, fallbacks, immutability', () => {
  it('reads each shard once; a format that falls back is converted from snapshot.json, same bytes', async () => {
    // A task from id 5 on has a label outside the config: COCO's categories and YOLO's classes
    // differ from the empty run's, so those formats cannot be put together from segments and run
    // over every task.
    const tasks = PROJECTS['image-bbox'].tasks();
    const odd = tasks.find((t) => Number(t.id) >= 5 && (t.annotations as JsonObject[])[0]?.result)!;
    const region = ((odd.annotations as JsonObject[])[0].result as JsonObject[])[0];
    (region.value as JsonObject).rectanglelabels = ['Zebra'];
    const { ctx, project } = await setup({ ...PROJECTS['image-bbox'], tasks: () => tasks });
    const seen = watchOut(ctx);
    const paths = projectPaths(project);
    const { now } = await expectSameAsOnePass('fallback', ctx, project, OPTIONS.defaults);
    expect(Object.keys(now.engine!.fallback)).toEqual(expect.arrayContaining(['COCO', 'YOLO']));
    expect(now.converted.find((c) => c.format === 'COCO')!.status).toBe('completed');
    // The engine read each shard once (the one-pass reference read them once more, in one listing).
    const shards = seen.gets.filter((k) => k.startsWith(paths.taskShards));
    expect(new Set(shards).size).toBeGreaterThan(2);
    expect(shards.length).toBe(2 * new Set(shards).size);
    // The fallback run read the engine's snapshot.json.
    expect(seen.gets).toContain(`${paths.snapshot('engine-fallback')}snapshot.json`);
  }, 120_000);

  it('the same snapshot of the same state gives the same bytes, however many segments run at once', async () => {
    const { ctx, project } = await setup(PROJECTS.text);
    const paths = projectPaths(project);
    for (const [name, concurrency] of [
      ['c1', 1],
      ['c4', 4],
    ] as const)
      await renderSnapshot(ctx, project, name, OPTIONS.onlyAnnotated, ALL, AT, {
        segmentShards: 1,
        concurrency,
        onePassFallback: false,
      });
    const a = await filesOf(ctx, paths.snapshot('c1'));
    const b = await filesOf(ctx, paths.snapshot('c4'));
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [path, bytes] of a)
      if (path !== 'manifest.json') expect(b.get(path)!.equals(bytes), path).toBe(true);
  }, 60_000);

  it('when the engine fails, the snapshot is made in one pass, with the same bytes', async () => {
    const { ctx, project } = await setup(PROJECTS.text);
    const paths = projectPaths(project);
    const warnings: string[] = [];
    ctx.log = (level, message) => {
      if (level === 'warn') warnings.push(message);
    };
    await renderSnapshotOnePass(ctx, project, 'ref', OPTIONS.anonymize, ALL, AT);
    const seen = watchOut(ctx);
    seen.failPlan = true;
    const s = await renderSnapshot(ctx, project, 'fell-back', OPTIONS.anonymize, ALL, AT, {
      segmentShards: 2,
    });
    expect(s.engine).toBeUndefined();
    expect(warnings).toContain('snapshot rendered in one pass: the segment engine failed');
    const want = await filesOf(ctx, paths.snapshot('ref'));
    const got = await filesOf(ctx, paths.snapshot('fell-back'));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [path, bytes] of want)
      if (path !== 'manifest.json') expect(got.get(path)!.equals(bytes), path).toBe(true);
    await expect(
      renderSnapshot(ctx, project, 'strict', OPTIONS.anonymize, ALL, AT, { onePassFallback: false }),
    ).rejects.toThrow('listing with ETags is down');
  }, 60_000);

  it('a completed snapshot is never rewritten: a second attempt returns it as it is', async () => {
    const { ctx, project } = await setup(PROJECTS.text);
    const paths = projectPaths(project);
    const formats = ['JSON', 'CSV', 'CONLL2003'];
    const first = await renderSnapshot(ctx, project, 'once', OPTIONS.defaults, formats, AT, {
      segmentShards: 2,
    });
    const before = await filesOf(ctx, paths.snapshot('once'));
    // The state changes, then the same snapshot is attempted again (a retried request), both ways.
    const t = lsTask(31);
    const o = objectsOf(t, 'task')[0];
    await ctx.store(SRC).put(o.key, o.body);
    await ingestChanges(ctx, [change(o.key)]);
    const again = await renderSnapshot(ctx, project, 'once', OPTIONS.defaults, formats, AT, {
      segmentShards: 2,
    });
    const onePass = await renderSnapshotOnePass(ctx, project, 'once', OPTIONS.defaults, formats, AT);
    for (const s of [again, onePass]) {
      expect(s.existing).toBe(true);
      expect(JSON.stringify({ base: s.base, converted: s.converted })).toBe(
        JSON.stringify({ base: first.base, converted: first.converted }),
      );
    }
    const after = await filesOf(ctx, paths.snapshot('once'));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [path, bytes] of before) expect(after.get(path)!.equals(bytes), path).toBe(true);
    // The manifest is create-only.
    await expect(
      writeSnapshotManifest(ctx, project, first.base, first.converted, OPTIONS.defaults, AT),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    // A new snapshot sees the new task.
    const later = await renderSnapshot(ctx, project, 'later', OPTIONS.defaults, formats, AT, {
      segmentShards: 2,
    });
    expect(later.base.counts.tasks).toBe(first.base.counts.tasks + 1);
  }, 60_000);

  it('an attempt that stopped before its manifest is completed by the next one', async () => {
    const { ctx, project } = await setup(PROJECTS.text);
    const paths = projectPaths(project);
    const prefix = paths.snapshot('retry');
    await renderSnapshotOnePass(ctx, project, 'ref', OPTIONS.defaults, ['JSON', 'CSV'], AT);
    await ctx.store(OUT).put(`${prefix}snapshot.json`, '[{"partial": tru');
    await ctx.store(OUT).put(`${prefix}CSV/result.csv`, 'half a file');
    const s = await renderSnapshot(ctx, project, 'retry', OPTIONS.defaults, ['JSON', 'CSV'], AT, {
      segmentShards: 2,
      onePassFallback: false,
    });
    expect(s.existing).toBeUndefined();
    const want = await filesOf(ctx, paths.snapshot('ref'));
    const got = await filesOf(ctx, prefix);
    for (const path of ['snapshot.json', 'CSV/result.csv'])
      expect(got.get(path)!.toString('utf8'), path).toBe(want.get(path)!.toString('utf8'));
    expect(got.has('manifest.json')).toBe(true);
  }, 60_000);
});
