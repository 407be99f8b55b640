/**
 * `npm run demo`: converts the bundled sample projects (samples/: image boxes, text NER, audio
 * transcription) into every format their configs support, under demo-output/, and prints what it
 * wrote. No AWS account, no network.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { supportedFormats } from '../core/config/formats.ts';
import { parseLabelConfig } from '../core/config/label-config.ts';
import { runExport } from '../core/export.ts';
import { parseExportOptions } from '../core/formats/options.ts';
import { implementedFormats } from '../core/formats/registry.ts';
import { SingleFileSource } from '../core/readers/single-file.ts';
import { Report } from '../core/report.ts';
import { FsObjectStore } from '../storage/fs.ts';
import { LocalMedia } from '../storage/media.ts';
import { StoreSink } from '../storage/sink.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SAMPLES = ['image-bbox', 'text-ner', 'audio-asr'];

export async function runDemo(
  outRoot = join(ROOT, 'demo-output'),
  log = (s: string) => process.stdout.write(`${s}\n`),
) {
  await rm(outRoot, { recursive: true, force: true });
  const implemented = new Set(implementedFormats());
  for (const sample of SAMPLES) {
    const dir = join(ROOT, 'samples', sample);
    const schema = parseLabelConfig(await readFile(join(dir, 'config.xml'), 'utf8'));
    const formats = supportedFormats(schema).filter((f) => implemented.has(f));
    log(`\n${sample}: ${formats.join(', ')}`);
    for (const format of formats) {
      const outDir = join(outRoot, sample, format);
      await mkdir(outDir, { recursive: true });
      const sink = new StoreSink(new FsObjectStore(outDir), '');
      const report = new Report();
      const { tasks } = await runExport({
        source: new SingleFileSource(new FsObjectStore(dir), 'tasks.json'),
        schema,
        targets: [{ format, sink }],
        options: parseExportOptions({}),
        media: new LocalMedia({ uploadDir: join(dir, 'upload') }),
        report,
      });
      await writeFile(join(outDir, 'report.json'), `${JSON.stringify(report.toJSON(), null, 2)}\n`);
      const bytes = sink.files.reduce((n, f) => n + f.bytes, 0);
      const shown =
        sink.files.length > 3 ? `${sink.files.length} files` : sink.files.map((f) => f.path).join(', ');
      log(
        `  ${format.padEnd(22)} ${tasks} tasks → ${relative(ROOT, outDir)}/ (${shown}, ${bytes.toLocaleString('en-US')} bytes)${report.skippedCount ? `, ${report.skippedCount} skipped` : ''}`,
      );
    }
  }
  log(
    `\nDone: open ${relative(process.cwd(), outRoot) || '.'}/ to see every export; each folder has its report.json.`,
  );
}
