/**
 * Errors the export API logic throws, each knowing its HTTP status. The API handler
 * (handlers/api.ts) turns them into Label Studio's error body (docs/label-studio-storage-and-api.md#export-api):
 * `detail`, plus `validation_errors` (field → messages) for a 400.
 */
import type { z } from 'zod';

/** Base class: an HTTP status, a `detail` message, optional field errors and response headers. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: string,
    readonly validationErrors?: Record<string, string[]>,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

/** 404: no such project, export or route (Label Studio's `Not found.`), or a resource not ready yet. */
export class NotFound extends HttpError {
  constructor(detail = 'Not found.') {
    super(404, detail);
  }
}

/** 400: a bad body or query; `fields` are field → messages (`non_field_errors` for the whole body). */
export class BadRequest extends HttpError {
  constructor(detail: string, fields?: Record<string, string[]>) {
    super(400, detail, fields);
  }

  /** A DRF-style validation error from zod issues: `Validation error`, one entry per field path. */
  static fromZod(error: z.ZodError): BadRequest {
    const fields: Record<string, string[]> = {};
    for (const issue of error.issues) {
      const field = issue.path.length ? issue.path.join('.') : 'non_field_errors';
      (fields[field] ??= []).push(issue.message);
    }
    return new BadRequest('Validation error', fields);
  }
}

/** 409: the request conflicts with the stored state (a name taken, concurrent writers). */
export class Conflict extends HttpError {
  constructor(detail: string) {
    super(409, detail);
  }
}

/** 405: the path exists but not for this method; `allow` lists the methods it takes. */
export class MethodNotAllowed extends HttpError {
  constructor(method: string, allow: string[]) {
    super(405, `Method "${method}" not allowed.`, undefined, { allow: allow.join(', ') });
  }
}
