/**
 * Render fan-out, step 3 (the render state machine's Commit task, and its Catch): `commit`
 * renews the render lock (RenderLockLostError when another render holds it), assembles the
 * stored segment outputs (UploadPartCopy of unchanged ranges), writes the segment index and the
 * manifest last and releases the lock (render-fanout-commit.ts commitRender); `abort`
 * releases the lock and deletes the job's objects without touching the manifest (abortRender).
 * A snapshot job (`ref.kind` / the execution input's `kind` is `snapshot`) commits the snapshot and
 * completes its export record, or aborts it and marks the record failed (snapshot-fanout.ts).
 * Returns a small summary.
 */
import { z } from 'zod';
import { requireProject } from '../pipeline/project-lookup.ts';
import { abortRender, commitRender } from '../pipeline/render-fanout-commit.ts';
import { abortSnapshot, commitSnapshotFanout } from '../pipeline/snapshot-fanout.ts';
import { defaultRuntime, type RuntimeProvider } from '../runtime/env.ts';
import { ownerSchema } from './render-plan.ts';
import { fanoutSnapshotSchema } from './render-segment.ts';

export const fanoutRefSchema = z
  .object({
    kind: z.enum(['latest', 'snapshot']).default('latest'),
    snapshot: fanoutSnapshotSchema.nullable().default(null),
    project: z.string().min(1),
    owner: ownerSchema,
    startedAt: z.iso.datetime(),
    segmentShards: z.number().int().min(1),
    force: z.boolean(),
    items: z.object({ bucket: z.string().min(1), key: z.string().min(1) }),
    segments: z.number().int().min(0),
    total: z.number().int().min(0),
  })
  .refine((r) => (r.kind === 'snapshot') === (r.snapshot !== null), {
    message: 'a snapshot job (and only one) has its snapshot',
  });

export const renderCommitEventSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('commit'), ref: fanoutRefSchema }),
  z.object({
    action: z.literal('abort'),
    projectId: z.string().min(1),
    owner: ownerSchema,
    /** The Catch's error output (`{ Error, Cause }`), logged. */
    error: z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
    /** The execution input: a snapshot job's names its export. */
    input: z
      .looseObject({
        kind: z.enum(['latest', 'snapshot']).optional(),
        exportId: z.number().int().min(1).optional(),
      })
      .optional(),
  }),
]);

export function createRenderCommitHandler(runtime: RuntimeProvider = defaultRuntime) {
  return async (event: unknown) => {
    const e = renderCommitEventSchema.parse(event);
    const { ctx } = await runtime();
    if (e.action === 'abort') {
      const project = requireProject(ctx, e.projectId);
      if (e.input?.kind === 'snapshot') {
        if (e.input.exportId === undefined)
          throw new Error('abort of a snapshot job: the input has no exportId');
        return abortSnapshot(ctx, project, e.owner, e.input.exportId, e.error?.Error);
      }
      return abortRender(ctx, project, e.owner, e.error?.Error);
    }
    const project = requireProject(ctx, e.ref.project);
    const { snapshot } = e.ref;
    if (snapshot) {
      const s = await commitSnapshotFanout(ctx, project, { ...e.ref, snapshot });
      return {
        project: project.id,
        exportId: s.exportId,
        status: s.status,
        snapshot: snapshot.name,
        tasks: s.base.counts.tasks,
        existing: s.existing ?? false,
        stored: s.stored,
      };
    }
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
