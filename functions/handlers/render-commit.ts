/**
 * Render fan-out, step 3 (the render state machine's Commit task, and its Catch): `commit`
 * renews the render lock (RenderLockLostError when another render holds it), assembles the
 * stored segment outputs (UploadPartCopy of unchanged ranges), writes the segment index and the
 * manifest last and releases the lock (render-fanout.ts commitRender); `abort`
 * releases the lock and deletes the job's objects without touching the manifest (abortRender).
 * Returns a small summary.
 */
import { z } from 'zod';
import { requireProject } from '../pipeline/project-lookup.ts';
import { abortRender, commitRender } from '../pipeline/render-fanout.ts';
import { defaultRuntime, type RuntimeProvider } from '../runtime/env.ts';
import { ownerSchema } from './render-plan.ts';

export const fanoutRefSchema = z.object({
  project: z.string().min(1),
  owner: ownerSchema,
  startedAt: z.iso.datetime(),
  segmentShards: z.number().int().min(1),
  force: z.boolean(),
  items: z.object({ bucket: z.string().min(1), key: z.string().min(1) }),
  segments: z.number().int().min(0),
  total: z.number().int().min(0),
});

export const renderCommitEventSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('commit'), ref: fanoutRefSchema }),
  z.object({
    action: z.literal('abort'),
    projectId: z.string().min(1),
    owner: ownerSchema,
    /** The Catch's error output (`{ Error, Cause }`), logged. */
    error: z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
  }),
]);

export function createRenderCommitHandler(runtime: RuntimeProvider = defaultRuntime) {
  return async (event: unknown) => {
    const e = renderCommitEventSchema.parse(event);
    const { ctx } = await runtime();
    if (e.action === 'abort') {
      const project = requireProject(ctx, e.projectId);
      return abortRender(ctx, project, e.owner, e.error?.Error);
    }
    const project = requireProject(ctx, e.ref.project);
    const r = await commitRender(ctx, project, e.ref);
    return {
      project: r.project,
      status: r.status,
      manifestId: r.manifest?.id,
      tasks: r.manifest?.counts.tasks,
      stored: r.stored,
      renderedHere: r.renderedHere,
    };
  };
}

export const handler = createRenderCommitHandler();
