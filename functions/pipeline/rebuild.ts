/**
 * Full rebuild: list the whole source prefix and build the same state from scratch (first
 * deployment, backfill, recovery), in two steps so Step Functions can fan out the first:
 *  - batch: read a batch of listed keys and write partial shards under `_state/rebuild/<run>/`;
 *  - merge: fold every partial into the task shards (compare-and-swap), rebuild the key index,
 *    record unreadable objects, bump the version and mark the project dirty.
 * Changes that events brought in after the rebuild started are kept (an entry observed after the
 * earliest batch wins over the listing unless the listing read is newer by `updated_at`).
 * Locally, rebuildProject runs both steps in one process.
 */
import { createHash } from 'node:crypto';
import { mapLimit } from '../core/bounded-map.ts';
import { casUpdate } from './conditional-write.ts';
import type { ProjectConfig } from './config.ts';
import type { PipelineContext } from './context.ts';
import { readJson, readText } from './object-text.ts';
import { observeObject } from './observe.ts';
import { watchedPrefix } from './paths.ts';
import { decide, type KeyEntry, type Observation, Shard, shardOf, type TaskRecord } from './records.ts';
import {
  bumpVersion,
  keyShardOf,
  loadHead,
  markDirty,
  type ProjectStore,
  parseKeyIndex,
  projectStore,
  type SkippedEntry,
  serializeKeyIndex,
  updateSkipped,
} from './state.ts';

/** One item of the Distributed Map's S3 listing (S3ObjectsItemReader). */
export interface RebuildItem {
  Key: string;
  Size?: number;
  Etag?: string;
  LastModified?: string;
}

export interface BatchResult {
  runId: string;
  batchId: string;
  objects: number;
  malformed: number;
  partials: number;
  bytesRead: number;
}

const runPrefix = (ps: ProjectStore, runId: string) =>
  ps.paths.rebuild(runId.replace(/[^A-Za-z0-9_.-]/g, '_'));

export async function rebuildBatch(
  ctx: PipelineContext,
  project: ProjectConfig,
  items: RebuildItem[],
  runId = 'default',
): Promise<BatchResult> {
  const ps = projectStore(ctx, project);
  const head = await loadHead(ctx, ps);
  const startedAt = ctx.now().toISOString();
  const keys = items.map((i) => i.Key).filter((k) => !k.endsWith('/'));
  const batchId = createHash('sha1').update(keys.join('\n')).digest('hex').slice(0, 16);
  const source = ctx.store(project.source.bucket);
  const observed = await mapLimit(keys, ctx.config.settings.readConcurrency, (key, i) =>
    observeObject(source, { key, seq: '', observedAt: startedAt, force: true, size: items[i].Size }),
  );
  const prefix = runPrefix(ps, runId);
  const byShard = new Map<string, Shard>();
  const skipped: Array<[string, SkippedEntry]> = [];
  for (const o of observed) {
    if (o.malformed) skipped.push([o.obs.key, { reason: o.malformed, at: startedAt }]);
    if (!o.obs.live) continue;
    const taskId = o.obs.live.taskId;
    const id = shardOf(taskId, head.shardTasks);
    let shard = byShard.get(id);
    if (!shard) byShard.set(id, (shard = new Shard()));
    const record = shard.record(taskId);
    record.entries.push(entryOf(o.obs));
    record.entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    shard.set(record);
  }
  await mapLimit([...byShard], 8, ([id, shard]) =>
    ps.store.put(`${prefix}t/${id}/${batchId}.jsonl`, shard.serialize(), {
      contentType: 'application/x-ndjson',
    }),
  );
  await ps.store.put(
    `${prefix}b/${batchId}.json`,
    JSON.stringify({ startedAt, objects: keys.length, skipped }),
    {
      contentType: 'application/json',
    },
  );
  return {
    runId,
    batchId,
    objects: keys.length,
    malformed: skipped.length,
    partials: byShard.size,
    bytesRead: observed.reduce((n, o) => n + o.bytesRead, 0),
  };
}

