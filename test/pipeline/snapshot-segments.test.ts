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
import { readAll } from '../../functions/core/object-store.ts';
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
