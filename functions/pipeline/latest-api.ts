/**
 * Downloads of the published export (`latest/`) through the API: Label Studio's synchronous
 * export `GET /api/projects/{id}/export?exportType=` and our `GET /api/projects/{id}/exports/latest/
 * download?exportType=` (docs/pipeline.md, "Snapshots and the export API"). Files are found only
 * through `latest/manifest.json` (the render's commit point), never by building keys, so the
 * render may lay `latest/` out as it likes. Nothing here presigns: the caller does (api.ts).
 */
import { isFormatName } from '../core/config/formats.ts';
import { BadRequest, NotFound } from './api-errors.ts';
import type { ProjectConfig } from './config.ts';
import type { PipelineContext } from './context.ts';
import { projectOr404 } from './exports-api.ts';
import type { WrittenFile } from './hashing-sink.ts';
import type { Manifest } from './manifest.ts';
import { readJson } from './object-text.ts';
import { projectStore } from './state.ts';

/** A file as a `latest/` manifest lists it; `versionId` on versioned buckets. */
type StoredFile = WrittenFile & { versionId?: string };

/** A manifest's format entry, with the zip a render may write for a format of several files. */
type LatestFormat = Manifest['formats'][number] & { files?: StoredFile[]; zip?: StoredFile };

export interface DownloadTarget {
  bucket: string;
  key: string;
  /** The S3 version the manifest names (its bytes, even while the next render overwrites the key). */
  versionId?: string;
  /** The name the download is saved under (Content-Disposition). */
  filename: string;
}

/** How many file paths an error message lists before `… and N more`. */
const LISTED_FILES = 20;

/**
 * The `latest/` object a download of `exportType` returns: the format's only file, its zip when
 * the manifest lists one (`zip`, formats of several files), or the file named by `path` (a file path as the manifest lists
 * it). Errors (Label Studio's body): BadRequest (`exportType`) for an unknown format, one not kept
 * in `latest/` or skipped by the render, several files without an archive (the message lists them
 * and says how to get them); BadRequest (`path`) for a path the format does not have; NotFound
 * when the project has no published export yet or the format has no file.
 */
export async function latestDownloadTarget(
  ctx: PipelineContext,
  projectRef: string,
  exportType: string | undefined,
  path?: string,
): Promise<DownloadTarget> {
  const project = projectOr404(ctx, projectRef);
  const format = exportType || 'JSON';
  if (!isFormatName(format)) {
    throw new BadRequest(`unknown export type "${format}"`, {
      exportType: [`"${format}" is not a valid choice.`],
    });
  }
  const ps = projectStore(ctx, project);
  const manifest = (await readJson<Manifest>(ps.store, ps.paths.latestManifest))?.value;
  if (!manifest) throw new NotFound('No export published yet: latest/ has no manifest for this project');
  const entry = manifest.formats.find((f) => f.format === format) as LatestFormat | undefined;
  if (!entry) {
    const kept = manifest.formats.filter((f) => f.status === 'completed').map((f) => f.format);
    throw new BadRequest(`${format} is not kept in latest/`, {
      exportType: [
        `${format} is not kept in latest/ for this project (it has: ${kept.join(', ') || 'none'}); ` +
          'create a snapshot (POST /api/projects/{id}/exports/) and convert it.',
      ],
    });
  }
  if (entry.status !== 'completed') {
    throw new BadRequest(`${format} is not available in latest/`, {
      exportType: [`${format} was skipped by the last render: ${entry.reason ?? 'no reason given'}`],
    });
  }
  const files = entry.files ?? [];
  const name = (file: StoredFile, ext: string): DownloadTarget => ({
    bucket: project.export.bucket,
    key: checkedKey(ctx, project, file.key),
    ...(file.versionId ? { versionId: file.versionId } : {}),
    filename: `${fileStem(project, manifest, file.sha256)}${ext}`,
  });
  if (path !== undefined) {
    const file = files.find((f) => f.path === path);
    if (!file) {
      throw new BadRequest(`${format} in latest/ has no file "${path}"`, {
        path: [`${format} in latest/ has no file "${path}"; it has: ${listPaths(files)}`],
      });
    }
    return { ...name(file, ''), filename: baseName(file.path) };
  }
  if (files.length === 1) return name(files[0], extension(files[0].path));
  if (entry.zip) return name(entry.zip, '.zip');
  if (files.length === 0) throw new NotFound(`${format} in latest/ has no files`);
  throw new BadRequest(`${format} has ${files.length} files in latest/ and no zip`, {
    exportType: [
      `${format} has ${files.length} files in latest/ and no zip: ${listPaths(files)}. Download ` +
        'one with &path=<file>, or create a snapshot (POST /api/projects/{id}/exports/), convert it ' +
        `to ${format} and download its zip.`,
    ],
  });
}

