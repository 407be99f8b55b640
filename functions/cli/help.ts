/**
 * `ls-export --help` (an overview of the commands) and each command's own help (`ls-export convert
 * --help`, `ls-export help convert`); convert's lists each format plugin's flags and fixes.
 */
import { type FormatRegistry, REGISTRY } from '../core/formats/registry.ts';

const COLUMN = 28;

/** `  FLAG ARG` padded to the help column, then the text; `\n` in the text continues under it. */
function optionLine(head: string, text: string): string {
  const left = `  ${head}`;
  const indent = ' '.repeat(COLUMN);
  const first = left.length < COLUMN ? left.padEnd(COLUMN) : `${left}\n${indent}`;
  return first + text.split('\n').join(`\n${indent}`);
}

/** Words joined into lines of at most `width` characters, each after `indent`. */
function wrap(words: string[], indent: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && indent.length + line.length + w.length + 1 > width) {
      lines.push(line);
      line = '';
    }
    line += line ? ` ${w}` : w;
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}

/** The commands with their own help, as `ls-export help COMMAND` names them. */
export const COMMANDS = ['convert', 'formats', 'sync', 'demo'] as const;
export type Command = (typeof COMMANDS)[number];

const EXIT_STATUS = `Exit status: 0 when the export completed (skipped inputs are listed in report.json),
1 when it could not run (missing input, unreadable config, unsupported format, an S3 error),
2 for usage errors and a label config that is not valid, 3 with --strict when inputs or regions
were skipped or nothing was found, 130 / 143 when interrupted (Ctrl-C, SIGTERM: the run's
temporary files are removed, the output is incomplete).
`;

/** `ls-export --help`: the commands and the options every command takes. */
export function overviewHelp(): string {
  return `ls-export — Label Studio exports, faithful to Label Studio's converter, streaming and fast.

Usage:
  ls-export convert -i INPUT -c CONFIG.xml -o OUTPUT_DIR [-f FORMAT[,FORMAT…]] [options]
  ls-export formats -c CONFIG.xml
  ls-export sync -c PIPELINE.json [-p PROJECT]... [--endpoint URL] [--full] [--no-render] [--workers N]
  ls-export demo

Commands:
  convert (alias: export)   convert a Label Studio export or target-storage objects into formats
  formats                   the export formats a label config supports
  sync                      bring the serverless pipeline's projects up to date, on any S3 endpoint
  demo                      the converter and the pipeline on this machine, no AWS account needed
  help COMMAND              a command's options (also: ls-export COMMAND --help)

Options of every command:
  -h, --help                this help, or the command's
  --version                 print the version of ls-export
  --debug                   on an unexpected error, print its stack trace

${EXIT_STATUS}`;
}

