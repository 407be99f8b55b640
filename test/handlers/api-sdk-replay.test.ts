/**
 * Replays the requests Label Studio's Python SDK sends for exports against the API handler, and
 * checks the response fields the SDK reads are there with the types it parses them as. Request
 * shapes were read in HumanSignal/label-studio-sdk (commit 97fcff19, Fern-generated clients):
 * - `src/label_studio_sdk/versions/raw_client.py` `RawVersionsClient.get`: GET `api/version/`; the
 *   response model `types/version_response.py` (`release: str`, `edition`, required).
 * - `src/label_studio_sdk/projects/exports/client_ext.py` `ExportsClientExt._get_bytestream`: reads
 *   `version.edition`; not "Enterprise" → `download_sync(project_id, export_type=…,
 *   download_all_tasks=True, download_resources=True)`; "Enterprise" → `create`, `_poll_export`
 *   (reads `status`, `converted_formats[].id/status` via `_check_status`), `convert`, `download`.
 * - `src/label_studio_sdk/projects/exports/raw_client.py` `RawExportsClient`:
 *   `download_sync`: GET `api/projects/{id}/export`, query `download_all_tasks`,
 *   `download_resources`, `export_type` (snake case), `ids`, streamed, redirects followed
 *   (`base_client.py`: `follow_redirects=True`);
 *   `list_formats`: GET `api/projects/{id}/export/formats`;
 *   `list`: GET `api/projects/{id}/exports/`, query `ordering`, parsed as `List[Export]`;
 *   `create`: POST `api/projects/{id}/exports/`, JSON body of the given fields only, parsed as
 *   `LseExportCreate`; `get`: GET `api/projects/{id}/exports/{export_pk}` → `Export`;
 *   `delete`: DELETE `api/projects/{id}/exports/{export_pk}`;
 *   `convert`: POST `api/projects/{id}/exports/{export_pk}/convert`, body `{export_type,
 *   download_resources}` → `ConvertExportsResponse` (`converted_format: int`, `export_type: str`);
 *   `download`: GET `api/projects/{id}/exports/{export_pk}/download`, query `exportType` (camel case).
 * - Models: `types/export.py` (`id: int`, `title: str`, `status`, `created_at`/`finished_at`:
 *   datetime, `counters`, `converted_formats: List[ConvertedFormat]`), `types/converted_format.py`
 *   (`export_type: str` required, `id: int`, `status`, `traceback: str | None`).
 * - Auth: `core/client_wrapper.py` sends `Authorization: Token <api_key>` for a non-JWT key.
 * Runs against the in-memory S3 (fake-s3.ts): the snapshot worker and the render are the real ones.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../functions/handlers/api.ts';
import { createSnapshotHandler } from '../../functions/handlers/snapshot.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { rebuildProject } from '../../functions/pipeline/rebuild.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import { annotatedTask, makeConfig, OUT, objectsOf, SRC, TestClock } from '../pipeline/helpers.ts';
import { FakeS3 } from './fake-s3.ts';
import { mockRuntime, s3Message, sqsEvent } from './helpers.ts';

const s3 = new FakeS3();
const config = makeConfig({ formats: ['JSON', 'CSV'] });
const project = config.projects[0];
const paths = projectPaths(project);
const rt = mockRuntime(s3, config, new TestClock());
const api = createApiHandler(() => rt);
const snapshot = createSnapshotHandler(() => rt);
const LS_ID = project.lsProjectId; // 7: the SDK's `id: int`

afterAll(() => s3.restore());

/** An HTTP API (payload 2.0) event for the request the SDK's httpx client sends. */
function sdkRequest(
  method: string,
  path: string,
  options: { query?: Record<string, string>; json?: unknown } = {},
): APIGatewayProxyEventV2 {
  const query = options.query;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(query ?? {}).toString(),
    headers: {
      authorization: 'Token 0123456789abcdef0123456789abcdef',
      'user-agent': 'label-studio-sdk',
      ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    queryStringParameters: query,
    requestContext: {
      requestId: 'req-1',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'label-studio-sdk' },
    } as never,
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}

