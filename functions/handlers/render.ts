/**
 * Render Lambda: SQS batch whose messages are S3 notifications of a project's dirty marker
 * (`<export prefix>/<project>/_state/dirty`) in the export bucket; the queue's delivery delay is the
 * debounce. Renders each named project once per batch; a busy project is rescheduled (not failed);
 * a failed render fails its records so SQS retries them (the previous export stays published).
 * A render with many changed segments starts the project's render state machine instead of
 * rendering here (pipeline/render-route.ts; the deployment sets the threshold).
 */
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context, SQSEvent } from 'aws-lambda';
import type { ProjectConfig } from '../pipeline/config.ts';
import { recordRenders } from '../pipeline/metrics.ts';
import { projectForDirtyMarker } from '../pipeline/paths.ts';
import { type RouteResult, routeRender } from '../pipeline/render-route.ts';
import { compareSequencers, parseS3Notification } from '../pipeline/s3-events.ts';
import { defaultRuntime, type RuntimeProvider, type SqsHandler } from '../runtime/env.ts';
import {
  defaultObservability,
  type Observability,
  observabilityMiddlewares,
} from '../runtime/observability.ts';

/** `obs`: the Powertools instances the middlewares use (the runtime's ports should log to the same). */
export function createRenderHandler(
  runtime: RuntimeProvider = defaultRuntime,
  obs: Observability = defaultObservability(),
) {
  return middy(async (event: SQSEvent, context?: Context): Promise<PromiseSettledResult<unknown>[]> => {
    const { ctx } = await runtime();
    const records = event.Records ?? [];
    // The newest dirty-marker event of each project names its fan-out execution.
    const sequencers = new Map<ProjectConfig, string>();
    const perRecord: ProjectConfig[][] = records.map((r) => {
      const n = parseS3Notification(r.body);
      if (n.kind !== 'changes') return [];
      const projects: ProjectConfig[] = [];
      for (const c of n.changes) {
        if (c.kind !== 'created') continue;
        const p = projectForDirtyMarker(ctx.config, c.bucket, c.key);
        if (!p) continue;
        projects.push(p);
        const seen = sequencers.get(p);
        if (seen === undefined || compareSequencers(c.sequencer, seen) > 0) sequencers.set(p, c.sequencer);
      }
      if (projects.length === 0)
        ctx.log('warn', 'render message names no dirty marker of a configured project', {
          messageId: r.messageId,
        });
      return projects;
    });
    const unique = [...new Set(perRecord.flat())];
    const outcomes = new Map<ProjectConfig, Promise<RouteResult>>();
    // Projects render one after the other: a render is memory- and I/O-heavy.
    let chain: Promise<unknown> = Promise.resolve();
    for (const p of unique) {
      const run = chain.then(() =>
        routeRender(ctx, p, { owner: context?.awsRequestId, sequencer: sequencers.get(p) ?? '' }),
      );
      run.catch((error) =>
        ctx.log('error', 'render failed; the message is retried', { project: p.id, error: String(error) }),
      );
      outcomes.set(p, run);
      chain = run.catch(() => {});
    }
    await chain;
    const settled = await Promise.allSettled(outcomes.values());
    recordRenders(
      ctx.metrics,
      settled.flatMap((s) =>
        s.status === 'fulfilled' && s.value.status === 'rendered' && s.value.manifest
          ? [s.value.manifest]
          : [],
      ),
    );
    return Promise.allSettled(
      perRecord.map((projects) => Promise.all(projects.map((p) => outcomes.get(p)!))),
    );
  })
    .use(observabilityMiddlewares<SQSEvent>(obs))
    .use(sqsPartialBatchFailure({ logger: () => {} })) as unknown as SqsHandler;
}

export const handler = createRenderHandler();
