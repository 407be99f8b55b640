/** Command-line parsing for `ls-export`, validated with zod into one options object. */
import { parseArgs } from 'node:util';
import { z } from 'zod';

import { UsageError } from './errors.ts';

export { UsageError };

const convertSchema = z.object({
  input: z.string({ error: 'missing -i/--input (a JSON export, a folder, or s3://bucket/prefix)' }).min(1),
  config: z.string({ error: 'missing -c/--config (the project label config XML)' }).min(1),
  output: z.string({ error: 'missing -o/--output (the output folder)' }).min(1),
  format: z.string({ error: 'missing -f/--format (see `ls-export formats -c CONFIG`)' }).min(1),
  csvSeparator: z.string().optional(),
  uploadDir: z.string().optional(),
  projectDir: z.string().optional(),
  /** More local folders task media may be read from (besides the upload and project folders). */
  mediaRoots: z.array(z.string().min(1)).default([]),
  /** http(s) media: `any` (default), `public`, `off`, or a comma-separated host list. */
  mediaHttp: z.string().min(1).default('any'),
  labelStudioUrl: z.string().optional(),
  cocoAnnotator: z.boolean().default(false),
  vocImages: z.boolean().default(true),
  brushMaxPixels: z.coerce.number().int().positive().optional(),
  brushMaxTaskPixels: z.coerce.number().int().positive().optional(),
  brushMaxTotalPixels: z.coerce.number().int().positive().optional(),
  dataKey: z.string().optional(),
  spacy: z.boolean().default(false),
  annotatorEmails: z.boolean().default(false),
  fix: z.array(z.string()).default([]),
  zip: z.boolean().default(false),
  endpoint: z.string().url().optional(),
  region: z.string().optional(),
  quiet: z.boolean().default(false),
});
export type ConvertArgs = z.infer<typeof convertSchema>;

const OPTIONS = {
  input: { type: 'string', short: 'i' },
  config: { type: 'string', short: 'c' },
  output: { type: 'string', short: 'o' },
  format: { type: 'string', short: 'f' },
  'csv-separator': { type: 'string' },
  'csv-no-header': { type: 'boolean' },
  'upload-dir': { type: 'string' },
  'project-dir': { type: 'string' },
  'media-root': { type: 'string', multiple: true },
  'media-http': { type: 'string' },
  'label-studio-url': { type: 'string' },
  'coco-annotator': { type: 'boolean' },
  'no-voc-images': { type: 'boolean' },
  'brush-max-pixels': { type: 'string' },
  'brush-max-task-pixels': { type: 'string' },
  'brush-max-total-pixels': { type: 'string' },
  'data-key': { type: 'string' },
  spacy: { type: 'boolean' },
  'annotator-emails': { type: 'boolean' },
  fix: { type: 'string', multiple: true },
  zip: { type: 'boolean' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify.*$/s, ''));
  }
}

export function convertArgs(values: ReturnType<typeof parseCommandLine>['values']): ConvertArgs {
  const r = convertSchema.safeParse({
    input: values.input,
    config: values.config,
    output: values.output,
    format: values.format,
    csvSeparator: values['csv-separator'] === '\\t' ? '\t' : values['csv-separator'],
    uploadDir: values['upload-dir'],
    projectDir: values['project-dir'],
    mediaRoots: values['media-root'],
    mediaHttp: values['media-http'],
    labelStudioUrl: values['label-studio-url'],
    cocoAnnotator: values['coco-annotator'],
    vocImages: !values['no-voc-images'],
    brushMaxPixels: values['brush-max-pixels'],
    brushMaxTaskPixels: values['brush-max-task-pixels'],
    brushMaxTotalPixels: values['brush-max-total-pixels'],
    dataKey: values['data-key'],
    spacy: values.spacy,
    annotatorEmails: values['annotator-emails'],
    fix: values.fix,
    zip: values.zip,
    endpoint: values.endpoint ?? process.env.AWS_ENDPOINT_URL_S3,
    region: values.region ?? process.env.AWS_REGION,
    quiet: values.quiet,
  });
  if (!r.success) throw new UsageError(r.error.issues[0].message);
  return r.data;
}
