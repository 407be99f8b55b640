/**
 * The latest/ downloads (`GET /export`, `GET /exports/latest/download`), `GET /api/version` and
 * 405s on the new routes, against hand-written `latest/manifest.json`s in the in-memory S3: keys
 * come only from the manifest (any layout), a zip or the `path` file for formats of several files,
 * the manifest's S3 version presigned, Label Studio's query parameters and error bodies.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../functions/handlers/api.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { makeConfig, OUT, TestClock } from '../pipeline/helpers.ts';
import { FakeS3 } from './fake-s3.ts';
import { mockRuntime } from './helpers.ts';

const s3 = new FakeS3();
const config = makeConfig({ formats: ['JSON', 'CSV', 'YOLO'] });
const paths = projectPaths(config.projects[0]);
const base = mockRuntime(s3, config, new TestClock());
const presigned: Array<{ key: string; filename: string; versionId?: string }> = [];
const api = createApiHandler(() => ({
  ...base,
  presign: async (bucket, key, filename, versionId) => {
    presigned.push({ key, filename, ...(versionId ? { versionId } : {}) });
    return base.presign(bucket, key, filename, versionId);
  },
}));

afterAll(() => s3.restore());
beforeEach(() => {
  s3.reset();
  presigned.length = 0;
});

async function call(method: string, path: string, query?: Record<string, string>) {
  const event = {
    version: '2.0',
    rawPath: path,
    queryStringParameters: query,
    requestContext: { http: { method, path } },
  } as unknown as APIGatewayProxyEventV2;
  const res = (await api(event)) as APIGatewayProxyStructuredResultV2;
  return {
    status: res.statusCode!,
    headers: (res.headers ?? {}) as Record<string, string>,
    json: JSON.parse(res.body || 'null'),
  };
}

const file = (key: string, path: string, extra: Record<string, unknown> = {}) => ({
  path,
  key,
  bytes: 3,
  sha256: 'abcdef0123456789'.repeat(4),
  ...extra,
});

/** A manifest in a layout the code never builds keys for (`latest/v9/...`). */
function publish(formats: Array<Record<string, unknown>>) {
  const m = {
    format: 1,
    kind: 'latest',
    project: 'proj',
    id: 'r1',
    prefix: `${paths.latest}v9/`,
    createdAt: '2026-03-01T10:15:42.000Z',
    state: { version: 3, updatedAt: '2026-03-01T10:15:00.000Z' },
    counts: { tasks: 2, annotations: 2 },
    formats,
    options: { export: {} },
    report: { skipped: [], sourceObjects: [] },
  } as unknown as Manifest;
  s3.put(OUT, paths.latestManifest, JSON.stringify(m));
}

const L = paths.latest;

