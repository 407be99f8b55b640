/**
 * Snapshots: immutable exports under `snapshots/<name>/`, with Label Studio's snapshot options.
 * As in Label Studio, a snapshot is one JSON array (`snapshot.json`, Python `json.dump` layout with
 * `ensure_ascii=False`) of the state's tasks through the snapshot filters, and its formats describe
 * exactly those tasks. The JSON format is that file itself (the converter's file mode copies it).
 * Formats with several files also get `<FORMAT>.zip`, which is what a download returns. The
 * writers' clock is the snapshot's nominal time, so the same snapshot of the same state gives the
 * same bytes.
 *
 * A snapshot is rendered by the segment engine (segments-snapshot.ts); this module holds the
 * one-pass path it replaced — `snapshot.json` first, then every format converted *from that file*
 * (renderSnapshotOnePass) — which stays as the engine's fallback and the tests' reference, and the
 * conversion of a completed snapshot requested later (`/convert`, convertSnapshot). The manifest
 * is written last and create-only: a snapshot with a manifest is complete and never rewritten.
 */
import { createHash } from 'node:crypto';
import { type FormatName, isFormatName } from '../core/config/formats.ts';
import { runExport } from '../core/export.ts';
import { parseExportOptions } from '../core/formats/options.ts';
import { type JsonStyle, PY_JSON_COMPACT, stringify } from '../core/json/serialize.ts';
import { type ObjectStore, PreconditionFailedError } from '../core/object-store.ts';
import { SingleFileSource } from '../core/readers/single-file.ts';
import { Report, reasonOf } from '../core/report.ts';
import { StoreSink } from '../core/store-sink.ts';
import type { ProjectConfig, SnapshotOptions } from './config.ts';
import type { PipelineContext } from './context.ts';
import { type FormatResult, loadSchema, planFormats, projectMedia } from './export-run.ts';
import { HashingSink, type WrittenFile } from './hashing-sink.ts';
import { writeLatestZip } from './latest-zip.ts';
import type { Manifest } from './manifest.ts';
import { serializeManifest } from './manifest.ts';
import { countPerProject, METRIC, mediaRefusals } from './metrics.ts';
import { readJson } from './object-text.ts';
import { projectPaths } from './paths.ts';
import { snapshotTransform } from './snapshot-filter.ts';
import { loadHead, projectStore, readSkipped } from './state.ts';
import { StateTaskSource } from './state-source.ts';
import type { ZipRecords } from './zip-records.ts';

/** json.dump(obj, ensure_ascii=False): one line, `, ` and `: ` separators. */
export const PY_JSON_UNICODE: JsonStyle = { ...PY_JSON_COMPACT, ensureAscii: false, escapeDel: false };

const pad = (n: number) => String(n).padStart(2, '0');

/** `PROJECT-at-YYYY-MM-DD-HH-MM` in UTC. */
export function defaultSnapshotName(projectId: string, at: Date): string {
  return `${projectId}-at-${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}-${pad(at.getUTCHours())}-${pad(at.getUTCMinutes())}`;
}

/** A title made safe as a key segment. */
export function snapshotNameFromTitle(title: string): string {
  return (
    title
      .trim()
      .replace(/\s+/g, '-')
      .replace(/[^A-Za-z0-9._-]/g, '')
      .replace(/^[.-]+/, '')
      .slice(0, 100) || 'snapshot'
  );
}

export const SNAPSHOT_FILE = 'snapshot.json';

export interface SnapshotBase {
  name: string;
  prefix: string;
  file: string;
  md5: string;
  sha256: string;
  bytes: number;
  counts: { tasks: number; annotations: number };
  stateVersion: number;
  stateUpdatedAt: string;
}

/**
 * Writes `snapshot.json` from the current state through the snapshot options in one pass (the
 * one-pass path: renderSnapshotOnePass; the segment engine assembles the same bytes).
 */
