/**
 * HTTP API Lambda (API Gateway HTTP API, payload v2) shaped like Label Studio's export API
 * (docs/ls-storage-export-api.md §3): snapshots are created, listed, inspected, deleted, converted
 * and downloaded (a 302 to a short-lived presigned URL). Requests are validated with zod; every
 * error is JSON `{status_code, detail, message, validation_errors?}`. Authentication is the API
 * Gateway's job (IAM or an authorizer), not this function's.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  ExportNotFoundError,
  InvalidRequestError,
  NotReadyError,
  UnknownProjectError,
} from '../pipeline/errors.ts';
import {
  deleteExport,
  downloadTarget,
  exportFormats,
  getRecord,
  listRecords,
  publicRecord,
  requestConversion,
  requestExport,
  requireProject,
} from '../pipeline/exports.ts';
import { defaultRuntime, type Runtime, type RuntimeProvider } from './env.ts';

type Result = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): Result => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export function errorBody(
  statusCode: number,
  detail: string,
  validationErrors?: Record<string, string[]>,
): Result {
  return json(statusCode, {
    status_code: statusCode,
    detail,
    message: detail,
    ...(validationErrors && Object.keys(validationErrors).length
      ? { validation_errors: validationErrors }
      : {}),
  });
}

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: Record<string, string[]>,
  ) {
    super(message);
  }
}

function parseBody(event: APIGatewayProxyEventV2): unknown {
  if (!event.body) return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new HttpError(400, 'Validation error', {
        non_field_errors: ['Invalid data. Expected a dictionary.'],
      });
    }
    return value;
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, `JSON parse error - ${(err as Error).message}`);
  }
}

const exportPk = (raw: string): number => {
  if (!/^[1-9]\d{0,15}$/.test(raw)) throw new HttpError(404, 'Not found.');
  return Number(raw);
};

type Route = {
  method: string;
  pattern: RegExp;
  run: (rt: Runtime, m: RegExpExecArray, e: APIGatewayProxyEventV2) => Promise<Result>;
};

const ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: /\/api\/projects\/([^/]+)\/export\/formats\/?$/,
    run: async (rt, m) => json(200, await exportFormats(rt.ctx, m[1])),
  },
  {
    method: 'GET',
    pattern: /\/api\/projects\/([^/]+)\/exports\/?$/,
    run: async (rt, m) => {
      const records = await listRecords(rt.ctx, requireProject(rt.ctx, m[1]));
      return json(
        200,
        records.map((r) => publicRecord(r, false)),
      );
    },
  },
  {
    method: 'POST',
    pattern: /\/api\/projects\/([^/]+)\/exports\/?$/,
    run: async (rt, m, e) => {
      requireProject(rt.ctx, m[1]);
      return json(201, publicRecord(await requestExport(rt.ctx, m[1], parseBody(e))));
    },
  },
  {
    method: 'GET',
    pattern: /\/api\/projects\/([^/]+)\/exports\/([^/]+)\/?$/,
    run: async (rt, m) =>
      json(200, publicRecord(await getRecord(rt.ctx, requireProject(rt.ctx, m[1]), exportPk(m[2])))),
  },
  {
    method: 'DELETE',
    pattern: /\/api\/projects\/([^/]+)\/exports\/([^/]+)\/?$/,
    run: async (rt, m) => {
      await deleteExport(rt.ctx, m[1], exportPk(m[2]));
      return { statusCode: 204, body: '' };
    },
  },
  {
    method: 'GET',
    pattern: /\/api\/projects\/([^/]+)\/exports\/([^/]+)\/download\/?$/,
    run: async (rt, m, e) => {
      const q = e.queryStringParameters ?? {};
      const type = q.exportType ?? q.export_type;
      const target = await downloadTarget(
        rt.ctx,
        m[1],
        exportPk(m[2]),
        type && type !== '' ? type : undefined,
      );
      const url = await rt.presign(target.bucket, target.key, target.filename);
      return json(302, { url, filename: target.filename }, { location: url, 'cache-control': 'no-store' });
    },
  },
  {
    method: 'POST',
    pattern: /\/api\/projects\/([^/]+)\/exports\/([^/]+)\/convert\/?$/,
    run: async (rt, m, e) => {
      const pk = exportPk(m[2]);
      requireProject(rt.ctx, m[1]);
      return json(200, await requestConversion(rt.ctx, m[1], pk, parseBody(e)));
    },
  },
];

export async function route(rt: Runtime, event: APIGatewayProxyEventV2): Promise<Result> {
  const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
  const path = event.rawPath ?? '/';
  const matching = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).filter((x) => x.m);
  if (matching.length === 0) return errorBody(404, 'Not found.');
  const hit = matching.find((x) => x.r.method === method);
  if (!hit)
    return {
      ...errorBody(405, `Method "${method}" not allowed.`),
      headers: { 'content-type': 'application/json', allow: matching.map((x) => x.r.method).join(', ') },
    };
  try {
    return await hit.r.run(rt, hit.m!, event);
  } catch (err) {
    if (err instanceof HttpError) return errorBody(err.statusCode, err.message, err.details);
    if (err instanceof UnknownProjectError || err instanceof ExportNotFoundError)
      return errorBody(404, 'Not found.');
    if (err instanceof NotReadyError) return errorBody(404, err.message);
    if (err instanceof InvalidRequestError) return errorBody(400, err.message, err.details);
    rt.ctx.log('error', 'API request failed', {
      method,
      path,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    return errorBody(500, 'A server error occurred.');
  }
}

export function createApiHandler(runtime: RuntimeProvider = defaultRuntime) {
  return async (event: APIGatewayProxyEventV2): Promise<Result> => route(await runtime(), event);
}

export const handler = createApiHandler();
