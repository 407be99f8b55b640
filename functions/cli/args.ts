/**
 * Command-line parsing for `ls-export`, validated with zod into one options object. The flags of
 * the export formats (`--spacy`, `--coco-annotator`, …) come from the format plugins' options
 * (core/formats/registry.ts); the ones here are the command's own.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { type FormatRegistry, REGISTRY } from '../core/formats/registry.ts';
import { UsageError } from './errors.ts';

export { UsageError };

const convertSchema = z.object({
  input: z.string({ error: 'missing -i/--input (a JSON export, a folder, or s3://bucket/prefix)' }).min(1),
  config: z.string({ error: 'missing -c/--config (the project label config XML)' }).min(1),
  output: z.string({ error: 'missing -o/--output (the output folder)' }).min(1),
  format: z.string({ error: 'missing -f/--format (see `ls-export formats -c CONFIG`)' }).min(1),
  uploadDir: z.string().optional(),
  projectDir: z.string().optional(),
  /** More local folders task media may be read from (besides the upload and project folders). */
  mediaRoots: z.array(z.string().min(1)).default([]),
  /** http(s) media: `any` (default), `public`, `off`, or a comma-separated host list. */
  mediaHttp: z.string().min(1).default('any'),
  fix: z.array(z.string()).default([]),
  zip: z.boolean().default(false),
  endpoint: z.string().url().optional(),
  region: z.string().optional(),
  quiet: z.boolean().default(false),
});
export type ConvertArgs = z.infer<typeof convertSchema> & {
  /** Export option inputs set by format flags (option key → value; unset flags absent). */
  formatOptions: Record<string, unknown>;
};

/** The command's own flags (format flags are added from the registry). */
const COMMAND_OPTIONS = {
  input: { type: 'string', short: 'i' },
  config: { type: 'string', short: 'c' },
  output: { type: 'string', short: 'o' },
  format: { type: 'string', short: 'f' },
  // Label Studio's converter CLI flag; accepted and ignored, as before.
  'csv-no-header': { type: 'boolean' },
  'upload-dir': { type: 'string' },
  'project-dir': { type: 'string' },
  'media-root': { type: 'string', multiple: true },
  'media-http': { type: 'string' },
  fix: { type: 'string', multiple: true },
  zip: { type: 'boolean' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type CommandLineValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

/** Parses argv (without node and the script); unknown flags are a UsageError. */
export function parseCommandLine(
  argv: string[],
  registry: FormatRegistry = REGISTRY,
): { values: CommandLineValues; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    ...COMMAND_OPTIONS,
  };
  for (const f of registry.flags()) options[f.flag] = { type: f.type };
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify.*$/s, ''));
  }
}

/** `convert`'s arguments; throws UsageError for a missing or malformed one. */
export function convertArgs(values: CommandLineValues, registry: FormatRegistry = REGISTRY): ConvertArgs {
  const r = convertSchema.safeParse({
    input: values.input,
    config: values.config,
    output: values.output,
    format: values.format,
    uploadDir: values['upload-dir'],
    projectDir: values['project-dir'],
    mediaRoots: values['media-root'],
    mediaHttp: values['media-http'],
    fix: values.fix,
    zip: values.zip,
    endpoint: values.endpoint ?? process.env.AWS_ENDPOINT_URL_S3,
    region: values.region ?? process.env.AWS_REGION,
    quiet: values.quiet,
  });
  if (!r.success) throw new UsageError(r.error.issues[0].message);
  const formatOptions: Record<string, unknown> = {};
  for (const f of registry.flags()) {
    const raw = values[f.flag];
    if (raw === undefined || Array.isArray(raw)) continue;
    formatOptions[f.option] = f.toOption ? f.toOption(raw) : raw;
  }
  return { ...r.data, formatOptions };
}
