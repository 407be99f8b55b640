/**
 * The project's label config as the pipeline reads it: inline XML from the configuration, or an
 * `s3://bucket/key` object the operator uploads (and may overwrite in place). An S3 object is read
 * on every call (one small GET), never cached by key: a warm container must see an upload at once,
 * because the render compares the config's digest with the one `latest/manifest.json` records.
 * Parsing is cached per context by the text's sha256.
 */
import { createHash } from 'node:crypto';
import { LabelConfigError, parseLabelConfig } from '../core/config/label-config.ts';
import type { LabelSchema } from '../core/config/schema.ts';
import type { PipelineConfig, ProjectConfig } from './config.ts';
import type { PipelineContext } from './context.ts';
import { LabelConfigChangedError, LabelConfigUnavailableError } from './errors.ts';
import { readText } from './object-text.ts';
import { parseS3Url } from './paths.ts';

/** A project's label config: the parsed schema and the sha256 (hex) of the XML text it came from. */
export interface LoadedLabelConfig {
  schema: LabelSchema;
  sha256: string;
}

/** sha256 (hex) of a label config's XML text, as `latest/manifest.json` records it. */
export function labelConfigDigest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The S3 object holding the project's label config, or undefined for an inline one. */
export function labelConfigObject(project: ProjectConfig): { bucket: string; key: string } | undefined {
  if (!('s3' in project.labelConfig)) return undefined;
  const { bucket, prefix } = parseS3Url(project.labelConfig.s3);
  return { bucket, key: prefix };
}

/** The projects whose label config is the object `bucket`/`key` (several may share one). */
export function projectsForLabelConfigKey(
  config: PipelineConfig,
  bucket: string,
  key: string,
): ProjectConfig[] {
  return config.projects.filter((p) => {
    const o = labelConfigObject(p);
    return o !== undefined && o.bucket === bucket && o.key === key;
  });
}

const parsed = new WeakMap<PipelineContext, Map<string, Promise<LabelSchema>>>();

/**
 * Reads (an S3 object: on every call) and parses the project's label config. With `expected` (the
 * digest a render started with), a config whose digest differs throws LabelConfigChangedError, so
 * every step of one render renders with one config. Throws LabelConfigUnavailableError when the
 * object does not exist or the XML is not a valid label config; other store errors propagate
 * (retryable).
 */
export async function loadLabelConfig(
  ctx: PipelineContext,
  project: ProjectConfig,
  expected?: string,
): Promise<LoadedLabelConfig> {
  let text: string;
  if ('inline' in project.labelConfig) text = project.labelConfig.inline;
  else {
    const { bucket, key } = labelConfigObject(project)!;
    const r = await readText(ctx.store(bucket), key);
    if (!r) throw new LabelConfigUnavailableError(project.id, `${project.labelConfig.s3} does not exist`);
    text = r.text;
  }
  const sha256 = labelConfigDigest(text);
  if (expected !== undefined && sha256 !== expected)
    throw new LabelConfigChangedError(project.id, expected, sha256);
  let cache = parsed.get(ctx);
  if (!cache) parsed.set(ctx, (cache = new Map()));
  const cacheKey = `${project.id}\n${sha256}`; // the error names the project
  let p = cache.get(cacheKey);
  if (!p) {
    p = (async () => {
      try {
        return parseLabelConfig(text);
      } catch (err) {
        if (err instanceof LabelConfigError) throw new LabelConfigUnavailableError(project.id, err.message);
        throw err;
      }
    })();
    const c = cache;
    p.catch(() => c.delete(cacheKey));
    cache.set(cacheKey, p);
  }
  return { schema: await p, sha256 };
}
