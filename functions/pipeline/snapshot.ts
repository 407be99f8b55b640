/**
 * Snapshots: immutable exports under `snapshots/<name>/`, with Label Studio's snapshot options.
 * As in Label Studio, a snapshot is first one JSON array (`snapshot.json`, Python `json.dump`
 * layout with `ensure_ascii=False`), read from the state through the snapshot filters; every format
 * is then converted *from that file*, so conversions requested later (`/convert`) still describe the
 * same snapshot. The JSON format is that file itself (the converter's file mode copies it). Formats
 * with several files also get `<FORMAT>.zip`, which is what a download returns. The writers' clock
 * is the snapshot's nominal time, so the same snapshot of the same state gives the same bytes.
 */
import { createHash } from 'node:crypto';
import type { FormatName } from '../core/config/formats.ts';
import { runExport } from '../core/export.ts';
import { parseExportOptions } from '../core/formats/options.ts';
import { type JsonStyle, PY_JSON_COMPACT, stringify } from '../core/json/serialize.ts';
import { SingleFileSource } from '../core/readers/single-file.ts';
import { Report } from '../core/report.ts';
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

/** Writes `snapshot.json` from the current state through the snapshot options. */
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
  if (format === 'JSON') {
    return {
      format,
      status: 'completed',
      files: [],
      download: { key: base.file, filename: `${base.name}.json` },
    };
  }
  const schema = await loadSchema(ctx, project);
  const { run, skipped } = planFormats(schema, [format]);
  if (run.length === 0) return { ...skipped[0] };
  const prefix = `${base.prefix}${format}/`;
  const report = new Report();
  const sink = new HashingSink(new StoreSink(ps.store, prefix, { report }), prefix);
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
  const files = [...sink.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  let download: ConvertedFiles['download'];
  if (files.length === 1) {
    const ext = files[0].path.includes('.') ? files[0].path.slice(files[0].path.lastIndexOf('.')) : '';
    download = { key: files[0].key, filename: `${base.name}${ext}` };
  } else if (files.length > 1) {
    const key = `${base.prefix}${format}.zip`;
    await writeLatestZip(ps.store, files, key, now, report);
    download = { key, filename: `${base.name}.zip` };
  }
  return { format, status: 'completed', files, download };
}

/** The snapshot's manifest (deterministic: no wall-clock timings). */
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
