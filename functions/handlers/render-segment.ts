/**
 * Render fan-out, step 2 (a Distributed Map child over the plan's items, batched by an
 * ItemBatcher): renders the batch's segments and stores their outputs for the commit
 * (render-fanout-segments.ts renderSegmentJobs), writing only per-task files whose bytes changed. Renews the
 * render lock before each segment; a lock taken over by another render fails the batch with
 * RenderLockLostError before it writes (the Map fails and the Catch's Abort runs). A snapshot
 * job's batch (`kind: "snapshot"`) renders into the snapshot's folder and stores each segment's
 * `snapshot.json` body too, without the lock (snapshot-fanout.ts renderSnapshotSegmentJobs).
 * Returns small counts (the Map's results stay small).
 */
import { z } from 'zod';
import { FORMAT_NAMES } from '../core/config/formats.ts';
import { snapshotOptionsSchema } from '../pipeline/config.ts';
import { projectPaths } from '../pipeline/paths.ts';
import { requireProject } from '../pipeline/project-lookup.ts';
import { renderSegmentJobs } from '../pipeline/render-fanout-segments.ts';
import { renderSnapshotSegmentJobs } from '../pipeline/snapshot-fanout.ts';
import { defaultRuntime, type RuntimeProvider } from '../runtime/env.ts';
import { ownerSchema } from './render-plan.ts';

export const segmentJobSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  shards: z.record(z.string(), z.string()),
  /** Formats the worker leaves to the commit (segments.ts SegmentJob.skip). */
  skip: z.array(z.enum(FORMAT_NAMES)).optional(),
});

/** What a snapshot job renders (render-fanout-job.ts FanoutSnapshot). */
export const fanoutSnapshotSchema = z.object({
  exportId: z.number().int().min(1),
  name: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/),
  options: snapshotOptionsSchema,
  formats: z.array(z.string().min(1)),
  labelConfigSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

export const renderSegmentEventSchema = z.object({
  Items: z.array(segmentJobSchema).min(1),
  BatchInput: z
    .object({
      projectId: z.string().min(1),
      owner: ownerSchema,
      startedAt: z.iso.datetime(),
      kind: z.enum(['latest', 'snapshot']).default('latest'),
      snapshot: fanoutSnapshotSchema.nullable().default(null),
    })
    .refine((b) => (b.kind === 'snapshot') === (b.snapshot !== null), {
      message: 'a snapshot job (and only one) has its snapshot',
    }),
});

export function createRenderSegmentHandler(runtime: RuntimeProvider = defaultRuntime) {
  return async (event: unknown) => {
    const e = renderSegmentEventSchema.parse(event);
    const { ctx } = await runtime();
    const project = requireProject(ctx, e.BatchInput.projectId);
    // A job's shard keys must lie under this project's state: the items come from an S3 object.
    const prefix = projectPaths(project).taskShards;
    e.Items.forEach((job, i) => {
      for (const key of Object.keys(job.shards))
        if (!key.startsWith(prefix))
          throw new Error(`Items[${i}] (segment ${job.id}): shard key ${key} is not under ${prefix}`);
    });
    const { snapshot, ...ref } = e.BatchInput;
    if (snapshot) return renderSnapshotSegmentJobs(ctx, project, { ...ref, snapshot }, e.Items);
    return renderSegmentJobs(ctx, project, ref, e.Items);
  };
}

export const handler = createRenderSegmentHandler();
