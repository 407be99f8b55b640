/**
 * The deployment's configuration: which Label Studio projects to watch and what to export. One
 * zod-validated JSON document, parsed once at cold start (from the environment or an S3 object).
 */
import { z } from 'zod';
import { FORMAT_NAMES } from '../core/config/formats.ts';
import { exportOptionsSchema } from '../core/formats/options.ts';
import { prefixesOverlap, s3Location } from '../core/media-policy.ts';
import { projectBase } from './paths.ts';

const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name');
/** A key prefix; Label Studio does not normalise prefixes, so `exports/` and `exports` both occur. */
const prefix = z.string().max(512).default('');

export const locationSchema = z.object({ bucket: bucketName, prefix });

/**
 * Label Studio's snapshot options (docs/label-studio-storage-and-api.md#snapshot-options), plus our `anonymize`.
 * As in Label Studio, an omitted `task_filter_options` exports every task and an omitted
 * `annotation_filter_options` keeps every annotation; once the object is given, `usual` defaults to
 * true. A serialization option given with `only_id: false` (or `{}`) expands the field; omitted or
 * `only_id: true` keeps ids.
 */
const filterMode = z.enum(['only', 'exclude']).nullish();
const serializationOption = z.object({ only_id: z.boolean().optional() }).nullish();
export const snapshotOptionsSchema = z
  .object({
    task_filter_options: z
      .object({
        view: z.number().int().nullish(),
        skipped: filterMode,
        finished: filterMode,
        annotated: filterMode,
        reviewed: filterMode,
        only_with_annotations: z.boolean().default(false),
      })
      .nullish(),
    annotation_filter_options: z
      .object({
        usual: z.boolean().default(true),
        ground_truth: z.boolean().nullish(),
        skipped: z.boolean().nullish(),
        reviewed: filterMode,
      })
      .nullish(),
    serialization_options: z
      .object({
        drafts: serializationOption,
        predictions: serializationOption,
        annotations__completed_by: serializationOption,
        include_annotation_history: z.boolean().nullish(),
        interpolate_key_frames: z.boolean().nullish(),
      })
      .nullish(),
    /** Ours, not Label Studio's: remove annotator identities everywhere (docs/pipeline.md). */
    anonymize: z.boolean().default(false),
  })
  .default({ anonymize: false });
export type SnapshotOptions = z.infer<typeof snapshotOptionsSchema>;

const s3PrefixUrl = z
  .string()
  .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must be s3://bucket/prefix');

/** Bounds on the media one render or snapshot may fetch; the defaults suit most projects. */
export const mediaLimitsSchema = z.object({
  /** Connect + first byte of one http(s) request, and the longest pause between its chunks. */
  timeoutSeconds: z.number().positive().max(60).default(5),
  /** Wall time for all http(s) media of one run. */
  runSeconds: z.number().positive().max(900).default(120),
  /** Bytes of all media one run may read, MiB. */
  runMiB: z.number().int().positive().default(8192),
  /** Bytes of one http(s) file, MiB. */
  fileMiB: z.number().int().positive().default(512),
  /** http(s) requests at once. */
  concurrency: z.number().int().min(1).max(64).default(8),
  /** Failures of one host after which its further URLs are refused at once. */
  hostFailures: z.number().int().min(1).max(1000).default(2),
});

/**
 * The project's media policy. `/data/upload/…` resolve under `uploadPrefix` (which is also an
 * allowed `s3://` prefix); other `s3://` URIs only under `s3Prefixes`; http(s) by `http`:
 * `"off"`, `"public"` (default: public addresses only, checked on connect) or
 * `{ "allowHosts": ["host", "host:port", "*.example.com"] }`. Local paths are never read.
 */
