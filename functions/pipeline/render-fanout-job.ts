/**
 * A render fan-out's job (DESIGN.md "Render fan-out"): what its steps hand each other and where
 * they leave it, under `_state/render-fanout/<owner>/` of the project — the plan's reference
 * (FanoutRef, small: it travels in the state machine's state), the ItemReader's `items.json`, the
 * plan's previous per-task entries per changed segment (`previous/<segment>.json`) and each segment
 * worker's stored output (`segments/<segment>.json`, its aggregate bodies laid end to end in
 * `segments/<segment>.<nonce>.bodies`). It turns a rendered segment into its stored form
 * (storedSegment), gives the commit its bodies as ranges read when needed (storedAggregate), lists a stored segment's per-task files in the commit's sink as the
 * in-process render would have (adoptFiles) and deletes a job's objects (removeFanoutJob). The
 * steps: render-fanout-plan.ts, render-fanout-segments.ts, render-fanout-commit.ts (commit and
 * abort); snapshot jobs (FanoutRef `kind: 'snapshot'`, snapshot-fanout.ts) reuse the same format.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FormatName } from '../core/config/formats.ts';
import { NotFoundError, type ObjectStore, readAll } from '../core/object-store.ts';
import type { SnapshotOptions } from './config.ts';
import type { PipelineContext } from './context.ts';
import type { WrittenFile } from './hashing-sink.ts';
import type { PublishSink, PublishStats } from './publish-sink.ts';
import type { SegmentEntry, SegmentJob } from './segments.ts';
import type { SegmentOutput, SegmentRenderContext } from './segments-render.ts';
import { type AggregateBody, bodyText } from './segments-spool.ts';
import type { ProjectStore } from './state.ts';
import type { StoredRecords } from './zip-records.ts';

/** What a snapshot fan-out renders (snapshot-fanout.ts): from its export record. */
export interface FanoutSnapshot {
  exportId: number;
  /** The snapshot's name (`snapshots/<name>/`). */
  name: string;
  /** The record's snapshot options (task/annotation filters, serialization, anonymize). */
  options: SnapshotOptions;
  /** The requested formats, Label Studio export type names, in the record's order. */
  formats: string[];
  /** The label config digest the plan read: its workers and commit render with that config only. */
  labelConfigSha256?: string;
}

/** What the plan hands to the segment workers and the commit (small: it travels in the state). */
export interface FanoutRef {
  /** What the execution renders: `latest/`, or a snapshot (then `snapshot` says which). */
  kind: 'latest' | 'snapshot';
  /** Null for `latest` (present, so the state machine's paths always resolve). */
  snapshot: FanoutSnapshot | null;
  project: string;
  /** Lock owner and job id (the execution name). */
  owner: string;
  /** ISO time the segments render with (the manifest's createdAt; a snapshot's record created_at). */
  startedAt: string;
  segmentShards: number;
  /** Every segment is rendered (no reuse of the previous render's). */
  force: boolean;
  /** The ItemReader's JSON array of SegmentJob. */
  items: { bucket: string; key: string };
  /** Segments to render (items in the array) and segments in the project. */
  segments: number;
  total: number;
}

/**
 * A per-task file as a segment worker left it: `carried` — its bytes equal the previous manifest's
 * entry, which is kept (version id included) and nothing was written; `blind` — written once with
 * no previous entry to compare with (the commit compares it with the full previous manifest).
 */
export type SegmentFile = WrittenFile & { carried?: true; blind?: true };

/** The version of StoredSegment this code writes and reads (another is rendered again). */
export const STORED_SEGMENT_FORMAT = 3;

