/**
 * The project state's data model, pure: for every task, one entry per source object key that
 * contributes to it (an annotation object, or a whole-task object), or a tombstone when that object
 * was deleted. A task is assembled from its live entries exactly as a full read of the bucket would
 * (core/readers/storage-objects.ts semantics), so replaying events and rebuilding agree.
 *
 * Ordering rules (docs/pipeline.md "Ordering"): every observation is a read of the object's
 * *current* content (or its absence) triggered by an event with a sequencer.
 *  - content vs content of one key: the newer `updated_at` wins, then the newer sequencer;
 *  - a deletion vs content: the newer sequencer wins (tombstones stop an older PUT's late event);
 *  - listing-based reads (sync, rebuild) carry no sequencer; a `force` observation applies as read.
 */

import { MAX_JSON_DEPTH } from '../core/json/limits.ts';
import { parseJson } from '../core/json/parse.ts';
import { type JsonStyle, PY_JSON_COMPACT, stringify } from '../core/json/serialize.ts';
import { isJsonObject, type JsonObject, type JsonValue, setKey } from '../core/json/value.ts';
import {
  compareIds,
  idText,
  mergeTaskAndAnnotations,
  taskFromAnnotations,
} from '../core/readers/storage-objects.ts';
import { compareSequencers } from './s3-events.ts';

/** Compact JSON that round-trips every value the core parser produces (ASCII-escaped, lossless). */
export const STATE_JSON: JsonStyle = { ...PY_JSON_COMPACT, separators: [',', ':'] };

export type Layout = 'annotation' | 'task';

export interface LiveEntry {
  key: string;
  layout: Layout;
  /** Sequencer of the event that led to this read ('' for listing reads). */
  seq: string;
  /** `updated_at` of the content (for a task object, the newest of the task's and its annotations'). */
  updatedAt: string;
  etag?: string;
  observedAt: string;
  body: JsonObject;
  deleted?: false;
}

export interface Tombstone {
  key: string;
  deleted: true;
  seq: string;
  observedAt: string;
}

export type KeyEntry = LiveEntry | Tombstone;

export interface TaskRecord {
  taskId: string;
  /** Entries sorted by key. */
  entries: KeyEntry[];
}

/** What one read of a source object found. */
export interface Observation {
  key: string;
  seq: string;
  observedAt: string;
  /** A listing-based read (no sequencer): apply what was read. */
  force?: boolean;
  etag?: string;
  /** Absent when the object is gone (or unreadable, which counts as gone: it is reported). */
  live?: { layout: Layout; taskId: string; updatedAt: string; body: JsonObject };
}

/** The entry after applying an observation, or undefined when the observation changes nothing. */
export function decide(current: KeyEntry | undefined, obs: Observation): KeyEntry | undefined {
  const next: KeyEntry = obs.live
    ? {
        key: obs.key,
        layout: obs.live.layout,
        seq: obs.seq,
        updatedAt: obs.live.updatedAt,
        etag: obs.etag,
        observedAt: obs.observedAt,
        body: obs.live.body,
      }
    : { key: obs.key, deleted: true, seq: obs.seq, observedAt: obs.observedAt };
  if (!current) return next;
  if (obs.force) {
    const seq = compareSequencers(current.seq, obs.seq) >= 0 ? current.seq : obs.seq;
    if (current.deleted && next.deleted) return undefined;
    if (!current.deleted && !next.deleted && current.etag !== undefined && current.etag === next.etag)
      return undefined;
    return { ...next, seq };
  }
  const bySeq = compareSequencers(obs.seq, current.seq);
  if (current.deleted || next.deleted) {
    if (current.deleted && next.deleted) return undefined;
    return bySeq > 0 ? next : undefined;
  }
  if (next.updatedAt > current.updatedAt) return next;
  if (next.updatedAt === current.updatedAt && bySeq > 0) return next;
  return undefined;
}

