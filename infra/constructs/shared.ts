/**
 * Types and small helpers shared by the ls-export constructs: function tuning, the house defaults
 * every pipeline function gets (environment, log retention, removal policy, log level), and the
 * construct-id form of project ids.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { LogLevel } from '../pipeline-function.ts';

export interface FunctionTuning {
  /** MB. */
  readonly memorySize?: number;
  /** 1–900 s. */
  readonly timeoutSeconds?: number;
}

export interface QueueConsumerTuning extends FunctionTuning {
  readonly batchSize?: number;
  /** 0–300 s. */
  readonly maxBatchingWindowSeconds?: number;
  /** Lambda's SQS event source maximum concurrency (2–1000). */
  readonly maxConcurrency?: number;
  /** Receives before a message moves to the dead-letter queue (at least 5). */
  readonly maxReceiveCount?: number;
}

/** What every pipeline function of one deployment shares. */
export interface FunctionDefaults {
  /** `LS_EXPORT_CONFIG_S3`, `LS_EXPORT_CONFIG_SHA256`, `LS_EXPORT_LOG_LEVEL`. */
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  readonly logLevel: LogLevel;
}

/** Memory and timeout of a function: the tuning where given, else the defaults. */
export function tuned(
  t: FunctionTuning | undefined,
  memorySize: number,
  timeoutSeconds: number,
): { memorySize: number; timeout: Duration } {
  return {
    memorySize: t?.memorySize ?? memorySize,
    timeout: Duration.seconds(t?.timeoutSeconds ?? timeoutSeconds),
  };
}

/** `defaults` overridden by the values of `overrides` that are not undefined. */
export function withDefaults<D extends object, O extends object>(
  defaults: D,
  overrides: O | undefined,
): D & O {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(overrides ?? {})) if (v !== undefined) out[k] = v;
  return out as D & O;
}

/** Construct-id-safe form of a project id or bucket name. */
export function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9]/g, '');
}
