/**
 * A snapshot rendered by the segment engine (DESIGN.md "Snapshots"): the same plan → segment
 * workers → assemble as `latest/` (segments-latest.ts renderLatestFiles), with every segment
 * rendered (no previous version to copy from), the snapshot options applied per task in the
 * workers (snapshotTransform), and the files written under `snapshots/<name>/<FORMAT>/`.
 *
 * `snapshot.json` is one more aggregate file: each segment worker serializes the tasks it reads
 * (the transform's output, in the Python `json.dump` layout) into the segment's body, `t1, t2, …`;
 * the file is `[` + the non-empty bodies joined by `, ` + `]` — `[]` for no task — the bytes the
 * one-pass writer (snapshot.ts writeSnapshotFile) writes. It is written once every segment is
 * rendered, before any format falls back to one run over every task: such a run (a format outside
 * SEGMENT_FORMATS, or one whose segments cannot be put together byte for byte) reads `snapshot.json`,
 * as the one-pass conversion does, so every format describes the same tasks. With no format by
 * segments, the workers only serialize.
 *
 * When the engine fails, the snapshot is made by the one-pass path (renderSnapshotOnePass), which
 * fails formats one by one instead of the whole snapshot.
 *
 * A snapshot too large for one invocation is fanned out (snapshot-fanout.ts): segment workers in
 * other invocations render each segment and store its output and body; its commit runs
 * renderSnapshot with those (`tuning.stored`), so the assembly is this one.
 */

import { createHash } from 'node:crypto';
import { mapLimit } from '../core/bounded-map.ts';
import { isFormatName } from '../core/config/formats.ts';
import { runExport } from '../core/export.ts';
import { parseExportOptions } from '../core/formats/options.ts';
import { stringify } from '../core/json/serialize.ts';
import type { JsonObject } from '../core/json/value.ts';
import { SingleFileSource } from '../core/readers/single-file.ts';
import { Report, reasonOf } from '../core/report.ts';
import { StoreSink } from '../core/store-sink.ts';
import type { ProjectConfig, SnapshotOptions } from './config.ts';
import type { PipelineContext } from './context.ts';
import type { ExportRunInput, ExportRunResult, FormatResult } from './export-run.ts';
import { loadSchema, projectMedia } from './export-run.ts';
import { HashingSink, type WrittenFile } from './hashing-sink.ts';
import { loadLabelConfig } from './label-config.ts';
import { countPerProject, METRIC, mediaRefusals } from './metrics.ts';
import { DEFAULT_SEGMENT_SHARDS, planSegments, type SegmentJob } from './segments.ts';
import { SEGMENT_FORMATS } from './segments-codecs.ts';
import { renderLatestFiles } from './segments-latest.ts';
import {
  renderSegment,
  type SegmentOutput,
  type SegmentRenderContext,
  type SegmentRunner,
  spoolOutput,
} from './segments-render.ts';
import { BodySpool, readSpooled, type SpoolRef } from './segments-spool.ts';
import {
  type ConvertedFiles,
  commitSnapshot,
  completedSnapshot,
  finishSnapshotFormat,
  jsonFormat,
  PY_JSON_UNICODE,
  type RenderedSnapshot,
  renderSnapshotOnePass,
  SNAPSHOT_FILE,
  type SnapshotBase,
} from './snapshot.ts';
import { snapshotTransform } from './snapshot-filter.ts';
import { type Head, loadHead, projectStore } from './state.ts';
import { StateTaskSource } from './state-source.ts';
import { ZipRecords } from './zip-records.ts';

/** How a snapshot is cut and written (tests use small segments). */
export interface SnapshotRenderTuning {
  /** State shards per segment (default DEFAULT_SEGMENT_SHARDS). */
  segmentShards?: number;
  /** Segments rendered at once (default 2). */
  concurrency?: number;
  minMultipartBytes?: number;
  minPartBytes?: number;
  /** Off: the engine's failure is thrown instead of falling back to the one-pass path (tests, the fan-out's commit). */
  onePassFallback?: boolean;
  /** Segments rendered elsewhere (a fan-out's segment workers, snapshot-fanout.ts): taken instead of rendered. */
  stored?: StoredSnapshotSegments;
  /**
   * The label config digest the snapshot renders with (a fan-out's plan records it); default: the
   * config's digest when the render starts. Every later load of the config expects it
   * (LabelConfigChangedError), so one snapshot never mixes two configs.
   */
  labelConfigSha256?: string;
}

