/**
 * Ingest: S3 changes → observations → the project state, touching only what changed. For each
 * project in a batch: keep the newest event per key, read those objects (bounded parallelism),
 * resolve deletions through the key index, merge into the affected task shards with
 * compare-and-swap, record unreadable objects, bump the state version and mark the project dirty.
 *
 * One object never poisons a batch: an object that cannot be parsed or normalised (invalid JSON,
 * nested deeper than MAX_JSON_DEPTH, not a Label Studio object, too large) is recorded in
 * `_state/skipped.json` and acknowledged on the first try, and so is one whose merge into its task's
 * record throws; the other records of the batch and project are committed. Only failures to read
 * an object or to write the state are retried.
 *
 * A project's label config object (`labelConfig.s3`, routed here by notifications.ts) is not a
 * Label Studio object: its upload is parsed and, when valid, marks the project dirty, so the render
 * (whose `isCurrent` compares the config's digest) re-renders `latest/`. An invalid or removed one
 * is logged and acknowledged; `latest/` keeps the files of the last good config.
 */
import { mapLimit, settleLimit } from '../core/bounded-map.ts';
import { reasonOf } from '../core/report.ts';
import { casUpdate } from './conditional-write.ts';
import type { ProjectConfig } from './config.ts';
import type { PipelineContext } from './context.ts';
import { LabelConfigUnavailableError } from './errors.ts';
import { loadLabelConfig, projectsForLabelConfigKey } from './label-config.ts';
import { readJson, readText, type TextWithEtag } from './object-text.ts';
import { type ObservedObject, observeObject } from './observe.ts';
import { projectsForSourceKey } from './paths.ts';
import { applyToRecord, expireTombstones, type Observation, Shard, shardOf } from './records.ts';
import { compareSequencers, type ObjectChange } from './s3-events.ts';
import {
  bumpVersion,
  type Head,
  keyShardOf,
  loadHead,
  type MarkerOutcome,
  markDirty,
  type ProjectStore,
  parseKeyIndex,
  projectStore,
  type SkippedEntry,
  serializeKeyIndex,
  updateSkipped,
} from './state.ts';

export interface CommitStats {
  project: string;
  observed: number;
  malformed: number;
  /** Observations dropped as older than what the state holds (duplicates, out-of-order events). */
  changedTasks: number;
  shardsRead: number;
  shardsWritten: number;
  keyShardsWritten: number;
  bytesRead: number;
  bytesWritten: number;
  /** The state version after the commit (unchanged when nothing changed). */
  version: number;
  marker?: MarkerOutcome;
}

export interface ProjectIngest {
  project: string;
  stats?: CommitStats;
  /** Keys whose read failed (their records are retried); the rest were committed. */
  failedKeys: Map<string, unknown>;
  /** Set when the commit itself failed: every change of the project is retried. */
  error?: unknown;
  /** Source objects read and their bytes. */
  objectsRead: number;
}

/** What an event for a project's label config object did. */
export interface LabelConfigIngest {
  project: string;
  bucket: string;
  key: string;
  /**
   * `dirty`: valid, the project is marked dirty (`marker`); `no-state`: valid, nothing ingested
   * yet (the first ingest marks it); `invalid`: missing or not a valid label config (`reason`),
   * nothing marked; `removed`: the object was deleted, nothing marked; `failed`: it could not be
   * read or the marker not written (`reason`), the change is retried.
   */
  outcome: 'dirty' | 'no-state' | 'invalid' | 'removed' | 'failed';
  marker?: MarkerOutcome;
  /** sha256 of the config read (label-config.ts), when valid. */
  sha256?: string;
  reason?: string;
}

export interface IngestResult {
  projects: ProjectIngest[];
  /** Events for label config objects, one entry per project using the object. */
  labelConfigs: LabelConfigIngest[];
  /** Changes under no configured project (acknowledged). */
  unmatched: ObjectChange[];
  /** Whether a given change must be retried. */
  failed(change: ObjectChange): boolean;
}

const JSONL_TYPE = 'application/x-ndjson';
const JSON_TYPE = 'application/json';

