import { FIXES } from '../core/formats/options.ts';

const fixes = Object.entries(FIXES)
  .map(([name, f]) => `  --fix ${name.padEnd(22)} ${f.description}`)
  .join('\n');

export const HELP = `ls-export — Label Studio exports, faithful to Label Studio's converter, streaming and fast.

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
  -f, --format NAME         JSON, JSON_MIN, CSV, TSV, CONLL2003, ASR_MANIFEST, …
  --csv-separator CHAR      CSV/TSV separator (default "," for CSV, TAB for TSV; "\\t" accepted)
  --upload-dir DIR          a local copy of Label Studio's upload folder, for /data/upload/… media
  --project-dir DIR         Label Studio's project folder (uploads under DIR/upload)
  --media-root DIR          a folder task media paths may point into (repeatable); local files
                            outside --upload-dir, --project-dir and --media-root are never read
  --media-http POLICY       http(s) media: any (default), public (no loopback/private/link-local
                            addresses), off, or HOST[,HOST…] (only these hosts)
  --label-studio-url URL    name images as the converter does when it knows its host (<md5_8>__name)
  --coco-annotator          COCO: add annotator to each annotation (LABEL_STUDIO_FORCE_ANNOTATOR_EXPORT)
  --no-voc-images           VOC: do not copy the images into images/
  --brush-max-pixels N      brush formats: skip (and report) masks larger than N pixels
  --brush-max-task-pixels N brush formats: skip (and report) a task's masks past N decoded pixels
                            in all (default 268,435,456)
  --brush-max-total-pixels N
                            brush formats: skip (and report) masks past N decoded pixels in the
                            whole export (default 4,294,967,296)
  --zip                     write OUTPUT_DIR/FORMAT.zip instead of a folder tree
  --data-key KEY            the data key of the object to export (default: first in the config)
  --spacy                   CONLL2003: write "-DOCSTART- -X- O O" as spacy convert expects
  --annotator-emails        ASR_MANIFEST: write annotator e-mails (omitted by default)
  --endpoint URL            S3-compatible endpoint (default: AWS; also AWS_ENDPOINT_URL_S3)
  --region REGION           AWS region for s3:// inputs (default: AWS_REGION or us-east-1)
  -q, --quiet               no progress line and no summary
${fixes}

sync brings each project of a pipeline configuration (docs/pipeline.md) up to date from its
source prefix and renders latest/: a full rebuild the first time (or with --full), afterwards only
objects whose ETag changed are read. --emulate-conditional-writes for S3 servers without them.

Exit status: 0 when the export completed (skipped inputs are listed in report.json),
1 when it could not run (missing input, unreadable config, unsupported format), 2 for usage errors.
`;