/** A segment's `snapshot.json` body: its tasks serialized and joined by `, ` (empty for none), and their counts. */
export interface SnapshotBodyText {
  text: string;
  tasks: number;
  annotations: number;
}

/**
 * Where a snapshot's segments come from when they were rendered by other invocations: `load`
 * returns a job's stored body and — when `rc` is given (formats by segments) — its stored output,
 * its per-task files adopted into `rc.sinks`; undefined (nothing stored for the job, or stored for
 * other shards) renders the job here.
 */
export interface StoredSnapshotSegments {
  load(
    job: SegmentJob,
    rc?: SegmentRenderContext,
  ): Promise<{ body: SnapshotBodyText; output?: SegmentOutput } | undefined>;
}

/** `snapshot.json`'s separator between tasks (and between segment bodies). */
const TASK_SEP = ', ';

/**
 * `transform` that also serializes each task it returns into `into.parts` (Python `json.dump`
 * layout, as the one-pass writer does) and counts its annotations; `bodyText(into)` is then the
 * segment's `snapshot.json` body.
 */
export function captureTransform(
  transform: (task: JsonObject) => JsonObject | undefined,
  into: { parts: string[]; annotations: number },
): (task: JsonObject) => JsonObject | undefined {
  return (task) => {
    const out = transform(task);
    if (out) {
      into.parts.push(stringify(out, PY_JSON_UNICODE));
      if (Array.isArray(out.annotations)) into.annotations += out.annotations.length;
    }
    return out;
  };
}

/** A segment's `snapshot.json` body from what captureTransform collected. */
export function snapshotBody(into: { parts: string[]; annotations: number }): SnapshotBodyText {
  return { text: into.parts.join(TASK_SEP), tasks: into.parts.length, annotations: into.annotations };
}

/** The serialized tasks of one segment, and their counts. */
interface SnapshotBody {
  ref: SpoolRef;
  tasks: number;
  annotations: number;
}

/**
 * Collects each segment's `snapshot.json` body and writes the file once every segment has one.
 * `capture` wraps the snapshot transform: the task it returns is serialized right away, before
 * any writer sees it, as the one-pass writer serializes each task it reads.
 */
class SnapshotFile {
  private readonly bodies = new Map<string, SnapshotBody>();
  base?: SnapshotBase;

  constructor(
    private readonly ctx: PipelineContext,
    private readonly project: ProjectConfig,
    private readonly name: string,
    private readonly head: Head,
    private readonly spool: BodySpool,
    private readonly transform: (task: JsonObject) => JsonObject | undefined,
  ) {}

  /** A transform that also serializes what it returns into `into`. */
  capture(into: { parts: string[]; annotations: number }): (task: JsonObject) => JsonObject | undefined {
    return captureTransform(this.transform, into);
  }

  async keep(segment: string, body: SnapshotBodyText): Promise<void> {
    const ref = await this.spool.write(body.text);
    this.bodies.set(segment, { ref, tasks: body.tasks, annotations: body.annotations });
  }

  /**
   * Renders only the bodies (no format by segments): each segment's shards read, its tasks
   * serialized; a segment `stored` has a body for is taken from there.
   */
  async renderBodies(
    jobs: SegmentJob[],
    concurrency: number,
    stored?: StoredSnapshotSegments,
  ): Promise<void> {
    await mapLimit(jobs, concurrency, async (job) => {
      const done = await stored?.load(job);
      await this.keep(
        job.id,
        done?.body ?? (await serializeSegment(this.ctx, this.project, job, this.transform)),
      );
    });
  }

  /** Writes `snapshot.json` from the bodies of `order` (every segment, in task order). */
  async write(order: string[]): Promise<SnapshotBase> {
    const ps = projectStore(this.ctx, this.project);
    const prefix = ps.paths.snapshot(this.name);
    const sink = new HashingSink(new StoreSink(ps.store, prefix), prefix);
    const out = sink.open(SNAPSHOT_FILE);
    const md5 = createHash('md5');
    const write = async (b: Buffer) => {
      md5.update(b);
      await out.write(b);
    };
    const counts = { tasks: 0, annotations: 0 };
    await write(Buffer.from('['));
    let first = true;
    for (const id of order) {
      const body = this.bodies.get(id);
      if (!body) throw new Error(`segment ${id} has no snapshot.json body`);
      counts.tasks += body.tasks;
      counts.annotations += body.annotations;
      if (body.ref.bytes === 0) continue;
      if (!first) await write(Buffer.from(TASK_SEP));
      first = false;
      await write(await readSpooled(body.ref));
      await this.spool.remove(body.ref);
    }
    await write(Buffer.from(']'));
    await out.close();
    const file = sink.files[0];
    this.base = {
      name: this.name,
      prefix,
      file: file.key,
      md5: md5.digest('hex'),
      sha256: file.sha256,
      bytes: file.bytes,
      counts,
      stateVersion: this.head.version,
      stateUpdatedAt: this.head.updatedAt,
    };
    return this.base;
  }
}