/** Ingests a batch of S3 changes (from any number of projects). Never throws for one project's failure. */
export async function ingestChanges(ctx: PipelineContext, changes: ObjectChange[]): Promise<IngestResult> {
  const byProject = new Map<ProjectConfig, ObjectChange[]>();
  const unmatched: ObjectChange[] = [];
  const configChanges: ObjectChange[] = [];
  for (const c of changes) {
    if (projectsForLabelConfigKey(ctx.config, c.bucket, c.key).length > 0) {
      configChanges.push(c);
      continue;
    }
    const projects = projectsForSourceKey(ctx.config, c.bucket, c.key);
    if (projects.length === 0) unmatched.push(c);
    for (const p of projects) byProject.set(p, [...(byProject.get(p) ?? []), c]);
  }
  const [results, labelConfigs] = await Promise.all([
    Promise.all([...byProject].map(([p, cs]) => ingestProject(ctx, p, cs))),
    ingestLabelConfigs(ctx, configChanges),
  ]);
  const failedKeys = new Set<string>();
  for (const l of labelConfigs) if (l.outcome === 'failed') failedKeys.add(`${l.bucket}\n${l.key}`);
  for (const [i, [p]] of [...byProject].entries()) {
    const r = results[i];
    if (r.error) for (const c of byProject.get(p)!) failedKeys.add(`${c.bucket}\n${c.key}`);
    for (const k of r.failedKeys.keys()) failedKeys.add(`${p.source.bucket}\n${k}`);
  }
  return {
    projects: results,
    labelConfigs,
    unmatched,
    failed: (c) => failedKeys.has(`${c.bucket}\n${c.key}`),
  };
}

/**
 * Label config objects changed: per object its newest event, per project using it one outcome
 * (LabelConfigIngest). Never throws; a read or marker failure is an outcome `failed` (retried).
 */
export async function ingestLabelConfigs(
  ctx: PipelineContext,
  changes: ObjectChange[],
): Promise<LabelConfigIngest[]> {
  const newest = new Map<string, ObjectChange>();
  for (const c of changes) {
    const id = `${c.bucket}\n${c.key}`;
    const prev = newest.get(id);
    if (!prev || compareSequencers(c.sequencer, prev.sequencer) > 0) newest.set(id, c);
  }
  const work = [...newest.values()].flatMap((c) =>
    projectsForLabelConfigKey(ctx.config, c.bucket, c.key).map((project) => ({ c, project })),
  );
  return mapLimit(work, ctx.config.settings.readConcurrency, ({ c, project }) =>
    labelConfigChanged(ctx, project, c),
  );
}

async function labelConfigChanged(
  ctx: PipelineContext,
  project: ProjectConfig,
  c: ObjectChange,
): Promise<LabelConfigIngest> {
  const base = { project: project.id, bucket: c.bucket, key: c.key };
  if (c.kind === 'removed') {
    ctx.log(
      'warn',
      'label config object removed; latest/ is left as it is and renders fail until it is uploaded again',
      base,
    );
    return { ...base, outcome: 'removed' };
  }
  let sha256: string;
  try {
    sha256 = (await loadLabelConfig(ctx, project)).sha256;
  } catch (err) {
    if (err instanceof LabelConfigUnavailableError) {
      ctx.log(
        'error',
        'label config upload is not usable; nothing re-rendered, latest/ keeps the previous config',
        {
          ...base,
          reason: err.message,
        },
      );
      return { ...base, outcome: 'invalid', reason: err.message };
    }
    ctx.log('warn', 'could not read a changed label config; the change is retried', {
      ...base,
      error: String(err),
    });
    return { ...base, outcome: 'failed', reason: reasonOf(err) };
  }
  try {
    const ps = projectStore(ctx, project);
    const head = (await readJson<Head>(ps.store, ps.paths.head))?.value;
    if (!head || head.version === 0) return { ...base, outcome: 'no-state', sha256 };
    const marker = await markDirty(ctx, ps, head.version);
    ctx.log('info', 'label config changed; project marked dirty', { ...base, sha256, marker });
    return { ...base, outcome: 'dirty', marker, sha256 };
  } catch (err) {
    ctx.log('warn', 'could not mark the project dirty after a label config change; retried', {
      ...base,
      error: String(err),
    });
    return { ...base, outcome: 'failed', reason: reasonOf(err) };
  }
}

/** The newest change per key (duplicates and older events of the same key add nothing). */
export function newestPerKey(changes: ObjectChange[]): ObjectChange[] {
  const map = new Map<string, ObjectChange>();
  for (const c of changes) {
    const prev = map.get(c.key);
    if (!prev || compareSequencers(c.sequencer, prev.sequencer) > 0) map.set(c.key, c);
  }
  return [...map.values()];
}

