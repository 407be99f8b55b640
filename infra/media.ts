/**
 * Media confinement: the S3 locations render and snapshot may read media from (images of
 * `*_WITH_IMAGES` formats, image sizes), collected from the configuration — each project's
 * `media.uploadPrefix` and `media.s3Prefixes` — and from the deployment's `mediaS3Prefixes`; and
 * the synth-time refusal of any media location that overlaps the pipeline's own data in the export
 * bucket (a project's export prefix or area with `_state/`, `_exports/`, `latest/`, `snapshots/`, and
 * the folder of the deployed config, `_ls-export/`), or any watched source prefix (other projects'
 * raw annotations). The configuration schema refuses some of these for `media.*` already; this
 * check also covers the deployment's `mediaS3Prefixes`, export prefixes and the config. IAM grants `s3:GetObject` on `<prefix>*`, so
 * "overlap" is string-prefix overlap in either direction within one bucket.
 */
import { ConfigError } from '../functions/pipeline/config.ts';
import { type DeploymentLayout, parseS3Url, watchedPrefix } from './layout.ts';
import type { S3Location } from './s3-access.ts';

export interface MediaLocation extends S3Location {
  /** Where it was configured, e.g. `projects.1.media.s3Prefixes.0` or `mediaS3Prefixes.0`. */
  readonly origin: string;
}

interface ProtectedArea {
  readonly bucket: string;
  readonly prefix: string;
  readonly what: string;
}

const S3_URL = /^s3:\/\/[^/]+(\/.*)?$/;

/**
 * Every media location of the deployment, in configuration order. `rawConfig` is the document as
 * given: `media.s3Prefixes` is read from the parsed configuration when its schema knows the field,
 * else from the raw document (optional either way). Throws ConfigError for a value that is not an
 * array of `s3://bucket/prefix` strings, naming its path.
 */
export function mediaLocations(
  layout: DeploymentLayout,
  rawConfig: unknown,
  mediaS3Prefixes: readonly string[] = [],
): MediaLocation[] {
  const out: MediaLocation[] = [];
  const url = (value: unknown, origin: string): void => {
    if (typeof value !== 'string' || !S3_URL.test(value)) {
      throw new ConfigError(
        `invalid ls-export deployment: ${origin} must be an s3://bucket/prefix URL, got ${JSON.stringify(value)}`,
      );
    }
    out.push({ ...parseS3Url(value), origin });
  };
  const rawProjects = (rawConfig as { projects?: unknown[] } | null)?.projects;
  layout.config.projects.forEach((p, i) => {
    if (p.media.uploadPrefix) url(p.media.uploadPrefix, `projects.${i}.media.uploadPrefix`);
    const parsed = (p.media as { s3Prefixes?: unknown }).s3Prefixes;
    const raw = (rawProjects?.[i] as { media?: { s3Prefixes?: unknown } } | undefined)?.media?.s3Prefixes;
    const prefixes = parsed ?? raw;
    if (prefixes === undefined) return;
    if (!Array.isArray(prefixes)) {
      throw new ConfigError(`invalid ls-export deployment: projects.${i}.media.s3Prefixes must be an array`);
    }
    for (const [j, v] of prefixes.entries()) url(v, `projects.${i}.media.s3Prefixes.${j}`);
  });
  for (const [j, v] of mediaS3Prefixes.entries()) url(v, `mediaS3Prefixes.${j}`);
  return out;
}

/** The export bucket's areas no media grant may reach. */
function protectedAreas(layout: DeploymentLayout): ProtectedArea[] {
  const bucket = layout.exportBucketName;
  const areas: ProtectedArea[] = [];
  for (const [i, p] of layout.config.projects.entries()) {
    const prefix = watchedPrefix(p.export.prefix);
    if (prefix !== '') areas.push({ bucket, prefix, what: `the export prefix of project "${p.id}"` });
    areas.push({
      bucket,
      prefix: layout.projects[i].base,
      what: `the export area (_state/, _exports/, latest/, snapshots/) of project "${p.id}"`,
    });
  }
  for (const p of layout.projects)
    areas.push({
      bucket: p.sourceBucket,
      prefix: p.sourcePrefix,
      what: `the watched source prefix of project "${p.id}"`,
    });
  const slash = layout.configKey.lastIndexOf('/');
  areas.push({
    bucket,
    prefix: slash >= 0 ? layout.configKey.slice(0, slash + 1) : layout.configKey,
    what: 'the deployed configuration',
  });
  return areas;
}

/**
 * Throws ConfigError naming the media location and the area when a media location overlaps one of
 * the export bucket's protected areas (see the module comment).
 */
export function checkMediaConfinement(layout: DeploymentLayout, media: readonly MediaLocation[]): void {
  const areas = protectedAreas(layout);
  for (const m of media) {
    for (const a of areas) {
      if (m.bucket !== a.bucket) continue;
      if (m.prefix.startsWith(a.prefix) || a.prefix.startsWith(m.prefix)) {
        throw new ConfigError(
          `invalid ls-export deployment: the media location s3://${m.bucket}/${m.prefix} (${m.origin}) overlaps ${a.what}, s3://${a.bucket}/${a.prefix}: render and snapshot would be allowed to read it as media`,
        );
      }
    }
  }
}