/** A manifest key, refused (logged, answered 500) unless it lies in the project's `latest/`. */
function checkedKey(ctx: PipelineContext, project: ProjectConfig, key: string): string {
  const latest = projectStore(ctx, project).paths.latest;
  if (!key.startsWith(latest) || key.split('/').includes('..')) {
    throw new Error(`latest/manifest.json of ${project.id} lists a key outside ${latest}: ${key}`);
  }
  return key;
}

/**
 * Label Studio's synchronous export name, `project-<id>-at-<YYYY-MM-DD-HH-MM>-<hash[:8]>`: the
 * render's time, and the file's sha256 where Label Studio takes an md5.
 */
function fileStem(project: ProjectConfig, manifest: Manifest, sha256: string): string {
  const at = manifest.createdAt.slice(0, 16).replace(/[T:]/g, '-');
  const hash = sha256.slice(0, 8);
  return `project-${project.lsProjectId ?? project.id}-at-${at}${hash ? `-${hash}` : ''}`;
}

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

function extension(path: string): string {
  const base = baseName(path);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot) : '';
}

function listPaths(files: WrittenFile[]): string {
  const shown = files.slice(0, LISTED_FILES).map((f) => f.path);
  const more = files.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` … and ${more} more` : ''}`;
}

/** The query of a `latest/` download as API Gateway gives it (repeated keys joined by commas). */
export type Query = Record<string, string | undefined>;

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off', '']);

/**
 * Reads Label Studio's synchronous-export query: `exportType` (or the older `export_type`,
 * default JSON) and our `path`. `download_all_tasks`, `download_resources` and
 * `interpolate_key_frames` are accepted (booleans, else BadRequest) but change nothing: `latest/`
 * is rendered ahead of time from every task the source storage holds, with the project's media
 * settings. A non-empty `ids` / `ids[]` is refused (BadRequest): `latest/` cannot be cut to some
 * tasks, and answering every task to a request for some would be wrong data.
 */
export function syncExportQuery(q: Query): { exportType?: string; path?: string } {
  const fields: Record<string, string[]> = {};
  for (const name of ['download_all_tasks', 'download_resources', 'interpolate_key_frames']) {
    const v = q[name];
    if (v !== undefined && !TRUE.has(v.toLowerCase()) && !FALSE.has(v.toLowerCase()))
      fields[name] = [`"${v}" is not a valid boolean.`];
  }
  for (const name of ['ids', 'ids[]']) {
    if (q[name]?.trim())
      fields[name] = [
        'Selecting tasks by id is not supported: the synchronous export is served from latest/, ' +
          'which holds every task and cannot be cut to some. Download it whole and keep the ids you want.',
      ];
  }
  if (Object.keys(fields).length) throw new BadRequest('Validation error', fields);
  return latestQuery(q);
}

/** `exportType` (or `export_type`) and `path` of a `latest/` download; empty values count as absent. */
export function latestQuery(q: Query): { exportType?: string; path?: string } {
  return { exportType: q.exportType || q.export_type || undefined, path: q.path || undefined };
}