export async function writeSnapshotFile(
  ctx: PipelineContext,
  project: ProjectConfig,
  name: string,
  options: SnapshotOptions,
): Promise<SnapshotBase> {
  const ps = projectStore(ctx, project);
  const head = await loadHead(ctx, ps);
  const prefix = ps.paths.snapshot(name);
  const source = new StateTaskSource(ps.store, projectPaths(project), {
    transform: snapshotTransform(options),
  });
  const md5 = createHash('md5');
  const sink = new HashingSink(new StoreSink(ps.store, prefix), prefix);
  const out = sink.open(SNAPSHOT_FILE);
  const report = new Report();
  let first = true;
  const write = async (s: string) => {
    const buf = Buffer.from(s);
    md5.update(buf);
    await out.write(buf);
  };
  await write('[');
  for await (const { task } of source.tasks(report)) {
    await write((first ? '' : ', ') + stringify(task, PY_JSON_UNICODE));
    first = false;
  }
  await write(']');
  await out.close();
  const file = sink.files[0];
  return {
    name,
    prefix,
    file: file.key,
    md5: md5.digest('hex'),
    sha256: file.sha256,
    bytes: file.bytes,
    counts: source.counts,
    stateVersion: head.version,
    stateUpdatedAt: head.updatedAt,
  };
}

export interface ConvertedFiles extends FormatResult {
  /** What a download returns: the single file, or the zip of several. */
  download?: { key: string; filename: string };
}

/** Converts `snapshot.json` into one format under `snapshots/<name>/<FORMAT>/`. */
export async function convertSnapshot(
  ctx: PipelineContext,
  project: ProjectConfig,
  base: { name: string; prefix: string; file: string },
  format: FormatName,
  now: Date,
): Promise<ConvertedFiles> {
  const ps = projectStore(ctx, project);
  if (format === 'JSON') return jsonFormat(base);
  const schema = await loadSchema(ctx, project);
  const { run, skipped } = planFormats(schema, [format]);
  if (run.length === 0) return { ...skipped[0] };
  const prefix = `${base.prefix}${format}/`;
  const report = new Report();
  const sink = new HashingSink(new StoreSink(ps.store, prefix, { report, format }), prefix);
  await runExport({
    source: new SingleFileSource(ps.store, base.file),
    schema,
    targets: [{ format, sink }],
    options: parseExportOptions(project.options),
    media: projectMedia(ctx, project),
    report,
    now: () => now,
  });
  countPerProject(ctx.metrics, METRIC.MediaRefusals, mediaRefusals(report.toJSON()), project.id);
  return finishSnapshotFormat(ps.store, base, format, sink.files, now, report);
}

