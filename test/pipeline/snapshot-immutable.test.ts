/**
 * Snapshots by segments (segments-snapshot.ts): the same bytes at any worker concurrency, the
 * one-pass path when the engine fails, a completed snapshot never rewritten (create-only
 * manifest; a second attempt after the state changed returns it unchanged), an attempt that
 * stopped before its manifest completed by the next (what it left and the snapshot does not hold
 * removed, the name's reservation kept).
 */
import { describe, expect, it } from 'vitest';
import { PreconditionFailedError } from '../../functions/core/object-store.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderSnapshot } from '../../functions/pipeline/segments-snapshot.ts';
import { renderSnapshotOnePass, writeSnapshotManifest } from '../../functions/pipeline/snapshot.ts';
import { change, lsTask, OUT, objectsOf, SRC } from './helpers.ts';
import { ALL, AT, filesOf, OPTIONS, PROJECTS, setup, watchOut } from './snapshot-fixtures.ts';

describe('snapshots by segments: determinism, fallback, immutability', () => {
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

  it('an attempt that stopped before its manifest is completed by the next one, its leftovers removed', async () => {
    const { ctx, project } = await setup(PROJECTS.text);
    const paths = projectPaths(project);
    const prefix = paths.snapshot('retry');
    await renderSnapshotOnePass(ctx, project, 'ref', OPTIONS.defaults, ['JSON', 'CSV'], AT);
    await ctx.store(OUT).put(`${prefix}snapshot.json`, '[{"partial": tru');
    await ctx.store(OUT).put(`${prefix}CSV/result.csv`, 'half a file');
    // The name's reservation (createRecord), and files of a format the new attempt does not make.
    await ctx.store(OUT).put(`${prefix}export.json`, '{"exportId": 1}');
    await ctx.store(OUT).put(`${prefix}CONLL2003/result.conll`, 'stale');
    await ctx.store(OUT).put(`${prefix}YOLO.zip`, 'stale');
    const s = await renderSnapshot(ctx, project, 'retry', OPTIONS.defaults, ['JSON', 'CSV'], AT, {
      segmentShards: 2,
      onePassFallback: false,
    });
    expect(s.existing).toBeUndefined();
    const want = await filesOf(ctx, paths.snapshot('ref'));
    const got = await filesOf(ctx, prefix);
    for (const path of ['snapshot.json', 'CSV/result.csv'])
      expect(got.get(path)!.toString('utf8'), path).toBe(want.get(path)!.toString('utf8'));
    expect([...got.keys()].sort()).toEqual([
      'CSV/result.csv',
      'export.json',
      'manifest.json',
      'snapshot.json',
    ]);
    expect(got.get('export.json')!.toString('utf8')).toBe('{"exportId": 1}');
  }, 60_000);
});
