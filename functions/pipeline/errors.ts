/**
 * Typed errors of the pipeline. Callers branch with `instanceof`: expected conditions (a request
 * that names no project, a lost race that ran out of retries, a bad API body) have their own class;
 * anything else propagates so the SQS record fails and is retried.
 */

/** Base class: every pipeline error has a stable `code`. */
export class PipelineError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A compare-and-swap write kept losing its race; the caller (an SQS record) should be retried. */
export class ConflictError extends PipelineError {
  constructor(
    readonly key: string,
    attempts: number,
  ) {
    super(`gave up writing ${key} after ${attempts} conflicting attempts`, 'conflict');
  }
}

/** The state changed while a multi-pass render was reading it; the render is retried later. */
export class StateChangedError extends PipelineError {
  constructor(readonly key: string) {
    super(`state shard ${key} changed during the render`, 'state_changed');
  }
}

/** No configured project matches an id, a key or a route. */
export class UnknownProjectError extends PipelineError {
  constructor(readonly ref: string) {
    super(`no configured project matches ${ref}`, 'unknown_project');
  }
}

/** An export (snapshot) record does not exist. */
export class ExportNotFoundError extends PipelineError {
  constructor(readonly exportId: number) {
    super(`export ${exportId} not found`, 'export_not_found');
  }
}

/** A client request is invalid (HTTP 400). `details` are field → messages, Label Studio style. */
export class InvalidRequestError extends PipelineError {
  constructor(
    message: string,
    readonly details: Record<string, string[]> = {},
  ) {
    super(message, 'invalid_request');
  }
}

/** The request is valid but the resource is not ready (e.g. a download before completion). */
export class NotReadyError extends PipelineError {
  constructor(message: string) {
    super(message, 'not_ready');
  }
}

/** The project's label config cannot be read or parsed. */
export class LabelConfigUnavailableError extends PipelineError {
  constructor(project: string, reason: string) {
    super(`project ${project}: label config unavailable: ${reason}`, 'label_config');
  }
}
