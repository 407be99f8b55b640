/**
 * Reads the stack's deployment settings from CDK context (`-c name=value` values are strings;
 * values in cdk.json may be numbers or booleans). Unknown values fail with a clear message.
 */
import * as logs from 'aws-cdk-lib/aws-logs';
import { ConfigError } from '../functions/pipeline/config.ts';
import type { LsExportStackProps } from './ls-export-stack.ts';
import type { LogLevel } from './pipeline-function.ts';

type Get = (name: string) => unknown;

/** Every context name the app reads, with what it sets (README "Deploy to AWS" lists the same). */
export const CONTEXT_KEYS = {
  config: 'path to the pipeline configuration JSON (required)',
  stackName: 'CloudFormation stack name (default LsExport)',
  configKey: 'key of the deployed config object in the export bucket (default _ls-export/config.json)',
  sourceBucketMode: 'import (default) or create',
  sourceKmsKeyArns: 'comma-separated KMS key ARNs of SSE-KMS source buckets',
  mediaS3Prefixes: 'comma-separated s3://bucket/prefix locations of media referenced by s3:// URLs in tasks',
  alarmEmail: 'e-mail address subscribed to the alarm topic',
  nightlyCron: 'EventBridge Scheduler cron fields (default "15 2 * * ? *")',
  nightlyTimeZone: 'IANA time zone of the nightly schedule (default UTC)',
  nightlyEnabled: 'true (default) or false',
  snapshotRetentionDays: 'days before snapshots expire (default 30)',
  noncurrentVersionDays: 'days before noncurrent versions expire (default 30)',
  abortIncompleteUploadDays: 'days before incomplete multipart uploads are aborted, 1–7 (default 3)',
  accessLogRetentionDays: 'days S3 access logs are kept (default 90)',
  logRetentionDays: 'CloudWatch Logs retention in days (default 30)',
  logLevel: 'DEBUG, INFO (default), WARN or ERROR',
  removalPolicy: 'retain (default) or destroy',
  renderDebounceSeconds: 'render queue delivery delay, 0–900 (default 60)',
  ingestMaxAgeSeconds: 'alarm threshold for the oldest ingest message (default 900)',
  ingestBatchSize: 'ingest SQS batch size (default 100)',
  ingestMaxConcurrency: 'ingest maximum concurrency (default 5)',
  apiThrottleRateLimit: 'API steady-state requests per second (default 20)',
  apiThrottleBurstLimit: 'API burst (default 40)',
  apiAuth:
    'iam (default, SigV4) or token (Label Studio "Authorization: Token <key>", key in Secrets Manager)',
  rebuildMaxItemsPerBatch: 'source keys per rebuild batch (default 200)',
  rebuildMaxConcurrency: 'parallel rebuild batches (default 20)',
  rebuildToleratedFailurePercentage: 'failed batches tolerated by a rebuild, % (default 5)',
  renderSegmentsPerBatch: 'segments per render fan-out Map child (default 4)',
  renderMaxConcurrency: 'parallel render fan-out Map children (default 40)',
  renderToleratedFailurePercentage: 'failed segment batches tolerated by a render fan-out, % (default 0)',
  renderFanoutSegments:
    'changed segments (1,000 tasks each) from which a render runs as the Step Functions fan-out (default 20)',
  dashboard: 'true (default) or false: the CloudWatch dashboard of the deployment',
  nag: 'false skips the cdk-nag AwsSolutions checks',
} as const;

function str(get: Get, name: string): string | undefined {
  const v = get(name);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ConfigError(`context ${name} must be a string`);
  return v;
}

function list(get: Get, name: string): string[] | undefined {
  const v = get(name);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  return str(get, name)
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function num(get: Get, name: string): number | undefined {
  const v = get(name);
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n))
    throw new ConfigError(`context ${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

function bool(get: Get, name: string): boolean | undefined {
  const v = get(name);
  if (v === undefined || v === null || v === '') return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new ConfigError(`context ${name} must be true or false, got ${JSON.stringify(v)}`);
}

function oneOf<T extends string>(get: Get, name: string, allowed: readonly T[]): T | undefined {
  const v = str(get, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new ConfigError(`context ${name} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

function retention(get: Get): logs.RetentionDays | undefined {
  const days = num(get, 'logRetentionDays');
  if (days === undefined) return undefined;
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days))
    throw new ConfigError(`context logRetentionDays must be one of ${allowed.join(', ')}, got ${days}`);
  return days as logs.RetentionDays;
}

export function stackPropsFromContext(get: Get): Omit<LsExportStackProps, 'config'> {
  return {
    configKey: str(get, 'configKey'),
    sourceBucketMode: oneOf(get, 'sourceBucketMode', ['import', 'create'] as const),
    sourceKmsKeyArns: list(get, 'sourceKmsKeyArns'),
    mediaS3Prefixes: list(get, 'mediaS3Prefixes'),
    alarmEmail: str(get, 'alarmEmail'),
    nightlyCron: str(get, 'nightlyCron'),
    nightlyTimeZone: str(get, 'nightlyTimeZone'),
    nightlyEnabled: bool(get, 'nightlyEnabled'),
    snapshotRetentionDays: num(get, 'snapshotRetentionDays'),
    noncurrentVersionDays: num(get, 'noncurrentVersionDays'),
    abortIncompleteUploadDays: num(get, 'abortIncompleteUploadDays'),
    accessLogRetentionDays: num(get, 'accessLogRetentionDays'),
    logRetention: retention(get),
    logLevel: oneOf<LogLevel>(get, 'logLevel', ['DEBUG', 'INFO', 'WARN', 'ERROR']),
    removalPolicy: oneOf(get, 'removalPolicy', ['retain', 'destroy'] as const),
    renderDebounceSeconds: num(get, 'renderDebounceSeconds'),
    ingestMaxAgeSeconds: num(get, 'ingestMaxAgeSeconds'),
    apiAuth: oneOf(get, 'apiAuth', ['iam', 'token'] as const),
    dashboard: bool(get, 'dashboard'),
    ingest: { batchSize: num(get, 'ingestBatchSize'), maxConcurrency: num(get, 'ingestMaxConcurrency') },
    api: {
      throttleRateLimit: num(get, 'apiThrottleRateLimit'),
      throttleBurstLimit: num(get, 'apiThrottleBurstLimit'),
    },
    rebuild: {
      maxItemsPerBatch: num(get, 'rebuildMaxItemsPerBatch'),
      maxConcurrency: num(get, 'rebuildMaxConcurrency'),
      toleratedFailurePercentage: num(get, 'rebuildToleratedFailurePercentage'),
    },
    renderFanout: {
      segmentsPerBatch: num(get, 'renderSegmentsPerBatch'),
      maxConcurrency: num(get, 'renderMaxConcurrency'),
      toleratedFailurePercentage: num(get, 'renderToleratedFailurePercentage'),
      fanoutSegments: num(get, 'renderFanoutSegments'),
    },
  };
}
