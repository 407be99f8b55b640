/**
 * Everything the pipeline needs from the outside world, passed in explicitly: the validated
 * configuration, object stores by bucket, each export run's media access, the clock, a logger and
 * (optionally) metrics. The pipeline imports no adapter (storage/) itself. Handlers
 * build one per cold start from the environment (logs and metrics through Powertools for AWS
 * Lambda, runtime/observability.ts); the CLI, the demo and the tests build their own.
 */
import type { MediaAccess } from '../core/media.ts';
import type { ObjectStore } from '../core/object-store.ts';
import type { PipelineConfig, ProjectConfig } from './config.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Units of the metrics the pipeline records (CloudWatch's names). */
export type MetricUnit = 'Count' | 'Seconds' | 'Milliseconds' | 'Bytes';

/**
 * Where the pipeline records numbers (the Lambda handlers: CloudWatch EMF through Powertools; the
 * CLI and the tests: nothing, or an in-memory list). Names are listed in pipeline/metrics.ts.
 */
export interface MetricsPort {
  /** Records one value; `dimensions` (e.g. `{project: "p1"}`) name its CloudWatch dimensions. */
  add(name: string, unit: MetricUnit, value: number, dimensions?: Readonly<Record<string, string>>): void;
}

export interface PipelineContext {
  readonly config: PipelineConfig;
  /** The object store of a bucket. */
  store(bucket: string): ObjectStore;
  now(): Date;
  /** Waits between retries (tests make it instant). */
  sleep(ms: number): Promise<void>;
  /** Structured log line; fields never hold tokens, secrets or task content. */
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  /** Metrics (absent: none recorded). */
  metrics?: MetricsPort;
  /**
   * A new media access for one export run of `project` (one set of budgets per render or
   * snapshot). The composition roots (runtime/env.ts, test helpers) enforce the project's policy,
   * pipeline/media.ts projectMediaPolicy, with storage/media.ts PolicyMedia over these stores.
   */
  media(project: ProjectConfig): MediaAccess;
  /** Random numbers for retry jitter and ids (tests can fix it). */
  random?(): number;
  /**
   * Starts a project's render fan-out (its Step Functions state machine; runtime/render-fanout.ts).
   * Absent (local runs, tests): every render runs in-process (pipeline/render-route.ts).
   */
  renderFanout?: RenderFanoutPort;
}

/** The deployment's render fan-out: when to use it and how to start it. */
export interface RenderFanoutPort {
  /** Renders with at least this many changed segments are fanned out (>= 1). */
  readonly minSegments: number;
  /**
   * Starts the execution `name` (<= 80 chars, `[A-Za-z0-9_-]`) of `project`'s state machine with
   * `input`. An execution of that name that already exists counts as started (`existed: true`).
   * Throws when the project has no state machine or the service refuses the call.
   */
  start(
    project: ProjectConfig,
    name: string,
    input: Record<string, unknown>,
  ): Promise<{ executionArn: string; existed: boolean }>;
}

/** A JSON-lines console logger (the CLI's; the Lambda handlers log through Powertools). */
export function jsonLogger(minLevel: LogLevel = 'info'): PipelineContext['log'] {
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  return (level, message, fields) => {
    if (order.indexOf(level) < order.indexOf(minLevel)) return;
    const line = JSON.stringify({ level, message, ...fields });
    if (level === 'error' || level === 'warn') console.error(line);
    else console.log(line);
  };
}

export const silentLogger: PipelineContext['log'] = () => {};

export const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