async function ingestProject(
  ctx: PipelineContext,
  project: ProjectConfig,
  changes: ObjectChange[],
): Promise<ProjectIngest> {
  const source = ctx.store(project.source.bucket);
  const observedAt = ctx.now().toISOString();
  const unique = newestPerKey(changes);
  const reads = await settleLimit(unique, ctx.config.settings.readConcurrency, (c) =>
    observeObject(source, {
      key: c.key,
      seq: c.sequencer,
      observedAt,
      size: c.kind === 'created' ? c.size : undefined,
    }),
  );
  const failedKeys = new Map<string, unknown>();
  const observed: ObservedObject[] = [];
  reads.forEach((r, i) => {
    if (r.status === 'fulfilled') observed.push(r.value);
    else failedKeys.set(unique[i].key, r.reason);
  });
  for (const [key, err] of failedKeys) {
    ctx.log('warn', 'could not read a changed object; its record will be retried', {
      project: project.id,
      key,
      error: String(err),
    });
  }
  const objectsRead = observed.length;
  try {
    const stats = await commitObservations(ctx, projectStore(ctx, project), observed);
    stats.bytesRead += observed.reduce((n, o) => n + o.bytesRead, 0);
    return { project: project.id, stats, failedKeys, objectsRead };
  } catch (error) {
    ctx.log('error', 'ingest commit failed; the batch is retried', {
      project: project.id,
      error: String(error),
    });
    return { project: project.id, failedKeys, error, objectsRead };
  }
}

interface ShardWork {
  id: string;
  initial?: TextWithEtag | null;
  /** Observations by task id. */
  byTask: Map<string, Observation[]>;
}

/**
 * Merges observations into the project state. Also used by `sync` (listing-based observations)
 * and by tests. Returns what it read and wrote.
 */
