/**
 * The last step of a render fan-out (DESIGN.md "Render fan-out"; the job's objects:
 * render-fanout-job.ts): commit, or abort when a step failed.
 *  - commitRender runs renderLatest with the lock already held (a failed render's inflight record,
 *    kept by the plan, still makes it rewrite `latest/` in full): it plans again, takes each stored
 *    output whose shard ETags still match (renders a segment here when none does: the state moved
 *    on after the plan; its bodies are spooled), reads each stored body when its file is assembled
 *    (never spooling them all: /tmp holds one file's made bodies at most), assembles with UploadPartCopy, writes the segment index and the manifest
 *    last, deletes the job's objects and releases the lock. It adopts each per-task file as written
 *    or unchanged; a file a child wrote without a previous entry to compare with (no segment index,
 *    or a path that moved between segments) is adopted as unchanged when its bytes equal the
 *    commit's previous manifest entry, so the manifest is the in-process render's, byte for byte.
 *    The lock is renewed (render-lock.ts): a commit whose lock was taken over throws
 *    RenderLockLostError before writing.
 *  - abortRender (the state machine's Catch) releases the lock and deletes the job's objects
 *    without touching the manifest; the inflight record stays, so the next render rewrites
 *    `latest/` in full, and the dirty marker is rewritten so that render happens.
 */
import type { FormatName } from '../core/config/formats.ts';
import type { ProjectConfig } from './config.ts';
import type { PipelineContext } from './context.ts';
import { readJson } from './object-text.ts';
import { type RenderResult, renderLatest } from './render.ts';
import {
  adoptFiles,
  type FanoutRef,
  fanoutPrefix,
  JSON_TYPE,
  lostAttempts,
  markedAttempts,
  type PreviousSlice,
  previousSliceKey,
  removeFanoutJob,
  type SegmentFile,
  STORED_SEGMENT_FORMAT,
  type StoredSegment,
  sameShards,
  segmentKey,
  storedAggregate,
} from './render-fanout-job.ts';
import { fenceLock, renewLock } from './render-lock.ts';
import { renderSegment, type SegmentOutput, type SegmentRunner, spoolOutput } from './segments-render.ts';
import { projectStore } from './state.ts';

/** Commit step: assembles the stored segments and publishes the manifest (see the module comment). */
export async function commitRender(
  ctx: PipelineContext,
  project: ProjectConfig,
  ref: FanoutRef,
): Promise<RenderResult & { stored: number; renderedHere: number }> {
  const ps = projectStore(ctx, project);
  // Renewed here and again once the render has read the state: the commit then has a full TTL.
  await renewLock(ctx, ps, ref.owner);
  let stored = 0;
  let renderedHere = 0;
  // Attempts that began writing under latest/ (render-fanout-job.ts attemptKey), by job.
  const marked = await markedAttempts(ps, ref.owner);
  let sweep = false;
  const runner: SegmentRunner = async (rc, jobs, aggregatePaths) => {
    await renewLock(ctx, ps, ref.owner);
    const outs = new Map<string, SegmentOutput>();
    for (const job of jobs) {
      const doc = (await readJson<StoredSegment>(ps.store, segmentKey(ps, ref.owner, job.id)))?.value;
      const lost = lostAttempts(marked.get(job.id), doc);
      const aggregate =
        doc?.format === STORED_SEGMENT_FORMAT &&
        doc.owner === ref.owner &&
        sameShards(doc.job.shards, job.shards)
          ? storedAggregate(ps.store, doc, fanoutPrefix(ps, ref.owner))
          : undefined;
      if (!doc || !aggregate || doc.superseded || lost.length) {
        // The worker may have written per-task files for the state it saw (a task changed since,
        // maybe back to what the previous manifest names, or deleted): none is trusted. Nor are
        // those of the job's earlier attempts, when it was retried (StoredSegment.superseded).
        for (const [f, files] of Object.entries(doc?.files ?? {}) as [FormatName, SegmentFile[]][])
          for (const x of files) if (!x.carried) rc.sinks.get(f)?.distrust(x.path);
        for (const [f, paths] of Object.entries(doc?.superseded ?? {}) as [FormatName, string[]][])
          for (const path of paths) rc.sinks.get(f)?.distrust(path);
        if (lost.length) {
          // An attempt wrote files and stored no document (it died, or its failure was tolerated):
          // which files is unknown. Each of the segment's published files is written again (it may
          // have been overwritten with a state no output describes), and latest/ is swept for
          // files the manifest does not name.
          const slice = (await readJson<PreviousSlice>(ps.store, previousSliceKey(ps, ref.owner, job.id)))
            ?.value;
          for (const [f, files] of Object.entries(slice?.files ?? {}) as [FormatName, SegmentFile[]][])
            for (const x of files) rc.sinks.get(f)?.distrust(x.path);
          sweep = true;
          ctx.log('warn', 'a segment job attempt stored no output; its segment is rendered again', {
            project: project.id,
            segment: job.id,
            attempts: lost,
          });
        }
        outs.set(job.id, await spoolOutput(rc, await renderSegment(rc, job, aggregatePaths)));
        renderedHere++;
        continue;
      }
      for (const [f, files] of Object.entries(doc.files) as [FormatName, SegmentFile[]][]) {
        const sink = rc.sinks.get(f);
        if (sink) adoptFiles(sink, files, doc.stats[f]);
      }
      // The records of its small files, made by the worker: the zips read them here, one object per format.
      await rc.zipRecords?.loadSegment(ps.store, doc.zipRecords, (f) => rc.sinks.has(f));
      // Its bodies stay in the store, read when their file is assembled: neither held nor spooled.
      outs.set(job.id, {
        entry: doc.entry,
        aggregate,
        io: doc.io,
        ...(doc.summarized ? { summarized: doc.summarized } : {}),
      });
      stored++;
    }
    return outs;
  };
  const result = await renderLatest(ctx, project, {
    owner: ref.owner,
    force: ref.force,
    planned: { startedAt: new Date(ref.startedAt) },
    segmentShards: ref.segmentShards,
    segments: runner,
    sweep: () => sweep,
  });
  await removeFanoutJob(ctx, ps, ref.owner);
  return { ...result, stored, renderedHere };
}

/**
 * Abort step: deletes the job's objects and, if `owner` holds the lock, fences it (render-lock.ts
 * fenceLock: marked aborted, held `fenceSeconds` more, so a segment worker still running cannot
 * write after the next render; `released` says whether `owner` held it). The manifest is not
 * touched. Rewrites the dirty marker so the next render (which sees the inflight record and
 * rewrites `latest/` in full once the fence has run out) is scheduled.
 */
export async function abortRender(
  ctx: PipelineContext,
  project: ProjectConfig,
  owner: string,
  cause?: string,
  /** How long the aborted lock is held (default LAMBDA_MAX_SECONDS: no worker runs longer). */
  fenceSeconds?: number,
): Promise<{ project: string; status: 'aborted'; released: boolean }> {
  const ps = projectStore(ctx, project);
  await removeFanoutJob(ctx, ps, owner);
  // Not released: held (marked aborted) until any still-running segment worker has ended.
  const released = await fenceLock(ctx, ps, owner, cause ?? 'aborted', fenceSeconds);
  await ps.store.put(
    ps.paths.dirty,
    JSON.stringify({ at: ctx.now().toISOString(), reason: `render ${owner} failed` }),
    JSON_TYPE,
  );
  ctx.log('warn', 'render fan-out aborted', { project: project.id, owner, cause });
  return { project: project.id, status: 'aborted', released };
}
