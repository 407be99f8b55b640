/**
 * Render: keep `latest/` fresh. One render per project at a time (a lock object created with
 * IfNoneMatch), triggered by the dirty marker (state.ts markDirty). Files live under fixed keys
 * `latest/<FORMAT>/…` (and `latest/<FORMAT>.zip` with `latest.zip`); a render writes only the files
 * whose bytes changed since the previous manifest (publish-sink.ts), then `latest/manifest.json`
 * — every file with size, sha256 and the S3 version id holding it — and only then deletes the
 * files that are gone. The export bucket is versioned, so a reader of the manifest's versions
 * always gets one complete export, and a failed render leaves the manifest naming complete
 * versions. `_state/render-inflight.json` is written before the first output write and deleted
 * after a render committed and cleaned up: one left behind (a failed or killed render, whose writes
 * may have replaced current objects the manifest names) makes the next render rewrite every file
 * and delete every key under `latest/` its manifest does not list.
 */
import { createHash, randomUUID } from 'node:crypto';
import { settleLimit } from '../core/bounded-map.ts';
import { parseExportOptions } from '../core/formats/options.ts';
import { Report } from '../core/report.ts';
import type { ProjectConfig } from './config.ts';
import { snapshotOptionsSchema } from './config.ts';
import type { PipelineContext } from './context.ts';
import type { WrittenFile } from './hashing-sink.ts';
import { loadLabelConfig } from './label-config.ts';
import { writeLatestZip, type ZipStats } from './latest-zip.ts';
import { type Manifest, type ManifestChanges, type ManifestFormat, serializeManifest } from './manifest.ts';
import { readJson } from './object-text.ts';
import { segmentIndexKey } from './segments.ts';
import { renderLatestFiles } from './segments-latest.ts';
import type { SegmentRunner } from './segments-render.ts';
import { snapshotTransform } from './snapshot-filter.ts';
import { acquireLock, loadHead, type ProjectStore, projectStore, readSkipped, releaseLock } from './state.ts';
import { ZipRecords } from './zip-records.ts';

/** Label Studio's default export: every task and annotation, users as ids, no history. */
const LS_EXPORT_DEFAULTS = snapshotOptionsSchema.parse(undefined);

export type RenderStatus = 'rendered' | 'up-to-date' | 'busy';

export interface RenderResult {
  project: string;
  status: RenderStatus;
  manifest?: Manifest;
}

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

export interface RenderOptions {
  /** Render even if the manifest already reflects the current state version. */
  force?: boolean;
  /** Who holds the lock (the Lambda request id). */
  owner?: string;
  /** State shards per segment (segments.ts; default 10). */
  segmentShards?: number;
  /** Aggregate files from this size on are assembled with UploadPartCopy (default 16 MiB). */
  minMultipartBytes?: number;
  /** Smallest multipart part but the last (S3's 5 MiB; lower only for stores that allow it). */
  minPartBytes?: number;
  /** Segments rendered at once. */
  concurrency?: number;
  /**
   * The render was planned by a fan-out (render-fanout-plan.ts): `owner` already holds the lock and wrote
   * `_state/render-inflight.json`; the render keeps `startedAt` (the time the segments rendered with).
   */
  planned?: { startedAt: Date };
  /** Where the changed segments come from (default: rendered here, `concurrency` at a time). */
  segments?: SegmentRunner;
  /**
   * Asked once the segments are rendered: whether to list `latest/` and delete every key the new
   * manifest does not name, as after a failed render (a fan-out segment attempt that wrote files
   * and stored no output: render-fanout-commit.ts).
   */
  sweep?: () => boolean;
}