function entryOf(obs: Observation): KeyEntry {
  return decide(undefined, obs)!;
}

export interface MergeResult {
  runId: string;
  batches: number;
  shards: number;
  tasks: number;
  keys: number;
  malformed: number;
  version: number;
}

export async function rebuildMerge(
  ctx: PipelineContext,
  project: ProjectConfig,
  runId = 'default',
): Promise<MergeResult> {
  const ps = projectStore(ctx, project);
  const head = await loadHead(ctx, ps);
  const prefix = runPrefix(ps, runId);
  const partials = new Map<string, string[]>();
  const batchKeys: string[] = [];
  const runKeys: string[] = [];
  for await (const o of ps.store.list(prefix)) {
    runKeys.push(o.key);
    const rest = o.key.slice(prefix.length);
    const t = /^t\/([^/]+)\/[^/]+\.jsonl$/.exec(rest);
    if (t) partials.set(t[1], [...(partials.get(t[1]) ?? []), o.key]);
    else if (/^b\/[^/]+\.json$/.test(rest)) batchKeys.push(o.key);
  }
  let start = ctx.now().toISOString();
  const skipped = new Map<string, SkippedEntry>();
  for (const k of batchKeys) {
    const b = await readJson<{ startedAt: string; skipped: Array<[string, SkippedEntry]> }>(ps.store, k);
    if (!b) continue;
    if (b.value.startedAt < start) start = b.value.startedAt;
    for (const [key, v] of b.value.skipped) skipped.set(key, v);
  }
  // Tombstones events wrote to the key index after the listing began (keys deleted before the
  // rebuild had mapped them to a task).
  const allShards = new Set<number>();
  const lateTombstones = new Map<string, KeyEntry>();
  for await (const o of ps.store.list(ps.paths.keyShards)) {
    const m = /(\d+)\.json$/.exec(o.key);
    if (!m) continue;
    allShards.add(Number(m[1]));
    for (const [k, v] of parseKeyIndex((await readText(ps.store, o.key))?.text)) {
      if (typeof v === 'object' && v.observedAt >= start)
        lateTombstones.set(k, { key: k, deleted: true, seq: v.seq, observedAt: v.observedAt });
    }
  }
  const existing: string[] = [];
  for await (const o of ps.store.list(ps.paths.taskShards)) {
    const m = /([^/]+)\.jsonl$/.exec(o.key);
    if (m) existing.push(m[1]);
  }
  const shardIds = [...new Set([...partials.keys(), ...existing])].sort();
  const keyIndex = new Map<number, Map<string, string>>();
  let tasks = 0;
  await mapLimit(shardIds, 8, async (id) => {
    const fresh = new Shard();
    for (const key of partials.get(id) ?? []) {
      const text = (await readText(ps.store, key))?.text ?? '';
      const part = Shard.parse(text);
      for (const taskId of part.taskIds()) {
        const rec = fresh.record(taskId);
        for (const e of part.record(taskId).entries)
          if (!rec.entries.some((x) => x.key === e.key)) rec.entries.push(e);
        rec.entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        fresh.set(rec);
      }
    }
    let merged = new Shard();
    await casUpdate(
      ctx,
      ps.store,
      ps.paths.taskShard(id),
      (text) => {
        merged = mergeShard(Shard.parse(text ?? ''), fresh, start, lateTombstones);
        return merged.serialize();
      },
      { attempts: ctx.config.settings.casAttempts, contentType: 'application/x-ndjson' },
    );
    for (const taskId of merged.taskIds()) {
      const rec = merged.record(taskId);
      if (rec.entries.some((e) => !e.deleted)) tasks++;
      for (const e of rec.entries) {
        const n = keyShardOf(e.key, head.keyShards);
        let m = keyIndex.get(n);
        if (!m) keyIndex.set(n, (m = new Map()));
        m.set(e.key, taskId);
      }
    }
  });
  let keys = 0;
  for (const m of keyIndex.values()) keys += m.size;
  for (const n of keyIndex.keys()) allShards.add(n);
  await mapLimit([...allShards], 8, (n) =>
    casUpdate(
      ctx,
      ps.store,
      ps.paths.keyShard(n),
      (text) => {
        const next = new Map<string, string | { deleted: true; seq: string; observedAt: string }>(
          keyIndex.get(n) ?? [],
        );
        for (const [k, v] of parseKeyIndex(text)) {
          // Keep what events recorded after the rebuild began.
          if (typeof v === 'object' && v.observedAt >= start && !next.has(k)) next.set(k, v);
        }
        return serializeKeyIndex(next);
      },
      { attempts: ctx.config.settings.casAttempts, contentType: 'application/json' },
    ),
  );
  await updateSkipped(ctx, ps, skipped, [], start);
  const next = await bumpVersion(ctx, ps, { rebuiltAt: ctx.now().toISOString() });
  await markDirty(ctx, ps, next.version);
  for (const k of runKeys) await ps.store.delete(k);
  return {
    runId,
    batches: batchKeys.length,
    shards: shardIds.length,
    tasks,
    keys,
    malformed: skipped.size,
    version: next.version,
  };
}

