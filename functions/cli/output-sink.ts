/**
 * The output of one format of `ls-export convert`: files under OUTPUT (or OUTPUT/<FORMAT>), with
 * the converter-compatible flags that change where or what is written:
 * - `--image-dir DIR`: files the writer puts under `images/` go to DIR instead;
 * - `--csv-no-header` (CSV/TSV): result.csv without its header row.
 * It also knows the files actually left on disk: a path written twice (a YOLO label file rewritten
 * for a task's next annotation) is one file. A format's fixed file (`result.csv`, `manifest.json`:
 * `fixedFiles`) that the store could not write fails the export (`lost`) instead of being one
 * skipped entry as any other file that cannot be written under its name: without it nothing of the
 * format is left.
 */
import type { FileWriter, OutputSink } from '../core/formats/types.ts';
import type { StoreSink } from '../core/store-sink.ts';

const IMAGES = 'images/';

export interface CliSinkOptions {
  /** The sink of `--image-dir`, for paths under `images/` (relative to it without that prefix). */
  images?: StoreSink;
  /** Drop the header row of `result.csv`: the CSV writer writes it as its first write (csv.ts). */
  csvNoHeader?: boolean;
  /** The format's fixed files (paths under the main sink): one that was not written fails the export. */
  fixedFiles?: ReadonlySet<string>;
  /** The error thrown when fixed file `path` could not be written (default: a plain Error). */
  lost?: (path: string) => Error;
}

/** Sinks of one format's output; see the module comment. */
export class CliSink implements OutputSink {
  readonly maxPathBytes?: number;
  /** Folders (relative, `''` for the top) written into, per sink: where a store's temporary files go. */
  private readonly folders = new Map<StoreSink, Set<string>>();

  constructor(
    readonly main: StoreSink,
    private readonly options: CliSinkOptions = {},
  ) {
    this.maxPathBytes = main.maxPathBytes;
  }

  /** The sink and its relative path for an output path; notes the folder written into. */
  private route(path: string): [StoreSink, string] {
    const { images } = this.options;
    const [sink, p]: [StoreSink, string] =
      images && path.startsWith(IMAGES) ? [images, path.slice(IMAGES.length)] : [this.main, path];
    let folders = this.folders.get(sink);
    if (!folders) this.folders.set(sink, (folders = new Set()));
    folders.add(p.slice(0, Math.max(0, p.lastIndexOf('/'))));
    return [sink, p];
  }

  /**
   * The folders this output wrote files into (relative to the main sink's folder, and to the
   * image folder's for `images`): where an interrupted run's temporary files are.
   */
  writtenFolders(): { main: string[]; images: string[] } {
    const list = (sink: StoreSink | undefined) => (sink ? [...(this.folders.get(sink) ?? [])] : []);
    return { main: list(this.main), images: list(this.options.images) };
  }

  /**
   * Throws when `path` is a fixed file and the store dropped it (StoreSink reported it as a file
   * that cannot be written under its name: a folder of that name in the way).
   */
  private checkKept(sink: StoreSink, p: string, path: string): void {
    if (sink === this.main && this.options.fixedFiles?.has(path) && !sink.exists(p))
      throw this.options.lost?.(path) ?? new Error(`the output file ${path} could not be written`);
  }

  open(path: string): FileWriter {
    const [sink, p] = this.route(path);
    const file = sink.open(p);
    const close = async () => {
      await file.close();
      this.checkKept(sink, p, path);
    };
    if (!(this.options.csvNoHeader && path === 'result.csv')) return { write: (c) => file.write(c), close };
    let first = true;
    return {
      write: (chunk) => {
        if (first) {
          first = false;
          return;
        }
        return file.write(chunk);
      },
      close,
    };
  }

  async writeFile(path: string, content: string | Uint8Array): Promise<void> {
    const [sink, p] = this.route(path);
    await sink.writeFile(p, content);
    this.checkKept(sink, p, path);
  }

  exists(path: string): boolean {
    const [sink, p] = this.route(path);
    return sink.exists(p);
  }

  async copyFrom(
    path: string,
    source: AsyncIterable<Uint8Array>,
    local?: { path: string; size?: number },
  ): Promise<void> {
    const [sink, p] = this.route(path);
    await sink.copyFrom(p, source, local);
    this.checkKept(sink, p, path);
  }

  /**
   * Distinct paths written under the main sink (a file rewritten counts once), in first-write
   * order. Needs a main sink that keeps its file list (StoreSinkOptions.keepFiles, for --zip).
   */
  mainPaths(): string[] {
    return this.main.distinctPaths();
  }

  /** True when the output holds no byte: every file it wrote is empty (an ASR manifest without a line). */
  wroteNothing(): boolean {
    const images = this.options.images;
    return !this.main.wroteBytes() && (!images || images.closedCount === 0);
  }

  /** How many distinct files this output left: the main sink's and the image folder's. */
  fileCount(): number {
    const images = this.options.images;
    return this.main.distinctCount + (images ? images.distinctCount : 0);
  }
}
