/**
 * The metrics the pipeline and its handlers record through `PipelineContext.metrics` (a port: the
 * Lambda handlers implement it with Powertools' EMF metrics, namespace `LsExport`). Counts are
 * recorded twice: with the `project` dimension and without it (the service total), so an alarm
 * needs no metric math. docs/pipeline.md, "Logs, metrics, traces", lists them.
 */
import type { ReportJson } from '../core/report.ts';
import type { MetricsPort } from './context.ts';
import type { IngestResult } from './ingest.ts';
import type { Manifest } from './manifest.ts';

export const METRIC = {
  TasksIngested: 'TasksIngested',
  ObjectsSkipped: 'ObjectsSkipped',
  Renders: 'Renders',
  RenderLagSeconds: 'RenderLagSeconds',
  RenderDurationMs: 'RenderDurationMs',
  SkippedItems: 'SkippedItems',
  MediaRefusals: 'MediaRefusals',
  SnapshotsCreated: 'SnapshotsCreated',
  ApiRequests: 'ApiRequests',
} as const;

/** The prefix of every media-policy refusal's reason (core/media.ts mediaRefused). */
const MEDIA_REFUSAL = 'media not allowed:';

/**
 * How many entries of a report (skipped and warnings) are media-policy refusals. Counts the kept
 * entries only (a report keeps its first 10,000 of each kind).
 */
export function mediaRefusals(report: Pick<ReportJson, 'skipped' | 'warnings'>): number {
  let n = 0;
  for (const e of report.skipped) if (e.reason.includes(MEDIA_REFUSAL)) n++;
  for (const e of report.warnings) if (e.reason.includes(MEDIA_REFUSAL)) n++;
  return n;
}

/** Records a count with the `project` dimension and as the service total. */
export function countPerProject(
  metrics: MetricsPort | undefined,
  name: string,
  value: number,
  project: string,
): void {
  if (!metrics) return;
  metrics.add(name, 'Count', value, { project });
  metrics.add(name, 'Count', value);
}

/** TasksIngested (tasks whose state changed) and ObjectsSkipped (unreadable objects) per project and in total. */
export function recordIngest(metrics: MetricsPort | undefined, result: Pick<IngestResult, 'projects'>): void {
  if (!metrics) return;
  let tasks = 0;
  let skipped = 0;
  for (const p of result.projects) {
    if (!p.stats) continue;
    metrics.add(METRIC.TasksIngested, 'Count', p.stats.changedTasks, { project: p.project });
    metrics.add(METRIC.ObjectsSkipped, 'Count', p.stats.malformed, { project: p.project });
    tasks += p.stats.changedTasks;
    skipped += p.stats.malformed;
  }
  metrics.add(METRIC.TasksIngested, 'Count', tasks);
  metrics.add(METRIC.ObjectsSkipped, 'Count', skipped);
}

/**
 * Seconds from the last state change a published manifest includes (the state head's `updatedAt`)
 * to the end of its render (the manifest is written right after); undefined without timings.
 */
export function renderLagSeconds(manifest: Manifest): number | undefined {
  const changed = Date.parse(manifest.state.updatedAt);
  const published = Date.parse(manifest.timings?.finishedAt ?? '');
  if (Number.isNaN(changed) || Number.isNaN(published)) return undefined;
  return Math.max(0, (published - changed) / 1000);
}

/**
 * The renders of one invocation that published `latest/`: per project Renders, RenderLagSeconds,
 * RenderDurationMs, SkippedItems and MediaRefusals (of the manifest's report); then the totals of
 * Renders, SkippedItems and MediaRefusals (0 when nothing was published).
 */
export function recordRenders(metrics: MetricsPort | undefined, manifests: readonly Manifest[]): void {
  if (!metrics) return;
  let skipped = 0;
  let refusals = 0;
  for (const m of manifests) {
    const project = m.project;
    const refused = mediaRefusals(m.report);
    metrics.add(METRIC.Renders, 'Count', 1, { project });
    const lag = renderLagSeconds(m);
    if (lag !== undefined) metrics.add(METRIC.RenderLagSeconds, 'Seconds', lag, { project });
    if (m.timings) metrics.add(METRIC.RenderDurationMs, 'Milliseconds', m.timings.ms, { project });
    metrics.add(METRIC.SkippedItems, 'Count', m.report.skippedCount, { project });
    metrics.add(METRIC.MediaRefusals, 'Count', refused, { project });
    skipped += m.report.skippedCount;
    refusals += refused;
  }
  metrics.add(METRIC.Renders, 'Count', manifests.length);
  metrics.add(METRIC.SkippedItems, 'Count', skipped);
  metrics.add(METRIC.MediaRefusals, 'Count', refusals);
}

/** `2xx`, `3xx`, `4xx`, `5xx` of an HTTP status. */
export function statusClass(statusCode: number): string {
  return `${Math.floor(statusCode / 100)}xx`;
}

/** One API request: ApiRequests with the `statusClass` dimension and in total. */
export function recordApiRequest(metrics: MetricsPort | undefined, statusCode: number): void {
  if (!metrics) return;
  metrics.add(METRIC.ApiRequests, 'Count', 1, { statusClass: statusClass(statusCode) });
  metrics.add(METRIC.ApiRequests, 'Count', 1);
}
