/**
 * The output of one format of `ls-export convert`: files under OUTPUT (or OUTPUT/<FORMAT>), with
 * the converter-compatible flags that change where or what is written:
 * - `--image-dir DIR`: files the writer puts under `images/` go to DIR instead;
 * - `--csv-no-header` (CSV/TSV): result.csv without its header row.
 * It also knows the files actually left on disk: a path written twice (a YOLO label file rewritten
 * for a task's next annotation) is one file.
 */
import type { FileWriter, OutputSink } from '../core/formats/types.ts';
import type { StoreSink } from '../core/store-sink.ts';

const IMAGES = 'images/';

export interface CliSinkOptions {
  /** The sink of `--image-dir`, for paths under `images/` (relative to it without that prefix). */
  images?: StoreSink;
  /** Drop the header row of `result.csv`: the CSV writer writes it as its first write (csv.ts). */
  csvNoHeader?: boolean;
}

/** Sinks of one format's output; see the module comment. */
export class CliSink implements OutputSink {
  readonly maxPathBytes?: number;

  constructor(
    readonly main: StoreSink,
    private readonly options: CliSinkOptions = {},
  ) {
    this.maxPathBytes = main.maxPathBytes;
  }

  /** The sink and its relative path for an output path. */
  private route(path: string): [StoreSink, string] {
    const { images } = this.options;
    return images && path.startsWith(IMAGES) ? [images, path.slice(IMAGES.length)] : [this.main, path];
  }

  open(path: string): FileWriter {
    const [sink, p] = this.route(path);
    const file = sink.open(p);
    if (!(this.options.csvNoHeader && path === 'result.csv')) return file;
    let first = true;
    return {
      write: (chunk) => {
        if (first) {
          first = false;
          return;
        }
        return file.write(chunk);
      },
      close: () => file.close(),
    };
  }

  writeFile(path: string, content: string | Uint8Array): Promise<void> {
    const [sink, p] = this.route(path);
    return sink.writeFile(p, content);
  }

  exists(path: string): boolean {
    const [sink, p] = this.route(path);
    return sink.exists(p);
  }

  copyFrom(
    path: string,
    source: AsyncIterable<Uint8Array>,
    local?: { path: string; size?: number },
  ): Promise<void> {
    const [sink, p] = this.route(path);
    return sink.copyFrom(p, source, local);
  }

  /** Distinct paths written under the main sink (a file rewritten counts once), in first-write order. */
  mainPaths(): string[] {
    return [...new Set(this.main.files.map((f) => f.path))];
  }

  /** True when the output holds no byte: every file it wrote is empty (an ASR manifest without a line). */
  wroteNothing(): boolean {
    const images = this.options.images;
    return this.main.files.every((f) => f.bytes === 0) && (!images || images.files.length === 0);
  }

  /** How many distinct files this output left: the main sink's and the image folder's. */
  fileCount(): number {
    const images = this.options.images;
    return this.mainPaths().length + (images ? new Set(images.files.map((f) => f.path)).size : 0);
  }
}
