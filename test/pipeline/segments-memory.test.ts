/**
 * The assemble step of a render by segments holds one segment's aggregate body at a time, not
 * every rendered segment's: rendered bodies wait in the spool (a local folder) and each file is
 * made and streamed segment by segment (COCO ids shifted and CSV rows re-laid per segment). The
 * manifest's `timings.segments.peakHeldBytes` (most aggregate bytes the assemble step held at
 * once) stays flat when a full render has 4× the segments, while the files grow 4×.
 */
import { describe, expect, it } from 'vitest';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
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

const FORMATS = ['JSON', 'JSON_MIN', 'CSV', 'COCO', 'CONLL2003'];

/** A full render of `n` tasks (4 per shard, 2 shards per segment: 8 tasks per segment). */
async function fullRender(n: number, kind: 'image-bbox' | 'text-ner') {
  const config = makeConfig({
    kind,
    formats: FORMATS,
    settings: { shardTasks: 4, keyShards: 4 },
  });
  const ctx = fsContext(await tempDir(), config);
  const project = config.projects[0];
  const changes = [];
  for (let i = 1; i <= n; i++) {
    const o = objectsOf(lsTask(i, 1, kind), 'task')[0];
    await ctx.store(SRC).put(o.key, o.body);
    changes.push(change(o.key));
  }
  await ingestChanges(ctx, changes);
  await renderLatest(ctx, project, { segmentShards: 2 });
  const m = await readJsonObject<Manifest>(ctx.store(OUT), projectPaths(project).latestManifest);
  const seg = m.timings!.segments! as { total: number; rendered: number; peakHeldBytes?: number };
  // The largest aggregate file (every task's text in one file).
  let largest = 0;
  for (const f of m.formats)
    for (const x of f.files ?? [])
      if (/result\.(json|csv|conll)$/.test(x.path)) largest = Math.max(largest, x.bytes);
  return { segments: seg.total, rendered: seg.rendered, peak: seg.peakHeldBytes ?? Number.NaN, largest };
}

describe('render by segments: the assemble step holds one segment body at a time', () => {
  for (const kind of ['image-bbox', 'text-ner'] as const)
    it(`${kind}: peak held aggregate bytes flat from 7 to 25 segments (files 4× larger)`, async () => {
      const small = await fullRender(48, kind);
      const large = await fullRender(192, kind);
      // Task ids from 1: 7 and 25 segments.
      expect(small.segments).toBe(7);
      expect(large.segments).toBe(25);
      expect(large.rendered).toBe(25);
      expect(large.largest).toBeGreaterThan(small.largest * 3);
      // One segment's body (raw writer output + the body made from it), not the file.
      expect(large.peak).toBeGreaterThan(0);
      expect(large.peak).toBeLessThan(small.peak * 1.5);
      expect(large.peak).toBeLessThan(large.largest / 6);
    }, 120_000);
});
