/**
 * HTTP API Lambda (API Gateway HTTP API, payload v2) shaped like Label Studio's export API
 * (docs/label-studio-storage-and-api.md, "Export API"): snapshots are created, listed, inspected,
 * deleted, converted and downloaded; the published export (`latest/`) is downloaded per format
 * through Label Studio's synchronous `GET /export` and our `GET /exports/latest/download`; `GET
 * /api/version` answers as Label Studio does. Downloads are a 302 to a short-lived presigned URL.
 * This file only routes and speaks HTTP; what each route does is pipeline/exports-api.ts and
 * pipeline/latest-api.ts. A wrong method on a known path is 405 with `Allow`. Errors are mapped
 * once, here: an HttpError
 * (pipeline/api-errors.ts) becomes Label Studio's error body
 * `{id, status_code, detail, exc_info: null, validation_errors?}`; anything else is logged and
 * answered `500 A server error occurred.` without details. Authentication is the API Gateway's job
 * (IAM, or the token authorizer handlers/token-authorizer.ts).
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import pkg from '../../package.json' with { type: 'json' };
import { BadRequest, HttpError, MethodNotAllowed, NotFound } from '../pipeline/api-errors.ts';
import {
  convertExport,
  createExport,
  deleteExport,
  downloadTarget,
  exportFormats,
  getExport,
  listExports,
  parseExportPk,
  versionInfo,
} from '../pipeline/exports-api.ts';
import {
  type DownloadTarget,
  latestDownloadTarget,
  latestQuery,
  syncExportQuery,
} from '../pipeline/latest-api.ts';
import { recordApiRequest } from '../pipeline/metrics.ts';
import { defaultRuntime, type Runtime, type RuntimeProvider } from '../runtime/env.ts';
import {
  defaultObservability,
  type Observability,
  observabilityMiddlewares,
} from '../runtime/observability.ts';

type Result = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): Result => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** Label Studio's error body (its `custom_exception_handler`); `id` identifies the request. */
export function errorResponse(err: HttpError, requestId: string): Result {
  const fields = err.validationErrors;
  return json(
    err.statusCode,
    {
      id: requestId,
      status_code: err.statusCode,
      detail: err.detail,
      exc_info: null,
      ...(fields && Object.keys(fields).length ? { validation_errors: fields } : {}),
    },
    err.headers,
  );
}