/**
 * Reads one segment's shards and serializes its tasks through `transform` (the `snapshot.json`
 * body of a snapshot with no format by segments).
 */
export async function serializeSegment(
  ctx: PipelineContext,
  project: ProjectConfig,
  job: SegmentJob,
  transform: (task: JsonObject) => JsonObject | undefined,
): Promise<SnapshotBodyText> {
  const ps = projectStore(ctx, project);
  const into = { parts: [] as string[], annotations: 0 };
  const source = new StateTaskSource(ps.store, ps.paths, {
    transform: captureTransform(transform, into),
    shardKeys: Object.keys(job.shards).sort(),
  });
  for await (const _ of source.tasks(new Report())) {
    // serialized by the transform
  }
  return snapshotBody(into);
}

/**
 * Renders snapshot `name` of the project's current state through `options` with the requested
 * formats (`formats`: Label Studio export type names, in the order the result lists them; `JSON`
 * is `snapshot.json` itself, an unknown name is `skipped`), the writers' clock at `createdAt`;
 * zips formats with several files, writes the manifest last (create-only). A snapshot that is
 * complete already (it has a manifest) is returned as it is, nothing written. Throws what the
 * store throws when even the one-pass fallback cannot write the snapshot.
 */
export async function renderSnapshot(
  ctx: PipelineContext,
  project: ProjectConfig,
  name: string,
  options: SnapshotOptions,
  formats: readonly string[],
  createdAt: Date,
  tuning: SnapshotRenderTuning = {},
): Promise<RenderedSnapshot> {
  const existing = await completedSnapshot(ctx, project, name, formats);
  if (existing) return existing;
  let files: Awaited<ReturnType<typeof renderSnapshotFiles>>;
  try {
    files = await renderSnapshotFiles(ctx, project, name, options, formats, createdAt, tuning);
  } catch (err) {
    if (tuning.onePassFallback === false) throw err;
    ctx.log('warn', 'snapshot rendered in one pass: the segment engine failed', {
      project: project.id,
      snapshot: name,
      error: reasonOf(err),
    });
    const ps = projectStore(ctx, project);
    for (const key of (err as { written?: string[] }).written ?? [])
      await ps.store.delete(key).catch(() => {});
    return renderSnapshotOnePass(ctx, project, name, options, formats, createdAt);
  }
  const { base, converted, engine } = files;
  const done = await commitSnapshot(ctx, project, name, base, converted, options, createdAt, formats);
  return done.existing ? done : { ...done, engine };
}