/**
 * The listing's view of a shard, plus what events changed after the listing began: against an
 * event's content the listing's read wins only if newer by `updated_at`; against an event's
 * deletion, the later observation wins.
 */
function mergeShard(
  current: Shard,
  fresh: Shard,
  start: string,
  lateTombstones: Map<string, KeyEntry>,
): Shard {
  const out = new Shard();
  const ids = new Set([...current.lines.keys(), ...fresh.lines.keys()]);
  for (const taskId of ids) {
    const cur = current.record(taskId);
    const next: TaskRecord = { taskId, entries: [] };
    const seen = new Set<string>();
    for (const f of fresh.record(taskId).entries) {
      seen.add(f.key);
      let c = cur.entries.find((e) => e.key === f.key);
      if (!(c && c.observedAt >= start)) c = lateTombstones.get(f.key);
      if (!c || c.observedAt < start || f.deleted) next.entries.push(f);
      else if (c.deleted) next.entries.push(c.observedAt > f.observedAt ? c : f);
      else {
        const obs: Observation = {
          key: f.key,
          seq: f.seq,
          observedAt: f.observedAt,
          etag: f.etag,
          live: { layout: f.layout, taskId, updatedAt: f.updatedAt, body: f.body },
        };
        next.entries.push(decide(c, obs) ?? c);
      }
    }
    for (const c of cur.entries) if (!seen.has(c.key) && c.observedAt >= start) next.entries.push(c);
    next.entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    out.set(next);
  }
  return out;
}

export interface RebuildResult {
  batches: BatchResult[];
  merge: MergeResult;
  objectsListed: number;
}

/** Both steps in one process: list, read in batches, merge. */
export async function rebuildProject(
  ctx: PipelineContext,
  project: ProjectConfig,
  options: { runId?: string } = {},
): Promise<RebuildResult> {
  const runId = options.runId ?? `local-${ctx.now().getTime()}`;
  await loadHead(ctx, projectStore(ctx, project)); // once, before the batches run in parallel
  const source = ctx.store(project.source.bucket);
  const batches: RebuildItem[][] = [];
  let current: RebuildItem[] = [];
  let listed = 0;
  for await (const o of source.list(watchedPrefix(project.source.prefix))) {
    current.push({ Key: o.key, Size: o.size, Etag: o.etag });
    listed++;
    if (current.length >= ctx.config.settings.rebuildBatchSize) {
      batches.push(current);
      current = [];
    }
  }
  if (current.length) batches.push(current);
  const results = await mapLimit(batches, 4, (b) => rebuildBatch(ctx, project, b, runId));
  const merge = await rebuildMerge(ctx, project, runId);
  return { batches: results, merge, objectsListed: listed };
}
