/**
 * A project's state objects in the export bucket (docs/pipeline.md "State layout"):
 *  - `_state/head.json`: format, the state version (bumped by every change), the shard geometry;
 *  - `_state/tasks/<shard>.jsonl`: task records by task-id range (records.ts);
 *  - `_state/keys/<n>.json`: the key index, source key → task id (a delete names only the key),
 *    plus tombstones of keys deleted before their task was known;
 *  - `_state/skipped.json`: source objects that are currently unreadable, with reason and time;
 *  - `_state/dirty`: the render trigger; `_state/render.lock`: one render at a time.
 * Every update is a compare-and-swap (conditional-write.ts casUpdate).
 */
import { createHash } from 'node:crypto';
import { type ObjectStore, PreconditionFailedError } from '../core/object-store.ts';
import type { ReportEntry } from '../core/report.ts';
import { casUpdate } from './conditional-write.ts';
import type { ProjectConfig } from './config.ts';
import type { PipelineContext } from './context.ts';
import { readJson } from './object-text.ts';
import { type ProjectPaths, projectPaths } from './paths.ts';

export interface Head {
  format: 1;
  version: number;
  shardTasks: number;
  keyShards: number;
  createdAt: string;
  updatedAt: string;
  /** When the last rebuild merged (absent if the state was only built by events). */
  rebuiltAt?: string;
}

export interface ProjectStore {
  project: ProjectConfig;
  paths: ProjectPaths;
  store: ObjectStore;
}

export function projectStore(ctx: PipelineContext, project: ProjectConfig): ProjectStore {
  return { project, paths: projectPaths(project), store: ctx.store(project.export.bucket) };
}

const JSON_TYPE = 'application/json';

/** Reads the head, creating it (with the configured shard geometry) when the state is new. */
export async function loadHead(ctx: PipelineContext, ps: ProjectStore): Promise<Head> {
  const existing = await readJson<Head>(ps.store, ps.paths.head);
  if (existing) return existing.value;
  const now = ctx.now().toISOString();
  const head: Head = {
    format: 1,
    version: 0,
    shardTasks: ctx.config.settings.shardTasks,
    keyShards: ctx.config.settings.keyShards,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await ps.store.put(ps.paths.head, JSON.stringify(head), { ifNoneMatch: '*', contentType: JSON_TYPE });
    return head;
  } catch (err) {
    if (!(err instanceof PreconditionFailedError)) throw err;
    const again = await readJson<Head>(ps.store, ps.paths.head);
    if (!again) throw err;
    return again.value;
  }
}

/** Bumps the state version; returns the new head. */
export async function bumpVersion(
  ctx: PipelineContext,
  ps: ProjectStore,
  patch: Partial<Head> = {},
): Promise<Head> {
  let out: Head | undefined;
  await casUpdate(
    ctx,
    ps.store,
    ps.paths.head,
    (text) => {
      const head = text ? (JSON.parse(text) as Head) : undefined;
      if (!head) throw new Error(`state head ${ps.paths.head} is missing`);
      out = { ...head, ...patch, version: head.version + 1, updatedAt: ctx.now().toISOString() };
      return JSON.stringify(out);
    },
    { attempts: ctx.config.settings.casAttempts * 3, contentType: JSON_TYPE },
  );
  return out!;
}

// ---- key index ----------------------------------------------------------------------------------

/** A key's mapping: its task id, or a tombstone for a key deleted before its task was known. */
export type KeyIndexValue = string | { deleted: true; seq: string; observedAt: string };

export function keyShardOf(key: string, keyShards: number): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0) % keyShards;
}

export function parseKeyIndex(text: string | undefined): Map<string, KeyIndexValue> {
  const map = new Map<string, KeyIndexValue>();
  if (!text) return map;
  const doc = JSON.parse(text) as { entries: Array<[string, KeyIndexValue]> };
  for (const [k, v] of doc.entries) map.set(k, v);
  return map;
}