export async function renderLatest(
  ctx: PipelineContext,
  project: ProjectConfig,
  options: RenderOptions = {},
): Promise<RenderResult> {
  const ps = projectStore(ctx, project);
  const owner = options.owner ?? randomUUID();
  if (!options.planned && !(await acquireLock(ctx, ps, owner))) {
    // Someone is rendering. Rewrite the marker: its new S3 event schedules another (delayed) try,
    // which renders whatever changed after the running render read the state.
    await ps.store.put(
      ps.paths.dirty,
      JSON.stringify({ at: ctx.now().toISOString(), reason: 'render busy' }),
      {
        contentType: 'application/json',
      },
    );
    ctx.log('info', 'render busy; rescheduled', { project: project.id });
    return { project: project.id, status: 'busy' };
  }
  try {
    // From here on, any change re-creates the marker and triggers the next render.
    await ps.store.delete(ps.paths.dirty);
    const head = await loadHead(ctx, ps);
    const current = (await readJson<Manifest>(ps.store, ps.paths.latestManifest))?.value;
    const recorded = (await readJson<InflightDoc>(ps.store, ps.paths.renderInflight))?.value;
    // A planned render's own record (written by its plan) is not a failed render.
    const own = options.planned && recorded?.owner === owner;
    const inflight = own ? undefined : recorded;
    // The label config this render answers for, read before anything renders with it: a planned
    // render's is the one its plan read (segments may have rendered with it); an upload during the
    // render then leaves the manifest naming the older digest, and the next render re-renders.
    const labelConfig = options.planned
      ? plannedLabelConfig(recorded, owner)
      : (await loadLabelConfig(ctx, project)).sha256;
    if (!options.force && !inflight && current && isCurrent(current, head.version, project, labelConfig)) {
      ctx.log('info', 'latest export already reflects the state', {
        project: project.id,
        version: head.version,
      });
      return { project: project.id, status: 'up-to-date', manifest: current };
    }
    const started = options.planned?.startedAt ?? ctx.now();
    const renderId = `${stamp(started)}-v${head.version}-${owner.slice(0, 8)}`;
    // The previous files can be carried over only when the keys hold exactly what its manifest
    // lists: after a committed render of this layout, not after a failed one or an older layout.
    const repair = current !== undefined && (current.layout !== 'fixed' || inflight !== undefined);
    if (repair)
      ctx.log('warn', 'latest/ is rewritten in full', {
        project: project.id,
        reason: inflight ? `render ${inflight.renderId} did not finish` : 'older layout',
      });
    const previous =
      current && !repair ? previousFiles(current) : new Map<string, Map<string, WrittenFile>>();
    // The previous zip to reuse records from. After a failed render the keys are not trusted, but
    // a version the manifest names is (versioned buckets): its records still match its files.
    let filesOfCurrent: Map<string, Map<string, WrittenFile>> | undefined;
    const zipPrevious = (format: string) => {
      const zip =
        current?.layout === 'fixed' ? current.formats.find((x) => x.format === format)?.zip : undefined;
      if (!current || !zip || (repair && !zip.versionId)) return undefined;
      filesOfCurrent ??= repair ? previousFiles(current) : previous;
      const files = filesOfCurrent.get(format);
      return files ? { zip, files } : undefined;
    };
    const doc: InflightDoc = { owner, renderId, startedAt: started.toISOString() };
    await ps.store.put(ps.paths.renderInflight, JSON.stringify(doc), { contentType: 'application/json' });
    const sourceObjects = await readSkipped(ps);
    const report = new Report();
    const changes: ManifestChanges = { written: 0, unchanged: 0, deleted: 0, bytesWritten: 0 };
    let result: Awaited<ReturnType<typeof renderLatestFiles>>;
    const formats: ManifestFormat[] = [];
    const zips: Record<string, ZipStats> = {};
    // Zip records made as the files are written (zip-records.ts): the zips read no file back.
    const zipRecords = project.latest.zip ? await ZipRecords.create(started) : undefined;
    try {
      result = await renderLatestFiles(ctx, {
        zipRecords,
        ps,
        now: started,
        report,
        transform:
          project.latest.serialization === 'export' ? snapshotTransform(LS_EXPORT_DEFAULTS) : undefined,
        previous,
        // Segments and aggregate layouts are reused only after a committed render of this layout
        // (and not across a recorded label config change).
        reuseFrom:
          current && !repair && !options.force && mayReuseSegments(current, labelConfig)
            ? current.id
            : undefined,
        labelConfigSha256: labelConfig,
        segmentShards: options.segmentShards,
        minMultipartBytes: options.minMultipartBytes,
        minPartBytes: options.minPartBytes,
        concurrency: options.concurrency,
        segments: options.segments,
      });
      for (const sink of result.sinks) {
        changes.written += sink.stats.written;
        changes.unchanged += sink.stats.unchanged;
        changes.bytesWritten += sink.stats.bytesWritten;
      }
      for (const f of result.formats) {
        const files = [...(f.files ?? [])].sort(byPath);
        const entry: ManifestFormat = f.status === 'completed' ? { ...f, files } : f;
        if (project.latest.zip && f.status === 'completed' && files.length > 1) {
          const z = await writeLatestZip({
            store: ps.store,
            files,
            key: ps.paths.latestZip(f.format),
            mtime: started,
            report,
            previous: zipPrevious(f.format),
            // A repair rewrites every key, the zip too, even when its files are unchanged.
            alwaysWrite: repair,
            recorded: zipRecords && ((file) => zipRecords.get(f.format, file, started)),
            minMultipartBytes: options.minMultipartBytes,
            minPartBytes: options.minPartBytes,
          });
          entry.zip = z.entry;
          zips[f.format] = z.stats;
          if (z.written) {
            changes.written++;
            changes.bytesWritten += z.stats.uploadedBytes;
          } else changes.unchanged++;
        }
        formats.push(entry);
      }
      if (result.index) {
        // Written before the manifest: it describes the versions the manifest is about to name.
        await ps.store.put(segmentIndexKey(ps.paths.state), JSON.stringify({ ...result.index, renderId }), {
          contentType: 'application/json',
        });
      }
    } catch (err) {
      // Keys this render created that the published manifest does not name are removed; keys it
      // overwrote stay (the manifest names their earlier versions) and the inflight record makes
      // the next render rewrite them.
      const named = new Set(current ? manifestKeys(current) : []);
      const written = (err as { written?: string[] }).written ?? [];
      await removeKeys(
        ctx,
        ps,
        written.filter((k) => !named.has(k)),
      );
      throw err;
    } finally {
      await zipRecords?.dispose();
    }
    const keep = new Set<string>([ps.paths.latestManifest]);
    for (const f of formats) {
      for (const x of f.files ?? []) keep.add(x.key);
      if (f.zip) keep.add(f.zip.key);
    }
    // What to delete once the manifest no longer names it: the previous manifest's files that are
    // gone; after a failed render or from an older layout, every other key under latest/.
    const stale = new Set<string>();
    if (current) for (const k of manifestKeys(current)) if (!keep.has(k)) stale.add(k);
    for (const k of result.discarded) if (!keep.has(k)) stale.add(k);
    if (repair || inflight || options.sweep?.())
      for await (const o of ps.store.list(ps.paths.latest)) if (!keep.has(o.key)) stale.add(o.key);
    changes.deleted = stale.size;
    const finished = ctx.now();
    const manifest: Manifest = {
      format: 1,
      kind: 'latest',
      project: project.id,
      id: renderId,
      layout: 'fixed',
      prefix: ps.paths.latest,
      createdAt: started.toISOString(),
      state: { version: head.version, updatedAt: head.updatedAt },
      counts: result.counts,
      formats,
      options: { export: result.options, latest: latestSettingsOf(project) },
      ...(labelConfig ? { labelConfig: { sha256: labelConfig } } : {}),
      timings: {
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        ms: finished.getTime() - started.getTime(),
        shardsRead: result.io.shards,
        stateBytesRead: result.io.bytes,
        segments: {
          total: result.io.segments,
          rendered: result.io.segmentsRendered,
          ...result.io.assemble,
          ...(Object.keys(result.io.fallback).length ? { fallback: result.io.fallback } : {}),
        },
        ...(Object.keys(zips).length ? { zips } : {}),
      },
      report: { ...result.report, sourceObjects },
      previous: current?.id,
      changes,
    };
    // The commit point: every version the manifest names is complete before this write.
    await ps.store.put(ps.paths.latestManifest, serializeManifest(manifest), {
      contentType: 'application/json',
    });
    const failed = await removeKeys(ctx, ps, [...stale]);
    // A delete that failed leaves the record: the next render sweeps latest/ again.
    if (failed === 0) await ps.store.delete(ps.paths.renderInflight);
    ctx.log('info', 'rendered', {
      project: project.id,
      version: head.version,
      tasks: manifest.counts.tasks,
      ms: manifest.timings?.ms,
      ...changes,
    });
    return { project: project.id, status: 'rendered', manifest };
  } finally {
    await releaseLock(ps, owner).catch((err) =>
      ctx.log('warn', 'could not release the render lock', { error: String(err) }),
    );
  }
}

