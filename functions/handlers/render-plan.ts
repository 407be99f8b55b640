/**
 * Render fan-out, step 1 (the render state machine's Plan task): takes the project's render lock
 * as the execution name and writes the changed segments' jobs as a JSON array for the Distributed
 * Map's ItemReader (render-fanout-plan.ts planRender). With the execution input of a snapshot job
 * (`input: {kind: "snapshot", exportId}`, started by the snapshot worker) it plans the snapshot
 * instead: every segment an item, no lock (snapshot-fanout.ts planSnapshot). Returns
 * `{ status: 'planned', ref }` or, with nothing to fan out, `{ status: 'busy' | 'up-to-date' }`.
 */
import { z } from 'zod';
import { requireProject } from '../pipeline/project-lookup.ts';
import { planRender } from '../pipeline/render-fanout-plan.ts';
import { planSnapshot } from '../pipeline/snapshot-fanout.ts';
import { defaultRuntime, type RuntimeProvider } from '../runtime/env.ts';

/** An execution name (the lock owner and the job's folder name). */
export const ownerSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,80}$/);

export const renderPlanEventSchema = z.object({
  projectId: z.string().min(1),
  owner: ownerSchema,
  force: z.boolean().optional(),
  segmentShards: z.number().int().min(1).max(10_000).optional(),
  /** The execution input: a `latest/` render's (no `kind`) or a snapshot job's. */
  input: z
    .looseObject({
      kind: z.enum(['latest', 'snapshot']).optional(),
      exportId: z.number().int().min(1).optional(),
    })
    .refine((i) => i.kind !== 'snapshot' || i.exportId !== undefined, {
      message: 'a snapshot job needs its exportId',
    })
    .optional(),
});

export function createRenderPlanHandler(runtime: RuntimeProvider = defaultRuntime) {
  return async (event: unknown) => {
    const e = renderPlanEventSchema.parse(event);
    const { ctx } = await runtime();
    const project = requireProject(ctx, e.projectId);
    if (e.input?.kind === 'snapshot')
      return planSnapshot(ctx, project, {
        owner: e.owner,
        exportId: e.input.exportId!,
        segmentShards: e.segmentShards,
      });
    return planRender(ctx, project, { owner: e.owner, force: e.force, segmentShards: e.segmentShards });
  };
}

export const handler = createRenderPlanHandler();
