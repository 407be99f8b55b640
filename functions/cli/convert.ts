/**
 * `ls-export convert` (alias `export`): one input, one label config, one or more formats. The
 * input is read once for all formats (core/export.ts runs every writer per task). One format is
 * written into OUTPUT itself; several (`-f COCO,YOLO,CSV`) each into OUTPUT/<FORMAT>/, with one
 * report.json for the run in OUTPUT (input problems are the same for every format; a format's own
 * problems name it).
 */
import { rmdirSync, rmSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { LabelConfigError, parseLabelConfig } from '../core/config/label-config.ts';
import type { LabelSchema } from '../core/config/schema.ts';
import { runExport } from '../core/export.ts';
import { type ExportOptions, parseExportOptions } from '../core/formats/options.ts';
import type { FormatPlugin } from '../core/formats/plugin.ts';
import { type FormatRegistry, REGISTRY } from '../core/formats/registry.ts';
import { type HttpPolicy, parseHttpPolicy } from '../core/media-policy.ts';
import { NotFoundError } from '../core/object-store.ts';
import { SingleFileSource } from '../core/readers/single-file.ts';
import { Report } from '../core/report.ts';
import { StoreSink } from '../core/store-sink.ts';
import { FsObjectStore } from '../storage/fs.ts';
import { LocalMedia } from '../storage/local-media.ts';
import { zipFolder, zipPartPath } from '../storage/zip.ts';
import { type ConvertArgs, UsageError } from './args.ts';
import { CliReport, cliOptionNames } from './cli-report.ts';
import { CliError, labelConfigInputError } from './errors.ts';
import { onInterrupt, removeTempFiles } from './interrupt.ts';
import { writeJsonFile } from './json-file.ts';
import { missingFolders, outputFile, outputFolder, scratchFolder } from './output-folder.ts';
import { CliSink } from './output-sink.ts';
import { Progress } from './progress.ts';
import { InputNotFoundError, openSource, readTextFile, s3Client } from './sources.ts';
import { staleOutputs } from './stale-files.ts';
import { type FormatResult, summaryLine } from './summary.ts';
import { terminalSafe } from './terminal.ts';

async function loadSchema(args: ConvertArgs): Promise<LabelSchema> {
  let text: string;
  try {
    text = await readTextFile(args.config, args);
  } catch (err) {
    if (err instanceof NotFoundError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliError(`label config not found: ${args.config}`);
    }
    // S3 errors (credentials, access, endpoint) are put in words by main (errors.ts).
    if (args.config.startsWith('s3://')) throw err;
    throw new CliError(`cannot read the label config ${args.config}: ${(err as Error).message}`);
  }
  try {
    return parseLabelConfig(text);
  } catch (err) {
    if (err instanceof LabelConfigError) throw labelConfigInputError(args.config, err.message);
    throw err;
  }
}

function fixOptions(fixes: string[], registry: FormatRegistry): Record<string, boolean> {
  const known = registry.fixes();
  const out: Record<string, boolean> = {};
  for (const name of fixes.flatMap((f) => f.split(','))) {
    if (!Object.hasOwn(known, name))
      throw new UsageError(`unknown --fix "${name}" (known: ${Object.keys(known).join(', ')})`);
    out[known[name].option] = true;
  }
  return out;
}

/** Writes a message to stderr, task data's control characters escaped (terminal.ts). */
const writeStderr = (text: string) => process.stderr.write(terminalSafe(text));
/** The plugins of `formats`; CliError for one the config does not support or ls-export lacks. */
function checkFormats(formats: string[], schema: LabelSchema, registry: FormatRegistry): FormatPlugin[] {
  const supported = registry.supported(schema);
  return formats.map((format) => {
    const plugin = registry.get(format);
    if (!plugin) throw new UsageError(`unknown format "${format}"`);
    if (!supported.includes(format)) {
      // Only formats that can be asked for: not those ls-export does not implement (CSV_OLD).
      const offered = supported.filter((f) => registry.get(f)?.writer);
      throw new CliError(
        `format ${format} is not supported by this label config (it supports: ${offered.join(', ')})`,
      );
    }
    if (!plugin.writer) {
      throw new CliError(`format ${format} is not implemented by ls-export yet (see README "Formats")`);
    }
    return plugin;
  });
}

/** One format's output: where its files go and the sink writing them. */
interface Output {
  format: string;
  plugin: FormatPlugin;
  /** The folder or .csv file shown to the user. */
  shown: string;
  /** Where the format's files are finally (a folder), or the .csv file. */
  dir: string;
  csvFile?: string;
  /** Where the writer writes (a scratch folder with --zip or a .csv output). */
  filesDir: string;
  sink: CliSink;
  /** `--image-dir`: the image folder as the format's files name it (the `imageDir` option). */
  imageDir?: string;
  /** `--image-dir`: the folder the format's image copies go to. */
  imagesDir?: string;
  zipName?: string;
}

/**
 * Converts one input into the formats `args.formats` names, of `registry` (the built-in formats by
 * default). Throws UsageError for bad arguments, CliError when the export cannot run (unreadable
 * config or input, a format the config does not support or ls-export does not implement).
 */
export async function runConvert(args: ConvertArgs, registry: FormatRegistry = REGISTRY): Promise<number> {
  const formats = args.formats;
  const several = formats.length > 1;
  const schema = await loadSchema(args);
  const plugins = checkFormats(formats, schema, registry);
  // A format the config supports but that can only produce empty output (YOLO_OBB for keypoints).
  const emptyOutput = registry
    .support(schema)
    .filter((s) => formats.includes(s.name) && s.emptyOutputWarning)
    .map(
      (s) => `format ${s.name} can only produce empty output for this label config: ${s.emptyOutputWarning}`,
    );
  if (args.strict && emptyOutput.length) throw new CliError(`${emptyOutput[0]} (--strict refuses it)`);
  for (const w of emptyOutput) writeStderr(`ls-export: WARNING: ${w}\n`);
  let options: ExportOptions;
  try {
    const input = { ...args.formatOptions, ...fixOptions(args.fix, registry) };
    options = (
      registry === REGISTRY ? parseExportOptions(input) : registry.optionsSchema().parse(input)
    ) as ExportOptions;
  } catch (err) {
    const issue = (err as { issues?: Array<{ path: unknown[]; message: string }> }).issues?.[0];
    throw new UsageError(issue ? `${issue.path.join('.')}: ${issue.message}` : (err as Error).message);
  }
  let httpPolicy: HttpPolicy;
  try {
    httpPolicy = parseHttpPolicy(args.mediaHttp);
  } catch (err) {
    throw new UsageError(`--media-http: ${(err as Error).message}`);
  }
  // As in Label Studio's converter, a CSV/TSV output ending in `.csv` is the file itself.
  const csvOutput = args.output.endsWith('.csv');
  if (csvOutput && (several || !['CSV', 'TSV'].includes(formats[0])))
    throw new UsageError('an OUTPUT ending in .csv is for one CSV or TSV export; give a folder');
  if (csvOutput && args.zip) throw new UsageError('--zip needs an output folder, not a .csv file');
  // Label Studio's converter finds uploads under <project_dir>/upload when no upload dir is given.
  const uploadDir = args.uploadDir ?? (args.projectDir ? join(args.projectDir, 'upload') : undefined);

  let source: Awaited<ReturnType<typeof openSource>>;
  try {
    source = await openSource(args.input, args);
  } catch (err) {
    if (err instanceof InputNotFoundError) throw new CliError(err.message);
    throw err;
  }

  const report = new CliReport(cliOptionNames(registry));
  for (const reason of emptyOutput) report.warn({ source: 'label config', reason });
  const root = resolve(args.output);
  const imageRoot = args.imageDir ? resolve(args.imageDir) : undefined;
  const outputs: Output[] = [];
  // Scratch folders of --zip and .csv outputs; removed with the run's temporary files when the run
  // fails or is interrupted (Ctrl-C, SIGTERM: one sentence, exit 130 / 143).
  const scratch: string[] = [];
  let progress: Progress | undefined;
  // Output folders this run made (OUTPUT and its missing parents, OUTPUT/<FORMAT>), outermost
  // first: removed too, innermost first, when still empty then.
  const created: string[] = [];
  const removeLeftovers = () => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    // The zip being written (`.<FORMAT>.zip.<pid>.part`), when the run stops while zipping.
    if (args.zip)
      for (const o of outputs) rmSync(zipPartPath(join(o.dir, `${o.format}.zip`)), { force: true });
    removeTempFiles(
      outputs.flatMap((o) => {
        const written = o.sink.writtenFolders();
        return [
          ...written.main.map((d) => join(o.filesDir, d)),
          ...(o.imagesDir ? written.images.map((d) => join(o.imagesDir as string, d)) : []),
        ];
      }),
    );
    for (const dir of created.toReversed()) {
      try {
        rmdirSync(dir);
      } catch {
        // Not empty (complete files, others' files): kept.
      }
    }
  };
  const stopWatching = onInterrupt(() => {
    progress?.done();
    removeLeftovers();
    return `interrupted: the output in ${args.output} is incomplete`;
  }, writeStderr);
  try {
    for (const [i, format] of formats.entries()) {
      const csvFile = csvOutput ? root : undefined;
      const dir = csvFile ? dirname(csvFile) : several ? join(root, format) : root;
      if (!csvFile) for (const d of missingFolders(dir)) if (!created.includes(d)) created.push(d);
      await outputFolder(
        dir,
        csvFile ? dirname(args.output) || '.' : several ? join(args.output, format) : args.output,
      );
      if (csvFile) await outputFile(csvFile, args.output);
      const shown = csvFile ? args.output : several ? join(args.output, format) : args.output;
      // The format's fixed files (result.csv, manifest.json, classes.txt): a folder of that name in
      // the way fails the run now, not after the whole export (a --zip or .csv output is written whole).
      const fixedFiles = new Set(plugins[i].outputs.filter((p) => !p.includes('/') && !p.includes('*')));
      if (!args.zip && !csvFile) for (const f of fixedFiles) await outputFile(join(dir, f), join(shown, f));
      // With --zip the fixed file is the archive: a folder <FORMAT>.zip in the way is refused now too.
      if (args.zip) await outputFile(join(dir, `${format}.zip`), join(shown, `${format}.zip`));
      // With --zip the files are written to a scratch folder first, then zipped in one stream.
      const filesDir =
        args.zip || csvFile
          ? await scratchFolder(
              dir,
              csvFile ? dirname(args.output) || '.' : several ? join(args.output, format) : args.output,
            )
          : dir;
      if (filesDir !== dir) scratch.push(filesDir);
      // --image-dir: one folder for every format's image copies (several formats: DIR/<FORMAT>).
      const imagesDir = imageRoot && (several ? join(imageRoot, format) : imageRoot);
      // Nobody reads the output folder during the run: new files are created in place (one call
      // fewer than beside it and renamed; an existing file is still replaced by a rename).
      const folder = (path: string) => new FsObjectStore(path, { newFilesInPlace: true });
      // Only --zip needs the list of written paths (the zip's entries); counts do for the rest.
      const sink = new CliSink(new StoreSink(folder(filesDir), '', { report, format, keepFiles: args.zip }), {
        images: imagesDir
          ? new StoreSink(folder(imagesDir), '', { report, format, keepFiles: false })
          : undefined,
        csvNoHeader: args.csvNoHeader,
        fixedFiles,
        lost: (path) => lostFile(join(filesDir, path), csvFile ? args.output : join(shown, path), format),
      });
      // The format's files name the images where they are: relative to the output folder (docs/label-studio-behaviour.md#coco, #voc, #yolo).
      const imageDir = imagesDir && (relative(dir, imagesDir).split(sep).join('/') || '.');
      outputs.push({ format, plugin: plugins[i], shown, dir, csvFile, filesDir, sink, imageDir, imagesDir });
    }
    const ticker = new Progress(!args.quiet);
    progress = ticker;
    // Task media: local files only under the folders the user gave (docs/media-policy.md).
    const media = new LocalMedia({
      uploadDir,
      mediaRoots: [...(args.projectDir ? [args.projectDir] : []), ...args.mediaRoots],
      s3: () => s3Client(args),
      http: httpPolicy,
    });

    // The reference copies a JSON export file byte for byte (its "file mode").
    // A file with bad elements (or a BOM) is written from the parsed tasks instead, like a folder.
    const fileMode =
      source instanceof SingleFileSource &&
      !source.isJsonLines &&
      formats.includes('JSON') &&
      (await checkLabelStudioExport(source, args.input)) === 'copy';
    const copied = outputs.filter((o) => o.format === 'JSON' && fileMode);
    for (const o of copied) await o.sink.copyFrom('result.json', await (source as SingleFileSource).raw());
    const converted = outputs.filter((o) => !copied.includes(o));
    let tasks: number | undefined;
    if (converted.length) {
      const stats = await runExport({
        source,
        schema,
        targets: converted.map((o) => ({
          format: o.format,
          sink: o.sink,
          writer: o.plugin.writer,
          options: o.imageDir ? { ...options, imageDir: o.imageDir } : undefined,
        })),
        options,
        media,
        report,
        onProgress: (n) => ticker.update(n),
      });
      tasks = stats.tasks;
    }
    ticker.done();

    for (const o of outputs) {
      if (args.zip) {
        o.zipName = `${o.format}.zip`;
        try {
          const left = await zipFolder(o.filesDir, o.sink.mainPaths(), join(o.dir, o.zipName));
          for (const s of left) report.skip({ source: `output file ${s.path}`, reason: s.reason });
        } finally {
          await rm(o.filesDir, { recursive: true, force: true });
        }
      }
      if (o.csvFile) {
        await rename(join(o.filesDir, 'result.csv'), o.csvFile);
        await rm(o.filesDir, { recursive: true, force: true });
      }
    }
    const reportPath = csvOutput ? `${root.slice(0, -'.csv'.length)}.report.json` : join(root, 'report.json');
    const stale = await staleOutputs(outputs, formats, root, imageRoot);
    if (stale) {
      report.warn({ source: 'output', reason: stale });
      if (!args.quiet) writeStderr(`ls-export: WARNING: ${stale}\n`);
    }
    await writeJsonFile(reportPath, report.toJSON());

    // One sentence when nothing was found, or when most inputs or results were skipped for one reason.
    const problem = runProblem(report, tasks);
    if (problem) writeStderr(`ls-export: ${problem}\n`);
    const incomplete = report.skippedCount > 0 || report.regionsSkipped > 0 || problem !== undefined;
    const status = args.strict && incomplete ? STRICT_EXIT : 0;
    if (args.quiet) return status;
    const results: FormatResult[] = outputs.map((o) => ({
      format: o.format,
      copied: copied.includes(o),
      into: o.zipName ? join(o.shown, o.zipName) : o.shown,
      files: o.zipName ? 1 : o.sink.fileCount(),
      itemsSkipped: report.itemsSkipped(o.format),
      empty: !copied.includes(o) && o.sink.wroteNothing(),
    }));
    writeStderr(
      summaryLine({
        results,
        tasks,
        seconds: ticker.elapsedSeconds(),
        skipped: report.skippedCount,
        warnings: report.warningCount,
        reportName: basename(reportPath),
        regions: Object.fromEntries(report.regions),
        tasksWithoutAnnotations: report.tasksWithoutAnnotations,
      }),
    );
    return status;
  } catch (err) {
    removeLeftovers();
    throw err;
  } finally {
    stopWatching();
  }
}

