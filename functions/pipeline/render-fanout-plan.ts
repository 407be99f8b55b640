/**
 * Plan step of a `latest/` render fanned out over separate invocations (DESIGN.md "Render
 * fan-out"; the job's objects: render-fanout-job.ts): the same engine as renderLatest (plan →
 * segment workers → assemble), its steps callable one by one — by the render state machine's
 * Lambdas (plan, Distributed Map of segment batches, commit) or in one process by tests and the
 * local tools. planRender takes the project's render lock (owner: the execution name), writes
 * `_state/render-inflight.json` (segment workers write under `latest/` before any manifest) and the
 * changed segments' jobs as a JSON array `_state/render-fanout/<owner>/items.json` (the Map's
 * ItemReader); it returns a small reference. Per-task files are compared before they are written,
 * as in-process: the plan stores, per changed segment, the previous manifest's entries of the
 * per-task paths the segment index attributes to it (`_state/render-fanout/<owner>/previous/
 * <segment>.json`; no manifest travels in the state, no child reads the whole manifest).
 */
import { mapLimit } from '../core/bounded-map.ts';
import type { FormatName } from '../core/config/formats.ts';
import { Report } from '../core/report.ts';
import type { ProjectConfig } from './config.ts';
import type { PipelineContext } from './context.ts';
import type { WrittenFile } from './hashing-sink.ts';
import { loadLabelConfig } from './label-config.ts';
import type { Manifest } from './manifest.ts';
import { readJson } from './object-text.ts';
import { type InflightDoc, isCurrent, mayReuseSegments } from './render.ts';
import {
  type FanoutRef,
  fanoutPrefix,
  JSON_TYPE,
  type PreviousSlice,
  previousSliceKey,
} from './render-fanout-job.ts';
import { segmentContext } from './render-fanout-segments.ts';
import {
  DEFAULT_SEGMENT_SHARDS,
  planSegments,
  type SegmentIndex,
  type SegmentJob,
  segmentIndexKey,
} from './segments.ts';
import { fingerprint, reusable } from './segments-latest.ts';
import { emptyRun } from './segments-render.ts';
import { acquireLock, loadHead, projectStore, releaseLock } from './state.ts';

export type PlanResult =
  | { status: 'planned'; ref: FanoutRef }
  | { project: string; status: 'busy' | 'up-to-date'; segments: 0 };
/**
 * Plan step: takes the lock as `owner`, decides whether a render is needed and writes the changed
 * segments' jobs for the ItemReader. Busy (another owner holds the lock: the dirty marker is
 * rewritten, as renderLatest does) and up-to-date renders return without items.
 */
