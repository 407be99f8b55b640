/**
 * The export API handler (API Gateway HTTP API v2 events) and the snapshot handler, against the
 * local S3 server: every route, bad ids, bad bodies, unknown formats, a download before completion,
 * presigned downloads fetched for real, nightly snapshots, reproducible bytes.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIGS, makeWav } from '../../bench/generate.ts';
import { createApiHandler } from '../../functions/handlers/api.ts';
import { createSnapshotHandler } from '../../functions/handlers/snapshot.ts';
import { type PipelineConfig, parseConfig } from '../../functions/pipeline/config.ts';
import { notificationRoutes } from '../../functions/pipeline/notifications.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { syncProject } from '../../functions/pipeline/sync.ts';
import {
  bucketNames,
  createBuckets,
  type LocalRuntime,
  localRuntime,
  s3Client,
} from '../integration/helpers.ts';
import { annotatedTask, lsTask, objectsOf, projectInput } from '../pipeline/helpers.ts';

let client: S3Client;
let names: ReturnType<typeof bucketNames>;
let config: PipelineConfig;
let rt: LocalRuntime;
let api: ReturnType<typeof createApiHandler>;
let snapshot: ReturnType<typeof createSnapshotHandler>;

function event(
  method: string,
  path: string,
  body?: unknown,
  query?: Record<string, string>,
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(query ?? {}).toString(),
    headers: { 'content-type': 'application/json' },
    queryStringParameters: query,
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
    } as never,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}

async function call(method: string, path: string, body?: unknown, query?: Record<string, string>) {
  const res = (await api(event(method, path, body, query))) as APIGatewayProxyStructuredResultV2;
  return {
    status: res.statusCode!,
    headers: res.headers ?? {},
    json: res.body ? JSON.parse(res.body) : undefined,
  };
}

/** Lets the snapshot function process what the API queued (request objects → S3 events → SQS). */
async function processRequests() {
  const r = await rt.bus.deliver('snapshot', (e) => snapshot(e) as Promise<never>);
  expect(r.failed).toBe(0);
  return r.invocations;
}

beforeAll(async () => {
  client = s3Client();
  names = bucketNames();
  await createBuckets(client, [names.src, names.out, names.media]);
  config = parseConfig({
    version: 1,
    projects: [
      projectInput({
        source: { bucket: names.src, prefix: 'ner' },
        export: { bucket: names.out, prefix: 'exports' },
        formats: ['JSON', 'CSV'],
      }),
      {
        ...projectInput({
          source: { bucket: names.src, prefix: 'asr' },
          export: { bucket: names.out, prefix: 'exports' },
          kind: 'audio-asr',
          formats: ['ASR_MANIFEST'],
        }),
        id: 'audio',
        lsProjectId: 8,
        media: { uploadPrefix: `s3://${names.media}/upload/` },
        snapshot: { formats: ['ASR_MANIFEST'], nightly: false },
      },
    ],
    settings: { shardTasks: 50, keyShards: 4 },
  });
  rt = localRuntime(client, config);
  rt.bus.subscribe(notificationRoutes(config).filter((route) => route.target === 'snapshot'));
  api = createApiHandler(() => rt);
  snapshot = createSnapshotHandler(() => rt);
  const src = rt.ctx.store(names.src);
  for (const i of [1, 2, 3, 4, 5])
    for (const o of objectsOf(annotatedTask(i), 'annotation', 'ner')) await src.put(o.key, o.body);
  for (const i of [1, 2, 3]) {
    const t = lsTask(i, 5, 'audio-asr');
    t.data = { audio: `/data/upload/7/clip_${i}.wav` };
    await src.put(objectsOf(t, 'task', 'asr')[0].key, objectsOf(t, 'task', 'asr')[0].body);
    await rt.ctx.store(names.media).put(`upload/7/clip_${i}.wav`, makeWav(0.25));
  }
  await syncProject(rt.ctx, config.projects[0]);
  await syncProject(rt.ctx, config.projects[1]);
  rt.bus.take('snapshot');
});

