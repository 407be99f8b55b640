/**
 * Routing of a `latest/` render (DESIGN.md "Render fan-out"): small renders run in-process in the
 * render Lambda (renderLatest); a render with at least `ctx.renderFanout.minSegments` changed
 * segments starts the project's Step Functions state machine instead (plan → Distributed Map of
 * segment batches → commit). The size is estimated before rendering, without the lock, from what
 * the plan reads anyway: the head, the manifest, the in-flight record, the label config, the
 * segment index and one LIST of the state shards (with ETags, 1 request per 1,000 shards).
 * The execution name is derived from the state version and the dirty marker's S3 event, so a
 * duplicate SQS delivery of the same event names the same execution (started once).
 * Snapshots are routed by the snapshot worker (exports-worker.ts runSnapshot) with
 * estimateSnapshot (every segment is rendered) and snapshotExecutionName.
 */
import { createHash } from 'node:crypto';
import { parseExportOptions } from '../core/formats/options.ts';
import type { ProjectConfig } from './config.ts';
import type { PipelineContext } from './context.ts';
import { planFormats } from './export-run.ts';
import { loadLabelConfig } from './label-config.ts';
import type { Manifest } from './manifest.ts';
import { readJson } from './object-text.ts';
import {
  type InflightDoc,
  isCurrent,
  mayReuseSegments,
  type RenderOptions,
  type RenderResult,
  renderLatest,
} from './render.ts';
import { DEFAULT_SEGMENT_SHARDS, planSegments, type SegmentIndex, segmentIndexKey } from './segments.ts';
import { SEGMENT_FORMATS } from './segments-codecs.ts';
import { fingerprint } from './segments-latest.ts';
import { type Head, projectStore } from './state.ts';

/** Default `minSegments` of a deployment (CDK context `renderFanoutSegments`). */
export const DEFAULT_FANOUT_SEGMENTS = 20;

/** What a render would do, estimated without the lock. */
export interface RenderEstimate {
  /** State version (0: no state yet). */
  version: number;
  /** Segments that would be rendered, and segments of the state (0 when no format is rendered by segments). */
  changed: number;
  total: number;
  /** The render lock is held (an in-process render or a running fan-out). */
  locked: boolean;
}

/**
 * Estimates the changed segments of `project`'s next render with the same rules as planRender
 * (reuse only after a committed fixed-layout render with the same fingerprint). Reads only;
 * the state may move on before the render, which plans again.
 */
export async function estimateRender(
  ctx: PipelineContext,
  project: ProjectConfig,
  segmentShards = DEFAULT_SEGMENT_SHARDS,
): Promise<RenderEstimate> {
  const ps = projectStore(ctx, project);
  const [head, lock, current, inflight] = await Promise.all([
    readJson<Head>(ps.store, ps.paths.head),
    readJson<unknown>(ps.store, ps.paths.lock),
    readJson<Manifest>(ps.store, ps.paths.latestManifest),
    readJson<InflightDoc>(ps.store, ps.paths.renderInflight),
  ]);
  const version = head?.value.version ?? 0;
  const none: RenderEstimate = { version, changed: 0, total: 0, locked: lock !== undefined };
  if (!head || lock) return none;
  const { schema, sha256 } = await loadLabelConfig(ctx, project);
  if (!inflight && current && isCurrent(current.value, version, project, sha256)) return none;
  const formats = planFormats(schema, project.formats)
    .run.filter((f) => SEGMENT_FORMATS.has(f))
    .sort();
  if (formats.length === 0) return none;
  let previous: SegmentIndex | undefined;
  if (current && current.value.layout === 'fixed' && !inflight && mayReuseSegments(current.value, sha256)) {
    const doc = (await readJson<SegmentIndex>(ps.store, segmentIndexKey(ps.paths.state)))?.value;
    const fp = fingerprint(schema, formats, parseExportOptions(project.options), project, segmentShards);
    if (doc && doc.renderId === current.value.id && doc.fingerprint === fp) previous = doc;
  }
  const plan = await planSegments(ps.store, ps.paths.taskShards, segmentShards, previous);
  return { ...none, changed: plan.changed.size, total: plan.segments.length };
}