describe('latest/ downloads', () => {
  it('302s to the file the manifest names, with Label Studio’s file name and the S3 version', async () => {
    publish([
      {
        format: 'JSON',
        status: 'completed',
        files: [file(`${L}v9/JSON/result.json`, 'result.json', { versionId: 'v-42' })],
      },
      { format: 'CSV', status: 'completed', files: [file(`${L}v9/CSV/result.csv`, 'result.csv')] },
    ]);
    const r = await call('GET', '/api/projects/7/export'); // no type: JSON, as Label Studio
    expect(r.status).toBe(302);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(presigned[0]).toEqual({
      key: `${L}v9/JSON/result.json`,
      filename: 'project-7-at-2026-03-01-10-15-abcdef01.json',
      versionId: 'v-42',
    });
    expect(r.headers.location).toContain('versionId=v-42');
    const csv = await call('GET', '/api/projects/proj/exports/latest/download', { exportType: 'CSV' });
    expect(csv.status).toBe(302);
    expect(presigned[1]).toEqual({
      key: `${L}v9/CSV/result.csv`,
      filename: 'project-7-at-2026-03-01-10-15-abcdef01.csv',
    });
    // The older export_type spelling (the SDK's download_sync) works too.
    await call('GET', '/api/projects/7/export/', { export_type: 'CSV' });
    expect(presigned[2].key).toBe(`${L}v9/CSV/result.csv`);
  });

  it('serves the zip of a format of several files, or one file by path; lists the files otherwise', async () => {
    const yolo = [
      file(`${L}v9/YOLO/classes.txt`, 'classes.txt'),
      file(`${L}v9/YOLO/labels/a.txt`, 'labels/a.txt'),
    ];
    publish([{ format: 'YOLO', status: 'completed', files: yolo }]);
    const none = await call('GET', '/api/projects/7/export', { exportType: 'YOLO' });
    expect(none.status).toBe(400);
    expect(none.json.validation_errors.exportType[0]).toMatch(
      /YOLO has 2 files in latest\/ and no zip: classes\.txt, labels\/a\.txt\. Download one with &path=<file>/,
    );
    const one = await call('GET', '/api/projects/7/exports/latest/download', {
      exportType: 'YOLO',
      path: 'labels/a.txt',
    });
    expect(one.status).toBe(302);
    expect(presigned[0]).toEqual({ key: `${L}v9/YOLO/labels/a.txt`, filename: 'a.txt' });
    const missing = await call('GET', '/api/projects/7/export', {
      exportType: 'YOLO',
      path: 'labels/zz.txt',
    });
    expect(missing.status).toBe(400);
    expect(Object.keys(missing.json.validation_errors)).toEqual(['path']);

    publish([
      {
        format: 'YOLO',
        status: 'completed',
        files: yolo,
        zip: file(`${L}YOLO.zip`, 'YOLO.zip', { versionId: 'z1' }),
      },
    ]);
    expect((await call('GET', '/api/projects/7/export', { exportType: 'YOLO' })).status).toBe(302);
    expect(presigned[1]).toEqual({
      key: `${L}YOLO.zip`,
      filename: 'project-7-at-2026-03-01-10-15-abcdef01.zip',
      versionId: 'z1',
    });
  });

  it('answers Label Studio error bodies for what latest/ cannot serve', async () => {
    const before = await call('GET', '/api/projects/7/export');
    expect(before.status).toBe(404);
    expect(before.json).toMatchObject({
      status_code: 404,
      detail: expect.stringMatching(/No export published yet/),
      exc_info: null,
    });
    publish([
      { format: 'JSON', status: 'completed', files: [file(`${L}v9/JSON/result.json`, 'result.json')] },
      { format: 'YOLO', status: 'skipped', reason: 'the label config does not support this format' },
    ]);
    expect(
      (await call('GET', '/api/projects/7/export', { exportType: 'NOPE' })).json.validation_errors,
    ).toEqual({ exportType: ['"NOPE" is not a valid choice.'] });
    expect(
      (await call('GET', '/api/projects/7/export', { exportType: 'YOLO' })).json.validation_errors
        .exportType[0],
    ).toMatch(/skipped by the last render: the label config/);
    expect(
      (await call('GET', '/api/projects/7/export', { exportType: 'CSV' })).json.validation_errors
        .exportType[0],
    ).toMatch(/CSV is not kept in latest\/ for this project \(it has: JSON\)/);
    expect((await call('GET', '/api/projects/99/export')).status).toBe(404);
    expect(presigned).toEqual([]);
  });

  it('refuses a manifest key outside latest/ with a bare 500', async () => {
    publish([
      { format: 'JSON', status: 'completed', files: [file(`${paths.state}head.json`, 'result.json')] },
    ]);
    const r = await call('GET', '/api/projects/7/export');
    expect(r.status).toBe(500);
    expect(r.json.detail).toBe('A server error occurred.');
    expect(presigned).toEqual([]);
  });

  it('accepts Label Studio’s download_all_tasks / download_resources, refuses ids and bad booleans', async () => {
    publish([
      { format: 'JSON', status: 'completed', files: [file(`${L}v9/JSON/result.json`, 'result.json')] },
    ]);
    for (const v of ['true', 'false', '1', 'False'])
      expect(
        (await call('GET', '/api/projects/7/export', { download_all_tasks: v, download_resources: v }))
          .status,
      ).toBe(302);
    const ids = await call('GET', '/api/projects/7/export', { 'ids[]': '123,345' });
    expect(ids.status).toBe(400);
    expect(ids.json.validation_errors['ids[]'][0]).toMatch(/not supported/);
    expect((await call('GET', '/api/projects/7/export', { ids: '5' })).json.validation_errors).toHaveProperty(
      'ids',
    );
    const bad = await call('GET', '/api/projects/7/export', { download_all_tasks: 'maybe' });
    expect(bad.json).toMatchObject({
      status_code: 400,
      validation_errors: { download_all_tasks: ['"maybe" is not a valid boolean.'] },
    });
  });
});

describe('version and methods', () => {
  it('GET /api/version names the service as Community edition', async () => {
    const r = await call('GET', '/api/version');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ edition: 'Community', release: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it('405 with Allow on every route, without duplicates', async () => {
    const cases: Array<[string, string, string]> = [
      ['POST', '/api/version/', 'GET'],
      ['DELETE', '/api/projects/7/export', 'GET'],
      ['POST', '/api/projects/7/export/formats', 'GET'],
      ['PUT', '/api/projects/7/exports/', 'GET, POST'],
      ['POST', '/api/projects/7/exports/3', 'GET, DELETE'],
      ['POST', '/api/projects/7/exports/latest/download', 'GET'],
      ['POST', '/api/projects/7/exports/3/download', 'GET'],
      ['GET', '/api/projects/7/exports/3/convert', 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const r = await call(method, path);
      expect([path, r.status, r.headers.allow]).toEqual([path, 405, allow]);
      expect(r.json).toEqual({
        id: expect.any(String),
        status_code: 405,
        detail: `Method "${method}" not allowed.`,
        exc_info: null,
      });
    }
  });
});
