/**
 * Command-line parsing for `ls-export`, validated with zod into one options object. The flags of
 * the export formats (`--spacy`, `--coco-annotator`, …) come from the format plugins' options
 * (core/formats/registry.ts); the ones here are the command's own.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { type FormatRegistry, REGISTRY } from '../core/formats/registry.ts';
import { UsageError } from './errors.ts';
import { parseFormatList } from './format-names.ts';

export { UsageError };

const convertSchema = z.object({
  input: z.string({ error: 'missing -i/--input (a JSON export, a folder, or s3://bucket/prefix)' }).min(1),
  config: z.string({ error: 'missing -c/--config (the project label config XML)' }).min(1),
  output: z.string({ error: 'missing -o/--output (the output folder)' }).min(1),
  /** `-f`: one name or a comma-separated list; JSON when absent, as in Label Studio's converter. */
  format: z.string().min(1, '-f/--format needs a format name').default('JSON'),
  /** Where image copies go (COCO/YOLO/VOC families) instead of OUTPUT/images (converter's --image-dir). */
  imageDir: z.string().min(1).optional(),
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
  /** Exit status 3 when anything was skipped or a region lost; refuse formats that can only be empty. */
  strict: z.boolean().default(false),
  /** CSV/TSV: omit the header row (`--csv-no-header`). */
  csvNoHeader: z.boolean().default(false),
});
export type ConvertArgs = z.infer<typeof convertSchema> & {
  /** The formats `-f` names (upper-case, registry names, in the order given, each once). */
  formats: string[];
  /** Export option inputs set by format flags (option key → value; unset flags absent). */
  formatOptions: Record<string, unknown>;
};

/** The command's own flags (format flags are added from the registry). */
const COMMAND_OPTIONS = {
  input: { type: 'string', short: 'i' },
  config: { type: 'string', short: 'c' },
  output: { type: 'string', short: 'o' },
  format: { type: 'string', short: 'f' },
  // Label Studio's converter: its default (one JSON export file) cannot be turned off there; here
  // the input's shape (file, JSON Lines, folder, s3:// prefix) is detected, so it is accepted only.
  'heartex-format': { type: 'boolean' },
  'image-dir': { type: 'string' },
  // The converter's flag: CSV/TSV without the header row (its own CSV writer ignores it).
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
  strict: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  debug: { type: 'boolean' },
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
    imageDir: values['image-dir'],
    uploadDir: values['upload-dir'],
    projectDir: values['project-dir'],
    mediaRoots: values['media-root'],
    mediaHttp: values['media-http'],
    fix: values.fix,
    zip: values.zip,
    strict: values.strict,
    endpoint: values.endpoint ?? process.env.AWS_ENDPOINT_URL_S3,
    region: values.region ?? process.env.AWS_REGION,
    quiet: values.quiet,
    csvNoHeader: values['csv-no-header'],
  });
  if (!r.success) throw new UsageError(r.error.issues[0].message);
  const formatOptions: Record<string, unknown> = {};
  for (const f of registry.flags()) {
    const raw = values[f.flag];
    if (raw === undefined || Array.isArray(raw)) continue;
    formatOptions[f.option] = f.toOption ? f.toOption(raw) : raw;
  }
  return { ...r.data, formats: parseFormatList(r.data.format, registry), formatOptions };
}