/** The request body as a JSON object (`{}` when empty); BadRequest as Django REST framework words it. */
function parseBody(event: APIGatewayProxyEventV2): unknown {
  if (!event.body) return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BadRequest(`JSON parse error - ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequest('Validation error', { non_field_errors: ['Invalid data. Expected a dictionary.'] });
  }
  return value;
}

/** A 302 to a presigned URL of the target; the body names it too (for clients not following). */
async function redirect(rt: Runtime, target: DownloadTarget): Promise<Result> {
  const url = await rt.presign(target.bucket, target.key, target.filename, target.versionId);
  return json(302, { url, filename: target.filename }, { location: url, 'cache-control': 'no-store' });
}

const query = (e: APIGatewayProxyEventV2) => e.queryStringParameters ?? {};

type Route = {
  method: string;
  pattern: RegExp;
  run: (rt: Runtime, m: RegExpExecArray, e: APIGatewayProxyEventV2) => Promise<Result>;
};

const PROJECT = String.raw`\/api\/projects\/([^/]+)`;
const path = (rest: string) => new RegExp(`${PROJECT}${rest}\\/?$`);

const ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/version\/?$/,
    run: async () => json(200, versionInfo(pkg.version)),
  },
  {
    method: 'GET',
    pattern: path(String.raw`\/export`),
    run: async (rt, m, e) => {
      const q = syncExportQuery(query(e));
      return redirect(rt, await latestDownloadTarget(rt.ctx, m[1], q.exportType, q.path));
    },
  },
  {
    method: 'GET',
    pattern: path(String.raw`\/export\/formats`),
    run: async (rt, m) => json(200, await exportFormats(rt.ctx, m[1])),
  },
  {
    method: 'GET',
    pattern: path(String.raw`\/exports`),
    run: async (rt, m) => json(200, await listExports(rt.ctx, m[1])),
  },
  {
    method: 'POST',
    pattern: path(String.raw`\/exports`),
    run: async (rt, m, e) => json(201, await createExport(rt.ctx, m[1], parseBody(e))),
  },
  {
    method: 'GET',
    pattern: path(String.raw`\/exports\/([^/]+)`),
    run: async (rt, m) => json(200, await getExport(rt.ctx, m[1], parseExportPk(m[2]))),
  },
  {
    method: 'DELETE',
    pattern: path(String.raw`\/exports\/([^/]+)`),
    run: async (rt, m) => {
      await deleteExport(rt.ctx, m[1], parseExportPk(m[2]));
      return { statusCode: 204, body: '' };
    },
  },
  {
    // Before the snapshot download below: `latest` is not an export id.
    method: 'GET',
    pattern: path(String.raw`\/exports\/latest\/download`),
    run: async (rt, m, e) => {
      const q = latestQuery(query(e));
      return redirect(rt, await latestDownloadTarget(rt.ctx, m[1], q.exportType, q.path));
    },
  },
  {
    method: 'GET',
    pattern: path(String.raw`\/exports\/([^/]+)\/download`),
    run: async (rt, m, e) => {
      const type = latestQuery(query(e)).exportType;
      return redirect(rt, await downloadTarget(rt.ctx, m[1], parseExportPk(m[2]), type));
    },
  },
  {
    method: 'POST',
    pattern: path(String.raw`\/exports\/([^/]+)\/convert`),
    run: async (rt, m, e) => {
      const pk = parseExportPk(m[2]);
      return json(200, await convertExport(rt.ctx, m[1], pk, parseBody(e)));
    },
  },
];

/** The route for a method and path; NotFound or MethodNotAllowed (with the path's methods). */
function match(method: string, path: string): { route: Route; m: RegExpExecArray } {
  const matching = ROUTES.flatMap((route) => {
    const m = route.pattern.exec(path);
    return m ? [{ route, m }] : [];
  });
  if (matching.length === 0) throw new NotFound();
  const hit = matching.find((x) => x.route.method === method);
  if (!hit) throw new MethodNotAllowed(method, [...new Set(matching.map((x) => x.route.method))]);
  return hit;
}

/** Answers one API Gateway event; never throws. */
export async function route(rt: Runtime, event: APIGatewayProxyEventV2): Promise<Result> {
  const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
  const path = event.rawPath ?? '/';
  const requestId = event.requestContext?.requestId ?? randomUUID();
  try {
    const { route, m } = match(method, path);
    return await route.run(rt, m, event);
  } catch (err) {
    if (err instanceof HttpError) return errorResponse(err, requestId);
    rt.ctx.log('error', 'API request failed', {
      method,
      path,
      requestId,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    return errorResponse(new HttpError(500, 'A server error occurred.'), requestId);
  }
}

/**
 * The API Lambda: routes, then records ApiRequests by status class; every log line of the
 * invocation carries the API Gateway request id as `correlation_id`.
 */
export function createApiHandler(
  runtime: RuntimeProvider = defaultRuntime,
  obs: Observability = defaultObservability(),
) {
  return middy(async (event: APIGatewayProxyEventV2): Promise<Result> => {
    const rt = await runtime();
    const result = await route(rt, event);
    recordApiRequest(rt.ctx.metrics, result.statusCode ?? 200);
    return result;
  }).use(
    observabilityMiddlewares<APIGatewayProxyEventV2>(obs, {
      keys: (e) => ({ correlation_id: e.requestContext?.requestId }),
    }),
  ) as unknown as (event: APIGatewayProxyEventV2, context?: Context) => Promise<Result>;
}

export const handler = createApiHandler();
