/**
 * Render: keep `latest/` fresh. One render per project at a time (a lock object created with
 * IfNoneMatch), triggered by the dirty marker (state.ts markDirty). A render writes every file of
 * every format under a new `latest/<renderId>/` prefix, then writes `latest/manifest.json` pointing
 * at it — the manifest is the only thing a reader starts from, so it never sees a half-written
 * export, and a failed render leaves the previous manifest and files untouched. Renders older than
 * the previous one are deleted after the switch.
 */
import { randomUUID } from 'node:crypto';
import { parseExportOptions } from '../core/formats/options.ts';
import { Report } from '../core/report.ts';
import type { ProjectConfig } from './config.ts';
import { snapshotOptionsSchema } from './config.ts';
import type { PipelineContext } from './context.ts';
import { runProjectExport } from './export-run.ts';
import { type Manifest, serializeManifest } from './manifest.ts';
import { readJson } from './object-text.ts';
import { snapshotTransform } from './snapshot-filter.ts';
import { acquireLock, loadHead, type ProjectStore, projectStore, readSkipped, releaseLock } from './state.ts';

/** Label Studio's default export: every task and annotation, users as ids, no history. */
const LS_EXPORT_DEFAULTS = snapshotOptionsSchema.parse(undefined);

export type RenderStatus = 'rendered' | 'up-to-date' | 'busy';

export interface RenderResult {
  project: string;
  status: RenderStatus;
  manifest?: Manifest;
}

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

export interface RenderOptions {
  /** Render even if the manifest already reflects the current state version. */
  force?: boolean;
  /** Who holds the lock (the Lambda request id). */
  owner?: string;
}

export async function renderLatest(
  ctx: PipelineContext,
  project: ProjectConfig,
  options: RenderOptions = {},
): Promise<RenderResult> {
  const ps = projectStore(ctx, project);
  const owner = options.owner ?? randomUUID();
  if (!(await acquireLock(ctx, ps, owner))) {
    // Someone is rendering. Rewrite the marker: its new S3 event schedules another (delayed) try,
    // which renders whatever changed after the running render read the state.
    await ps.store.put(
      ps.paths.dirty,
      JSON.stringify({ at: ctx.now().toISOString(), reason: 'render busy' }),
      {
        contentType: 'application/json',
      },
    );
    ctx.log('info', 'render busy; rescheduled', { project: project.id });
    return { project: project.id, status: 'busy' };
  }
  try {
    // From here on, any change re-creates the marker and triggers the next render.
    await ps.store.delete(ps.paths.dirty);
    const head = await loadHead(ctx, ps);
    const current = (await readJson<Manifest>(ps.store, ps.paths.latestManifest))?.value;
    if (!options.force && current && isCurrent(current, head.version, project)) {
      ctx.log('info', 'latest export already reflects the state', {
        project: project.id,
        version: head.version,
      });
      return { project: project.id, status: 'up-to-date', manifest: current };
    }
    const started = ctx.now();
    const renderId = `${stamp(started)}-v${head.version}-${owner.slice(0, 8)}`;
    const prefix = ps.paths.render(renderId);
    const sourceObjects = await readSkipped(ps);
    let result: Awaited<ReturnType<typeof runProjectExport>>;
    try {
      result = await runProjectExport(ctx, {
        project,
        store: ps.store,
        prefix,
        formats: project.formats,
        now: started,
        report: new Report(),
        transform:
          project.latest.serialization === 'export' ? snapshotTransform(LS_EXPORT_DEFAULTS) : undefined,
      });
    } catch (err) {
      await removeKeys(ctx, ps, (err as { written?: string[] }).written ?? []);
      throw err;
    }
    const finished = ctx.now();
    const manifest: Manifest = {
      format: 1,
      kind: 'latest',
      project: project.id,
      id: renderId,
      prefix,
      createdAt: started.toISOString(),
      state: { version: head.version, updatedAt: head.updatedAt },
      counts: result.counts,
      formats: result.formats,
      options: { export: result.options },
      timings: {
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        ms: finished.getTime() - started.getTime(),
        shardsRead: result.io.shards,
        stateBytesRead: result.io.bytes,
      },
      report: { ...result.report, sourceObjects },
      previous: current?.id,
    };
    // The commit point: every file above is complete before this write.
    await ps.store.put(ps.paths.latestManifest, serializeManifest(manifest), {
      contentType: 'application/json',
    });
    await pruneRenders(ctx, ps, new Set([renderId, ...(current ? [current.id] : [])]));
    ctx.log('info', 'rendered', {
      project: project.id,
      version: head.version,
      tasks: manifest.counts.tasks,
      ms: manifest.timings?.ms,
    });
    return { project: project.id, status: 'rendered', manifest };
  } finally {
    await releaseLock(ps, owner).catch((err) =>
      ctx.log('warn', 'could not release the render lock', { error: String(err) }),
    );
  }
}

/** Whether the published export already reflects this state version, formats and options. */
function isCurrent(m: Manifest, version: number, project: ProjectConfig): boolean {
  const formats = m.formats.map((f) => f.format).sort();
  const wanted = [...new Set(project.formats)].sort();
  return (
    m.state.version === version &&
    JSON.stringify(formats) === JSON.stringify(wanted) &&
    JSON.stringify(m.options.export) === JSON.stringify(parseExportOptions(project.options))
  );
}

async function removeKeys(ctx: PipelineContext, ps: ProjectStore, keys: string[]): Promise<void> {
  for (const key of keys)
    await ps.store.delete(key).catch((err) => ctx.log('warn', 'cleanup failed', { key, error: String(err) }));
}

/** Deletes every render folder under `latest/` except the ones to keep. */
async function pruneRenders(ctx: PipelineContext, ps: ProjectStore, keep: Set<string>): Promise<void> {
  const stale: string[] = [];
  for await (const o of ps.store.list(ps.paths.latest)) {
    const rest = o.key.slice(ps.paths.latest.length);
    const slash = rest.indexOf('/');
    if (slash < 0) continue; // manifest.json
    if (!keep.has(rest.slice(0, slash))) stale.push(o.key);
  }
  await removeKeys(ctx, ps, stale);
}