/** A stored segment output (`segments/<id>.json`). */
export interface StoredSegment {
  format: typeof STORED_SEGMENT_FORMAT;
  owner: string;
  job: SegmentJob;
  entry: SegmentEntry;
  /**
   * The object holding the aggregate bodies (UTF-8, laid end to end), and per format, per aggregate
   * path, the body's byte range `[start, end)` in it and its SHA-256 (hex). Kept apart from this
   * document so the commit reads one body at a time, when it assembles that file, instead of
   * spooling every segment's; the digest makes a body changed since it was stored an error.
   */
  bodies: string;
  aggregate: Partial<Record<FormatName, Record<string, [number, number, string]>>>;
  files: Partial<Record<FormatName, SegmentFile[]>>;
  /** What the segment's sink of each format did (a path stored twice counts twice, as in-process). */
  stats: Partial<Record<FormatName, PublishStats>>;
  io: { shards: number; bytes: number };
  /** What the worker's summarizeFormat gave per format (segments-render.ts SegmentOutput). */
  summarized?: SegmentOutput['summarized'];
  /** A snapshot's segment: its `snapshot.json` body (segments-snapshot.ts). */
  snapshot?: { text: string; tasks: number; annotations: number };
  /**
   * Per format, paths earlier attempts of this job wrote (the document the last one stored) that
   * this attempt did not write: the job was retried (Step Functions' Retry, or its batch's) after
   * the state changed, so those objects may hold bytes no manifest names. The commit distrusts
   * them and renders the segment itself (render-fanout-commit.ts).
   */
  superseded?: Partial<Record<FormatName, string[]>>;
  /**
   * The attempts of this job the document accounts for (attemptKey): its own, and those of the
   * earlier document it found. An attempt marked under `attempts/` and not listed here began
   * writing and stored nothing (its invocation died, or its failure was tolerated).
   */
  attempts?: string[];
  /**
   * Per format, the zip records of the small per-task files this job wrote or carried over
   * (projects with zips; zip-records.ts): the commit's zip takes them instead of reading each file.
   */
  zipRecords?: Partial<Record<FormatName, StoredRecords>>;
}

/**
 * The paths earlier attempts of a job wrote (`earlier`: the document the last one stored) that
 * `doc` did not write itself (absent from it, or carried over from the previous manifest).
 */
export function supersededPaths(
  earlier: StoredSegment | undefined,
  doc: StoredSegment,
): Partial<Record<FormatName, string[]>> | undefined {
  if (!earlier) return undefined;
  const out: Partial<Record<FormatName, string[]>> = {};
  const formats = new Set([
    ...Object.keys(earlier.files),
    ...Object.keys(earlier.superseded ?? {}),
  ]) as Set<FormatName>;
  for (const f of formats) {
    const writtenNow = new Set((doc.files[f] ?? []).filter((x) => !x.carried).map((x) => x.path));
    const before = [
      ...(earlier.superseded?.[f] ?? []),
      ...(earlier.files[f] ?? []).filter((x) => !x.carried).map((x) => x.path),
    ];
    const left = [...new Set(before)].filter((p) => !writtenNow.has(p));
    if (left.length) out[f] = left.sort();
  }
  return Object.keys(out).length ? out : undefined;
}
/** The previous manifest's entries of one segment's per-task paths (`previous/<id>.json`). */
export interface PreviousSlice {
  format: 1;
  /** The manifest the entries come from. */
  manifest: string;
  files: Partial<Record<FormatName, WrittenFile[]>>;
}

/** `_state/render-fanout/<owner>/` of a project. */
export const fanoutPrefix = (ps: ProjectStore, owner: string) => `${ps.paths.state}render-fanout/${owner}/`;
/** Where a segment worker stores its output. */
export const segmentKey = (ps: ProjectStore, owner: string, id: string) =>
  `${fanoutPrefix(ps, owner)}segments/${id}.json`;
/** Where the plan leaves a changed segment's previous per-task entries for its worker. */
export const previousSliceKey = (ps: ProjectStore, owner: string, id: string) =>
  `${fanoutPrefix(ps, owner)}previous/${id}.json`;
/**
 * `attempts/<segment>/<attempt>`: an empty object a segment worker writes for each attempt at a
 * job before it writes anything under `latest/`, so the commit learns of an attempt that wrote
 * files and died before storing its document (lostAttempts).
 */
export const attemptKey = (ps: ProjectStore, owner: string, jobId: string, attempt: string) =>
  `${fanoutPrefix(ps, owner)}attempts/${jobId}/${attempt}`;

