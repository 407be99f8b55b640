import { beforeEach, describe, expect, it } from 'vitest';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { rebuildBatch, rebuildMerge, rebuildProject } from '../../functions/pipeline/rebuild.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import {
  annotatedTask,
  change,
  type FsContext,
  fsContext,
  listKeys,
  makeConfig,
  OUT,
  objectsOf,
  putAll,
  readJsonObject,
  readText,
  SRC,
  tempDir,
} from './helpers.ts';

let ctx: FsContext;

beforeEach(async () => {
  ctx = fsContext(
    await tempDir(),
    makeConfig({ settings: { shardTasks: 3, keyShards: 2, rebuildBatchSize: 4 } }),
  );
});

const project = () => ctx.config.projects[0];

async function latestJson(): Promise<{ manifest: Manifest; text: string }> {
  const manifest = await readJsonObject<Manifest>(ctx.store(OUT), projectPaths(project()).latestManifest);
  const f = manifest.formats.find((x) => x.format === 'JSON')!.files![0];
  return { manifest, text: await readText(ctx.store(OUT), f.key) };
}

async function seed() {
  const objs = [
    ...[1, 2, 3, 4, 5].flatMap((i) => objectsOf(annotatedTask(i), 'annotation')),
    ...[6, 7].flatMap((i) => objectsOf(annotatedTask(i), 'task')),
  ];
  await putAll(ctx.store(SRC), objs);
  await ctx.store(SRC).put('annotations/broken', 'not json');
  return objs;
}

describe('rebuild', () => {
  it('builds from a full listing the same export as event-driven ingest', async () => {
    const objs = await seed();
    await ingestChanges(ctx, [...objs.map((o) => change(o.key)), change('annotations/broken')]);
    await renderLatest(ctx, project());
    const byEvents = await latestJson();

    // Throw the state away and rebuild it from the bucket.
    const out = ctx.store(OUT);
    for (const k of await listKeys(out, projectPaths(project()).state)) await out.delete(k);
    const r = await rebuildProject(ctx, project());
    expect(r.objectsListed).toBe(objs.length + 1);
    expect(r.batches.length).toBe(Math.ceil((objs.length + 1) / 4));
    expect(r.merge.tasks).toBe(7);
    expect(r.merge.malformed).toBe(1);
    await renderLatest(ctx, project());
    const rebuilt = await latestJson();
    expect(rebuilt.text).toBe(byEvents.text);
    expect(rebuilt.manifest.report.sourceObjects.map((e) => e.source)).toEqual(['annotations/broken']);
    // The partial files of the run are gone.
    expect(await listKeys(out, `${projectPaths(project()).state}rebuild/`)).toEqual([]);
  });

  it('is the batch step plus the merge step, and a retried batch is idempotent', async () => {
    const objs = await seed();
    const items = objs.map((o) => ({ Key: o.key }));
    await rebuildBatch(ctx, project(), items.slice(0, 5), 'run-1');
    await rebuildBatch(ctx, project(), items.slice(5), 'run-1');
    await rebuildBatch(ctx, project(), items.slice(5), 'run-1'); // Step Functions retry
    const m = await rebuildMerge(ctx, project(), 'run-1');
    expect(m.batches).toBe(2);
    expect(m.tasks).toBe(7);
    expect(await ctx.store(OUT).head(projectPaths(project()).dirty)).toBeDefined();
  });

  it('keeps changes that events brought in while the rebuild ran', async () => {
    const objs = await seed();
    await rebuildBatch(
      ctx,
      project(),
      objs.map((o) => ({ Key: o.key })),
      'run-2',
    );
    // After the listing was read, an event deletes one object and adds a new task.
    ctx.clock.advance(1000);
    await ctx.store(SRC).delete(objs[0].key);
    const fresh = objectsOf(annotatedTask(8), 'annotation');
    await putAll(ctx.store(SRC), fresh);
    await ingestChanges(ctx, [change(objs[0].key, 'removed'), ...fresh.map((o) => change(o.key))]);
    ctx.clock.advance(1000);
    await rebuildMerge(ctx, project(), 'run-2');
    await renderLatest(ctx, project(), { force: true });
    const ids = (
      JSON.parse((await latestJson()).text) as Array<{ id: number; annotations: Array<{ id: number }> }>
    ).map((t) => t.id);
    expect(ids).toContain(8);
    const first = JSON.parse((await latestJson()).text) as Array<{
      id: number;
      annotations: Array<{ id: number }>;
    }>;
    const deletedAnnotation = Number(objs[0].key.split('/').pop());
    expect(first.flatMap((t) => t.annotations.map((a) => a.id))).not.toContain(deletedAnnotation);
  });
});
