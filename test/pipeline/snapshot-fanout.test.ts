/**
 * Snapshot jobs of the fan-out (snapshot-fanout.ts) over every format of the catalogue: plan →
 * segment batches (all at once) → commit, called in-process on the folder store, give the same
 * files, byte for byte, as the in-process snapshot of the same export options (exports-worker.ts
 * runSnapshot without a fan-out port) — for an image project with readable media (image copies of
 * the *_WITH_IMAGES formats, zips) and a brush project, each with two option sets.
 */
import { describe, expect, it } from 'vitest';
import type { FormatName } from '../../functions/core/config/formats.ts';
import type { SnapshotOptions } from '../../functions/pipeline/config.ts';
import { LabelConfigChangedError } from '../../functions/pipeline/errors.ts';
import { createRecord, type ExportRecord, getRecord } from '../../functions/pipeline/exports-records.ts';
import { runSnapshot } from '../../functions/pipeline/exports-worker.ts';
import { labelConfigDigest } from '../../functions/pipeline/label-config.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import type { SegmentJob } from '../../functions/pipeline/segments.ts';
import {
  commitSnapshotFanout,
  planSnapshot,
  renderSnapshotSegmentJobs,
} from '../../functions/pipeline/snapshot-fanout.ts';
import { readJsonObject } from './helpers.ts';
import { ALL, filesOf, OPTIONS, PROJECTS, type Setup, setup } from './snapshot-fixtures.ts';

async function record(s: Setup, options: SnapshotOptions): Promise<ExportRecord> {
  return createRecord(s.ctx, s.project, { options, trigger: 'api', formats: ALL as FormatName[] });
}

/** The fan-out's steps for one export: plan (1 shard a segment), batches of 2, commit. */
async function fanout(s: Setup, r: ExportRecord, owner: string) {
  const plan = await planSnapshot(s.ctx, s.project, { owner, exportId: r.id, segmentShards: 1 });
  if (plan.status !== 'planned') throw new Error(`not planned: ${plan.status}`);
  const { ref } = plan;
  const items = await readJsonObject<SegmentJob[]>(s.ctx.store(ref.items.bucket), ref.items.key);
  const batches: SegmentJob[][] = [];
  for (let i = 0; i < items.length; i += 2) batches.push(items.slice(i, i + 2));
  const snapshot = ref.snapshot!;
  await Promise.all(batches.map((b) => renderSnapshotSegmentJobs(s.ctx, s.project, { ...ref, snapshot }, b)));
  // The ranges of stored bodies the commit reads (the workers summarized them: each once).
  const store = s.ctx.store(ref.items.bucket);
  const get = store.get.bind(store);
  const bodyReads: string[] = [];
  // Per-task files the commit reads back (its zips take the workers' records instead).
  const fileReads: string[] = [];
  store.get = async (key, range) => {
    if (key.endsWith('.bodies')) bodyReads.push(`${key} ${range?.start}-${range?.end}`);
    if (/\/(labels|Annotations|images|masks)\//.test(key)) fileReads.push(key);
    return get(key, range);
  };
  try {
    const commit = await commitSnapshotFanout(s.ctx, s.project, { ...ref, snapshot });
    return { items, commit, bodyReads, fileReads };
  } finally {
    store.get = get;
  }
}

describe('snapshot jobs: every format, byte for byte', () => {
  for (const [name, options] of [
    ['image-bbox', ['onlyAnnotated', 'anonymize']],
    ['brush', ['defaults', 'skippedAnnotations']],
  ] as const)
    it(`${name}: the fanned-out snapshot equals the in-process one (${options.join(', ')})`, async () => {
      const s = await setup(PROJECTS[name]);
      const paths = projectPaths(s.project);
      for (const label of options) {
        const inProcess = await runSnapshot(s.ctx, s.project, await record(s, OPTIONS[label]));
        expect(inProcess.status).toBe('completed');
        const r = await record(s, OPTIONS[label]);
        const { items, commit, bodyReads, fileReads } = await fanout(s, r, `snapshot-${r.id}`);
        expect(items.length).toBeGreaterThan(2);
        expect(fileReads, label).toEqual([]);
        expect(commit.stored).toBe(items.length);
        expect(bodyReads.length).toBeGreaterThan(items.length);
        expect(bodyReads.length, label).toBe(new Set(bodyReads).size);
        const a = r.snapshot.name;
        const b = inProcess.snapshot.name;
        const got = await filesOf(s.ctx, paths.snapshot(a));
        const want = await filesOf(s.ctx, paths.snapshot(b));
        expect([...got.keys()].sort(), label).toEqual([...want.keys()].sort());
        // With the first option set: multi-file formats, zipped (the second may leave too few tasks).
        if (label === options[0])
          expect(
            [...got.keys()].some((k) => k.endsWith('.zip')),
            label,
          ).toBe(true);
        for (const [path, bytes] of want) {
          if (path === 'export.json') continue;
          if (path === 'manifest.json')
            expect(got.get(path)!.toString().replaceAll(a, b), label).toBe(bytes.toString());
          else expect(got.get(path)!.equals(bytes), `${label}: ${path}`).toBe(true);
        }
        const done = await getRecord(s.ctx, s.project, r.id);
        const view = (x: ExportRecord, n: string) =>
          JSON.stringify({
            status: x.status,
            md5: x.md5,
            counters: x.counters,
            formats: x.converted_formats.map(({ id: _id, ...c }) => c),
          }).replaceAll(n, 'NAME');
        expect(view(done, a), label).toBe(view(inProcess, b));
      }
    }, 120_000);
});

describe('snapshot jobs: one label config per snapshot', () => {
  it('the plan records the config digest; a worker that finds another config fails (no snapshot mixes two)', async () => {
    const s = await setup(PROJECTS['image-bbox']);
    const r = await record(s, {} as SnapshotOptions);
    const plan = await planSnapshot(s.ctx, s.project, {
      owner: 'snap-cfg',
      exportId: r.id,
      segmentShards: 1,
    });
    if (plan.status !== 'planned') throw new Error(`not planned: ${plan.status}`);
    const before = s.project.labelConfig as { inline: string };
    expect(plan.ref.snapshot!.labelConfigSha256).toBe(labelConfigDigest(before.inline));
    // The config changes after the plan (a deploy, or an upload of an S3 config).
    (s.project as { labelConfig: unknown }).labelConfig = {
      inline: before.inline.replace('<View>', '<View >'),
    };
    const items = await readJsonObject<SegmentJob[]>(s.ctx.store(plan.ref.items.bucket), plan.ref.items.key);
    const snapshot = plan.ref.snapshot!;
    await expect(
      renderSnapshotSegmentJobs(s.ctx, s.project, { ...plan.ref, snapshot }, items.slice(0, 1)),
    ).rejects.toThrow(LabelConfigChangedError);
    await expect(commitSnapshotFanout(s.ctx, s.project, { ...plan.ref, snapshot })).rejects.toThrow(
      LabelConfigChangedError,
    );
  });
});
