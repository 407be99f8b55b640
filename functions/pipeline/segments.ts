/**
 * Segments of a project's state and the render's plan (DESIGN.md "Aggregate files from segments").
 * A segment is a fixed task-id range: `segmentShards` consecutive state shards (`n…` shards by
 * range; the `x` shard of non-numeric ids is a segment of its own). The segment index
 * `_state/segments/index.json`, written by each render before its manifest, records per segment
 * the ETags of the shards it was rendered from, its counts, report entries and per format what
 * the global numbering needs (summaries) and which per-task files it produced; per aggregate file
 * the byte layout of the version the manifest names. The plan lists the shards once (their ETags
 * come with the LIST: one request per 1,000 shards) and marks a segment changed when its shard
 * set or any ETag differs from the index.
 */
import type { FormatName } from '../core/config/formats.ts';
import type { ObjectStore } from '../core/object-store.ts';
import type { ReportEntry, ReportJson } from '../core/report.ts';
import type { CsvColumns } from './segments-codecs.ts';

/** Default shards per segment (with 100 tasks per shard: 1,000 tasks per segment). */
export const DEFAULT_SEGMENT_SHARDS = 10;

/** One chunk of an aggregate file: bytes `[start, end)` of its version, `lead` separator bytes first. */
export interface Chunk {
  start: number;
  end: number;
  lead: number;
  sha256: string;
}

/** Where a segment's streams sit in an aggregate file, and the id bases its bytes were written with. */
export interface SegmentPlacement {
  streams: Chunk[];
  /** COCO: the image and annotation ids its entries start at (BRUSH_TO_COCO: image id = item index). */
  imageBase?: number;
  annotationBase?: number;
  /** BRUSH_TO_COCO: the file's category id of each of the segment's own categories (1, 2, … in order). */
  categories?: number[];
}

/** The layout of one aggregate file's version (the one the manifest names). */
export interface FileLayout {
  bytes: number;
  versionId?: string;
  /** Literal bytes between streams (header, middle, footer). */
  frame: Chunk[];
  segments: Record<string, SegmentPlacement>;
  /** CSV: the column list the rows are laid out under. */
  columns?: string[];
}

/** What a segment contributed to one format. */
export interface SegmentFormat {
  /** Per-task files (paths below the format's folder). */
  files: string[];
  /** Every `global` file of the segment equals the empty run's (YOLO classes, COCO categories). */
  globalSame: boolean;
  /** CSV: the key sets of its rows. */
  csv?: CsvColumns;
  /** COCO: image and annotation entries. */
  images?: number;
  annotations?: number;
  /** BRUSH_TO_COCO: items converted (image ids are item indices); absent when a task failed half-way. */
  items?: number;
  /** BRUSH_TO_COCO: its category entries in first-seen order (merged by name across segments). */
  categories?: string[];
}

export interface SegmentEntry {
  id: string;
  /** Shard key → ETag it was rendered from. */
  shards: Record<string, string>;
  counts: { tasks: number; annotations: number };
  report: {
    skipped: ReportEntry[];
    warnings: ReportEntry[];
    skippedCount: number;
    warningCount: number;
    /** Per format result counts of the segment's tasks (kept so a reused segment still counts). */
    regions?: ReportJson['regions'];
    tasksWithoutAnnotations?: number;
  };
  formats: Partial<Record<FormatName, SegmentFormat>>;
}

export interface SegmentIndex {
  format: 1;
  /** The render (manifest id) whose files the layouts describe. */
  renderId: string;
  /** What the bytes depend on besides the tasks (formats, options, label config, geometry). */
  fingerprint: string;
  segments: SegmentEntry[];
  /** Per format (rendered by segments), per aggregate file path. */
  files: Partial<Record<FormatName, Record<string, FileLayout>>>;
  /**
   * Formats this render wrote by one run over every task (why): their layouts are missing, so
   * later renders that reuse the index run them over every task again instead of re-rendering
   * every segment of every format; a render of every segment tries the segments again.
   */
  fallback?: Partial<Record<FormatName, string>>;
}

/** `_state/segments/index.json` under a project's state prefix. */
export const segmentIndexKey = (statePrefix: string) => `${statePrefix}segments/index.json`;

/** The segment of a shard id (`n0000000123` → `n` + range / segmentShards; `x` → `x`). */
export function segmentOf(shardId: string, segmentShards: number): string {
  const m = /^n(\d+)$/.exec(shardId);
  if (!m) return shardId;
  return `n${String(Math.floor(Number(m[1]) / segmentShards)).padStart(10, '0')}`;
}

/** One segment job of a render: the shard keys to read, in key order. */
export interface SegmentJob {
  id: string;
  shards: Record<string, string>;
  /**
   * Fan-out only: formats the reused segment index says fell back (the commit runs them over
   * every task), which the segment worker therefore does not render (render-fanout-plan.ts).
   */
  skip?: FormatName[];
}

export interface RenderPlan {
  /** Every segment of the current state, in task order. */
  segments: SegmentJob[];
  /** Ids of the segments to render (changed since the index, or all without a usable index). */
  changed: Set<string>;
  /** LIST requests made. */
  lists: number;
}

/**
 * Lists the state shards with their ETags and groups them into segments; a segment is changed
 * when the index has no entry with the same shard keys and ETags (`previous` undefined: all are).
 */
export async function planSegments(
  store: ObjectStore,
  taskShardsPrefix: string,
  segmentShards: number,
  previous: SegmentIndex | undefined,
): Promise<RenderPlan> {
  const bySegment = new Map<string, Record<string, string>>();
  let n = 0;
  for await (const o of store.list(taskShardsPrefix, { etags: true })) {
    n++;
    if (!o.key.endsWith('.jsonl')) continue;
    const shardId = o.key.slice(taskShardsPrefix.length, -'.jsonl'.length);
    const seg = segmentOf(shardId, segmentShards);
    let m = bySegment.get(seg);
    if (!m) bySegment.set(seg, (m = {}));
    m[o.key] = o.etag ?? '';
  }
  const segments = [...bySegment.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([id, shards]) => ({ id, shards }));
  const prev = new Map((previous?.segments ?? []).map((s) => [s.id, s]));
  const changed = new Set<string>();
  for (const s of segments) {
    const p = prev.get(s.id);
    if (!p || !sameShards(p.shards, s.shards) || Object.values(s.shards).some((e) => e === ''))
      changed.add(s.id);
  }
  return { segments, changed, lists: Math.max(1, Math.ceil(n / 1000)) };
}

function sameShards(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}