/**
 * The fan-out execution name of a render: `v<state version>-<event>`, `event` being the dirty
 * marker's S3 sequencer (the same for a duplicate delivery) or, without one, `fallback`.
 * Only `[A-Za-z0-9_-]`, at most 80 characters (Step Functions' limit).
 */
export function fanoutExecutionName(version: number, sequencer: string, fallback: string): string {
  const event = (sequencer || fallback).replace(/[^A-Za-z0-9_-]/g, '_');
  return `v${version}-${event}`.slice(0, 80);
}

/**
 * The size of a snapshot of `project`'s current state: its segments (every one is rendered), from
 * one LIST of the state shards.
 */
export async function estimateSnapshot(
  ctx: PipelineContext,
  project: ProjectConfig,
  segmentShards = DEFAULT_SEGMENT_SHARDS,
): Promise<{ segments: number }> {
  const ps = projectStore(ctx, project);
  const plan = await planSegments(ps.store, ps.paths.taskShards, segmentShards, undefined);
  return { segments: plan.segments.length };
}

/**
 * The fan-out execution name of snapshot `name` of export `exportId`: `snapshot-<id>-<name>`,
 * the name's characters outside `[A-Za-z0-9_-]` replaced by `_`; a name so changed or too long is
 * cut and followed by 8 hex digits of its SHA-256, so two names never share an execution. At most
 * 80 characters. Export ids are never reused, so a retried request names the same execution and
 * a later snapshot of a reused name does not.
 */
export function snapshotExecutionName(exportId: number, name: string): string {
  const head = `snapshot-${exportId}-`;
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '_');
  if (safe === name && head.length + safe.length <= 80) return `${head}${safe}`;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${head}${safe.slice(0, 80 - head.length - 9)}-${hash}`;
}

export type RouteResult =
  | (RenderResult & { route: 'in-process' })
  | {
      project: string;
      status: 'fanned-out';
      route: 'fan-out';
      execution: { name: string; arn: string; existed: boolean };
      segments: { changed: number; total: number };
    };

export interface RouteOptions extends RenderOptions {
  /** The dirty marker's S3 event sequencer ('' when unknown). */
  sequencer: string;
}

/**
 * Renders `project` in-process, or starts its fan-out when the context has one and the estimate
 * reaches its `minSegments`. A locked project, an up-to-date one and formats outside the segment
 * engine always go in-process (renderLatest reschedules, skips or renders them as before).
 * Errors of StartExecution (other than an existing execution of the same name) are thrown: the
 * message is retried.
 */
export async function routeRender(
  ctx: PipelineContext,
  project: ProjectConfig,
  options: RouteOptions,
): Promise<RouteResult> {
  const fanout = ctx.renderFanout;
  if (fanout) {
    const est = await estimateRender(ctx, project, options.segmentShards);
    if (!est.locked && est.changed >= fanout.minSegments) {
      const name = fanoutExecutionName(
        est.version,
        options.sequencer,
        options.owner ?? String(ctx.now().getTime()),
      );
      const started = await fanout.start(project, name, {
        projectId: project.id,
        stateVersion: est.version,
        segments: { changed: est.changed, total: est.total },
      });
      ctx.log('info', 'render fanned out', {
        project: project.id,
        version: est.version,
        changedSegments: est.changed,
        totalSegments: est.total,
        execution: started.executionArn,
        existed: started.existed,
      });
      return {
        project: project.id,
        status: 'fanned-out',
        route: 'fan-out',
        execution: { name, arn: started.executionArn, existed: started.existed },
        segments: { changed: est.changed, total: est.total },
      };
    }
  }
  const { sequencer: _s, ...renderOptions } = options;
  return { ...(await renderLatest(ctx, project, renderOptions)), route: 'in-process' };
}