async function send(
  method: string,
  path: string,
  options?: { query?: Record<string, string>; json?: unknown },
) {
  const res = (await api(sdkRequest(method, path, options))) as APIGatewayProxyStructuredResultV2;
  return {
    status: res.statusCode!,
    headers: (res.headers ?? {}) as Record<string, string>,
    json: res.body ? JSON.parse(res.body) : undefined,
  };
}

/** Delivers every queued export request to the snapshot worker, as the S3 event would. */
async function runWorker() {
  for (const key of s3.keys(OUT, paths.exportRequests)) {
    const res = (await snapshot(sqsEvent(s3Message(OUT, key)))) as SQSBatchResponse;
    expect(res.batchItemFailures).toEqual([]);
  }
}

/** The object a presigned URL points at (path-style or virtual-hosted), decoded. */
function presignedKey(url: string): string {
  const u = new URL(url);
  const path = decodeURIComponent(u.pathname.slice(1));
  return u.hostname.startsWith(`${OUT}.`) ? path : path.slice(OUT.length + 1);
}

const isoDate = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);

/** The fields `types/export.py` and `types/converted_format.py` parse, with their types. */
function expectExportModel(e: Record<string, unknown>) {
  expect(e).toMatchObject({
    id: expect.any(Number),
    title: expect.any(String),
    status: expect.stringMatching(/^(created|in_progress|failed|completed)$/),
    created_at: isoDate,
  });
  expect(Number.isInteger(e.id)).toBe(true);
  expect(e.finished_at === null || typeof e.finished_at === 'string').toBe(true);
  if (typeof e.finished_at === 'string') expect(e.finished_at).toEqual(isoDate);
  expect(typeof e.counters).toBe('object');
  expect(Array.isArray(e.converted_formats)).toBe(true);
  for (const c of e.converted_formats as Array<Record<string, unknown>>) {
    expect(c).toMatchObject({
      export_type: expect.any(String),
      id: expect.any(Number),
      status: expect.any(String),
    });
    expect(c.traceback === null || typeof c.traceback === 'string').toBe(true);
  }
}

beforeAll(async () => {
  for (const i of [1, 2, 3, 4])
    for (const o of objectsOf(annotatedTask(i), 'annotation')) s3.put(SRC, o.key, o.body);
  await rebuildProject(rt.ctx, project);
  await renderLatest(rt.ctx, project);
});

