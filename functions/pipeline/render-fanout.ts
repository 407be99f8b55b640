/**
 * A `latest/` render fanned out over separate invocations (DESIGN.md "Render fan-out"): the same
 * engine as renderLatest (plan → segment workers → assemble), its steps callable one by one — by
 * the render state machine's Lambdas (plan, Distributed Map of segment batches, commit) or in one
 * process by tests and the local tools.
 *  - planRender takes the project's render lock (owner: the execution name), writes
 *    `_state/render-inflight.json` (segment workers write under `latest/` before any manifest) and
 *    the changed segments' jobs as a JSON array `_state/render-fanout/<owner>/items.json` (the
 *    Map's ItemReader); it returns a small reference.
 *  - renderSegmentJobs renders jobs (one ItemBatcher batch) and stores each output as
 *    `_state/render-fanout/<owner>/segments/<segment>.json` (aggregate bodies, summaries, per-task
 *    files written).
 *  - commitRender runs renderLatest with the lock already held (a failed render's inflight record,
 *    kept by the plan, still makes it rewrite `latest/` in full): it plans again, takes each stored
 *    output whose shard ETags still match (renders a segment here when none does: the state moved
 *    on after the plan), assembles with UploadPartCopy, writes the segment index and the manifest
 *    last, deletes the job's objects and releases the lock.
 *  - abortRender (the state machine's Catch) releases the lock and deletes the job's objects
 *    without touching the manifest; the inflight record stays, so the next render rewrites
 *    `latest/` in full, and the dirty marker is rewritten so that render happens.
 * Per-task files are compared before they are written, as in-process: the plan stores, per changed
 * segment, the previous manifest's entries of the per-task paths the segment index attributes to it
 * (`_state/render-fanout/<owner>/previous/<segment>.json`; no manifest travels in the state, no
 * child reads the whole manifest), the child's sinks compare against them and carry unchanged
 * entries (version ids included) over, and the commit adopts each file as written or unchanged. A
 * file a child wrote without a previous entry to compare with (no segment index, or a path that
 * moved between segments) is adopted as unchanged when its bytes equal the commit's previous
 * manifest entry, so the manifest is the in-process render's, byte for byte.
 * The lock is renewed (render-lock.ts) by every segment job before it renders and by the commit:
 * a step whose lock was taken over throws RenderLockLostError before writing.
 * The same steps run snapshot jobs (FanoutRef `kind: 'snapshot'`, snapshot-fanout.ts), which reuse
 * the stored-segment format and helpers exported here but take no lock.
 */
import { mapLimit } from '../core/bounded-map.ts';
import type { FormatName } from '../core/config/formats.ts';
import { parseExportOptions } from '../core/formats/options.ts';
import { Report } from '../core/report.ts';
import type { ProjectConfig, SnapshotOptions } from './config.ts';
import { snapshotOptionsSchema } from './config.ts';
import type { PipelineContext } from './context.ts';
import { loadSchema, planFormats, projectMedia } from './export-run.ts';
import type { WrittenFile } from './hashing-sink.ts';
import { loadLabelConfig } from './label-config.ts';
import type { Manifest } from './manifest.ts';
import { readJson } from './object-text.ts';
import { PublishSink, type PublishStats } from './publish-sink.ts';
import { type InflightDoc, isCurrent, mayReuseSegments, type RenderResult, renderLatest } from './render.ts';
import { fenceLock, renewLock } from './render-lock.ts';
import {
  DEFAULT_SEGMENT_SHARDS,
  planSegments,
  type SegmentEntry,
  type SegmentIndex,
  type SegmentJob,
  segmentIndexKey,
} from './segments.ts';
import { SEGMENT_FORMATS } from './segments-codecs.ts';
import { fingerprint, reusable } from './segments-latest.ts';
import {
  emptyRun,
  renderSegment,
  type SegmentOutput,
  type SegmentRenderContext,
  type SegmentRunner,
  spoolOutput,
} from './segments-render.ts';
import { type AggregateBody, bodyText } from './segments-spool.ts';
import { snapshotTransform } from './snapshot-filter.ts';
import { acquireLock, loadHead, type ProjectStore, projectStore, releaseLock } from './state.ts';

/** What a snapshot fan-out renders (snapshot-fanout.ts): from its export record. */
export interface FanoutSnapshot {
  exportId: number;
  /** The snapshot's name (`snapshots/<name>/`). */
  name: string;
  /** The record's snapshot options (task/annotation filters, serialization, anonymize). */
  options: SnapshotOptions;
  /** The requested formats, Label Studio export type names, in the record's order. */
  formats: string[];
}

