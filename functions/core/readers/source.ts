/** A stream of tasks with where each came from. Sources can be read more than once (CSV needs two passes). */
import type { TaskRef } from '../items.ts';
import type { JsonObject } from '../json/value.ts';
import type { Report } from '../report.ts';

export interface SourceTask {
  task: JsonObject;
  ref: TaskRef;
}

/** What the reader may leave out because no format of the run reads it (a speed hint). */
export interface TaskReadOptions {
  /**
   * Top-level task keys (`predictions`, `drafts`) whose array values may be read as `[]`: a
   * source that can skip them cheaply does (the JSON export splitter), others ignore this.
   */
  unreadKeys?: ReadonlySet<string>;
}

export interface TaskSource {
  /** A human-readable description, e.g. the path or `s3://bucket/prefix`. */
  readonly description: string;
  /** Streams the tasks; bad inputs are reported (key + reason) and skipped. */
  tasks(report: Report, options?: TaskReadOptions): AsyncIterable<SourceTask>;
}
