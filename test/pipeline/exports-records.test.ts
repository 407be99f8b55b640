/** Export records: the id counter, record CRUD, snapshot-name reservation, listing, request objects. */
import { beforeEach, describe, expect, it } from 'vitest';
import { snapshotOptionsSchema } from '../../functions/pipeline/config.ts';
import { ExportNotFoundError, SnapshotNameTakenError } from '../../functions/pipeline/errors.ts';
import {
  createRecord,
  deleteRecord,
  getRecord,
  listRecords,
  nextExportId,
  queueRequest,
  requestName,
  updateRecord,
} from '../../functions/pipeline/exports-records.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { type FsContext, fsContext, listKeys, makeConfig, OUT, readJsonObject, tempDir } from './helpers.ts';

let ctx: FsContext;
beforeEach(async () => {
  ctx = fsContext(await tempDir(), makeConfig());
});
const project = () => ctx.config.projects[0];
const paths = () => projectPaths(project());
const options = snapshotOptionsSchema.parse({});
const create = (title?: string) => createRecord(ctx, project(), { title, options, trigger: 'api' });

describe('export records', () => {
  // Concurrent takers are not tested here: the folder store's conditional writes are check-then-write,
  // not atomic within one process (S3 and the emulated S3 store are; see test/handlers/api.test.ts).
  it('numbers exports from 1 without repeats, the counter surviving deletions', async () => {
    expect(await nextExportId(ctx, project())).toBe(1);
    expect(await nextExportId(ctx, project())).toBe(2);
    await create('x');
    await deleteRecord(ctx, project(), 3);
    expect(await nextExportId(ctx, project())).toBe(4);
    expect(await readJsonObject(ctx.store(OUT), paths().exportCounter)).toEqual({ next: 5 });
  });

  it('creates a record in status created, its snapshot folder named from the title or the date', async () => {
    const a = await create('Round one');
    expect(a).toMatchObject({
      id: 1,
      title: 'Round one',
      status: 'created',
      created_at: '2026-03-01T10:15:00.000Z',
      finished_at: null,
      converted_formats: [],
      snapshot: { name: 'Round-one', prefix: paths().snapshot('Round-one'), trigger: 'api' },
    });
    expect(await getRecord(ctx, project(), 1)).toEqual(a);
    expect(await readJsonObject(ctx.store(OUT), `${paths().snapshot('Round-one')}export.json`)).toEqual({
      exportId: 1,
      trigger: 'api',
    });
    const b = await create();
    expect(b.snapshot.name).toBe('proj-at-2026-03-01-10-15');
    expect(b.title).toBe('proj-at-2026-03-01-10-15');
    const nightly = await createRecord(ctx, project(), {
      options,
      trigger: 'nightly',
      formats: ['JSON', 'CSV'],
    });
    expect(nightly.converted_formats).toEqual([
      { id: nightly.id * 1000 + 1, status: 'created', export_type: 'JSON', traceback: null },
      { id: nightly.id * 1000 + 2, status: 'created', export_type: 'CSV', traceback: null },
    ]);
  });

  it('falls back to <name>-<id> when the name is taken, and fails when both are', async () => {
    await create('same');
    expect((await create('same')).snapshot.name).toBe('same-2');
    await ctx.store(OUT).put(`${paths().snapshot('same-3')}export.json`, '{}');
    await expect(create('same')).rejects.toBeInstanceOf(SnapshotNameTakenError);
    await expect(getRecord(ctx, project(), 3)).rejects.toBeInstanceOf(ExportNotFoundError);
  });

  it('updates a record by compare-and-swap; no change writes nothing; a missing record is an error', async () => {
    await create('r');
    const done = await updateRecord(ctx, project(), 1, (r) => ({ ...r, status: 'completed', md5: 'abc' }));
    expect(done).toMatchObject({ id: 1, status: 'completed', md5: 'abc' });
    const before = await ctx.store(OUT).head(paths().exportRecord(1));
    expect((await updateRecord(ctx, project(), 1, () => undefined)).md5).toBe('abc');
    expect((await ctx.store(OUT).head(paths().exportRecord(1)))?.etag).toBe(before?.etag);
    await expect(updateRecord(ctx, project(), 9, (r) => r)).rejects.toBeInstanceOf(ExportNotFoundError);
    await expect(getRecord(ctx, project(), 9)).rejects.toMatchObject({ exportId: 9 });
  });

  it('lists the newest records first, at most `limit`', async () => {
    for (const t of ['a', 'b', 'c']) await create(t);
    expect((await listRecords(ctx, project())).map((r) => r.id)).toEqual([3, 2, 1]);
    expect((await listRecords(ctx, project(), 2)).map((r) => r.title)).toEqual(['c', 'b']);
  });

  it('deletes a record with its snapshot files and pending request', async () => {
    const r = await create('gone');
    await ctx.store(OUT).put(`${r.snapshot.prefix}snapshot.json`, '[]');
    await queueRequest(ctx, project(), { action: 'create', exportId: 1 });
    await create('kept');
    await deleteRecord(ctx, project(), 1);
    await expect(getRecord(ctx, project(), 1)).rejects.toBeInstanceOf(ExportNotFoundError);
    expect(await listKeys(ctx.store(OUT), r.snapshot.prefix)).toEqual([]);
    expect(await listKeys(ctx.store(OUT), paths().exportRequests)).toEqual([]);
    expect((await listRecords(ctx, project())).map((x) => x.title)).toEqual(['kept']);
    await expect(deleteRecord(ctx, project(), 1)).rejects.toBeInstanceOf(ExportNotFoundError);
  });

  it('queues requests as objects named after the export (and format)', async () => {
    expect(requestName({ action: 'create', exportId: 3 })).toBe('3');
    expect(requestName({ action: 'convert', exportId: 3, format: 'CSV' })).toBe('3-convert-CSV');
    const name = await queueRequest(ctx, project(), { action: 'convert', exportId: 3, format: 'CSV' });
    expect(await readJsonObject(ctx.store(OUT), paths().request(name))).toEqual({
      action: 'convert',
      exportId: 3,
      format: 'CSV',
    });
  });
});