export const mediaSchema = z
  .object({
    uploadPrefix: s3PrefixUrl.optional(),
    s3Prefixes: z.array(s3PrefixUrl).default([]),
    http: z
      .union([
        z.enum(['off', 'public']),
        z.object({ allowHosts: z.array(z.string().min(1)).min(1) }).strict(),
      ])
      .default('public'),
    limits: mediaLimitsSchema.default(mediaLimitsSchema.parse({})),
  })
  .strict()
  .default({ s3Prefixes: [], http: 'public', limits: mediaLimitsSchema.parse({}) });
export type MediaConfig = z.infer<typeof mediaSchema>;

export const projectSchema = z.object({
  /** Our name for the project, used in export paths: letters, digits, `-`, `_`. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, "-" or "_"'),
  /** Label Studio's numeric project id, used by the export API routes `/api/projects/{id}/…`. */
  lsProjectId: z.number().int().positive().optional(),
  /** Where Label Studio's S3 target storage writes this project's objects. */
  source: locationSchema,
  /** The project's label config: inline XML, or an `s3://bucket/key` object holding it. */
  labelConfig: z.union([
    z.object({ inline: z.string() }),
    z.object({ s3: z.string().regex(/^s3:\/\/[^/]+\/.+/) }),
  ]),
  /** Formats kept fresh under `latest/`. */
  formats: z.array(z.enum(FORMAT_NAMES)).min(1),
  /**
   * How tasks are serialized before `latest/` is rendered: `export` (default) as Label Studio's
   * export gives them — `completed_by` as the user id, storage-only fields dropped — so `latest/`
   * matches what Label Studio's converter makes of its own export; `storage` keeps them as target
   * storage holds them (`completed_by` objects with e-mails). `zip`: also keep
   * `latest/<FORMAT>.zip` for formats with several files (rewritten only when one of them changed).
   */
  latest: z
    .object({
      serialization: z.enum(['export', 'storage']).default('export'),
      zip: z.boolean().default(false),
    })
    .default({ serialization: 'export', zip: false }),
  /** Where exports, state and snapshots go. Must not lie under any watched source prefix. */
  export: locationSchema,
  /** Converter options (data key, CSV separator, fixes). */
  options: exportOptionsSchema.partial().default({}),
  /** Which media tasks may make exports read (docs/media-policy.md). */
  media: mediaSchema,
  snapshot: z
    .object({
      /** Formats of nightly snapshots (default: the `formats` above). JSON is always written. */
      formats: z.array(z.enum(FORMAT_NAMES)).optional(),
      options: snapshotOptionsSchema,
      /** Whether the nightly schedule snapshots this project. */
      nightly: z.boolean().default(true),
    })
    .default({ options: snapshotOptionsSchema.parse(undefined), nightly: true }),
});
export type ProjectConfig = z.infer<typeof projectSchema>;

/** True when `inner` lies at or under `outer` (both key prefixes in one bucket). */
export function prefixContains(outer: string, inner: string): boolean {
  return inner.startsWith(outer);
}

/** Tuning of the pipeline; the defaults suit projects up to a few million tasks. */
export const settingsSchema = z.object({
  /** Tasks per state shard (by task-id range). Fixed when a project's state is created. */
  shardTasks: z.number().int().min(1).max(100_000).default(100),
  /** Shards of the key index (object key → task id). Fixed when a project's state is created. */
  keyShards: z.number().int().min(1).max(4096).default(64),
  /** Multipart part size for exports, MiB (S3 minimum 5). */
  partSizeMiB: z.number().int().min(5).max(5120).default(8),
  /** Parts uploaded in parallel per file. */
  queueSize: z.number().int().min(1).max(16).default(4),
  /** Source objects read in parallel by ingest and rebuild. */
  readConcurrency: z.number().int().min(1).max(256).default(16),
  /** Attempts of one compare-and-swap state write before the batch is retried by SQS. */
  casAttempts: z.number().int().min(1).max(50).default(10),
  /** A render lock older than this is considered abandoned (crashed render). */
  lockTtlSeconds: z.number().int().min(30).default(900),
  /** A dirty marker older than this is rewritten by ingest (its render message was lost). */
  markerStaleSeconds: z.number().int().min(30).default(900),
  /** Tombstones of deleted objects are kept this long (longer than any event can be delayed). */
  tombstoneDays: z.number().int().min(1).default(15),
  /** Keys per rebuild batch when a rebuild runs in one process (the Distributed Map batches itself). */
  rebuildBatchSize: z.number().int().min(1).max(100_000).default(500),
});
export type PipelineSettings = z.infer<typeof settingsSchema>;