/** The snapshot's files (everything but the manifest). */
async function renderSnapshotFiles(
  ctx: PipelineContext,
  project: ProjectConfig,
  name: string,
  options: SnapshotOptions,
  formats: readonly string[],
  createdAt: Date,
  tuning: SnapshotRenderTuning,
): Promise<{
  base: SnapshotBase;
  converted: ConvertedFiles[];
  engine: NonNullable<RenderedSnapshot['engine']>;
}> {
  const ps = projectStore(ctx, project);
  const prefix = ps.paths.snapshot(name);
  const concurrency = tuning.concurrency ?? 2;
  const segmentShards = tuning.segmentShards ?? DEFAULT_SEGMENT_SHARDS;
  const requested = [...new Set(formats.filter((f) => f !== 'JSON' && isFormatName(f)))].filter(isFormatName);
  const transform = snapshotTransform(options);
  // The state version recorded is read before any task (as the one-pass writer does).
  const head = await loadHead(ctx, ps);
  const labelConfig = tuning.labelConfigSha256 ?? (await loadLabelConfig(ctx, project)).sha256;
  const spool = await BodySpool.create();
  // Zip records of the small files as they are written: the snapshot's zips read none back.
  const zipRecords = await ZipRecords.create(createdAt);
  const report = new Report();
  const engine = { segments: 0, fallback: {} as Record<string, string> };
  const file = new SnapshotFile(ctx, project, name, head, spool, transform);
  try {
    // Segment workers: the writers of the formats by segments, and snapshot.json's body.
    const segments: SegmentRunner = async (rc, jobs, aggregatePaths) => {
      const outs = await mapLimit(jobs, concurrency, async (job): Promise<SegmentOutput> => {
        const done = await tuning.stored?.load(job, rc);
        if (done?.output) {
          await file.keep(job.id, done.body);
          return spoolOutput(rc, done.output);
        }
        const into = { parts: [] as string[], annotations: 0 };
        const out = await renderSegment({ ...rc, transform: file.capture(into) }, job, aggregatePaths);
        await file.keep(job.id, snapshotBody(into));
        return spoolOutput(rc, out);
      });
      await file.write(jobs.map((j) => j.id));
      return new Map(outs.map((o) => [o.entry.id, o]));
    };
    const ensureFile = async (): Promise<SnapshotBase> => {
      if (file.base) return file.base;
      const plan = await planSegments(ps.store, ps.paths.taskShards, segmentShards, undefined);
      engine.segments = plan.segments.length;
      await file.renderBodies(plan.segments, concurrency, tuning.stored);
      return file.write(plan.segments.map((s) => s.id));
    };
    // A format rendered over every task reads snapshot.json (written by then), not the state.
    const wholeRun = async (input: ExportRunInput): Promise<ExportRunResult> => {
      const base = await ensureFile();
      const schema = await loadSchema(ctx, project, labelConfig);
      const r = input.report ?? report;
      const targets = input.formats.map((format) => ({
        format,
        sink: input.sinkFor!(format, `${input.prefix}${format}/`, r),
      }));
      const written = () => targets.flatMap((t) => t.sink.opened);
      try {
        await runExport({
          source: new SingleFileSource(ps.store, base.file),
          schema,
          targets,
          options: parseExportOptions(project.options),
          media: projectMedia(ctx, project),
          report: r,
          now: () => input.now,
        });
      } catch (err) {
        (err as { written?: string[] }).written = written();
        throw err;
      }
      return {
        formats: targets.map(
          (t): FormatResult => ({ format: t.format, status: 'completed', files: t.sink.files }),
        ),
        counts: base.counts,
        report: r.toJSON(),
        options: parseExportOptions(project.options),
        io: { shards: 0, bytes: 0 },
        written: written(),
      };
    };
    let results: FormatResult[] = [];
    let discarded: string[] = [];
    if (requested.length > 0) {
      const lf = await renderLatestFiles(ctx, {
        ps,
        now: createdAt,
        transform,
        previous: new Map(),
        reuseFrom: undefined,
        report,
        segmentShards,
        minMultipartBytes: tuning.minMultipartBytes,
        minPartBytes: tuning.minPartBytes,
        segments,
        prefix,
        formats: requested,
        labelConfigSha256: labelConfig,
        wholeRun,
        zipRecords,
      });
      results = lf.formats;
      engine.segments = lf.io.segments;
      for (const r of results)
        if (r.status === 'completed' && !SEGMENT_FORMATS.has(r.format))
          engine.fallback[r.format] = 'not by segments';
      Object.assign(engine.fallback, lf.io.fallback);
      discarded = lf.discarded;
      countPerProject(ctx.metrics, METRIC.MediaRefusals, mediaRefusals(lf.report), project.id);
    }
    const base = await ensureFile();
    // Keys a discarded segment pass wrote that the fallback run did not write again.
    const kept = new Set(results.flatMap((r) => (r.files ?? []).map((f) => f.key)));
    for (const key of discarded) if (!kept.has(key)) await ps.store.delete(key);
    const converted: ConvertedFiles[] = [];
    for (const f of formats) {
      if (f === 'JSON') converted.push(jsonFormat(base));
      else if (!isFormatName(f))
        converted.push({ format: f as never, status: 'skipped', reason: 'unknown format' });
      else {
        const r = results.find((x) => x.format === f);
        if (!r) throw new Error(`format ${f} has no result`);
        if (r.status !== 'completed') converted.push({ ...r });
        else
          converted.push(
            await finishSnapshotFormat(
              ps.store,
              base,
              f,
              (r.files ?? []).map(asSnapshotFile),
              createdAt,
              report,
              zipRecords,
            ),
          );
      }
    }
    return { base, converted, engine };
  } finally {
    await spool.dispose();
    await zipRecords.dispose();
  }
}

/** A file as a snapshot's manifest lists it (no S3 version: a snapshot's keys are written once). */
function asSnapshotFile(f: WrittenFile): WrittenFile {
  const { versionId: _v, ...rest } = f;
  return rest;
}