export async function commitObservations(
  ctx: PipelineContext,
  ps: ProjectStore,
  observed: ObservedObject[],
  options: { markDirty?: boolean } = {},
): Promise<CommitStats> {
  const head: Head = await loadHead(ctx, ps);
  const stats: CommitStats = {
    project: ps.project.id,
    observed: observed.length,
    malformed: 0,
    changedTasks: 0,
    shardsRead: 0,
    shardsWritten: 0,
    keyShardsWritten: 0,
    bytesRead: 0,
    bytesWritten: 0,
    version: head.version,
  };
  const attempts = ctx.config.settings.casAttempts;
  const shards = new Map<string, ShardWork>();
  const work = (id: string) => {
    let w = shards.get(id);
    if (!w) shards.set(id, (w = { id, byTask: new Map() }));
    return w;
  };
  const addObs = (taskId: string, obs: Observation) => {
    const w = work(shardOf(taskId, head.shardTasks));
    w.byTask.set(taskId, [...(w.byTask.get(taskId) ?? []), obs]);
  };

  // 1. Read the shards of the live observations: a key live in its task's record needs no index
  // lookup. Not a retired one: the key may have moved to another task since (a foreign writer
  // reusing keys), and only the key index knows which task must let it go.
  const live = observed.filter((o) => o.obs.live);
  for (const o of live) work(shardOf(o.obs.live!.taskId, head.shardTasks));
  const limit = ctx.config.settings.readConcurrency;
  await mapLimit([...shards.values()], limit, async (w) => {
    w.initial = (await readText(ps.store, ps.paths.taskShard(w.id))) ?? null;
    stats.shardsRead++;
    stats.bytesRead += w.initial?.bytes ?? 0;
  });
  const parsed = new Map<string, Shard>();
  const shardFor = (id: string) => {
    let s = parsed.get(id);
    if (!s) parsed.set(id, (s = Shard.parse(shards.get(id)?.initial?.text ?? '')));
    return s;
  };
  const needIndex: ObservedObject[] = [];
  for (const o of live) {
    const taskId = o.obs.live!.taskId;
    const record = shardFor(shardOf(taskId, head.shardTasks)).record(taskId);
    if (record.entries.some((e) => e.key === o.obs.key && !e.deleted)) addObs(taskId, o.obs);
    else needIndex.push(o);
  }
  for (const o of observed) if (!o.obs.live) needIndex.push(o);

  // 2. The key index: record new keys, resolve deletions, keep tombstones of keys never seen live.
  const byKeyShard = new Map<number, ObservedObject[]>();
  for (const o of needIndex) {
    const n = keyShardOf(o.obs.key, head.keyShards);
    byKeyShard.set(n, [...(byKeyShard.get(n) ?? []), o]);
  }
  await mapLimit([...byKeyShard], limit, async ([n, items]) => {
    let resolved: Array<{ taskId: string; obs: Observation }> = [];
    const r = await casUpdate(
      ctx,
      ps.store,
      ps.paths.keyShard(n),
      (text) => {
        resolved = [];
        const index = parseKeyIndex(text);
        let changed = false;
        for (const o of items) {
          const cur = index.get(o.obs.key);
          if (o.obs.live) {
            const taskId = o.obs.live.taskId;
            if (typeof cur === 'object' && !o.obs.force && compareSequencers(cur.seq, o.obs.seq) >= 0)
              continue; // stale PUT after a delete
            if (typeof cur === 'string' && cur !== taskId) {
              // The key now holds another task's object: retire it from the old task.
              resolved.push({
                taskId: cur,
                obs: { key: o.obs.key, seq: o.obs.seq, observedAt: o.obs.observedAt, force: true },
              });
            }
            if (cur !== taskId) {
              index.set(o.obs.key, taskId);
              changed = true;
            }
            resolved.push({ taskId, obs: o.obs });
          } else if (typeof cur === 'string') {
            resolved.push({ taskId: cur, obs: o.obs });
          } else if (!cur || compareSequencers(o.obs.seq, cur.seq) > 0) {
            index.set(o.obs.key, { deleted: true, seq: o.obs.seq, observedAt: o.obs.observedAt });
            changed = true;
          }
        }
        return changed ? serializeKeyIndex(index) : undefined;
      },
      { attempts, contentType: JSON_TYPE },
    );
    stats.bytesRead += r.bytesRead;
    stats.bytesWritten += r.bytesWritten;
    if (r.changed) stats.keyShardsWritten++;
    for (const { taskId, obs } of resolved) addObs(taskId, obs);
  });

  // 3. The task shards, each with compare-and-swap. A task whose merge throws keeps its record as
  // it was; its observations are reported as unusable (step 4) instead of failing the shard.
  const cutoff = new Date(ctx.now().getTime() - ctx.config.settings.tombstoneDays * 86_400_000).toISOString();
  const unmerged = new Map<string, string>();
  await mapLimit(
    [...shards.values()].filter((w) => w.byTask.size > 0),
    limit,
    async (w) => {
      let changedTasks = 0;
      let failed = new Map<string, string>();
      const r = await casUpdate(
        ctx,
        ps.store,
        ps.paths.taskShard(w.id),
        (text) => {
          changedTasks = 0;
          failed = new Map();
          const shard = Shard.parse(text ?? '');
          for (const [taskId, list] of w.byTask) {
            try {
              const record = shard.record(taskId);
              const changed = applyToRecord(record, list);
              const expired = expireTombstones(record, cutoff);
              if (changed || expired) {
                shard.set(record);
                if (changed) changedTasks++;
              }
            } catch (err) {
              const reason = `could not be merged into task ${taskId}'s state record: ${reasonOf(err)}`;
              for (const obs of list) failed.set(obs.key, reason);
            }
          }
          return changedTasks > 0 ? shard.serialize() : undefined;
        },
        { attempts, contentType: JSONL_TYPE, initial: w.initial },
      );
      for (const [key, reason] of failed) unmerged.set(key, reason);
      stats.bytesRead += r.attempts > 1 ? r.bytesRead - (w.initial?.bytes ?? 0) : 0;
      stats.bytesWritten += r.bytesWritten;
      if (r.changed) {
        stats.shardsWritten++;
        stats.changedTasks += changedTasks;
      }
    },
  );

  // 4. Unreadable objects: remember them (key, reason, time); forget keys that are fine again.
  const add = new Map<string, SkippedEntry>();
  const clear: string[] = [];
  for (const o of observed) {
    const reason = o.malformed ?? unmerged.get(o.obs.key);
    if (reason !== undefined) {
      add.set(o.obs.key, { reason, at: o.obs.observedAt });
      stats.malformed++;
    } else clear.push(o.obs.key);
  }
  const reportChanged = observed.length > 0 ? await updateSkipped(ctx, ps, add, clear) : false;

  // 5. A new state version, and the render trigger.
  if (stats.shardsWritten > 0 || reportChanged) {
    const next = await bumpVersion(ctx, ps);
    stats.version = next.version;
    if (options.markDirty !== false) stats.marker = await markDirty(ctx, ps, next.version);
  }
  return stats;
}