describe('Label Studio SDK requests, replayed', () => {
  it('versions.get: GET api/version/ has release (str) and edition Community', async () => {
    const r = await send('GET', '/api/version/');
    expect(r.status).toBe(200);
    expect(r.json.release).toEqual(expect.any(String));
    expect(r.json.release.length).toBeGreaterThan(0);
    // Community sends as_file/as_json/as_pandas to download_sync, served from latest/ at once.
    expect(r.json.edition).toBe('Community');
    for (const k of ['backend', 'lsf', 'label-studio-os-package', 'label-studio-os-backend'])
      expect(r.json).toHaveProperty([k]);
  });

  it('exports.as_pandas → download_sync(export_type=CSV, download_all_tasks, download_resources): a 302 to latest/ CSV', async () => {
    const manifest = JSON.parse(s3.text(OUT, paths.latestManifest)!) as Manifest;
    const csv = manifest.formats.find((f) => f.format === 'CSV')!.files![0];
    const r = await send('GET', `/api/projects/${LS_ID}/export`, {
      query: { download_all_tasks: 'true', download_resources: 'true', export_type: 'CSV' },
    });
    expect(r.status).toBe(302);
    expect(presignedKey(r.headers.location)).toBe(csv.key);
    expect(r.json.filename).toMatch(
      new RegExp(`^project-7-at-\\d{4}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-${csv.sha256.slice(0, 8)}\\.csv$`),
    );
    expect(decodeURIComponent(r.headers.location)).toContain(`filename="${r.json.filename}"`);
    expect(s3.text(OUT, csv.key)!.split('\n')[0]).toContain('annotator');
  });

  it('exports.as_json → download_sync(export_type=JSON): the JSON of every task in latest/', async () => {
    const r = await send('GET', `/api/projects/${LS_ID}/export`, {
      query: { download_all_tasks: 'true', download_resources: 'true', export_type: 'JSON' },
    });
    expect(r.status).toBe(302);
    const tasks = JSON.parse(s3.text(OUT, presignedKey(r.headers.location))!) as Array<{ id: number }>;
    expect(tasks.map((t) => t.id).sort()).toEqual([1, 2, 3, 4]);
  });

  it('exports.list_formats: GET api/projects/{id}/export/formats is a list naming JSON and CSV', async () => {
    const r = await send('GET', `/api/projects/${LS_ID}/export/formats`);
    expect(r.status).toBe(200);
    expect(r.json.map((f: { name: string }) => f.name)).toEqual(expect.arrayContaining(['JSON', 'CSV']));
  });

  it('the Enterprise path: create, get (poll), convert, poll the conversion, download, list, delete', async () => {
    const created = await send('POST', `/api/projects/${LS_ID}/exports/`, {
      json: { title: 'sdk snapshot', task_filter_options: { only_with_annotations: true } },
    });
    expect(created.status).toBe(201);
    expectExportModel(created.json); // LseExportCreate: the Export fields plus the options
    expect(created.json.task_filter_options).toMatchObject({ only_with_annotations: true });
    const pk = created.json.id as number;

    await runWorker();
    const polled = await send('GET', `/api/projects/${LS_ID}/exports/${pk}`);
    expect(polled.status).toBe(200);
    expectExportModel(polled.json);
    expect(polled.json.status).toBe('completed');
    expect(polled.json.finished_at).toEqual(isoDate);

    const converted = await send('POST', `/api/projects/${LS_ID}/exports/${pk}/convert`, {
      json: { export_type: 'CSV', download_resources: true },
    });
    expect(converted.status).toBe(200);
    expect(converted.json).toEqual({ export_type: 'CSV', converted_format: expect.any(Number) });
    await runWorker();
    const after = await send('GET', `/api/projects/${LS_ID}/exports/${pk}`);
    expectExportModel(after.json);
    // _check_status(snapshot, converted_format_id, 'completed') finds the entry by its id.
    expect(
      after.json.converted_formats.find((c: { id: number }) => c.id === converted.json.converted_format),
    ).toMatchObject({ status: 'completed', export_type: 'CSV' });

    const dl = await send('GET', `/api/projects/${LS_ID}/exports/${pk}/download`, {
      query: { exportType: 'CSV' },
    });
    expect(dl.status).toBe(302);
    expect(s3.text(OUT, presignedKey(dl.headers.location))!.split('\n')[0]).toContain('annotator');

    const list = await send('GET', `/api/projects/${LS_ID}/exports/`, { query: { ordering: '-created_at' } });
    expect(list.status).toBe(200);
    expect(list.json.map((e: { id: number }) => e.id)).toContain(pk);
    for (const e of list.json) expectExportModel(e);

    const del = await send('DELETE', `/api/projects/${LS_ID}/exports/${pk}`);
    expect(del.status).toBe(204);
    expect((await send('GET', `/api/projects/${LS_ID}/exports/${pk}`)).status).toBe(404);
  });

  it('an SDK error surfaces as ApiError with Label Studio’s body (status_code, detail)', async () => {
    const r = await send('GET', `/api/projects/${LS_ID}/export`, { query: { export_type: 'COCO' } });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({
      status_code: 400,
      exc_info: null,
      validation_errors: { exportType: [expect.stringMatching(/COCO is not kept in latest\/ .*JSON, CSV/)] },
    });
    expect(r.json).not.toHaveProperty('stack');
  });
});