export function serializeKeyIndex(map: Map<string, KeyIndexValue>): string {
  const entries = [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return JSON.stringify({ format: 1, entries });
}

// ---- skipped objects ----------------------------------------------------------------------------

export interface SkippedEntry {
  reason: string;
  at: string;
}

const MAX_SKIPPED = 10_000;

/** Records unreadable objects and forgets keys that became readable or were deleted. */
export async function updateSkipped(
  ctx: PipelineContext,
  ps: ProjectStore,
  add: Map<string, SkippedEntry>,
  clear: Iterable<string>,
  replaceBefore?: string,
): Promise<boolean> {
  const clearSet = new Set(clear);
  const r = await casUpdate(
    ctx,
    ps.store,
    ps.paths.skipped,
    (text) => {
      const doc = text ? (JSON.parse(text) as { entries: Array<[string, SkippedEntry]> }) : { entries: [] };
      const map = new Map(doc.entries);
      const before = JSON.stringify([...map.entries()]);
      for (const k of clearSet) map.delete(k);
      if (replaceBefore) for (const [k, v] of map) if (v.at < replaceBefore) map.delete(k);
      for (const [k, v] of add) map.set(k, v);
      const entries = [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).slice(0, MAX_SKIPPED);
      if (JSON.stringify(entries) === before) return undefined;
      return JSON.stringify({ format: 1, entries });
    },
    { attempts: ctx.config.settings.casAttempts * 3, contentType: JSON_TYPE },
  );
  return r.changed;
}

export async function readSkipped(ps: ProjectStore): Promise<ReportEntry[]> {
  const doc = await readJson<{ entries: Array<[string, SkippedEntry]> }>(ps.store, ps.paths.skipped);
  return (doc?.value.entries ?? []).map(([key, v]) => ({
    source: key,
    reason: `${v.reason} (seen ${v.at})`,
  }));
}

// ---- the render trigger and the lock ------------------------------------------------------------

export type MarkerOutcome = 'created' | 'exists' | 'refreshed';

/**
 * Marks the project dirty. The marker is created at most once per render cycle (IfNoneMatch), so a
 * storm of ingests yields one S3 event → one (delayed) render message. A marker older than
 * `markerStaleSeconds` is rewritten: its render message was lost (DLQ), and the rewrite emits a
 * new event.
 */
export async function markDirty(
  ctx: PipelineContext,
  ps: ProjectStore,
  version: number,
): Promise<MarkerOutcome> {
  const body = JSON.stringify({ version, at: ctx.now().toISOString() });
  const info = await ps.store.head(ps.paths.dirty);
  if (info) {
    const age = info.lastModified ? ctx.now().getTime() - info.lastModified.getTime() : 0;
    if (age <= ctx.config.settings.markerStaleSeconds * 1000) return 'exists';
    await ps.store.put(ps.paths.dirty, body, { contentType: JSON_TYPE });
    return 'refreshed';
  }
  try {
    await ps.store.put(ps.paths.dirty, body, { ifNoneMatch: '*', contentType: JSON_TYPE });
    return 'created';
  } catch (err) {
    if (err instanceof PreconditionFailedError) return 'exists';
    throw err;
  }
}

interface LockDoc {
  owner: string;
  acquiredAt: string;
  expiresAt: string;
}

/** Takes the project's render lock (create-only; an expired lock is taken over with IfMatch). */
export async function acquireLock(ctx: PipelineContext, ps: ProjectStore, owner: string): Promise<boolean> {
  const now = ctx.now();
  const doc: LockDoc = {
    owner,
    acquiredAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + ctx.config.settings.lockTtlSeconds * 1000).toISOString(),
  };
  const existing = await readJson<LockDoc>(ps.store, ps.paths.lock);
  try {
    if (!existing) {
      await ps.store.put(ps.paths.lock, JSON.stringify(doc), { ifNoneMatch: '*', contentType: JSON_TYPE });
      return true;
    }
    if (existing.value.expiresAt > now.toISOString()) return false;
    ctx.log('warn', 'taking over an expired render lock', {
      project: ps.project.id,
      previous: existing.value,
    });
    await ps.store.put(ps.paths.lock, JSON.stringify(doc), {
      ifMatch: existing.etag,
      contentType: JSON_TYPE,
    });
    return true;
  } catch (err) {
    if (err instanceof PreconditionFailedError) return false;
    throw err;
  }
}

export async function releaseLock(ps: ProjectStore, owner: string): Promise<void> {
  const existing = await readJson<LockDoc>(ps.store, ps.paths.lock);
  if (existing?.value.owner === owner) await ps.store.delete(ps.paths.lock);
}