describe('export API', () => {
  it('lists the formats of a project, enabled first, by our id or Label Studio id', async () => {
    const r = await call('GET', '/api/projects/7/export/formats');
    expect(r.status).toBe(200);
    const enabled = r.json
      .filter((f: { disabled?: boolean }) => !f.disabled)
      .map((f: { name: string }) => f.name);
    expect(enabled).toEqual(expect.arrayContaining(['JSON', 'JSON_MIN', 'CSV', 'TSV', 'CONLL2003']));
    expect(enabled).not.toContain('COCO');
    expect(r.json.findIndex((f: { disabled?: boolean }) => f.disabled)).toBe(enabled.length);
    expect((await call('GET', '/api/projects/proj/export/formats')).json).toEqual(r.json);
    expect(CONFIGS['text-ner']).toContain('Labels');
  });

  it('creates, polls, downloads, converts and deletes a snapshot', async () => {
    expect((await call('GET', '/api/projects/7/exports/')).json).toEqual([]);
    const created = await call('POST', '/api/projects/7/exports/', {
      title: 'Round one',
      task_filter_options: { only_with_annotations: true },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      id: 1,
      title: 'Round one',
      status: 'created',
      converted_formats: [],
    });
    expect(created.json.task_filter_options).toMatchObject({ only_with_annotations: true });

    // Before completion: 404 with the message Label Studio gives.
    const early = await call('GET', '/api/projects/7/exports/1/download');
    expect(early.status).toBe(404);
    expect(early.json).toMatchObject({ status_code: 404, detail: 'Export is not completed' });

    expect(await processRequests()).toBeGreaterThan(0);
    const done = await call('GET', '/api/projects/7/exports/1');
    expect(done.json).toMatchObject({ id: 1, status: 'completed', counters: { task_number: 5 } });
    expect(done.json.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(done.json.snapshot.name).toBe('Round-one');

    const dl = await call('GET', '/api/projects/7/exports/1/download');
    expect(dl.status).toBe(302);
    const snapshotJson = await (await fetch(dl.headers.location as string)).text();
    const tasks = JSON.parse(snapshotJson) as Array<{
      id: number;
      annotations: Array<{ completed_by: unknown }>;
    }>;
    expect(tasks.map((t) => t.id)).toEqual([1, 2, 3, 4, 5]);
    expect(typeof tasks[0].annotations[0].completed_by).toBe('number'); // ids by default, as in Label Studio
    expect(snapshotJson.startsWith('[{"id": 1, ')).toBe(true); // json.dump layout

    // A format not converted yet, an unknown one, then a conversion.
    expect(
      (await call('GET', '/api/projects/7/exports/1/download', undefined, { exportType: 'CSV' })).json.detail,
    ).toBe('CSV format is not converted yet');
    expect(
      (await call('GET', '/api/projects/7/exports/1/download', undefined, { exportType: 'NOPE' })).status,
    ).toBe(400);
    const conv = await call('POST', '/api/projects/7/exports/1/convert', { export_type: 'CSV' });
    expect(conv.status).toBe(200);
    expect(conv.json).toEqual({ export_type: 'CSV', converted_format: expect.any(Number) });
    const again = await call('POST', '/api/projects/7/exports/1/convert', { export_type: 'CSV' });
    expect(again.status).toBe(400);
    expect(again.json.validation_errors.non_field_errors).toEqual(['Conversion to CSV already started']);
    await processRequests();
    const csv = await call('GET', '/api/projects/7/exports/1/download', undefined, { exportType: 'CSV' });
    expect(csv.status).toBe(302);
    const csvText = await (await fetch(csv.headers.location as string)).text();
    expect(csvText.split('\n')[0]).toContain('annotator');
    expect((await call('GET', '/api/projects/7/exports/1')).json.converted_formats).toEqual([
      { id: conv.json.converted_format, status: 'completed', export_type: 'CSV', traceback: null },
    ]);

    // A second snapshot lists first; deleting removes record and files.
    await call('POST', '/api/projects/7/exports', {});
    await processRequests();
    const list = await call('GET', '/api/projects/7/exports');
    expect(list.json.map((r: { id: number }) => r.id)).toEqual([2, 1]);
    expect((await call('DELETE', '/api/projects/7/exports/1')).status).toBe(204);
    expect((await call('GET', '/api/projects/7/exports/1')).status).toBe(404);
    const left: string[] = [];
    for await (const o of rt.ctx
      .store(names.out)
      .list(projectPaths(config.projects[0]).snapshot('Round-one')))
      left.push(o.key);
    expect(left).toEqual([]);
  });

  it('rejects bad ids, bad bodies, unknown formats and wrong methods with JSON errors', async () => {
    expect((await call('GET', '/api/projects/nope/exports')).status).toBe(404);
    expect((await call('GET', '/api/projects/99/export/formats')).status).toBe(404);
    expect((await call('GET', '/api/projects/7/exports/abc')).status).toBe(404);
    expect((await call('GET', '/api/projects/7/exports/0')).status).toBe(404);
    expect((await call('GET', '/api/projects/7/exports/999')).json).toMatchObject({
      status_code: 404,
      detail: 'Not found.',
    });
    expect((await call('DELETE', '/api/projects/7/exports/999')).status).toBe(404);
    expect((await call('POST', '/api/projects/7/exports/999/convert', { export_type: 'CSV' })).status).toBe(
      404,
    );
    expect((await call('GET', '/api/nothing/here')).status).toBe(404);
    const wrong = await call('PUT', '/api/projects/7/exports');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET, POST');
    // Label Studio's error body (custom_exception_handler): id, status_code, detail, exc_info.
    expect(wrong.json).toEqual({
      id: expect.any(String),
      status_code: 405,
      detail: 'Method "PUT" not allowed.',
      exc_info: null,
    });

    const badJson = await call('POST', '/api/projects/7/exports', '{"title": ');
    expect(badJson.status).toBe(400);
    expect(badJson.json.detail).toMatch(/JSON parse error/);
    expect((await call('POST', '/api/projects/7/exports', [1, 2])).status).toBe(400);
    const badField = await call('POST', '/api/projects/7/exports', {
      task_filter_options: { skipped: 'sometimes' },
      anonymize: 'yes',
    });
    expect(badField.status).toBe(400);
    expect(badField.json).toMatchObject({ status_code: 400, detail: 'Validation error', exc_info: null });
    expect(Object.keys(badField.json.validation_errors).sort()).toEqual([
      'anonymize',
      'task_filter_options.skipped',
    ]);

    const created = await call('POST', '/api/projects/7/exports', { title: 'bad-convert' });
    expect(
      (await call('POST', `/api/projects/7/exports/${created.json.id}/convert`, { export_type: 'CSV' })).json
        .detail,
    ).toBe('Export is not completed');
    await processRequests();
    const id = created.json.id;
    expect(
      (await call('POST', `/api/projects/7/exports/${id}/convert`, {})).json.validation_errors,
    ).toHaveProperty('export_type');
    expect(
      (await call('POST', `/api/projects/7/exports/${id}/convert`, { export_type: 'FANCY' })).status,
    ).toBe(400);
    const coco = await call('POST', `/api/projects/7/exports/${id}/convert`, { export_type: 'COCO' });
    expect(coco.status).toBe(400);
    expect(coco.json.detail).toMatch(/not available/);
  });

  it('converts a multi-file format into a zip download, with media from the upload prefix', async () => {
    const created = await call('POST', '/api/projects/audio/exports', { title: 'audio' });
    await processRequests();
    expect(
      (
        await call('POST', `/api/projects/8/exports/${created.json.id}/convert`, {
          export_type: 'ASR_MANIFEST',
        })
      ).status,
    ).toBe(200);
    await processRequests();
    const dl = await call('GET', `/api/projects/8/exports/${created.json.id}/download`, undefined, {
      exportType: 'ASR_MANIFEST',
    });
    expect(dl.status).toBe(302);
    expect(dl.json.filename).toBe('audio.zip');
    const zip = Buffer.from(await (await fetch(dl.headers.location as string)).arrayBuffer());
    expect(zip.subarray(0, 2).toString()).toBe('PK');
    expect(zip.includes(Buffer.from('manifest.json'))).toBe(true);
    expect(zip.includes(Buffer.from('clip_1.wav'))).toBe(true);
  });
});

describe('export API failures', () => {
  it('answers an unexpected error with a bare 500 (no message, no stack) and logs it', async () => {
    const logged: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
    const failing = createApiHandler(() => ({
      ...rt,
      ctx: { ...rt.ctx, log: (_level, msg, fields) => void logged.push({ msg, fields }) },
      presign: async () => {
        throw new Error('secret-bucket-detail');
      },
    }));
    const created = await call('POST', '/api/projects/7/exports', { title: 'five-hundred' });
    await processRequests();
    const res = (await failing(
      event('GET', `/api/projects/7/exports/${created.json.id}/download`),
    )) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body!)).toEqual({
      id: expect.any(String),
      status_code: 500,
      detail: 'A server error occurred.',
      exc_info: null,
    });
    expect(res.body).not.toContain('secret-bucket-detail');
    expect(String(logged[0]?.fields?.error)).toContain('secret-bucket-detail');
  });

  it('answers 409 in Label Studio shape when a title names a snapshot that exists twice over', async () => {
    const a = await call('POST', '/api/projects/7/exports', { title: 'clash' });
    await rt.ctx
      .store(names.out)
      .put(`${projectPaths(config.projects[0]).snapshot(`clash-${a.json.id + 1}`)}export.json`, '{}');
    const b = await call('POST', '/api/projects/7/exports', { title: 'clash' });
    expect(b.status).toBe(409);
    expect(b.json).toMatchObject({ status_code: 409, detail: expect.stringMatching(/clash already exists/) });
    await processRequests();
  });
});

