/**
 * The export API logic without API Gateway: each route's result, and the HttpError (status,
 * detail, validation errors) it throws for a bad request. The HTTP layer is test/handlers/api.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PreconditionFailedError } from '../../functions/core/object-store.ts';
import { BadRequest, Conflict, type HttpError, NotFound } from '../../functions/pipeline/api-errors.ts';
import {
  convertExport,
  createExport,
  deleteExport,
  downloadTarget,
  exportFormats,
  getExport,
  listExports,
  parseExportPk,
} from '../../functions/pipeline/exports-api.ts';
import { getRecord, updateRecord } from '../../functions/pipeline/exports-records.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { type FsContext, fsContext, listKeys, makeConfig, OUT, readJsonObject, tempDir } from './helpers.ts';

let ctx: FsContext;
beforeEach(async () => {
  ctx = fsContext(await tempDir(), makeConfig());
});
const project = () => ctx.config.projects[0];
const paths = () => projectPaths(project());

/** The HttpError a call rejects with. */
async function httpError(p: Promise<unknown>): Promise<HttpError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error) || !('statusCode' in err)) throw new Error(`expected an HttpError, got ${err}`);
  return err as HttpError;
}

const complete = (id: number, download?: { key: string; filename: string }) =>
  updateRecord(ctx, project(), id, (r) => ({
    ...r,
    status: 'completed',
    converted_formats: download
      ? [{ id: id * 1000 + 1, status: 'completed', export_type: 'CSV', traceback: null, download }]
      : r.converted_formats,
  }));