/** What the plan hands to the segment workers and the commit (small: it travels in the state). */
export interface FanoutRef {
  /** What the execution renders: `latest/`, or a snapshot (then `snapshot` says which). */
  kind: 'latest' | 'snapshot';
  /** Null for `latest` (present, so the state machine's paths always resolve). */
  snapshot: FanoutSnapshot | null;
  project: string;
  /** Lock owner and job id (the execution name). */
  owner: string;
  /** ISO time the segments render with (the manifest's createdAt; a snapshot's record created_at). */
  startedAt: string;
  segmentShards: number;
  /** Every segment is rendered (no reuse of the previous render's). */
  force: boolean;
  /** The ItemReader's JSON array of SegmentJob. */
  items: { bucket: string; key: string };
  /** Segments to render (items in the array) and segments in the project. */
  segments: number;
  total: number;
}

export type PlanResult =
  | { status: 'planned'; ref: FanoutRef }
  | { project: string; status: 'busy' | 'up-to-date'; segments: 0 };

/**
 * A per-task file as a segment worker left it: `carried` — its bytes equal the previous manifest's
 * entry, which is kept (version id included) and nothing was written; `blind` — written once with
 * no previous entry to compare with (the commit compares it with the full previous manifest).
 */
export type SegmentFile = WrittenFile & { carried?: true; blind?: true };

/** A stored segment output (`segments/<id>.json`). */
export interface StoredSegment {
  format: 2;
  owner: string;
  job: SegmentJob;
  entry: SegmentEntry;
  aggregate: Partial<Record<FormatName, Record<string, string>>>;
  files: Partial<Record<FormatName, SegmentFile[]>>;
  /** What the segment's sink of each format did (a path stored twice counts twice, as in-process). */
  stats: Partial<Record<FormatName, PublishStats>>;
  io: { shards: number; bytes: number };
  /** A snapshot's segment: its `snapshot.json` body (segments-snapshot.ts). */
  snapshot?: { text: string; tasks: number; annotations: number };
}

/** The previous manifest's entries of one segment's per-task paths (`previous/<id>.json`). */
interface PreviousSlice {
  format: 1;
  /** The manifest the entries come from. */
  manifest: string;
  files: Partial<Record<FormatName, WrittenFile[]>>;
}

/** `_state/render-fanout/<owner>/` of a project. */
export const fanoutPrefix = (ps: ProjectStore, owner: string) => `${ps.paths.state}render-fanout/${owner}/`;
/** Where a segment worker stores its output. */
export const segmentKey = (ps: ProjectStore, owner: string, id: string) =>
  `${fanoutPrefix(ps, owner)}segments/${id}.json`;
/** Where the plan leaves a changed segment's previous per-task entries for its worker. */
export const previousSliceKey = (ps: ProjectStore, owner: string, id: string) =>
  `${fanoutPrefix(ps, owner)}previous/${id}.json`;

const JSON_TYPE = { contentType: 'application/json' };
const LS_EXPORT_DEFAULTS = snapshotOptionsSchema.parse(undefined);

/**
 * The render's writer inputs for the formats rendered by segments; each format's sink compares
 * with `previous` (by format, path → previous manifest entry; none: writes everything).
 */
async function segmentContext(
  ctx: PipelineContext,
  ps: ProjectStore,
  now: Date,
  report: Report,
  previous: Partial<Record<FormatName, WrittenFile[]>> = {},
): Promise<SegmentRenderContext & { all: FormatName[] }> {
  const project = ps.project;
  const schema = await loadSchema(ctx, project);
  const { run } = planFormats(schema, project.formats);
  const formats = run.filter((f) => SEGMENT_FORMATS.has(f)).sort();
  const sinks = new Map<FormatName, PublishSink>();
  for (const f of formats)
    sinks.set(
      f,
      new PublishSink(
        ps.store,
        ps.paths.latestFormat(f),
        new Map((previous[f] ?? []).map((x) => [x.path, x])),
        { report },
      ),
    );
  return {
    schema,
    options: parseExportOptions(project.options),
    formats,
    all: run,
    store: ps.store,
    paths: ps.paths,
    transform: project.latest.serialization === 'export' ? snapshotTransform(LS_EXPORT_DEFAULTS) : undefined,
    media: projectMedia(ctx, project),
    now,
    sinks,
  };
}

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
    const rc = await segmentContext(ctx, ps, started, new Report());
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
      total = plan.segments.length;
      if (compareWith && ofManifest) slices = previousSlices(compareWith, ofManifest, jobs, rc.formats);
    }
    // A failed render's record is kept (the commit then rewrites latest/ in full).
    if (!inflight) {
      const doc: InflightDoc = {
        owner,
        renderId: `fanout-${owner}`,
        startedAt: started.toISOString(),
        labelConfigSha256: labelConfig,
      };
      await ps.store.put(ps.paths.renderInflight, JSON.stringify(doc), JSON_TYPE);
    }
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

