/**
 * HTTP API Lambda (API Gateway HTTP API, payload v2) shaped like Label Studio's export API
 * (docs/ls-storage-export-api.md §3): snapshots are created, listed, inspected, deleted, converted
 * and downloaded (a 302 to a short-lived presigned URL). This file only routes and speaks HTTP;
 * what each route does is pipeline/exports-api.ts. Errors are mapped once, here: an HttpError
 * (pipeline/api-errors.ts) becomes Label Studio's error body
 * `{id, status_code, detail, exc_info: null, validation_errors?}`; anything else is logged and
 * answered `500 A server error occurred.` without details. Authentication is the API Gateway's job.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
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
} from '../pipeline/exports-api.ts';
import { defaultRuntime, type Runtime, type RuntimeProvider } from './env.ts';

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
    method: 'GET',
    pattern: path(String.raw`\/exports\/([^/]+)\/download`),
    run: async (rt, m, e) => {
      const q = e.queryStringParameters ?? {};
      const type = q.exportType ?? q.export_type;
      const target = await downloadTarget(rt.ctx, m[1], parseExportPk(m[2]), type || undefined);
      const url = await rt.presign(target.bucket, target.key, target.filename);
      return json(302, { url, filename: target.filename }, { location: url, 'cache-control': 'no-store' });
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
  if (!hit)
    throw new MethodNotAllowed(
      method,
      matching.map((x) => x.route.method),
    );
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

export function createApiHandler(runtime: RuntimeProvider = defaultRuntime) {
  return async (event: APIGatewayProxyEventV2): Promise<Result> => route(await runtime(), event);
}

export const handler = createApiHandler();
