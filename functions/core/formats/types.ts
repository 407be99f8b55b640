/**
 * The contract between sources, format writers and outputs. Writers are pure: they receive tasks
 * and write text or bytes to named files through an `OutputSink`, which the CLI backs with a folder
 * or a zip and the pipeline with S3 multipart uploads.
 */
import type { LabelSchema } from '../config/schema.ts';
import type { TaskRef } from '../items.ts';
import type { JsonObject } from '../json/value.ts';
import type { MediaAccess } from '../media.ts';
import type { Report } from '../report.ts';
import type { ExportOptions } from './options.ts';

export interface FileWriter {
  /** Appends to the file; await the result to respect backpressure. */
  write(chunk: string | Uint8Array): void | Promise<void>;
  close(): Promise<void>;
}

/**
 * Where an export's files go. A file the sink cannot write because of its name (too long for the
 * store, refused by it) is reported by the sink as one skipped file and dropped: the call resolves
 * and `exists(path)` stays false. Other write failures reject.
 */
export interface OutputSink {
  /**
   * Most UTF-8 bytes a relative path may have here (an S3 sink: 1,024 minus its key prefix);
   * writers pass it to `outputPath` (core/output-names.ts) when they name files after task data.
   */
  readonly maxPathBytes?: number;
  /** Opens (creates or truncates) a file at a relative path like `labels/img1.txt`. */
  open(path: string): FileWriter;
  /** Writes a whole small file. */
  writeFile(path: string, content: string | Uint8Array): Promise<void>;
  /** Whether a file was already written in this export (YOLO's "create empty label only if absent"). */
  exists(path: string): boolean;
  /**
   * Copies a media file into the output (images for *_WITH_IMAGES, audio for ASR). `local`, when
   * the source is a local file (MediaFile.copyByPath/size), lets a folder sink copy it directly.
   */
  copyFrom?(
    path: string,
    source: AsyncIterable<Uint8Array>,
    local?: { path: string; size?: number },
  ): Promise<void>;
}

export interface ExportContext {
  schema: LabelSchema;
  sink: OutputSink;
  report: Report;
  options: ExportOptions;
  /** Reads media (image headers, audio, images to copy); absent when no media can be reached. */
  media?: MediaAccess;
  /** The clock, injectable so dated fields are testable. */
  now: () => Date;
  /** The format being written (runExport sets it); region accounting names it in report entries. */
  format?: string;
}

/** One export format; the runner reads the source once and hands every task to `addTask`. */
export interface FormatWriter {
  addTask(task: JsonObject, ref: TaskRef): Promise<void>;
  /** Writes what depends on the whole export (closing brackets, class lists) and closes files. */
  finish(): Promise<void>;
}

export type FormatWriterFactory = (ctx: ExportContext) => FormatWriter;
