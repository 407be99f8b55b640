/**
 * The S3 event notification topology, declared once: which keys of which bucket, on which events,
 * go to which queue. The CDK stack (infra/constructs) turns each route into a bucket notification,
 * and the local simulator (local/notification-bus.ts) into an in-memory subscription used by the
 * demo and the tests, so both deliver the same events.
 *
 * - ingest: Label Studio's objects created or removed under a watched source prefix, and each
 *   project's label config object (`labelConfig.s3`), so that uploading it marks the project dirty
 *   (ingest.ts) like a state change does;
 * - render: the project's `_state/dirty` marker created (ingest writes it);
 * - snapshot: an export request `_exports/requests/<name>.json` created (the API writes it).
 */
import type { PipelineConfig } from './config.ts';
import { labelConfigObject } from './label-config.ts';
import { projectPaths, watchedPrefix } from './paths.ts';

/** The queue (and function) a notification goes to. */
export type NotificationTarget = 'ingest' | 'render' | 'snapshot';

/** S3's `ObjectCreated:*` and `ObjectRemoved:*` event families. */
export type NotificationEvent = 'created' | 'removed';

export interface NotificationRoute {
  readonly bucket: string;
  /** Key prefix filter; `''` means the whole bucket (no prefix filter). */
  readonly prefix: string;
  /** Key suffix filter, when there is one. */
  readonly suffix?: string;
  readonly events: readonly NotificationEvent[];
  readonly target: NotificationTarget;
}

/**
 * Every notification of a deployment, in the order the stack has always added them: ingest routes
 * per source bucket (in project order) and per minimal watched prefix, then per project its render
 * route and its snapshot route. S3 rejects overlapping filters for one event type, so nested watched
 * prefixes of one bucket collapse into the outer one (which already delivers their keys). A label
 * config object's key is one more ingest prefix of its bucket (after the source buckets when its
 * bucket is none of them): one under a watched prefix adds no route, and keys sharing a beginning
 * collapse the same way (ingest matches label config keys exactly).
 */
export function notificationRoutes(config: PipelineConfig): NotificationRoute[] {
  const sources = new Map<string, string[]>();
  for (const p of config.projects) {
    const prefixes = sources.get(p.source.bucket) ?? [];
    prefixes.push(watchedPrefix(p.source.prefix));
    sources.set(p.source.bucket, prefixes);
  }
  for (const p of config.projects) {
    const o = labelConfigObject(p);
    if (o) sources.set(o.bucket, [...(sources.get(o.bucket) ?? []), o.key]);
  }
  const routes: NotificationRoute[] = [];
  for (const [bucket, prefixes] of sources)
    for (const prefix of minimalPrefixes(prefixes))
      routes.push({ bucket, prefix, events: ['created', 'removed'], target: 'ingest' });
  for (const p of config.projects) {
    const paths = projectPaths(p);
    const bucket = p.export.bucket;
    routes.push({
      bucket,
      prefix: paths.state,
      suffix: '_state/dirty',
      events: ['created'],
      target: 'render',
    });
    routes.push({
      bucket,
      prefix: paths.exportRequests,
      suffix: '.json',
      events: ['created'],
      target: 'snapshot',
    });
  }
  return routes;
}

/** Whether a route delivers an event for a key (prefix and suffix filters, as S3 applies them). */
export function routeMatches(
  route: NotificationRoute,
  bucket: string,
  key: string,
  event: NotificationEvent,
): boolean {
  return (
    route.bucket === bucket &&
    key.startsWith(route.prefix) &&
    (route.suffix === undefined || key.endsWith(route.suffix)) &&
    route.events.includes(event)
  );
}

/**
 * The prefixes no other prefix of the list contains, sorted and without duplicates: a key under a
 * nested prefix is already delivered by the outer one.
 */
export function minimalPrefixes(prefixes: readonly string[]): string[] {
  const sorted = [...new Set(prefixes)].sort();
  const out: string[] = [];
  for (const p of sorted) if (!out.some((outer) => p.startsWith(outer))) out.push(p);
  return out;
}
