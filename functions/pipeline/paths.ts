/**
 * Where every object of a project lives in the export bucket, and which project a key belongs to.
 * Shared with the infrastructure (infra/layout.ts): a project's area is
 * `<export.prefix without trailing slashes>/<project id>/`.
 */
import type { PipelineConfig, ProjectConfig } from './config.ts';

export { parseS3Url } from '../core/s3-url.ts';

/** A watched prefix as a key-prefix filter: `''` (whole bucket) or ending in exactly one `/`. */
export function watchedPrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/** The project's area in the export bucket, ending in `/`. */
export function projectBase(exportPrefix: string, projectId: string): string {
  const trimmed = exportPrefix.replace(/\/+$/, '');
  return trimmed === '' ? `${projectId}/` : `${trimmed}/${projectId}/`;
}

export interface ProjectPaths {
  readonly base: string;
  readonly state: string;
  readonly head: string;
  readonly dirty: string;
  readonly lock: string;
  /** Written by a render before its first output write, deleted after it committed (render.ts). */
  readonly renderInflight: string;
  readonly skipped: string;
  readonly taskShards: string;
  readonly keyShards: string;
  readonly latest: string;
  readonly latestManifest: string;
  readonly snapshots: string;
  readonly exports: string;
  readonly exportRequests: string;
  readonly exportCounter: string;
  taskShard(shardId: string): string;
  keyShard(n: number): string;
  /** `latest/<FORMAT>/`: the fixed folder of one format's current files. */
  latestFormat(format: string): string;
  /** `latest/<FORMAT>.zip`: the format's files in one archive (projects with `latest.zip`). */
  latestZip(format: string): string;
  snapshot(name: string): string;
  exportRecord(id: number): string;
  request(name: string): string;
  rebuild(runId: string): string;
}

export function projectPaths(project: ProjectConfig): ProjectPaths {
  const base = projectBase(project.export.prefix, project.id);
  const state = `${base}_state/`;
  const exports = `${base}_exports/`;
  return {
    base,
    state,
    head: `${state}head.json`,
    dirty: `${state}dirty`,
    lock: `${state}render.lock`,
    renderInflight: `${state}render-inflight.json`,
    skipped: `${state}skipped.json`,
    taskShards: `${state}tasks/`,
    keyShards: `${state}keys/`,
    latest: `${base}latest/`,
    latestManifest: `${base}latest/manifest.json`,
    snapshots: `${base}snapshots/`,
    exports,
    exportRequests: `${exports}requests/`,
    exportCounter: `${exports}next-id.json`,
    taskShard: (id) => `${state}tasks/${id}.jsonl`,
    keyShard: (n) => `${state}keys/${String(n).padStart(4, '0')}.json`,
    latestFormat: (format) => `${base}latest/${format}/`,
    latestZip: (format) => `${base}latest/${format}.zip`,
    snapshot: (name) => `${base}snapshots/${name}/`,
    exportRecord: (id) => `${exports}${id}.json`,
    request: (name) => `${exports}requests/${name}.json`,
    rebuild: (runId) => `${state}rebuild/${runId}/`,
  };
}

/** The projects whose watched prefix holds this source object (usually one). */
export function projectsForSourceKey(config: PipelineConfig, bucket: string, key: string): ProjectConfig[] {
  return config.projects.filter(
    (p) => p.source.bucket === bucket && key.startsWith(watchedPrefix(p.source.prefix)),
  );
}

/** The project whose dirty marker this export-bucket key is. */
export function projectForDirtyMarker(
  config: PipelineConfig,
  bucket: string,
  key: string,
): ProjectConfig | undefined {
  return config.projects.find((p) => p.export.bucket === bucket && projectPaths(p).dirty === key);
}

/** The project and request name of an on-demand export request object. */
export function projectForExportRequest(
  config: PipelineConfig,
  bucket: string,
  key: string,
): { project: ProjectConfig; name: string } | undefined {
  for (const p of config.projects) {
    const dir = projectPaths(p).exportRequests;
    if (p.export.bucket !== bucket || !key.startsWith(dir) || !key.endsWith('.json')) continue;
    const name = key.slice(dir.length, -'.json'.length);
    if (name && !name.includes('/')) return { project: p, name };
  }
  return undefined;
}

/** A project by our id, or by Label Studio's numeric project id (the API's `{id}`). */
export function findProject(config: PipelineConfig, ref: string): ProjectConfig | undefined {
  const byId = config.projects.find((p) => p.id === ref);
  if (byId) return byId;
  if (/^\d+$/.test(ref)) return config.projects.find((p) => p.lsProjectId === Number(ref));
  return undefined;
}