/**
 * Segment step: renders `jobs` (one after the other) and stores each output. Before each job it
 * renews the render lock (throws RenderLockLostError, having written nothing for that job, when
 * `ref.owner` no longer holds it). Per-task files go to `latest/<FORMAT>/`, written only where
 * their bytes differ from the plan's previous slice of the segment; name-error skips of those
 * files join the segment's report. Returns counts.
 */
export async function renderSegmentJobs(
  ctx: PipelineContext,
  project: ProjectConfig,
  ref: Pick<FanoutRef, 'owner' | 'startedAt'>,
  jobs: SegmentJob[],
): Promise<{ segments: number; tasks: number; shardsRead: number; bytesRead: number }> {
  const ps = projectStore(ctx, project);
  const out = { segments: 0, tasks: 0, shardsRead: 0, bytesRead: 0 };
  for (const job of jobs) {
    await renewLock(ctx, ps, ref.owner);
    const slice = (await readJson<PreviousSlice>(ps.store, previousSliceKey(ps, ref.owner, job.id)))?.value;
    const report = new Report();
    const rc = await segmentContext(ctx, ps, new Date(ref.startedAt), report, slice?.files);
    const empty = await emptyRun(rc);
    const aggregatePaths = new Map([...empty.files].map(([f, m]) => [f, new Set(m.keys())]));
    const o = await renderSegment(rc, job, aggregatePaths);
    const r = report.toJSON();
    o.entry.report.skipped.push(...r.skipped);
    o.entry.report.warnings.push(...r.warnings);
    o.entry.report.skippedCount += r.skippedCount;
    o.entry.report.warningCount += r.warningCount;
    const doc = await storedSegment(ps, ref.owner, job, o, rc);
    await ps.store.put(segmentKey(ps, ref.owner, job.id), JSON.stringify(doc), JSON_TYPE);
    out.segments++;
    out.tasks += o.entry.counts.tasks;
    out.shardsRead += o.io.shards;
    out.bytesRead += o.io.bytes;
  }
  return out;
}

/**
 * The stored form of a rendered segment `o` of `job`: its aggregate bodies as text, and per format
 * the per-task files its sink (in `rc.sinks`, writing under `ps.paths.latestFormat`) holds, each
 * marked carried over (not written), written, or written blind (no previous entry compared).
 */
export async function storedSegment(
  ps: ProjectStore,
  owner: string,
  job: SegmentJob,
  o: SegmentOutput,
  rc: SegmentRenderContext,
): Promise<StoredSegment> {
  const doc: StoredSegment = {
    format: 2,
    owner,
    job,
    entry: o.entry,
    aggregate: {},
    files: {},
    stats: {},
    io: o.io,
  };
  for (const [f, m] of o.aggregate) {
    const texts: Record<string, string> = {};
    for (const [path, body] of m) texts[path] = await bodyText(body);
    doc.aggregate[f] = texts;
  }
  for (const f of rc.formats) {
    const own = new Set(o.entry.formats[f]?.files ?? []);
    const sink = rc.sinks.get(f)!;
    doc.stats[f] = { ...sink.stats };
    // Keys the sink stored, with how many times (a path written twice is not compared).
    const stores = new Map<string, number>();
    for (const k of sink.opened) stores.set(k, (stores.get(k) ?? 0) + 1);
    doc.files[f] = sink.files
      .filter((x) => own.has(x.path))
      .map((x): SegmentFile => {
        const n = stores.get(`${ps.paths.latestFormat(f)}${x.path}`) ?? 0;
        if (n === 0) return { ...x, carried: true };
        return n === 1 && !sink.previousEntry(x.path) ? { ...x, blind: true } : x;
      });
  }
  return doc;
}

/**
 * Lists a worker's per-task files in the commit's sink as renderLatest would have: carried over
 * (unchanged), or written — except a file written blind whose bytes equal the previous manifest's
 * entry, which keeps that entry (the previous version holds the same bytes) and counts as
 * unchanged. The sink's counts then follow the worker's (`stats`): a path the worker stored twice
 * counts twice, as in one shared sink in-process.
 */
