/**
 * A render by segments of a project with no task (no segment) writes what one run over no task
 * writes: the CSV/TSV header of the writer's metadata columns, not an empty line; the other
 * aggregate files their empty frames.
 */
import { describe, expect, it } from 'vitest';
import type { FormatName } from '../../functions/core/config/formats.ts';
import { runProjectExport } from '../../functions/pipeline/export-run.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import { fsContext, makeConfig, OUT, readText, tempDir } from './helpers.ts';

describe('latest/ by segments with no task', () => {
  it('every aggregate file equals a full run over no task (CSV/TSV: the metadata header)', async () => {
    const formats: FormatName[] = ['JSON', 'JSON_MIN', 'CSV', 'TSV', 'CONLL2003'];
    const ctx = fsContext(await tempDir(), makeConfig({ formats }));
    const project = ctx.config.projects[0];
    const paths = projectPaths(project);
    const r = await renderLatest(ctx, project, { segmentShards: 2 });
    expect(r.manifest?.timings?.segments?.total).toBe(0);
    await runProjectExport(ctx, {
      project,
      store: ctx.store(OUT),
      prefix: `${paths.base}full/`,
      formats,
      now: ctx.now(),
    });
    const csv = await readText(ctx.store(OUT), `${paths.latestFormat('CSV')}result.csv`);
    expect(csv).toBe('"annotation_id","annotator","created_at","lead_time","updated_at"\r\n');
    for (const [format, path] of [
      ['JSON', 'result.json'],
      ['JSON_MIN', 'result.json'],
      ['CSV', 'result.csv'],
      ['TSV', 'result.csv'],
      ['CONLL2003', 'result.conll'],
    ])
      expect(await readText(ctx.store(OUT), `${paths.latestFormat(format)}${path}`), format).toBe(
        await readText(ctx.store(OUT), `${paths.base}full/${format}/${path}`),
      );
  });
});
