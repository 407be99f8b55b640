/**
 * Snapshots rendered by the segment engine (segments-snapshot.ts renderSnapshot) write, byte for
 * byte, what the one-pass path writes (snapshot.ts renderSnapshotOnePass: snapshot.json first,
 * then each format converted from it) — for text, image bbox, polygon, keypoint, brush and audio
 * projects, every format the catalogue has (those a config does not support are skipped alike),
 * several snapshot options, and an empty project: every file under the snapshot's prefix
 * (snapshot.json, each format's files, the zips), the manifest and the results the records get.
 * Segments are small (2 shards of 4 tasks), so every non-empty project has several. Also: a format
 * that falls back to one run is converted from the engine's snapshot.json, each shard read once.
 * In the `slow` project (vitest.config.ts).
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { expectSameAsOnePass, OPTIONS, PROJECTS, setup, watchOut } from './snapshot-fixtures.ts';

describe('snapshots by segments equal the one-pass snapshot, byte for byte', () => {
  const cases: Array<[string, string[]]> = [
    ['text', Object.keys(OPTIONS)],
    ['image-bbox', ['defaults', 'anonymize']],
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
    }, 600_000);
  }
});

describe('snapshots by segments: a format that falls back', () => {
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
  }, 600_000);
});