export const configSchema = z
  .object({
    version: z.literal(1),
    projects: z.array(projectSchema).min(1),
    settings: settingsSchema.default(settingsSchema.parse({})),
  })
  .superRefine((config, ctx) => {
    const ids = new Set<string>();
    for (const [i, p] of config.projects.entries()) {
      if (ids.has(p.id))
        ctx.addIssue({
          code: 'custom',
          path: ['projects', i, 'id'],
          message: `duplicate project id "${p.id}"`,
        });
      ids.add(p.id);
      mediaOverlaps(config.projects, i, ctx);
      for (const other of config.projects) {
        if (other.source.bucket === p.export.bucket && prefixContains(other.source.prefix, p.export.prefix)) {
          ctx.addIssue({
            code: 'custom',
            path: ['projects', i, 'export'],
            message: `export location s3://${p.export.bucket}/${p.export.prefix} lies under the watched prefix s3://${other.source.bucket}/${other.source.prefix} of project "${other.id}": exports would trigger the pipeline again`,
          });
        }
      }
    }
  });
export type PipelineConfig = z.infer<typeof configSchema>;

/**
 * A project's media prefixes must not overlap any project's export area (`<export.prefix>/<id>/`:
 * state, latest, snapshots, exports) or watched source prefix (other projects' tasks): a task
 * could otherwise copy them into its own export.
 */
function mediaOverlaps(
  projects: ReadonlyArray<z.infer<typeof projectSchema>>,
  i: number,
  ctx: z.RefinementCtx,
): void {
  const p = projects[i];
  if (!p.media || !Array.isArray(p.media.s3Prefixes)) return;
  const media = [
    ...p.media.s3Prefixes.map((url, j) => ({ url, path: ['projects', i, 'media', 's3Prefixes', j] })),
    ...(p.media.uploadPrefix
      ? [{ url: p.media.uploadPrefix, path: ['projects', i, 'media', 'uploadPrefix'] }]
      : []),
  ];
  for (const m of media) {
    // Refinements run even when a field failed its own check: skip what is not an s3:// URL.
    if (typeof m.url !== 'string' || !m.url.startsWith('s3://')) continue;
    const loc = s3Location(m.url);
    for (const q of projects) {
      if (typeof q.export?.prefix !== 'string' || typeof q.source?.prefix !== 'string') continue;
      const base = projectBase(q.export.prefix, q.id);
      if (q.export.bucket === loc.bucket && prefixesOverlap(loc.prefix, base))
        ctx.addIssue({
          code: 'custom',
          path: m.path,
          message: `media prefix ${m.url} overlaps the export area s3://${q.export.bucket}/${base} of project "${q.id}"`,
        });
      if (q.source.bucket === loc.bucket && prefixesOverlap(loc.prefix, q.source.prefix))
        ctx.addIssue({
          code: 'custom',
          path: m.path,
          message: `media prefix ${m.url} overlaps the watched source prefix s3://${q.source.bucket}/${q.source.prefix} of project "${q.id}"`,
        });
    }
  }
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses and validates a configuration document; throws ConfigError with every problem listed. */
export function parseConfig(input: unknown): PipelineConfig {
  const value = typeof input === 'string' ? safeJson(input) : input;
  const r = configSchema.safeParse(value);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new ConfigError(`invalid ls-export configuration: ${problems.join('; ')}`);
  }
  return r.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`the ls-export configuration is not valid JSON: ${(err as Error).message}`);
  }
}