/**
 * The error for a format's fixed file that the store could not write (`real` on disk, `shown` to
 * the user): the format left nothing usable, so the run fails (exit 1) instead of counting a skip.
 */
function lostFile(real: string, shown: string, format: string): CliError {
  let isDir = false;
  try {
    isDir = statSync(real).isDirectory();
  } catch {
    // Not there: the store's reason was its name.
  }
  const why = isDir ? 'a folder of that name is in the way' : 'the file system refused the name';
  return new CliError(`cannot write the output file ${shown}: ${why}; the ${format} export failed`);
}

/** `--strict`: the exit status when something was skipped or a region lost. */
export const STRICT_EXIT = 3;

/**
 * `-f JSON` copies a JSON export byte for byte when it reads as a clean Label Studio export (a list
 * of task objects, no byte order mark): 'copy'. When only some elements are bad (not a task, nested
 * too deep, too large, unparsable) or the file starts with a BOM: 'convert' — the JSON format is
 * then written from the parsed tasks, so the bad elements are reported and skipped like in any
 * other format. CliError (one sentence) for a file that is not a JSON export at all: not JSON, not
 * an array or object (XML), empty, truncated, or without any element.
 */
async function checkLabelStudioExport(source: SingleFileSource, input: string): Promise<'copy' | 'convert'> {
  const check = new Report();
  let tasks = 0;
  try {
    for await (const _ of source.tasks(check)) tasks++;
  } catch (err) {
    throw new CliError(
      `${input} is not a Label Studio JSON export (${(err as Error).message}); nothing was copied`,
    );
  }
  // Element problems name `file.json[i]`; the file's own (empty, not an array, truncated) do not.
  const whole = check.skipped.find(
    (e) => !/\[\d+\]$/.test(e.source) || e.reason.startsWith('truncated JSON'),
  );
  if (whole)
    throw new CliError(
      `${input} is not a Label Studio JSON export (${whole.source}: ${whole.reason}); nothing was copied`,
    );
  if (check.skippedCount > 0) return 'convert';
  if (tasks === 0) throw new CliError(`${input} holds no tasks; nothing was copied`);
  return check.warningCount > 0 ? 'convert' : 'copy';
}