const byPath = (a: WrittenFile, b: WrittenFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * A converted format's result: its files sorted by path, zipped into `<prefix><FORMAT>.zip` when
 * there are several (`now`: the zip entries' time), and what a download returns.
 */
export async function finishSnapshotFormat(
  store: ObjectStore,
  base: { name: string; prefix: string },
  format: FormatName,
  written: readonly WrittenFile[],
  now: Date,
  report: Report,
  /** Zip records the render made of these files (segments-snapshot.ts), instead of reading them. */
  records?: ZipRecords,
): Promise<ConvertedFiles> {
  const files = [...written].sort(byPath);
  if (files.length > 1)
    await writeLatestZip({
      store,
      files,
      key: `${base.prefix}${format}.zip`,
      mtime: now,
      report,
      ...(records ? { recorded: (file: WrittenFile) => records.get(format, file, now) } : {}),
    });
  return { format, status: 'completed', files, download: downloadOf(base, format, files) };
}

/** What a download of a completed format returns (the single file, or the zip of several). */
function downloadOf(
  base: { name: string; prefix: string },
  format: FormatName,
  files: readonly WrittenFile[],
): ConvertedFiles['download'] {
  if (files.length === 1) {
    const ext = files[0].path.includes('.') ? files[0].path.slice(files[0].path.lastIndexOf('.')) : '';
    return { key: files[0].key, filename: `${base.name}${ext}` };
  }
  if (files.length > 1) return { key: `${base.prefix}${format}.zip`, filename: `${base.name}.zip` };
  return undefined;
}

/** The JSON format of a snapshot: `snapshot.json` itself. */
export function jsonFormat(base: { name: string; file: string }): ConvertedFiles {
  return {
    format: 'JSON',
    status: 'completed',
    files: [],
    download: { key: base.file, filename: `${base.name}.json` },
  };
}

/**
 * A requested format converted from `snapshot.json` (convertSnapshot); a name that is no format,
 * or a conversion that throws, is `skipped` with why.
 */
export async function convertRequested(
  ctx: PipelineContext,
  project: ProjectConfig,
  base: { name: string; prefix: string; file: string },
  format: string,
  createdAt: Date,
): Promise<ConvertedFiles> {
  if (!isFormatName(format))
    return { format: format as FormatName, status: 'skipped', reason: 'unknown format' };
  try {
    return await convertSnapshot(ctx, project, base, format, createdAt);
  } catch (err) {
    return { format, status: 'skipped', reason: `conversion failed: ${reasonOf(err)}` };
  }
}

/** A rendered snapshot: `snapshot.json`, each requested format's result (in request order), the manifest. */
export interface RenderedSnapshot {
  base: SnapshotBase;
  converted: ConvertedFiles[];
  manifest: Manifest;
  /** The snapshot was complete already (its manifest existed): nothing was written. */
  existing?: boolean;
  /**
   * Rendered by the segment engine (segments-snapshot.ts): its segments, and the formats rendered
   * by one run over every task, with why (a format outside SEGMENT_FORMATS: `not by segments`).
   */
  engine?: { segments: number; fallback: Record<string, string> };
}

/**
 * The one-pass snapshot: `snapshot.json` from the state, then each requested format (`formats`:
 * Label Studio export type names) converted from it one at a time, then the manifest. A snapshot
 * that is complete already is returned as it is (see completedSnapshot).
 */
export async function renderSnapshotOnePass(
  ctx: PipelineContext,
  project: ProjectConfig,
  name: string,
  options: SnapshotOptions,
  formats: readonly string[],
  createdAt: Date,
): Promise<RenderedSnapshot> {
  const done = await completedSnapshot(ctx, project, name, formats);
  if (done) return done;
  const base = await writeSnapshotFile(ctx, project, name, options);
  const converted: ConvertedFiles[] = [];
  for (const f of formats) converted.push(await convertRequested(ctx, project, base, f, createdAt));
  return commitSnapshot(ctx, project, name, base, converted, options, createdAt, formats);
}

/**
 * Writes the manifest (create-only), then removes what an earlier attempt that stopped before its
 * manifest left under the prefix and this snapshot does not hold (sweepSnapshot); returns the
 * snapshot. When another attempt completed the snapshot first, returns that one instead (its
 * manifest is not replaced, nothing is removed).
 */
export async function commitSnapshot(
  ctx: PipelineContext,
  project: ProjectConfig,
  name: string,
  base: SnapshotBase,
  converted: ConvertedFiles[],
  options: SnapshotOptions,
  createdAt: Date,
  formats: readonly string[],
): Promise<RenderedSnapshot> {
  try {
    const manifest = await writeSnapshotManifest(ctx, project, base, converted, options, createdAt);
    await sweepSnapshot(ctx, project, base.prefix, converted);
    return { base, converted, manifest };
  } catch (err) {
    if (!(err instanceof PreconditionFailedError)) throw err;
    const done = await completedSnapshot(ctx, project, name, formats);
    if (!done) throw err;
    return done;
  }
}

/**
 * Deletes every object under a snapshot's prefix but its reservation (`export.json`), manifest,
 * `snapshot.json`, the converted formats' files and zips. Returns the keys deleted.
 */
export async function sweepSnapshot(
  ctx: PipelineContext,
  project: ProjectConfig,
  prefix: string,
  converted: readonly ConvertedFiles[],
): Promise<string[]> {
  const ps = projectStore(ctx, project);
  const keep = new Set([`${prefix}export.json`, `${prefix}manifest.json`, `${prefix}${SNAPSHOT_FILE}`]);
  for (const c of converted) {
    for (const f of c.files ?? []) keep.add(f.key);
    if (c.download) keep.add(c.download.key);
  }
  const stale: string[] = [];
  for await (const o of ps.store.list(prefix)) if (!keep.has(o.key)) stale.push(o.key);
  for (const key of stale) await ps.store.delete(key);
  return stale;
}

/**
 * The snapshot `name` as its manifest describes it, when it is complete (undefined otherwise):
 * `md5` is read back from `snapshot.json`; each requested format's result comes from the manifest
 * (`skipped` when the manifest does not list it).
 */
export async function completedSnapshot(
  ctx: PipelineContext,
  project: ProjectConfig,
  name: string,
  formats: readonly string[],
): Promise<RenderedSnapshot | undefined> {
  const manifest = await readSnapshotManifest(ctx, project, name);
  if (!manifest) return undefined;
  const ps = projectStore(ctx, project);
  const file = `${manifest.prefix}${SNAPSHOT_FILE}`;
  const md5 = createHash('md5');
  const { body } = await ps.store.get(file);
  for await (const c of body) md5.update(c);
  const raw = manifest.formats.find((f) => f.format === 'JSON')?.files?.[0];
  const base: SnapshotBase = {
    name,
    prefix: manifest.prefix,
    file,
    md5: md5.digest('hex'),
    sha256: raw?.sha256 ?? '',
    bytes: raw?.bytes ?? 0,
    counts: manifest.counts,
    stateVersion: manifest.state.version,
    stateUpdatedAt: manifest.state.updatedAt,
  };
  const converted = formats.map((f): ConvertedFiles => {
    const m = manifest.formats.find((x) => x.format === f);
    if (!m) return { format: f as FormatName, status: 'skipped', reason: 'not in the completed snapshot' };
    if (f === 'JSON' && m.status === 'completed') return jsonFormat(base);
    const result: ConvertedFiles = { format: m.format, status: m.status };
    if (m.reason !== undefined) result.reason = m.reason;
    if (m.files) result.files = m.files;
    if (m.status === 'completed') result.download = downloadOf(base, m.format, m.files ?? []);
    return result;
  });
  return { base, converted, manifest, existing: true };
}

/**
 * The snapshot's manifest (deterministic: no wall-clock timings), written create-only: throws
 * PreconditionFailedError when the snapshot has one already (it is complete, and stays as it is).
 */
export async function writeSnapshotManifest(
  ctx: PipelineContext,
  project: ProjectConfig,
  base: SnapshotBase,
  formats: ConvertedFiles[],
  options: SnapshotOptions,
  createdAt: Date,
): Promise<Manifest> {
  const ps = projectStore(ctx, project);
  const raw: WrittenFile = { path: SNAPSHOT_FILE, key: base.file, bytes: base.bytes, sha256: base.sha256 };
  const manifest: Manifest = {
    format: 1,
    kind: 'snapshot',
    project: project.id,
    id: base.name,
    prefix: base.prefix,
    createdAt: createdAt.toISOString(),
    state: { version: base.stateVersion, updatedAt: base.stateUpdatedAt },
    counts: base.counts,
    formats: formats.map((f) =>
      f.format === 'JSON' ? { format: 'JSON', status: f.status, files: [raw] } : stripDownload(f),
    ),
    options: { export: parseExportOptions(project.options), snapshot: options },
    report: { ...new Report().toJSON(), sourceObjects: await readSkipped(ps) },
  };
  await ps.store.put(`${base.prefix}manifest.json`, serializeManifest(manifest), {
    contentType: 'application/json',
    ifNoneMatch: '*',
  });
  return manifest;
}

function stripDownload(f: ConvertedFiles): FormatResult {
  const { download: _download, ...rest } = f;
  return rest;
}

export async function readSnapshotManifest(
  ctx: PipelineContext,
  project: ProjectConfig,
  name: string,
): Promise<Manifest | undefined> {
  const ps = projectStore(ctx, project);
  return (await readJson<Manifest>(ps.store, `${ps.paths.snapshot(name)}manifest.json`))?.value;
}
