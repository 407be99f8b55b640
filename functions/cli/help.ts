/** `ls-export --help`: the command's own options, then each format plugin's flags and fixes. */
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

/** The help text for a format registry (the built-in one by default). */
export function helpText(registry: FormatRegistry = REGISTRY): string {
  const names = registry.implemented().map((n, i, all) => (i < all.length - 1 ? `${n},` : n));
  const formatFlags = registry
    .flags()
    .map((f) => optionLine(f.arg ? `--${f.flag} ${f.arg}` : `--${f.flag}`, f.help))
    .join('\n');
  const fixes = Object.entries(registry.fixes())
    .map(([name, f]) => `  --fix ${name.padEnd(22)} ${f.description}`)
    .join('\n');
  return `ls-export — Label Studio exports, faithful to Label Studio's converter, streaming and fast.

Usage:
  ls-export convert -i INPUT -c CONFIG.xml -o OUTPUT_DIR -f FORMAT [options]
  ls-export formats -c CONFIG.xml
  ls-export sync -c PIPELINE.json [-p PROJECT]... [--endpoint URL] [--full] [--no-render]
  ls-export demo

INPUT is a Label Studio JSON export (an array of tasks), a JSON Lines file, a folder of
target-storage objects (either layout, with or without .json), or s3://bucket/prefix.

Options for convert:
  -i, --input PATH          input file, folder or s3:// prefix
  -c, --config PATH         the project's label config (XML), a file or s3:// key
  -o, --output DIR          output folder (created); report.json is written there too
  -f, --format NAME         ${wrap(names, ' '.repeat(COLUMN), 100)}
  --upload-dir DIR          a local copy of Label Studio's upload folder, for /data/upload/… media
  --project-dir DIR         Label Studio's project folder (uploads under DIR/upload)
  --media-root DIR          a folder task media paths may point into (repeatable); local files
                            outside --upload-dir, --project-dir and --media-root are never read
  --media-http POLICY       http(s) media: any (default), public (no loopback/private/link-local
                            addresses), off, or HOST[,HOST…] (only these hosts)
  --zip                     write OUTPUT_DIR/FORMAT.zip instead of a folder tree
  --endpoint URL            S3-compatible endpoint (default: AWS; also AWS_ENDPOINT_URL_S3)
  --region REGION           AWS region for s3:// inputs (default: AWS_REGION or us-east-1)
  -q, --quiet               no progress line and no summary

Format options (from the formats' plugins):
${formatFlags}
${fixes}

sync brings each project of a pipeline configuration (docs/pipeline.md) up to date from its
source prefix and renders latest/: a full rebuild the first time (or with --full), afterwards only
objects whose ETag changed are read. --emulate-conditional-writes for S3 servers without them.

Exit status: 0 when the export completed (skipped inputs are listed in report.json),
1 when it could not run (missing input, unreadable config, unsupported format), 2 for usage errors.
`;
}

/** The built-in registry's help. */
export const HELP = helpText();