describe('export API logic', () => {
  it('creates a snapshot record and queues its request; lists and gets it in Label Studio fields', async () => {
    const created = await createExport(ctx, '7', { title: 'Round one', anonymize: true });
    expect(created).toMatchObject({ id: 1, title: 'Round one', status: 'created', anonymize: true });
    expect(created).toHaveProperty('task_filter_options', null);
    expect(created).not.toHaveProperty('traceback');
    expect(await readJsonObject(ctx.store(OUT), paths().request('1'))).toEqual({
      action: 'create',
      exportId: 1,
    });
    const list = await listExports(ctx, 'proj');
    expect(list.map((r) => r.id)).toEqual([1]);
    expect(list[0]).not.toHaveProperty('task_filter_options'); // the list omits the options, as LS does
    expect(await getExport(ctx, '7', 1)).toEqual(created);
  });

  it('rejects bad bodies with field errors, unknown projects and exports with 404', async () => {
    const bad = await httpError(createExport(ctx, '7', { title: 5, task_filter_options: { skipped: 'x' } }));
    expect(bad).toBeInstanceOf(BadRequest);
    expect(bad.statusCode).toBe(400);
    expect(bad.detail).toBe('Validation error');
    expect(Object.keys(bad.validationErrors ?? {}).sort()).toEqual(['task_filter_options.skipped', 'title']);
    expect(await listKeys(ctx.store(OUT), paths().exports)).toEqual([]); // nothing written
    const unknown = await httpError(listExports(ctx, 'nope'));
    expect(unknown).toBeInstanceOf(NotFound);
    expect(unknown.detail).toBe('Not found.');
    expect((await httpError(getExport(ctx, '7', 9))).statusCode).toBe(404);
    expect((await httpError(deleteExport(ctx, '7', 9))).statusCode).toBe(404);
    expect((await httpError(exportFormats(ctx, '99'))).statusCode).toBe(404);
    expect(() => parseExportPk('0')).toThrow(NotFound);
    expect(() => parseExportPk('1e3')).toThrow(NotFound);
    expect(parseExportPk('42')).toBe(42);
  });

  it('answers 409 when the snapshot name is taken and when writers keep conflicting', async () => {
    await createExport(ctx, '7', { title: 'same' });
    await ctx.store(OUT).put(`${paths().snapshot('same-2')}export.json`, '{}');
    const taken = await httpError(createExport(ctx, '7', { title: 'same' }));
    expect(taken).toBeInstanceOf(Conflict);
    expect(taken.statusCode).toBe(409);
    expect(taken.detail).toMatch(/same already exists/);

    // Every conditional write of the counter loses its race: ConflictError becomes a 409.
    const store = ctx.store(OUT);
    const put = store.put.bind(store);
    store.put = async (key, body, options) => {
      if (key === paths().exportCounter) throw new PreconditionFailedError(key);
      return put(key, body, options);
    };
    const busy = await httpError(createExport(ctx, '7', {}));
    expect(busy.statusCode).toBe(409);
    expect(busy.detail).toMatch(/try again/);
  });

  it('converts only completed snapshots to available formats, once at a time', async () => {
    await createExport(ctx, '7', {});
    const early = await httpError(convertExport(ctx, '7', 1, { export_type: 'CSV' }));
    expect(early.statusCode).toBe(400);
    expect(early.validationErrors).toEqual({ non_field_errors: ['Export is not completed'] });
    await complete(1);
    expect((await httpError(convertExport(ctx, '7', 1, {}))).validationErrors).toHaveProperty('export_type');
    expect((await httpError(convertExport(ctx, '7', 1, { export_type: 'FANCY' }))).validationErrors).toEqual({
      export_type: ['"FANCY" is not a valid choice.'],
    });
    expect((await httpError(convertExport(ctx, '7', 1, { export_type: 'COCO' }))).detail).toMatch(
      /not available/,
    );
    expect(await convertExport(ctx, '7', 1, { export_type: 'CSV' })).toEqual({
      export_type: 'CSV',
      converted_format: 1001,
    });
    expect(await readJsonObject(ctx.store(OUT), paths().request('1-convert-CSV'))).toEqual({
      action: 'convert',
      exportId: 1,
      format: 'CSV',
    });
    const again = await httpError(convertExport(ctx, '7', 1, { export_type: 'CSV' }));
    expect(again.validationErrors).toEqual({ non_field_errors: ['Conversion to CSV already started'] });
    // A failed conversion may be retried, keeping its id.
    await updateRecord(ctx, project(), 1, (r) => ({
      ...r,
      converted_formats: r.converted_formats.map((c) => ({ ...c, status: 'failed' as const })),
    }));
    expect((await convertExport(ctx, '7', 1, { export_type: 'CSV' })).converted_format).toBe(1001);
    expect((await getRecord(ctx, project(), 1)).converted_formats[0].status).toBe('created');
    expect((await httpError(convertExport(ctx, '7', 9, { export_type: 'CSV' }))).statusCode).toBe(404);
  });

  it('names the object a download returns, with Label Studio messages before it exists', async () => {
    await createExport(ctx, '7', { title: 'dl' });
    const early = await httpError(downloadTarget(ctx, '7', 1, undefined));
    expect([early.statusCode, early.detail]).toEqual([404, 'Export is not completed']);
    await complete(1);
    const bucket = project().export.bucket;
    expect(await downloadTarget(ctx, '7', 1, undefined)).toEqual({
      bucket,
      key: `${paths().snapshot('dl')}snapshot.json`,
      filename: 'dl.json',
    });
    expect((await downloadTarget(ctx, '7', 1, 'JSON')).filename).toBe('dl.json');
    expect((await httpError(downloadTarget(ctx, '7', 1, 'CSV'))).detail).toBe(
      'CSV format is not converted yet',
    );
    expect((await httpError(downloadTarget(ctx, '7', 1, 'NOPE'))).statusCode).toBe(400);
    await complete(1, { key: 'x/dl.csv', filename: 'dl.csv' });
    expect(await downloadTarget(ctx, '7', 1, 'CSV')).toEqual({ bucket, key: 'x/dl.csv', filename: 'dl.csv' });
  });

  it('deletes a snapshot', async () => {
    await createExport(ctx, '7', { title: 'bye' });
    await deleteExport(ctx, 'proj', 1);
    expect((await httpError(getExport(ctx, '7', 1))).statusCode).toBe(404);
  });

  it('lists every convertible format, the ones this label config supports first', async () => {
    const formats = await exportFormats(ctx, '7');
    const firstDisabled = formats.findIndex((f) => f.disabled);
    expect(firstDisabled).toBeGreaterThan(0);
    expect(formats.slice(firstDisabled).every((f) => f.disabled)).toBe(true);
    expect(formats.slice(0, firstDisabled).map((f) => f.name)).toContain('CONLL2003');
    expect(formats.find((f) => f.name === 'COCO')?.disabled).toBe(true);
  });
});