/** The attempts marked for each job of fan-out `owner` (attemptKey): job id → attempt ids. */
export async function markedAttempts(ps: ProjectStore, owner: string): Promise<Map<string, string[]>> {
  const prefix = `${fanoutPrefix(ps, owner)}attempts/`;
  const out = new Map<string, string[]>();
  for await (const o of ps.store.list(prefix)) {
    const [jobId, attempt] = o.key.slice(prefix.length).split('/');
    if (!jobId || !attempt) continue;
    const list = out.get(jobId);
    if (list) list.push(attempt);
    else out.set(jobId, [attempt]);
  }
  return out;
}

/** The attempts in `marked` that `doc` (the job's stored document, if any) does not account for. */
export function lostAttempts(marked: string[] | undefined, doc: StoredSegment | undefined): string[] {
  const accounted = new Set(doc?.attempts ?? []);
  return (marked ?? []).filter((a) => !accounted.has(a));
}

/** The content type of the job's JSON objects. */
export const JSON_TYPE = { contentType: 'application/json' };

/**
 * The stored form of a rendered segment `o` of `job`, its bodies written now: the aggregate bodies
 * go to one new object (a fresh name per call, so a retried worker never changes the bytes a
 * document it stored before points at), and per format the per-task files its sink (in `rc.sinks`,
 * writing under `ps.paths.latestFormat`) holds, each marked carried over (not written), written, or
 * written blind (no previous entry compared). The caller stores the document after this returns.
 * Throws what the store throws.
 */
export async function storedSegment(
  ps: ProjectStore,
  owner: string,
  job: SegmentJob,
  o: SegmentOutput,
  rc: SegmentRenderContext,
): Promise<StoredSegment> {
  const doc: StoredSegment = {
    format: STORED_SEGMENT_FORMAT,
    owner,
    job,
    entry: o.entry,
    bodies: `${fanoutPrefix(ps, owner)}segments/${job.id}.${randomUUID()}.bodies`,
    ...(o.summarized ? { summarized: o.summarized } : {}),
    aggregate: {},
    files: {},
    stats: {},
    io: o.io,
  };
  const chunks: Buffer[] = [];
  let at = 0;
  for (const [f, m] of o.aggregate) {
    const ranges: Record<string, [number, number, string]> = {};
    for (const [path, body] of m) {
      const bytes = Buffer.from(await bodyText(body));
      chunks.push(bytes);
      ranges[path] = [at, at + bytes.length, createHash('sha256').update(bytes).digest('hex')];
      at += bytes.length;
    }
    doc.aggregate[f] = ranges;
  }
  await ps.store.put(doc.bodies, Buffer.concat(chunks), { contentType: 'application/octet-stream' });
  for (const f of rc.formats) {
    const own = new Set(o.entry.formats[f]?.files ?? []);
    const sink = rc.sinks.get(f)!;
    doc.stats[f] = { ...sink.stats };
    // Keys the sink stored, with how many times (a path written twice is not compared).
    const stores = new Map<string, number>();
    for (const k of sink.opened) stores.set(k, (stores.get(k) ?? 0) + 1);
    doc.files[f] = sink.files
      .filter((x) => own.has(x.path))
      .map((x): SegmentFile => {
        const n = stores.get(`${ps.paths.latestFormat(f)}${x.path}`) ?? 0;
        if (n === 0) return { ...x, carried: true };
        return n === 1 && !sink.previousEntry(x.path) ? { ...x, blind: true } : x;
      });
  }
  return doc;
}

/**
 * Lists a worker's per-task files in the commit's sink as renderLatest would have: carried over
 * (unchanged), or written — except a file written blind whose bytes equal the previous manifest's
 * entry, which keeps that entry (the previous version holds the same bytes) and counts as
 * unchanged. The sink's counts then follow the worker's (`stats`): a path the worker stored twice
 * counts twice, as in one shared sink in-process.
 */
