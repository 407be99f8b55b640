/**
 * The deployment's configuration: which Label Studio projects to watch and what to export. One
 * zod-validated JSON document, parsed once at cold start (from the environment or an S3 object).
 */
import { z } from 'zod';
import { FORMAT_NAMES } from '../core/config/formats.ts';
import { exportOptionsSchema } from '../core/formats/options.ts';

const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name');
/** A key prefix; Label Studio does not normalise prefixes, so `exports/` and `exports` both occur. */
const prefix = z.string().max(512).default('');

export const locationSchema = z.object({ bucket: bucketName, prefix });

/** Label Studio's snapshot options (docs/ls-storage-export-api.md §3.2), plus our `anonymize`. */
export const snapshotOptionsSchema = z
  .object({
    task_filter_options: z
      .object({
        view: z.number().int().optional(),
        skipped: z.enum(['only', 'exclude']).nullish(),
        finished: z.enum(['only', 'exclude']).nullish(),
        annotated: z.enum(['only', 'exclude']).nullish(),
        only_with_annotations: z.boolean().default(false),
      })
      .default({ only_with_annotations: false }),
    annotation_filter_options: z
      .object({
        usual: z.boolean().default(true),
        ground_truth: z.boolean().nullish(),
        skipped: z.boolean().nullish(),
      })
      .default({ usual: true }),
    serialization_options: z
      .object({
        drafts: z.object({ only_id: z.boolean().default(false) }).partial().nullish(),
        predictions: z.object({ only_id: z.boolean().default(false) }).partial().nullish(),
        annotations__completed_by: z.object({ only_id: z.boolean().default(false) }).partial().nullish(),
      })
      .default({}),
    anonymize: z.boolean().default(false),
  })
  .default({
    task_filter_options: { only_with_annotations: false },
    annotation_filter_options: { usual: true },
    serialization_options: {},
    anonymize: false,
  });
export type SnapshotOptions = z.infer<typeof snapshotOptionsSchema>;

export const projectSchema = z.object({
  /** Our name for the project, used in export paths: letters, digits, `-`, `_`. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, "-" or "_"'),
  /** Label Studio's numeric project id, used by the export API routes `/api/projects/{id}/…`. */
  lsProjectId: z.number().int().positive().optional(),
  /** Where Label Studio's S3 target storage writes this project's objects. */
  source: locationSchema,
  /** The project's label config: inline XML, or an `s3://bucket/key` object holding it. */
  labelConfig: z.union([z.object({ inline: z.string() }), z.object({ s3: z.string().regex(/^s3:\/\/[^/]+\/.+/) })]),
  /** Formats kept fresh under `latest/`. */
  formats: z.array(z.enum(FORMAT_NAMES)).min(1),
  /** Where exports, state and snapshots go. Must not lie under any watched source prefix. */
  export: locationSchema,
  /** Converter options (data key, CSV separator, fixes). */
  options: exportOptionsSchema.partial().default({}),
  /** Where Label Studio's `/data/upload/…` media live (a copy of its upload folder in S3). */
  media: z.object({ uploadPrefix: z.string().regex(/^s3:\/\/[^/]+\/?.*/).optional() }).default({}),
  snapshot: z
    .object({
      /** Formats of nightly snapshots (default: the `formats` above). */
      formats: z.array(z.enum(FORMAT_NAMES)).optional(),
      options: snapshotOptionsSchema,
    })
    .default({ options: snapshotOptionsSchema.parse(undefined) }),
});
export type ProjectConfig = z.infer<typeof projectSchema>;

/** True when `inner` lies at or under `outer` (both key prefixes in one bucket). */
export function prefixContains(outer: string, inner: string): boolean {
  return inner.startsWith(outer);
}

export const configSchema = z
  .object({
    version: z.literal(1),
    projects: z.array(projectSchema).min(1),
  })
  .superRefine((config, ctx) => {
    const ids = new Set<string>();
    for (const [i, p] of config.projects.entries()) {
      if (ids.has(p.id)) ctx.addIssue({ code: 'custom', path: ['projects', i, 'id'], message: `duplicate project id "${p.id}"` });
      ids.add(p.id);
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