export function adoptFiles(sink: PublishSink, files: SegmentFile[], stats: PublishStats | undefined): void {
  const before = { ...sink.stats };
  const want = { ...(stats ?? { written: 0, unchanged: 0, bytesWritten: 0 }) };
  for (const x of files) {
    const { carried, blind, ...entry } = x;
    const prev = blind ? sink.previousEntry(entry.path) : undefined;
    if (carried) sink.adopt(entry, false);
    else if (prev && prev.bytes === entry.bytes && prev.sha256 === entry.sha256) {
      sink.adopt({ ...prev, key: entry.key }, false);
      want.written--;
      want.bytesWritten -= entry.bytes;
      want.unchanged++;
    } else sink.adopt(entry, true);
  }
  if (!stats) return;
  // adopt() counts one write per file; the manifest's changes count every store.
  sink.stats.written = before.written + want.written;
  sink.stats.unchanged = before.unchanged + want.unchanged;
  sink.stats.bytesWritten = before.bytesWritten + want.bytesWritten;
}

/** Whether two jobs list the same shards with the same ETags. */
export const sameShards = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => a[k] === b[k]);

/** Commit step: assembles the stored segments and publishes the manifest (see the module comment). */
export async function commitRender(
  ctx: PipelineContext,
  project: ProjectConfig,
  ref: FanoutRef,
): Promise<RenderResult & { stored: number; renderedHere: number }> {
  const ps = projectStore(ctx, project);
  // Renewed here and again once the render has read the state: the commit then has a full TTL.
  await renewLock(ctx, ps, ref.owner);
  let stored = 0;
  let renderedHere = 0;
  const runner: SegmentRunner = async (rc, jobs, aggregatePaths) => {
    await renewLock(ctx, ps, ref.owner);
    const outs = new Map<string, SegmentOutput>();
    for (const job of jobs) {
      const doc = (await readJson<StoredSegment>(ps.store, segmentKey(ps, ref.owner, job.id)))?.value;
      if (doc?.format !== 2 || doc.owner !== ref.owner || !sameShards(doc.job.shards, job.shards)) {
        outs.set(job.id, await spoolOutput(rc, await renderSegment(rc, job, aggregatePaths)));
        renderedHere++;
        continue;
      }
      for (const [f, files] of Object.entries(doc.files) as [FormatName, SegmentFile[]][]) {
        const sink = rc.sinks.get(f);
        if (sink) adoptFiles(sink, files, doc.stats[f]);
      }
      // One stored segment in memory at a time: its bodies go to the render's spool.
      const aggregate = new Map<FormatName, Map<string, AggregateBody>>();
      for (const [f, m] of Object.entries(doc.aggregate) as [FormatName, Record<string, string>][])
        aggregate.set(f, new Map(Object.entries(m)));
      outs.set(job.id, await spoolOutput(rc, { entry: doc.entry, aggregate, io: doc.io }));
      stored++;
    }
    return outs;
  };
  const result = await renderLatest(ctx, project, {
    owner: ref.owner,
    force: ref.force,
    planned: { startedAt: new Date(ref.startedAt) },
    segmentShards: ref.segmentShards,
    segments: runner,
  });
  await removeFanoutJob(ctx, ps, ref.owner);
  return { ...result, stored, renderedHere };
}

/**
 * Abort step: deletes the job's objects and, if `owner` holds the lock, fences it (render-lock.ts
 * fenceLock: marked aborted, held `fenceSeconds` more, so a segment worker still running cannot
 * write after the next render; `released` says whether `owner` held it). The manifest is not
 * touched. Rewrites the dirty marker so the next render (which sees the inflight record and
 * rewrites `latest/` in full once the fence has run out) is scheduled.
 */
export async function abortRender(
  ctx: PipelineContext,
  project: ProjectConfig,
  owner: string,
  cause?: string,
  /** How long the aborted lock is held (default LAMBDA_MAX_SECONDS: no worker runs longer). */
  fenceSeconds?: number,
): Promise<{ project: string; status: 'aborted'; released: boolean }> {
  const ps = projectStore(ctx, project);
  await removeFanoutJob(ctx, ps, owner);
  // Not released: held (marked aborted) until any still-running segment worker has ended.
  const released = await fenceLock(ctx, ps, owner, cause ?? 'aborted', fenceSeconds);
  await ps.store.put(
    ps.paths.dirty,
    JSON.stringify({ at: ctx.now().toISOString(), reason: `render ${owner} failed` }),
    JSON_TYPE,
  );
  ctx.log('warn', 'render fan-out aborted', { project: project.id, owner, cause });
  return { project: project.id, status: 'aborted', released };
}

/** Deletes the objects of fan-out job `owner` (`_state/render-fanout/<owner>/`); failed deletes are logged. */
export async function removeFanoutJob(ctx: PipelineContext, ps: ProjectStore, owner: string): Promise<void> {
  for await (const o of ps.store.list(fanoutPrefix(ps, owner)))
    await ps.store
      .delete(o.key)
      .catch((err) => ctx.log('warn', 'delete failed', { key: o.key, error: String(err) }));
}