/** One sentence when the run found nothing, or most inputs (or results) were skipped for one reason. */
export function runProblem(report: Report, tasks: number | undefined): string | undefined {
  if (tasks === 0 && report.tasksWithoutAnnotations)
    return `none of the ${report.tasksWithoutAnnotations} tasks has an annotation; --only-annotated left them all out`;
  if (tasks === 0) {
    // An input that was read but skipped whole (not JSON, truncated): its reason, not the path hint.
    const input = report.skipped.find((e) => !e.resultId && !e.format);
    if (input) return `no tasks were exported: ${input.source} was skipped: ${input.reason}`;
    return 'no tasks were found in the input (check the path or the s3:// prefix)';
  }
  // Counted past the report's entry limit (10,000 kept), so a large run still gets its sentence.
  let top: [string, number] | undefined;
  for (const c of report.skipReasonCounts())
    if (c.input && (!top || c.count > top[1])) top = [c.reason, c.count];
  const inputs = (tasks ?? 0) + (top?.[1] ?? 0);
  if (top && top[1] >= 2 && top[1] * 2 > inputs)
    return `most inputs were skipped for one reason (${top[1]} of ${inputs}): ${top[0]}`;
  return resultsProblem(report);
}

/**
 * One sentence when, in some format, most results (regions) were skipped for one reason — e.g.
 * every from_name missing from the label config; undefined otherwise.
 */
function resultsProblem(report: Report): string | undefined {
  for (const [format, counts] of report.regions) {
    const results = counts.exported + counts.skipped;
    if (counts.skipped * 2 <= results) continue;
    let top: [string, number] | undefined;
    for (const c of report.skipReasonCounts())
      if (!c.input && c.format === format && (!top || c.count > top[1])) top = [c.reason, c.count];
    if (!top || top[1] < 2 || top[1] * 2 <= results) continue;
    const hint = top[0].includes('label config') ? "; is this the project's label config?" : '';
    return `most results were skipped because ${top[0]} (${top[1]} of ${results} in ${format})${hint}`;
  }
  return undefined;
}