describe('snapshot handler', () => {
  it('makes nightly snapshots once per minute-name, with the configured formats', async () => {
    const first = (await snapshot({ kind: 'nightly' })) as {
      results: Array<{ project: string; status: string; exportId?: number }>;
    };
    expect(first.results).toEqual([{ project: 'proj', exportId: expect.any(Number), status: 'completed' }]);
    const again = (await snapshot({ kind: 'nightly' })) as { results: Array<{ status: string }> };
    expect(again.results).toEqual([{ project: 'proj', status: 'exists' }]);
    const rec = await call('GET', `/api/projects/7/exports/${first.results[0].exportId}`);
    expect(rec.json.snapshot.name).toMatch(/^proj-at-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}(-\d+)?$/); // suffixed if an API snapshot took the minute
    expect(
      rec.json.converted_formats.map(
        (c: { export_type: string; status: string }) => `${c.export_type}:${c.status}`,
      ),
    ).toEqual(['JSON:completed', 'CSV:completed']);
    await expect(snapshot({ kind: 'weekly' })).rejects.toThrow(/unsupported event/);
  });

  it('gives the same bytes for the same snapshot twice', async () => {
    const a = await call('POST', '/api/projects/7/exports', {
      title: 'same',
      annotation_filter_options: { usual: true },
      anonymize: true,
    });
    const b = await call('POST', '/api/projects/7/exports', {
      title: 'same',
      annotation_filter_options: { usual: true },
      anonymize: true,
    });
    await processRequests();
    for (const id of [a.json.id, b.json.id])
      await call('POST', `/api/projects/7/exports/${id}/convert`, { export_type: 'CSV' });
    await processRequests();
    const ra = (await call('GET', `/api/projects/7/exports/${a.json.id}`)).json;
    const rb = (await call('GET', `/api/projects/7/exports/${b.json.id}`)).json;
    expect(rb.snapshot.name).toBe(`same-${b.json.id}`);
    expect(ra.md5).toBe(rb.md5);
    const text = async (id: number, type?: string) =>
      fetch(
        (
          await call(
            'GET',
            `/api/projects/7/exports/${id}/download`,
            undefined,
            type ? { exportType: type } : undefined,
          )
        ).headers.location as string,
      ).then((r) => r.text());
    const [ja, jb] = [await text(a.json.id), await text(b.json.id)];
    expect(ja).toBe(jb);
    expect(ja).not.toContain('annotator');
    expect(await text(a.json.id, 'CSV')).toBe(await text(b.json.id, 'CSV'));
  });
});
