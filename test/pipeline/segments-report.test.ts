/**
 * The manifest's report does not depend on how the project is cut into segments (QA s6 F4): the
 * same state rendered with segments of 1 shard and with one segment lists the same entries (the
 * first 100 in task order), the same counts, and `truncated` alike.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import { change, fsContext, lsTask, makeConfig, objectsOf, putAll, SRC, tempDir } from './helpers.ts';

/** Task `i` with one more result, of a control the label config does not have (skipped per task). */
function taskWithGhost(i: number): JsonObject {
  const t = lsTask(i);
  const annotations = (t.annotations as JsonObject[]) ?? [];
  if (annotations.length === 0) t.annotations = annotations;
  if (annotations.length === 0) annotations.push({ id: i * 1000, result: [] } as unknown as JsonObject);
  (annotations[0].result as JsonObject[]).push({
    id: `ghost-${i}`,
    from_name: 'ghost',
    to_name: 'text',
    type: 'labels',
    value: { start: 0, end: 1, labels: ['X'] },
  } as unknown as JsonObject);
  return t;
}

async function renderWith(
  segmentShards: number,
  tasks: number,
  config = makeConfig({ formats: ['JSON_MIN', 'CSV'] }),
  task: (i: number) => JsonObject = taskWithGhost,
) {
  const ctx = fsContext(await tempDir(), config);
  const changes = [];
  for (let i = 1; i <= tasks; i++) {
    const objects = objectsOf(task(i), 'task');
    await putAll(ctx.store(SRC), objects);
    changes.push(...objects.map((o) => change(o.key)));
  }
  await ingestChanges(ctx, changes);
  const r = await renderLatest(ctx, ctx.config.projects[0], { segmentShards });
  return { report: r.manifest!.report, segments: r.manifest!.timings!.segments! };
}

describe('the manifest report and segmentation', () => {
  it('one shard per segment and one segment give the same report', async () => {
    const small = await renderWith(1, 160);
    const one = await renderWith(1000, 160);
    expect(small.segments.total).toBeGreaterThan(30);
    expect(one.segments.total).toBe(1);
    const entries = (r: typeof small.report) => ({
      skipped: r.skipped,
      warnings: r.warnings,
      skippedCount: r.skippedCount,
      warningCount: r.warningCount,
      truncated: r.truncated,
    });
    expect(small.report.skippedCount).toBeGreaterThan(100);
    expect(small.report.skipped.length).toBe(100);
    expect(small.report.truncated).toBe(true);
    expect(entries(small.report)).toEqual(entries(one.report));
    // In task order: the first entries are task 1's.
    expect(small.report.skipped[0].taskId).toBe(1);
  });

  it('a label config warning, raised by every segment, is counted once (review s11 F5)', async () => {
    // A label with a category YOLO does not use: warned once per run, not per task.
    const config = makeConfig({ kind: 'image-bbox', formats: ['YOLO'] });
    const project = config.projects[0];
    if (!('inline' in project.labelConfig)) throw new Error('inline label config expected');
    const inline = project.labelConfig.inline.replace(
      /<Label value="([^"]*)"\s*\/>/,
      '<Label value="$1" category="x"/>',
    );
    expect(inline).not.toBe(project.labelConfig.inline);
    project.labelConfig = { inline };
    const small = await renderWith(1, 40, config, (i) => lsTask(i, 1, 'image-bbox'));
    const one = await renderWith(1000, 40, structuredClone(config), (i) => lsTask(i, 1, 'image-bbox'));
    expect(small.segments.total).toBeGreaterThan(5);
    expect(one.segments.total).toBe(1);
    expect(small.report.warnings.some((w) => w.source === 'label config')).toBe(true);
    expect(small.report.warningCount).toBe(small.report.warnings.length);
    expect(small.report.truncated).toBe(false);
    expect(small.report).toEqual(one.report);
  });

  it('a format that falls back to a run over every task adds no more than the first 100 entries (review s11 F6)', async () => {
    // Every task has a label outside the config: YOLO falls back, and its run reports each task.
    const outside = (i: number) => {
      const t = lsTask(i, 1, 'image-bbox');
      for (const a of (t.annotations as JsonObject[]) ?? [])
        for (const r of (a.result as JsonObject[]) ?? [])
          (r.value as JsonObject).rectanglelabels = ['NotInTheConfig'];
      return t;
    };
    const config = () => makeConfig({ kind: 'image-bbox', formats: ['JSON_MIN', 'YOLO'] });
    const small = await renderWith(1, 160, config(), outside);
    const one = await renderWith(1000, 160, config(), outside);
    expect(Object.keys(small.segments.fallback ?? {})).toEqual(['YOLO']);
    for (const r of [small.report, one.report]) {
      expect(r.skippedCount + r.warningCount).toBeGreaterThan(150);
      expect(r.skipped.length).toBeLessThanOrEqual(100);
      expect(r.warnings.length).toBeLessThanOrEqual(100);
      expect(r.truncated).toBe(true);
    }
    // Not yet independent of the segments: the segment pass of the format that fell back raised
    // its own warnings (one "added as category" per segment), and they stay in the merged report.
    expect(small.report.skipped).toEqual(one.report.skipped);
  });
});
