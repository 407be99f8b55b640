/** The snapshot worker: export requests (create, convert), idempotence, bad requests, nightly snapshots. */
import { beforeEach, describe, expect, it } from 'vitest';
import { snapshotOptionsSchema } from '../../functions/pipeline/config.ts';
import {
  createRecord,
  getRecord,
  queueRequest,
  updateRecord,
} from '../../functions/pipeline/exports-records.ts';
import { nightlySnapshots, processRequest } from '../../functions/pipeline/exports-worker.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
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
  ctx = fsContext(await tempDir(), makeConfig({ snapshot: { nightly: true, formats: ['CSV'] } }));
  const objs = [1, 2, 3].flatMap((i) => objectsOf(annotatedTask(i), 'annotation'));
  await putAll(ctx.store(SRC), objs);
  await ingestChanges(
    ctx,
    objs.map((o) => change(o.key)),
  );
});
const project = () => ctx.config.projects[0];
const paths = () => projectPaths(project());
const options = snapshotOptionsSchema.parse({});

async function requested(title: string) {
  const r = await createRecord(ctx, project(), { title, options, trigger: 'api' });
  return { record: r, name: await queueRequest(ctx, project(), { action: 'create', exportId: r.id }) };
}

describe('snapshot worker', () => {
  it('builds a requested snapshot, completes the record and deletes the request; a repeat does nothing', async () => {
    const { record, name } = await requested('one');
    const done = await processRequest(ctx, project(), name);
    expect(done).toMatchObject({ id: record.id, status: 'completed', counters: { task_number: 3 } });
    expect(done?.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(done?.finished_at).toBe(ctx.now().toISOString());
    const tasks = JSON.parse(await readText(ctx.store(OUT), record.snapshot.file)) as Array<{ id: number }>;
    expect(tasks.map((t) => t.id)).toEqual([1, 2, 3]);
    expect(await listKeys(ctx.store(OUT), paths().exportRequests)).toEqual([]);
    expect(await processRequest(ctx, project(), name)).toBeUndefined();
    expect((await getRecord(ctx, project(), record.id)).md5).toBe(done?.md5);
  });

  it('converts a completed snapshot to a format and lists it in the record and the manifest', async () => {
    const { record, name } = await requested('conv');
    await processRequest(ctx, project(), name);
    await updateRecord(ctx, project(), record.id, (r) => ({
      ...r,
      converted_formats: [{ id: 1, status: 'created', export_type: 'CSV', traceback: null }],
    }));
    const req = await queueRequest(ctx, project(), { action: 'convert', exportId: record.id, format: 'CSV' });
    const out = await processRequest(ctx, project(), req);
    const csv = out?.converted_formats[0];
    expect(csv).toMatchObject({ status: 'completed', export_type: 'CSV', traceback: null });
    expect(csv?.download?.key.startsWith(record.snapshot.prefix)).toBe(true);
    expect((await readText(ctx.store(OUT), csv!.download!.key)).split('\n')[0]).toContain('annotator');
    const manifest = await readJsonObject<{ formats: Array<{ format: string }> }>(
      ctx.store(OUT),
      `${record.snapshot.prefix}manifest.json`,
    );
    expect(manifest.formats.map((f) => f.format)).toContain('CSV');
  });

  it('marks a conversion to an unknown format failed, with a reason', async () => {
    const { record, name } = await requested('bad-format');
    await processRequest(ctx, project(), name);
    await updateRecord(ctx, project(), record.id, (r) => ({
      ...r,
      converted_formats: [{ id: 1, status: 'created', export_type: 'NOPE', traceback: null }],
    }));
    const req = await queueRequest(ctx, project(), {
      action: 'convert',
      exportId: record.id,
      format: 'NOPE',
    });
    expect((await processRequest(ctx, project(), req))?.converted_formats[0]).toMatchObject({
      status: 'failed',
      traceback: 'unknown format',
    });
  });

  it('drops malformed requests and requests of deleted exports', async () => {
    await ctx.store(OUT).put(paths().request('junk'), JSON.stringify({ action: 'explode' }));
    expect(await processRequest(ctx, project(), 'junk')).toBeUndefined();
    await queueRequest(ctx, project(), { action: 'create', exportId: 77 });
    expect(await processRequest(ctx, project(), '77')).toBeUndefined();
    expect(await listKeys(ctx.store(OUT), paths().exportRequests)).toEqual([]);
  });

  it('makes one nightly snapshot per project and minute, with JSON and the configured formats', async () => {
    const first = await nightlySnapshots(ctx);
    expect(first).toEqual([{ project: 'proj', exportId: 1, status: 'completed' }]);
    const rec = await getRecord(ctx, project(), 1);
    expect(rec.snapshot).toMatchObject({ name: 'proj-at-2026-03-01-10-15', trigger: 'nightly' });
    expect(rec.converted_formats.map((c) => `${c.export_type}:${c.status}`)).toEqual([
      'JSON:completed',
      'CSV:completed',
    ]);
    expect(await nightlySnapshots(ctx)).toEqual([{ project: 'proj', status: 'exists' }]);
    expect(await nightlySnapshots(ctx, ['other'])).toEqual([]);
    ctx.clock.advance(60_000);
    expect((await nightlySnapshots(ctx, ['proj']))[0]).toMatchObject({ exportId: 2, status: 'completed' });
  });
});