/** `ls-export convert --help` for a format registry (the built-in one by default). */
export function convertHelp(registry: FormatRegistry = REGISTRY): string {
  const names = registry.implemented().map((n, i, all) => (i < all.length - 1 ? `${n},` : n));
  const formatFlags = registry
    .flags()
    .map((f) => optionLine(f.arg ? `--${f.flag} ${f.arg}` : `--${f.flag}`, f.help))
    .join('\n');
  const fixes = Object.entries(registry.fixes())
    .map(([name, f]) => `  --fix ${name.padEnd(22)} ${f.description}`)
    .join('\n');
  return `Usage: ls-export convert -i INPUT -c CONFIG.xml -o OUTPUT_DIR [-f FORMAT[,FORMAT…]] [options]
       ls-export export …   (the same; label-studio-converter's name for it)

INPUT is a Label Studio JSON export (an array of tasks), a JSON Lines file, a folder of
target-storage objects (either layout, with or without .json), or s3://bucket/prefix.
Several formats (-f COCO,YOLO,CSV) read INPUT once and write each into OUTPUT_DIR/FORMAT/;
one report.json for the run is written in OUTPUT_DIR.

Options:
  -i, --input PATH          input file, folder or s3:// prefix
  -c, --config PATH         the project's label config (XML), a file or s3:// key
  -o, --output DIR          output folder (created); report.json is written there too
  -f, --format NAME[,NAME…] default JSON; ${wrap(names, ' '.repeat(COLUMN), 100)}
  --upload-dir DIR          a local copy of Label Studio's upload folder, for /data/upload/… media
  --project-dir DIR         Label Studio's project folder (uploads under DIR/upload)
  --media-root DIR          a folder task media paths may point into (repeatable); local files
                            outside --upload-dir, --project-dir and --media-root are never read
  --media-http POLICY       http(s) media: any (default), public (no loopback/private/link-local
                            addresses), off, or HOST[,HOST…] (only these hosts)
  --image-dir DIR           where image copies go (*_WITH_IMAGES, VOC) instead of OUTPUT_DIR/images
                            (several formats: DIR/FORMAT)
  --csv-no-header           CSV/TSV: no header row
  --heartex-format          accepted for label-studio-converter; INPUT's shape is detected
  --zip                     write OUTPUT_DIR/FORMAT.zip instead of a folder tree
  --endpoint URL            S3-compatible endpoint (default: AWS; also AWS_ENDPOINT_URL_S3)
  --region REGION           AWS region for s3:// inputs (default: AWS_REGION or us-east-1)
  --strict                  exit status 3 when any input or region was skipped or nothing was
                            found; refuse (exit 1) a format that can only be empty for the config
  -q, --quiet               no progress line and no summary
  --debug                   on an unexpected error, print its stack trace

Format options (from the formats' plugins):
${formatFlags}
${fixes}

${EXIT_STATUS}`;
}

/** `ls-export formats --help`. */
export function formatsHelp(): string {
  return `Usage: ls-export formats -c CONFIG.xml

Lists the export formats the label config (a local XML file) supports, one per line:
NAME and title, "(not implemented yet)" for those ls-export lists but does not write.

Options:
  -c, --config PATH         the project's label config (XML)

Exit status: 0 with the list, 1 for a missing config, 2 for an invalid config or usage errors.
`;
}

/** `ls-export sync --help`. */
export function syncHelp(): string {
  return `Usage: ls-export sync -c PIPELINE.json [-p PROJECT]... [--endpoint URL] [--full] [--no-render] [--workers N]

Brings each project of a pipeline configuration (docs/pipeline.md) up to date from its source
prefix and renders latest/: a full rebuild the first time (or with --full), afterwards only
objects whose ETag changed are read.

Options:
  -c, --config PATH         the pipeline configuration (JSON), a file or s3:// key
  -p, --project ID          only this project (repeatable; default: every project)
  --endpoint URL            S3-compatible endpoint (default: AWS; also AWS_ENDPOINT_URL_S3)
  --region REGION           AWS region (default: AWS_REGION or us-east-1)
  --full                    rebuild from a full listing even when state exists
  --no-render               ingest only; do not render latest/
  --emulate-conditional-writes  for S3 servers without conditional writes
  --workers N               threads rendering the changed segments, from 4 changed segments on
                            (default 1: in this thread)
  -q, --quiet               no progress lines and no warnings: errors only

Exit status: 0 when done, 1 when it could not run (an unreadable configuration, an S3 error), 2 for
usage errors and a project's label config that is not valid.
`;
}

/** `ls-export demo --help`. */
export function demoHelp(): string {
  return `Usage: ls-export demo   (or: npm run demo)

Everything on one machine, no AWS account, no network: each bundled sample project (samples/)
converted into every format its config supports, under demo-output/local/; then the serverless
pipeline against an in-process S3 server, its exports mirrored under demo-output/pipeline/.

Exit status: 0 when the demo ran through, 1 otherwise.
`;
}

/** A command's help (convert's with `registry`'s formats). */
export function commandHelp(command: Command, registry: FormatRegistry = REGISTRY): string {
  switch (command) {
    case 'convert':
      return convertHelp(registry);
    case 'formats':
      return formatsHelp();
    case 'sync':
      return syncHelp();
    case 'demo':
      return demoHelp();
  }
}

/** The overview followed by convert's help (what `--help` printed before commands had their own). */
export function helpText(registry: FormatRegistry = REGISTRY): string {
  return `${overviewHelp()}\n${convertHelp(registry)}`;
}