/** Applies observations to a record in place; true when something changed. */
export function applyToRecord(record: TaskRecord, observations: Observation[]): boolean {
  let changed = false;
  for (const obs of observations) {
    const i = record.entries.findIndex((e) => e.key === obs.key);
    const next = decide(i >= 0 ? record.entries[i] : undefined, obs);
    if (!next) continue;
    changed = true;
    if (i >= 0) record.entries[i] = next;
    else {
      record.entries.push(next);
      record.entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
  }
  return changed;
}

/** Drops tombstones observed before `cutoff` (ISO); true when something was dropped. */
export function expireTombstones(record: TaskRecord, cutoff: string): boolean {
  const before = record.entries.length;
  record.entries = record.entries.filter((e) => !e.deleted || e.observedAt >= cutoff);
  return record.entries.length !== before;
}

export { idText };

/** The `updated_at` that orders two versions of one object. */
export function effectiveUpdatedAt(layout: Layout, body: JsonObject): string {
  const own = typeof body.updated_at === 'string' ? body.updated_at : '';
  if (layout === 'annotation') return own;
  let newest = own;
  for (const a of Array.isArray(body.annotations) ? body.annotations : []) {
    if (isJsonObject(a) && typeof a.updated_at === 'string' && a.updated_at > newest) newest = a.updated_at;
  }
  return newest;
}

const str = (v: JsonValue | undefined) => (typeof v === 'string' ? v : '');

/**
 * The task a record stands for, or undefined when no live entry is left. Task objects: the newest
 * wins. Annotation objects: per annotation id, the newest `updated_at` wins (and beats the same
 * annotation inside a task object); without a task object the task fields come from the freshest
 * nested copy. Annotations are sorted by id.
 */
export function assembleTask(record: TaskRecord): JsonObject | undefined {
  const live = record.entries.filter((e): e is LiveEntry => !e.deleted);
  if (live.length === 0) return undefined;
  const taskEntries = live.filter((e) => e.layout === 'task');
  const annEntries = live.filter((e) => e.layout === 'annotation');
  let taskObj: JsonObject | undefined;
  for (const e of taskEntries)
    if (!taskObj || str(e.body.updated_at) > str(taskObj.updated_at)) taskObj = e.body;
  // Newest version of each annotation object, by annotation id.
  const byId = new Map<string, JsonObject>();
  for (const e of annEntries) {
    const id = idText(e.body.id) ?? e.key;
    const prev = byId.get(id);
    if (!prev || str(e.body.updated_at) > str(prev.updated_at)) byId.set(id, e.body);
  }
  if (!taskObj) {
    const anns = [...byId.values()];
    let base = anns[0].task as JsonObject;
    let baseAt = '';
    for (const a of anns) {
      const nested = a.task as JsonObject;
      const at = `${str(nested.updated_at)}|${str(a.updated_at)}`;
      if (at > baseAt) {
        base = nested;
        baseAt = at;
      }
    }
    return taskFromAnnotations(anns, base);
  }
  if (byId.size === 0) return taskObj;
  return mergeTaskAndAnnotations(taskObj, [...byId.values()]);
}

// ---- shards -------------------------------------------------------------------------------------

/** The shard of a task id: numeric ids by range (`n` + zero-padded range number), others in `x`. */
export function shardOf(taskId: string, shardTasks: number): string {
  if (/^\d{1,15}$/.test(taskId))
    return `n${String(Math.floor(Number(taskId) / shardTasks)).padStart(10, '0')}`;
  return 'x';
}

/** Serializes a record as one JSON line (its id first, so a shard can be scanned without parsing). */
export function recordLine(record: TaskRecord): string {
  const out: JsonObject = {};
  setKey(out, 'id', record.taskId);
  const entries: JsonValue[] = record.entries.map((e) => {
    const o: JsonObject = {};
    setKey(o, 'key', e.key);
    if (e.deleted) {
      setKey(o, 'deleted', true);
      setKey(o, 'seq', e.seq);
      setKey(o, 'observedAt', e.observedAt);
      return o;
    }
    setKey(o, 'layout', e.layout);
    setKey(o, 'seq', e.seq);
    setKey(o, 'updatedAt', e.updatedAt);
    if (e.etag !== undefined) setKey(o, 'etag', e.etag);
    setKey(o, 'observedAt', e.observedAt);
    setKey(o, 'body', e.body);
    return o;
  });
  setKey(out, 'entries', entries);
  return stringify(out, STATE_JSON);
}

/** A state line wraps each body 3 levels deep (line → entries → entry → body). */
const RECORD_LINE_DEPTH = MAX_JSON_DEPTH + 3;

export function parseRecordLine(line: string): TaskRecord {
  const v = parseJson(line, undefined, { maxDepth: RECORD_LINE_DEPTH });
  if (!isJsonObject(v) || typeof v.id !== 'string' || !Array.isArray(v.entries))
    throw new Error('malformed state line');
  const entries: KeyEntry[] = v.entries.map((raw) => {
    if (!isJsonObject(raw) || typeof raw.key !== 'string') throw new Error('malformed state entry');
    if (raw.deleted === true)
      return { key: raw.key, deleted: true, seq: str(raw.seq), observedAt: str(raw.observedAt) };
    if (!isJsonObject(raw.body) || (raw.layout !== 'annotation' && raw.layout !== 'task'))
      throw new Error('malformed state entry');
    return {
      key: raw.key,
      layout: raw.layout,
      seq: str(raw.seq),
      updatedAt: str(raw.updatedAt),
      etag: typeof raw.etag === 'string' ? raw.etag : undefined,
      observedAt: str(raw.observedAt),
      body: raw.body,
    };
  });
  return { taskId: v.id, entries };
}

/** The task id of a line without parsing it (lines start with `{"id":"…"`). */
export function lineTaskId(line: string): string {
  if (!line.startsWith('{"id":"')) throw new Error('malformed state line');
  const end = line.indexOf('","entries":');
  if (end < 0) throw new Error('malformed state line');
  const id = JSON.parse(line.slice(6, end + 1));
  return id as string;
}

/** A shard: its lines by task id, parsed lazily. */
export class Shard {
  readonly lines = new Map<string, string>();

  /**
   * Splits a shard into its lines. A line without a readable task id throws, unless `onMalformed`
   * is given: then it is passed there (1-based line number, reason) and left out (readers use it;
   * ingest, which rewrites shards, must not drop lines silently).
   */
  static parse(text: string, onMalformed?: (lineNo: number, reason: string) => void): Shard {
    const s = new Shard();
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (!line) continue;
      if (!onMalformed) {
        s.lines.set(lineTaskId(line), line);
        continue;
      }
      try {
        s.lines.set(lineTaskId(line), line);
      } catch (err) {
        onMalformed(i + 1, err instanceof Error ? err.message : String(err));
      }
    }
    return s;
  }

  record(taskId: string): TaskRecord {
    const line = this.lines.get(taskId);
    return line ? parseRecordLine(line) : { taskId, entries: [] };
  }

  set(record: TaskRecord): void {
    if (record.entries.length === 0) this.lines.delete(record.taskId);
    else this.lines.set(record.taskId, recordLine(record));
  }

  /** Task ids in render order. */
  taskIds(): string[] {
    return [...this.lines.keys()].sort(compareIds);
  }

  serialize(): string {
    return this.taskIds()
      .map((id) => `${this.lines.get(id)}\n`)
      .join('');
  }
}