export async function planRender(
  ctx: PipelineContext,
  project: ProjectConfig,
  options: { owner: string; force?: boolean; segmentShards?: number },
): Promise<PlanResult> {
  const ps = projectStore(ctx, project);
  const { owner } = options;
  if (!(await acquireLock(ctx, ps, owner))) {
    await ps.store.put(
      ps.paths.dirty,
      JSON.stringify({ at: ctx.now().toISOString(), reason: 'render busy' }),
      JSON_TYPE,
    );
    return { project: project.id, status: 'busy', segments: 0 };
  }
  try {
    const head = await loadHead(ctx, ps);
    const current = (await readJson<Manifest>(ps.store, ps.paths.latestManifest))?.value;
    const inflight = (await readJson<InflightDoc>(ps.store, ps.paths.renderInflight))?.value;
    // Read before the segments' schema (segmentContext); the commit records this digest.
    const labelConfig = (await loadLabelConfig(ctx, project)).sha256;
    if (!options.force && !inflight && current && isCurrent(current, head.version, project, labelConfig)) {
      await releaseLock(ps, owner);
      return { project: project.id, status: 'up-to-date', segments: 0 };
    }
    const started = ctx.now();
    const segmentShards = options.segmentShards ?? DEFAULT_SEGMENT_SHARDS;
    const rc = await segmentContext(ctx, ps, started, new Report(), {}, labelConfig);
    let jobs: SegmentJob[] = [];
    let total = 0;
    // The previous files are compared only after a committed render of the fixed layout (as in
    // renderLatest, where a failed render's record or an older layout means rewriting everything).
    const compareWith = current && current.layout === 'fixed' && !inflight ? current : undefined;
    let slices: Map<string, PreviousSlice> | undefined;
    if (rc.formats.length > 0) {
      // The index of the manifest's render: its segments' per-task paths (whatever its fingerprint).
      const doc = compareWith
        ? (await readJson<SegmentIndex>(ps.store, segmentIndexKey(ps.paths.state)))?.value
        : undefined;
      const ofManifest = doc && doc.renderId === compareWith?.id ? doc : undefined;
      // The same reuse rule as renderLatest: not forced, same fingerprint, every summary present.
      let prevIndex: SegmentIndex | undefined;
      if (ofManifest && compareWith && !options.force && mayReuseSegments(compareWith, labelConfig)) {
        const empty = await emptyRun(rc);
        const fp = fingerprint(rc.schema, rc.formats, rc.options, project, segmentShards);
        if (ofManifest.fingerprint === fp && reusable(ofManifest, empty.files)) prevIndex = ofManifest;
      }
      const plan = await planSegments(ps.store, ps.paths.taskShards, segmentShards, prevIndex);
      jobs = plan.segments.filter((s) => plan.changed.has(s.id));
      // Formats the reused index says fell back run over every task in the commit (renderLatest's
      // `carried`): a worker rendering them would only write per-task files the commit discards
      // (and then rewrites every file of the format).
      const skip = rc.formats.filter((f) => prevIndex?.fallback?.[f] !== undefined);
      if (skip.length > 0) jobs = jobs.map((j) => ({ ...j, skip }));
      total = plan.segments.length;
      if (compareWith && ofManifest) slices = previousSlices(compareWith, ofManifest, jobs, rc.formats);
    }
    // A failed render's record is kept (the commit then rewrites latest/ in full), with this
    // plan's label config digest for the commit to record in the manifest.
    const doc: InflightDoc = inflight
      ? { ...inflight, plannedBy: owner, labelConfigSha256: labelConfig }
      : {
          owner,
          renderId: `fanout-${owner}`,
          startedAt: started.toISOString(),
          labelConfigSha256: labelConfig,
        };
    await ps.store.put(ps.paths.renderInflight, JSON.stringify(doc), JSON_TYPE);
    // One small object per changed segment (≈ its tasks' per-task entries), 8 PUTs at a time.
    await mapLimit([...(slices ?? [])], 8, ([id, slice]) =>
      ps.store.put(previousSliceKey(ps, owner, id), JSON.stringify(slice), JSON_TYPE),
    );
    const itemsKey = `${fanoutPrefix(ps, owner)}items.json`;
    await ps.store.put(itemsKey, JSON.stringify(jobs), JSON_TYPE);
    return {
      status: 'planned',
      ref: {
        kind: 'latest',
        snapshot: null,
        project: project.id,
        owner,
        startedAt: started.toISOString(),
        segmentShards,
        force: options.force ?? false,
        items: { bucket: project.export.bucket, key: itemsKey },
        segments: jobs.length,
        total,
      },
    };
  } catch (err) {
    await releaseLock(ps, owner).catch(() => {});
    throw err;
  }
}

/**
 * Per changed segment that had per-task files, the manifest's entries of the paths `index` (the
 * manifest's segment index) lists for it, by format. Segments without any are left out.
 */
function previousSlices(
  manifest: Manifest,
  index: SegmentIndex,
  jobs: SegmentJob[],
  formats: FormatName[],
): Map<string, PreviousSlice> {
  const byFormat = new Map<FormatName, Map<string, WrittenFile>>();
  for (const f of manifest.formats)
    if (formats.includes(f.format as FormatName))
      byFormat.set(f.format as FormatName, new Map((f.files ?? []).map((x) => [x.path, x])));
  const entries = new Map(index.segments.map((e) => [e.id, e]));
  const out = new Map<string, PreviousSlice>();
  for (const job of jobs) {
    const entry = entries.get(job.id);
    if (!entry) continue;
    const slice: PreviousSlice = { format: 1, manifest: manifest.id, files: {} };
    let n = 0;
    for (const f of formats) {
      const files = byFormat.get(f);
      const found = (entry.formats[f]?.files ?? []).flatMap((path) => {
        const x = files?.get(path);
        return x ? [x] : [];
      });
      if (found.length === 0) continue;
      slice.files[f] = found;
      n += found.length;
    }
    if (n > 0) out.set(job.id, slice);
  }
  return out;
}
