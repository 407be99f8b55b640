/**
 * Snapshot Lambda, two triggers:
 *  - EventBridge Scheduler: `{"kind": "nightly"}` (optionally `"projects": ["id", …]`) snapshots
 *    every project with `snapshot.nightly` (or the listed ones);
 *  - SQS: S3 notifications of request objects `<project>/_exports/requests/<name>.json` written by
 *    the API (create a snapshot, or convert one to a format). Failed requests are retried by SQS.
 * A snapshot is rendered in this invocation by the segment engine (pipeline/segments-snapshot.ts),
 * or, with at least `LS_EXPORT_RENDER_FANOUT_SEGMENTS` segments, started on the project's render
 * state machine as a snapshot job (pipeline/snapshot-fanout.ts; its commit completes the record);
 * a retried request for a snapshot that has its manifest leaves the snapshot as it is.
 */
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { nightlySnapshots, processRequest } from '../pipeline/exports-worker.ts';
import { projectForExportRequest } from '../pipeline/paths.ts';
import { parseS3Notification } from '../pipeline/s3-events.ts';
import { defaultRuntime, type RuntimeProvider, type SqsHandler } from '../runtime/env.ts';
import {
  defaultObservability,
  type Observability,
  observabilityMiddlewares,
} from '../runtime/observability.ts';

const nightlySchema = z.object({ kind: z.literal('nightly'), projects: z.array(z.string()).optional() });

/** `obs`: the Powertools instances the middlewares use (the runtime's ports should log to the same). */
export function createSnapshotHandler(
  runtime: RuntimeProvider = defaultRuntime,
  obs: Observability = defaultObservability(),
) {
  const fromQueue = middy(async (event: SQSEvent): Promise<PromiseSettledResult<unknown>[]> => {
    const { ctx } = await runtime();
    const out: PromiseSettledResult<unknown>[] = [];
    for (const r of event.Records) {
      const n = parseS3Notification(r.body);
      try {
        const done = [];
        if (n.kind === 'changes') {
          for (const c of n.changes) {
            if (c.kind !== 'created') continue;
            const match = projectForExportRequest(ctx.config, c.bucket, c.key);
            if (!match) {
              ctx.log('warn', 'not an export request of a configured project', {
                bucket: c.bucket,
                key: c.key,
              });
              continue;
            }
            const record = await processRequest(ctx, match.project, match.name);
            done.push({ project: match.project.id, request: match.name, status: record?.status ?? 'gone' });
          }
        }
        ctx.log('info', 'export requests processed', { messageId: r.messageId, done });
        out.push({ status: 'fulfilled', value: done });
      } catch (reason) {
        ctx.log('error', 'export request failed; the message is retried', {
          messageId: r.messageId,
          error: String(reason),
        });
        out.push({ status: 'rejected', reason });
      }
    }
    return out;
  }).use(sqsPartialBatchFailure({ logger: () => {} })) as unknown as SqsHandler;

  return middy(async (event: unknown, context?: Context) => {
    const nightly = nightlySchema.safeParse(event);
    if (nightly.success) {
      const { ctx } = await runtime();
      const results = await nightlySnapshots(ctx, nightly.data.projects);
      ctx.log('info', 'nightly snapshots', { results });
      return { results };
    }
    if (typeof event === 'object' && event !== null && Array.isArray((event as SQSEvent).Records)) {
      return fromQueue(event as SQSEvent, context);
    }
    throw new Error('unsupported event: expected {"kind":"nightly"} or an SQS batch of export requests');
  }).use(observabilityMiddlewares<unknown>(obs)) as unknown as (
    event: unknown,
    context?: Context,
  ) => Promise<unknown>;
}

export const handler = createSnapshotHandler();
