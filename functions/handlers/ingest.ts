/**
 * Ingest Lambda: SQS batches of S3 event notifications from the source buckets. Acknowledges
 * `s3:TestEvent` and bodies that are not S3 notifications (logged; retrying cannot fix them),
 * ingests the changes, and fails (for SQS to retry) only the records whose objects could not be
 * read or whose project's state could not be committed (middy sqs-partial-batch-failure).
 */
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSEvent } from 'aws-lambda';
import { ingestChanges } from '../pipeline/ingest.ts';
import { recordIngest } from '../pipeline/metrics.ts';
import { type ObjectChange, parseS3Notification } from '../pipeline/s3-events.ts';
import { defaultRuntime, type RuntimeProvider, type SqsHandler } from '../runtime/env.ts';
import {
  defaultObservability,
  type Observability,
  observabilityMiddlewares,
} from '../runtime/observability.ts';

/** `obs`: the Powertools instances the middlewares use (the runtime's ports should log to the same). */
export function createIngestHandler(
  runtime: RuntimeProvider = defaultRuntime,
  obs: Observability = defaultObservability(),
) {
  return middy(async (event: SQSEvent): Promise<PromiseSettledResult<unknown>[]> => {
    const { ctx } = await runtime();
    const records = event.Records ?? [];
    const perRecord: ObjectChange[][] = records.map((r) => {
      const n = parseS3Notification(r.body);
      if (n.kind === 'test') {
        ctx.log('info', 'acknowledged s3:TestEvent', { messageId: r.messageId });
        return [];
      }
      if (n.kind === 'invalid') {
        ctx.log('warn', 'acknowledged a message that is not an S3 notification', {
          messageId: r.messageId,
          reason: n.reason,
        });
        return [];
      }
      return n.changes;
    });
    const result = await ingestChanges(ctx, perRecord.flat());
    recordIngest(ctx.metrics, result);
    for (const c of result.unmatched)
      ctx.log('warn', 'object under no configured project', { bucket: c.bucket, key: c.key });
    for (const p of result.projects)
      ctx.log('info', 'ingested', { ...p.stats, failedKeys: p.failedKeys.size, failed: Boolean(p.error) });
    return perRecord.map((changes, i) => {
      const failed = changes.filter((c) => result.failed(c));
      for (const c of failed)
        ctx.log('warn', 'change not ingested; the message is retried', {
          messageId: records[i].messageId,
          bucket: c.bucket,
          key: c.key,
        });
      return failed.length === 0
        ? { status: 'fulfilled', value: changes.length }
        : {
            status: 'rejected',
            reason: new Error(
              `${failed.length} change(s) not ingested: ${failed.map((c) => c.key).join(', ')}`,
            ),
          };
    });
  })
    .use(observabilityMiddlewares<SQSEvent>(obs))
    .use(sqsPartialBatchFailure({ logger: () => {} })) as unknown as SqsHandler;
}

export const handler = createIngestHandler();