export function adoptFiles(sink: PublishSink, files: SegmentFile[], stats: PublishStats | undefined): void {
  const before = { ...sink.stats };
  const want = { ...(stats ?? { written: 0, unchanged: 0, bytesWritten: 0 }) };
  for (const x of files) {
    const { carried, blind, ...entry } = x;
    const prev = blind ? sink.previousEntry(entry.path) : undefined;
    if (carried) sink.adopt(entry, false);
    else if (prev && prev.bytes === entry.bytes && prev.sha256 === entry.sha256) {
      sink.adopt({ ...prev, key: entry.key }, false);
      want.written--;
      want.bytesWritten -= entry.bytes;
      want.unchanged++;
    } else sink.adopt(entry, true);
  }
  if (!stats) return;
  // adopt() counts one write per file; the manifest's changes count every store.
  sink.stats.written = before.written + want.written;
  sink.stats.unchanged = before.unchanged + want.unchanged;
  sink.stats.bytesWritten = before.bytesWritten + want.bytesWritten;
}

/** A stored body that is not what its segment document recorded (cut short, or other bytes). */
export class StoredBodyError extends Error {}

/** Reads of one stored body (a connection reset mid-body is not retried by the SDK). */
const BODY_READ_ATTEMPTS = 3;

/**
 * Bytes `[start, end)` of `key`, checked against `sha256`. Other failures than a missing object
 * or a wrong body are tried again (BODY_READ_ATTEMPTS in all, 200 ms apart, then 400 ms).
 * Throws NotFoundError, StoredBodyError, or the store's last error.
 */
async function readStoredBody(
  store: ObjectStore,
  key: string,
  [start, end, sha256]: [number, number, string],
): Promise<Buffer> {
  for (let attempt = 1; ; attempt++) {
    try {
      const b = await readAll((await store.get(key, { start, end })).body);
      if (b.length !== end - start)
        throw new StoredBodyError(`${key}: expected ${end - start} bytes at ${start}, read ${b.length}`);
      if (createHash('sha256').update(b).digest('hex') !== sha256)
        throw new StoredBodyError(`${key}: the bytes at ${start}–${end} are not the ones the segment stored`);
      return b;
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof StoredBodyError || attempt >= BODY_READ_ATTEMPTS)
        throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/**
 * A stored segment's aggregate bodies as the assemble step takes them: each a range of `doc.bodies`
 * read from `store` when a file needs it (never all at once; readStoredBody: checked against its
 * digest, transient failures tried again). Undefined when `doc.bodies` is not an object of this job
 * (under `prefix`, fanoutPrefix of the job): such a document is not used.
 */
export function storedAggregate(
  store: ObjectStore,
  doc: StoredSegment,
  prefix: string,
): Map<FormatName, Map<string, AggregateBody>> | undefined {
  if (typeof doc.bodies !== 'string' || !doc.bodies.startsWith(`${prefix}segments/`)) return undefined;
  const out = new Map<FormatName, Map<string, AggregateBody>>();
  for (const [f, m] of Object.entries(doc.aggregate) as [
    FormatName,
    Record<string, [number, number, string]>,
  ][]) {
    const bodies = new Map<string, AggregateBody>();
    for (const [path, range] of Object.entries(m)) {
      const [start, end] = range;
      if (start === end) {
        bodies.set(path, '');
        continue;
      }
      bodies.set(path, {
        stored: { key: doc.bodies, start, end },
        bytes: end - start,
        load: () => readStoredBody(store, doc.bodies, range),
      });
    }
    out.set(f, bodies);
  }
  return out;
}

/** Whether two jobs list the same shards with the same ETags. */
export const sameShards = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => a[k] === b[k]);
/** Deletes the objects of fan-out job `owner` (`_state/render-fanout/<owner>/`); failed deletes are logged. */
export async function removeFanoutJob(ctx: PipelineContext, ps: ProjectStore, owner: string): Promise<void> {
  for await (const o of ps.store.list(fanoutPrefix(ps, owner)))
    await ps.store
      .delete(o.key)
      .catch((err) => ctx.log('warn', 'delete failed', { key: o.key, error: String(err) }));
}
