/**
 * One measured conversion, run as its own process by bench/run.ts so each figure includes start-up
 * and its peak RSS is its own. Prints one JSON line: tasks, seconds (in-process), maxRssMiB.
 * `--format FLOOR` reads and parses the input without writing anything (the floor).
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { FormatName } from '../functions/core/config/formats.ts';
import { parseLabelConfig } from '../functions/core/config/label-config.ts';
import { runExport } from '../functions/core/export.ts';
import { parseExportOptions } from '../functions/core/formats/options.ts';
import { SingleFileSource } from '../functions/core/readers/single-file.ts';
import { Report } from '../functions/core/report.ts';
import { StoreSink } from '../functions/core/store-sink.ts';
import { FsObjectStore } from '../functions/storage/fs.ts';
import { LocalMedia } from '../functions/storage/local-media.ts';

const { values } = parseArgs({
  options: {
    input: { type: 'string' },
    config: { type: 'string' },
    output: { type: 'string' },
    format: { type: 'string' },
    'upload-dir': { type: 'string' },
  },
});
const started = performance.now();
const source = new SingleFileSource(new FsObjectStore(dirname(values.input!)), basename(values.input!));
let tasks = 0;
if (values.format === 'FLOOR') {
  for await (const _ of source.tasks(new Report())) tasks++;
} else {
  const stats = await runExport({
    source,
    schema: parseLabelConfig(await readFile(values.config!, 'utf8')),
    targets: [
      { format: values.format as FormatName, sink: new StoreSink(new FsObjectStore(values.output!), '') },
    ],
    options: parseExportOptions({}),
    media: new LocalMedia({ uploadDir: values['upload-dir'] }),
    report: new Report(),
  });
  tasks = stats.tasks;
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({ tasks, seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`,
);
