/**
 * Rebuild, step 1 (a Step Functions Distributed Map child over an S3ObjectsItemReader listing of the
 * source prefix, with an ItemBatcher): reads one batch of keys and writes partial state under
 * `<project>/_state/rebuild/<runId>/`. Returns a small summary (the map's result must stay small).
 */
import { z } from 'zod';
import { requireProject } from '../pipeline/project-lookup.ts';
import { rebuildBatch } from '../pipeline/rebuild.ts';
import { defaultRuntime, type RuntimeProvider } from '../runtime/env.ts';

export const rebuildBatchEventSchema = z.object({
  Items: z.array(
    z.looseObject({
      Key: z.string(),
      Size: z.number().optional(),
      Etag: z.string().optional(),
      LastModified: z.union([z.string(), z.number()]).optional(),
    }),
  ),
  BatchInput: z.object({
    projectId: z.string(),
    runId: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/)
      .optional(),
  }),
});

export function createRebuildBatchHandler(runtime: RuntimeProvider = defaultRuntime) {
  return async (event: unknown) => {
    const e = rebuildBatchEventSchema.parse(event);
    const { ctx } = await runtime();
    const project = requireProject(ctx, e.BatchInput.projectId);
    const items = e.Items.map((i) => ({ Key: i.Key, Size: i.Size, Etag: i.Etag }));
    return rebuildBatch(ctx, project, items, e.BatchInput.runId);
  };
}

export const handler = createRebuildBatchHandler();
