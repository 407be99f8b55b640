/**
 * Where things live, derived from the validated pipeline configuration: the watched (source)
 * prefixes, each project's area in the export bucket, and the checks the stack adds on top of
 * `parseConfig` (one export bucket per stack, the config object outside every watched prefix).
 *
 * Key layout shared with the functions (functions/pipeline): a project's area is
 * `<export.prefix without trailing slashes>/<project id>/`, or `<project id>/` for an empty prefix.
 */

import { parseS3Url } from '../functions/core/s3-url.ts';
import {
  ConfigError,
  type PipelineConfig,
  parseConfig,
  prefixContains,
} from '../functions/pipeline/config.ts';
import { minimalPrefixes } from '../functions/pipeline/notifications.ts';
import { projectBase, watchedPrefix } from '../functions/pipeline/paths.ts';

/** S3 rejects overlapping notification filters for one event type: see notifications.ts. */
export { minimalPrefixes, parseS3Url, projectBase, watchedPrefix };

export interface ProjectLayout {
  readonly id: string;
  readonly sourceBucket: string;
  /** The watched prefix as used in notification filters and IAM resources (`''` or `…/`). */
  readonly sourcePrefix: string;
  /** `<export prefix>/<id>/` */
  readonly base: string;
  readonly state: string;
  readonly latest: string;
  readonly snapshots: string;
  readonly exports: string;
  readonly exportRequests: string;
  /** Where the rebuild's Distributed Map writes its ResultWriter manifest and result files. */
  readonly rebuildResults: string;
  /**
   * Where render and snapshot fan-out jobs keep their objects (render-fanout-job.ts); the commit or
   * the abort deletes them, a worker still running after an abort can leave some behind.
   */
  readonly fanoutJobs: string;
  /** `s3://bucket/prefix` of Label Studio's uploaded media, when configured. */
  readonly media?: { bucket: string; prefix: string };
  /** The label config object when the config references one in S3. */
  readonly labelConfigObject?: { bucket: string; key: string };
}

export interface DeploymentLayout {
  readonly config: PipelineConfig;
  readonly exportBucketName: string;
  /** Distinct source buckets, each with its minimal set of non-overlapping watched prefixes. */
  readonly sourceBuckets: ReadonlyMap<string, string[]>;
  readonly projects: readonly ProjectLayout[];
  readonly configKey: string;
}

/**
 * Validates the configuration for a deployment. Throws ConfigError with a clear message when the
 * configuration is invalid (including an export prefix inside a watched prefix, from `parseConfig`)
 * or when it does not fit a single stack.
 */
export function planDeployment(input: unknown, configKey: string): DeploymentLayout {
  const config = parseConfig(input);
  // Construct ids and CloudFormation outputs use the project id without `-` and `_`.
  const squashed = new Map<string, string>();
  for (const p of config.projects) {
    const key = p.id.replace(/[^A-Za-z0-9]/g, '');
    const other = squashed.get(key);
    if (other !== undefined) {
      throw new ConfigError(
        `invalid ls-export deployment: project ids "${other}" and "${p.id}" differ only in "-" or "_"; CloudFormation names would collide`,
      );
    }
    squashed.set(key, p.id);
  }
  const exportBuckets = [...new Set(config.projects.map((p) => p.export.bucket))];
  if (exportBuckets.length !== 1) {
    throw new ConfigError(
      `invalid ls-export deployment: every project must use the same export bucket (the stack creates one), got ${exportBuckets.join(', ')}`,
    );
  }
  const exportBucketName = exportBuckets[0];
  if (configKey === '' || configKey.endsWith('/')) {
    throw new ConfigError(`invalid ls-export deployment: configKey "${configKey}" must be an object key`);
  }

  const projects = config.projects.map((p): ProjectLayout => {
    const base = projectBase(p.export.prefix, p.id);
    const media = p.media.uploadPrefix ? parseS3Url(p.media.uploadPrefix) : undefined;
    const labelConfigUrl = 's3' in p.labelConfig ? parseS3Url(p.labelConfig.s3) : undefined;
    const labelConfigObject = labelConfigUrl && { bucket: labelConfigUrl.bucket, key: labelConfigUrl.prefix };
    return {
      id: p.id,
      sourceBucket: p.source.bucket,
      sourcePrefix: watchedPrefix(p.source.prefix),
      base,
      state: `${base}_state/`,
      latest: `${base}latest/`,
      snapshots: `${base}snapshots/`,
      exports: `${base}_exports/`,
      exportRequests: `${base}_exports/requests/`,
      rebuildResults: `${base}_state/rebuild-results/`,
      fanoutJobs: `${base}_state/render-fanout/`,
      media,
      labelConfigObject,
    };
  });

  // The deployed config object must not trigger ingestion either.
  for (const p of config.projects) {
    if (p.source.bucket === exportBucketName && prefixContains(p.source.prefix, configKey)) {
      throw new ConfigError(
        `invalid ls-export deployment: the config object s3://${exportBucketName}/${configKey} lies under the watched prefix s3://${p.source.bucket}/${p.source.prefix} of project "${p.id}"`,
      );
    }
  }

  // Nor may a watched prefix lie inside a project's export area: the pipeline's own writes would loop.
  for (const p of projects) {
    if (p.sourceBucket !== exportBucketName) continue;
    for (const other of projects) {
      if (p.sourcePrefix.startsWith(other.base)) {
        throw new ConfigError(
          `invalid ls-export deployment: the watched prefix s3://${p.sourceBucket}/${p.sourcePrefix} of project "${p.id}" lies inside the export area s3://${exportBucketName}/${other.base} of project "${other.id}": exports would trigger the pipeline again`,
        );
      }
    }
  }

  const sourceBuckets = new Map<string, string[]>();
  for (const p of projects) {
    const list = sourceBuckets.get(p.sourceBucket) ?? [];
    list.push(p.sourcePrefix);
    sourceBuckets.set(p.sourceBucket, list);
  }
  for (const [bucket, prefixes] of sourceBuckets) sourceBuckets.set(bucket, minimalPrefixes(prefixes));

  return { config, exportBucketName, sourceBuckets, projects, configKey };
}
