/**
 * Sync without events (the `ls-export sync` command): compare a listing of the source prefix with
 * the state (ETags recorded per key) and read only new or changed objects; keys that disappeared
 * count as deleted. Costs one LIST page per 1,000 objects, one read of the state shards, and one
 * GET per changed object. A project without state is rebuilt instead.
 */
import { mapLimit } from '../core/bounded-map.ts';
import type { ProjectConfig } from './config.ts';
import type { PipelineContext } from './context.ts';
import { type CommitStats, commitObservations } from './ingest.ts';
import { readText } from './object-text.ts';
import { type ObservedObject, observeObject } from './observe.ts';
import { watchedPrefix } from './paths.ts';
import { type RebuildResult, rebuildProject } from './rebuild.ts';
import { Shard } from './records.ts';
import { loadHead, projectStore } from './state.ts';

export interface SyncResult {
  project: string;
  mode: 'rebuild' | 'incremental';
  listed: number;
  changed: number;
  deleted: number;
  objectsRead: number;
  commit?: CommitStats;
  rebuild?: RebuildResult;
}

export async function syncProject(
  ctx: PipelineContext,
  project: ProjectConfig,
  options: { full?: boolean } = {},
): Promise<SyncResult> {
  const ps = projectStore(ctx, project);
  const head = await loadHead(ctx, ps);
  let hasShards = false;
  for await (const _ of ps.store.list(ps.paths.taskShards)) {
    hasShards = true;
    break;
  }
  if (options.full || head.version === 0 || !hasShards) {
    const rebuild = await rebuildProject(ctx, project);
    return {
      project: project.id,
      mode: 'rebuild',
      listed: rebuild.objectsListed,
      changed: rebuild.objectsListed,
      deleted: 0,
      objectsRead: rebuild.objectsListed,
      rebuild,
    };
  }
  // What the state knows: key → ETag of the read it holds ('' for tombstones).
  const known = new Map<string, string | undefined>();
  for await (const o of ps.store.list(ps.paths.taskShards)) {
    const text = (await readText(ps.store, o.key))?.text ?? '';
    const shard = Shard.parse(text);
    for (const id of shard.taskIds()) {
      for (const e of shard.record(id).entries) known.set(e.key, e.deleted ? '' : (e.etag ?? '?'));
    }
  }
  const source = ctx.store(project.source.bucket);
  const observedAt = ctx.now().toISOString();
  const toRead: Array<{ key: string; size?: number }> = [];
  const listedKeys = new Set<string>();
  for await (const o of source.list(watchedPrefix(project.source.prefix))) {
    listedKeys.add(o.key);
    const etag = known.get(o.key);
    if (etag === undefined || etag === '' || etag !== o.etag) toRead.push({ key: o.key, size: o.size });
  }
  const observed: ObservedObject[] = await mapLimit(toRead, ctx.config.settings.readConcurrency, (r) =>
    observeObject(source, { key: r.key, seq: '', observedAt, force: true, size: r.size }),
  );
  let deleted = 0;
  for (const [key, etag] of known) {
    if (etag !== '' && !listedKeys.has(key)) {
      observed.push({ obs: { key, seq: '', observedAt, force: true }, bytesRead: 0 });
      deleted++;
    }
  }
  const commit = await commitObservations(ctx, ps, observed);
  return {
    project: project.id,
    mode: 'incremental',
    listed: listedKeys.size,
    changed: toRead.length,
    deleted,
    objectsRead: toRead.length,
    commit,
  };
}
