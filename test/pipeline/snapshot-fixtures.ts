/**
 * Fixture projects, snapshot options and comparisons shared by the snapshot-by-segments tests
 * (snapshot-segments.test.ts, snapshot-immutable.test.ts)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { CONFIGS } from '../../bench/generate.ts';
import { FORMAT_NAMES } from '../../functions/core/config/formats.ts';
import { parseJson } from '../../functions/core/json/parse.ts';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { type ObjectStore, readAll } from '../../functions/core/object-store.ts';
import { parseConfig, type SnapshotOptions, snapshotOptionsSchema } from '../../functions/pipeline/config.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderSnapshot } from '../../functions/pipeline/segments-snapshot.ts';
import { type RenderedSnapshot, renderSnapshotOnePass } from '../../functions/pipeline/snapshot.ts';
import { jpegBytes } from '../core/images/fake-media.ts';
import { change, type FsContext, fsContext, lsTask, OUT, objectsOf, SRC, tempDir } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const fixture = (...p: string[]) => readFileSync(join(FIXTURES, ...p), 'utf8');
const MEDIA = 'ls-media';
export const AT = new Date('2026-03-01T10:15:00.000Z');

/** Every format of the catalogue, and a name that is none (skipped as `unknown format`). */
export const ALL = ['JSON', ...FORMAT_NAMES.filter((f) => f !== 'JSON'), 'NOT_A_FORMAT'];

const opts = (o: unknown): SnapshotOptions => snapshotOptionsSchema.parse(o);
export const OPTIONS: Record<string, SnapshotOptions> = {
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

export interface Project {
  config: string;
  tasks: () => JsonObject[];
  media?: boolean;
}

export const PROJECTS: Record<string, Project> = {
  text: { config: CONFIGS['text-ner'], tasks: () => Array.from({ length: 30 }, (_, i) => lsTask(i + 1)) },
  'image-bbox': {
    config: CONFIGS['image-bbox'],
    tasks: () => Array.from({ length: 18 }, (_, i) => lsTask(i + 1, 1, 'image-bbox')),
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

export async function setup(
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
export async function filesOf(ctx: FsContext, prefix: string): Promise<Map<string, Buffer>> {
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
export async function expectSameAsOnePass(
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
export type Setup = Awaited<ReturnType<typeof setup>>;

/** The export bucket's store, recording the keys read and able to fail the segment plan's listing. */
export function watchOut(ctx: FsContext) {
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