/** `_state/render-inflight.json`: a render that started writing and has not finished. */
export interface InflightDoc {
  owner: string;
  renderId: string;
  startedAt: string;
  /** A fan-out plan's record: the label config digest the plan read (label-config.ts). */
  labelConfigSha256?: string;
  /**
   * A failed render's record that a later fan-out plan found: the owner of that plan, whose
   * label config digest `labelConfigSha256` now is (the record stays a failed render's, so the
   * commit still rewrites latest/ in full).
   */
  plannedBy?: string;
}

/**
 * The label config digest fan-out plan `owner` read, from the in-flight record: its own record, or
 * a failed render's record it adopted (`plannedBy`); undefined when the record is another's.
 */
export function plannedLabelConfig(recorded: InflightDoc | undefined, owner: string): string | undefined {
  return recorded?.owner === owner || recorded?.plannedBy === owner ? recorded?.labelConfigSha256 : undefined;
}

const byPath = (a: WrittenFile, b: WrittenFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The previous manifest's files, by format and path. */
function previousFiles(m: Manifest): Map<string, Map<string, WrittenFile>> {
  const out = new Map<string, Map<string, WrittenFile>>();
  for (const f of m.formats) out.set(f.format, new Map((f.files ?? []).map((x) => [x.path, x])));
  return out;
}

/** Every key a manifest names (its files and zips). */
function manifestKeys(m: Manifest): string[] {
  return m.formats.flatMap((f) => [...(f.files ?? []).map((x) => x.key), ...(f.zip ? [f.zip.key] : [])]);
}

/**
 * What the latest manifest records of the project's settings besides formats and export options:
 * zip, serialization (`latest.serialization`: the tasks' shape in JSON/CSV) and the SHA-256 of the
 * media policy (which images a render may read changes image sizes and copies).
 */
export function latestSettingsOf(project: ProjectConfig): {
  zip: boolean;
  serialization: string;
  mediaSha256: string;
} {
  return {
    zip: project.latest.zip,
    serialization: project.latest.serialization,
    mediaSha256: mediaPolicySha256(project),
  };
}

/** SHA-256 (hex) of the project's media policy as configured (`media`, defaults applied). */
export function mediaPolicySha256(project: ProjectConfig): string {
  return createHash('sha256').update(JSON.stringify(project.media)).digest('hex');
}

/**
 * Whether the published export already reflects this state version, formats, options, `latest`
 * settings and media policy (latestSettingsOf) and label config (`labelConfigSha256`,
 * label-config.ts; undefined = unknown). A manifest that records no label config, serialization or
 * media policy digest (written before they were recorded) is not current.
 */
export function isCurrent(
  m: Manifest,
  version: number,
  project: ProjectConfig,
  labelConfigSha256: string | undefined,
): boolean {
  const formats = m.formats.map((f) => f.format).sort();
  const wanted = [...new Set(project.formats)].sort();
  return (
    m.state.version === version &&
    labelConfigSha256 !== undefined &&
    m.labelConfig?.sha256 === labelConfigSha256 &&
    JSON.stringify(formats) === JSON.stringify(wanted) &&
    JSON.stringify(m.options.export) === JSON.stringify(parseExportOptions(project.options)) &&
    JSON.stringify(m.options.latest) === JSON.stringify(latestSettingsOf(project))
  );
}

/**
 * Whether a render with this label config may reuse the segments of the render that wrote `m`:
 * not when `m` records another label config. (An upload during a render can leave segments
 * rendered with a newer config than the one the manifest records, under the newer fingerprint.)
 * A manifest that records none predates the digest; the segment fingerprint still guards it.
 */
export function mayReuseSegments(m: Manifest, labelConfigSha256: string | undefined): boolean {
  return m.labelConfig === undefined || m.labelConfig.sha256 === labelConfigSha256;
}

/** Deletes keys, a few at a time; failures are logged. Returns how many could not be deleted. */
async function removeKeys(ctx: PipelineContext, ps: ProjectStore, keys: string[]): Promise<number> {
  const outcomes = await settleLimit(keys, 8, (key) => ps.store.delete(key));
  let failed = 0;
  outcomes.forEach((o, i) => {
    if (o.status === 'fulfilled') return;
    failed++;
    ctx.log('warn', 'delete failed', { key: keys[i], error: String(o.reason) });
  });
  return failed;
}
