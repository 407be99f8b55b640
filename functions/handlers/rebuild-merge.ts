/**
 * Rebuild, step 2 (after the Distributed Map): merges the partial state of run `runId` into the
 * project state, bumps its version and marks it dirty (which triggers a render).
 */
import { z } from 'zod';
import { requireProject } from '../pipeline/project-lookup.ts';
import { rebuildMerge } from '../pipeline/rebuild.ts';
import { defaultRuntime, type RuntimeProvider } from '../runtime/env.ts';

export const rebuildMergeEventSchema = z.looseObject({
  projectId: z.string(),
  runId: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/)
    .optional(),
  /** The Distributed Map's output (unused: the partials are found by listing). */
  mapResult: z.unknown().optional(),
});

export function createRebuildMergeHandler(runtime: RuntimeProvider = defaultRuntime) {
  return async (event: unknown) => {
    const e = rebuildMergeEventSchema.parse(event);
    const { ctx } = await runtime();
    return rebuildMerge(ctx, requireProject(ctx, e.projectId), e.runId);
  };
}

export const handler = createRebuildMergeHandler();
