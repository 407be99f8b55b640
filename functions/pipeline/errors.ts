/**
 * Typed errors of the pipeline. Callers branch with `instanceof`: expected conditions (a request
 * that names no project, a lost race that ran out of retries, a missing export) have their own
 * class; anything else propagates so the SQS record fails and is retried. HTTP statuses are not
 * known here: the API logic translates these into api-errors.ts.
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

/** A new snapshot's folder name and its `<name>-<id>` fallback are both taken. */
export class SnapshotNameTakenError extends PipelineError {
  constructor(readonly snapshotName: string) {
    super(`snapshot name ${snapshotName} is taken`, 'snapshot_name_taken');
  }
}

/**
 * The project's label config is not the one the render started with (uploaded during the render):
 * rendering on would mix two configs under one recorded digest. The render fails; the next one
 * renders with the new config.
 */
export class LabelConfigChangedError extends PipelineError {
  constructor(project: string, expected: string, found: string) {
    super(
      `project ${project}: the label config changed during the render (sha256 ${expected.slice(0, 12)}… at its start, ${found.slice(0, 12)}… now); the next render uses the new one`,
      'label_config_changed',
    );
  }
}

/** The project's label config cannot be read or parsed. */
export class LabelConfigUnavailableError extends PipelineError {
  constructor(
    project: string,
    /** Why, e.g. the LabelConfigError's message. */
    readonly reason: string,
  ) {
    super(`project ${project}: label config unavailable: ${reason}`, 'label_config');
  }
}
