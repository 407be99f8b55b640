/**
 * The Lambda environment, parsed once per cold start with zod, and the runtime built from it: the
 * configuration (inline `LS_EXPORT_CONFIG` or the object `LS_EXPORT_CONFIG_S3`), one S3 client
 * (`AWS_ENDPOINT_URL_S3` for S3-compatible endpoints, path style then, traced by X-Ray), object stores
 * per bucket, and the pipeline's log and metrics ports over Powertools (observability.ts).
 * Outside the CLI, only functions/runtime reads process.env (test/architecture/layers.test.ts).
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import type { ObjectStore } from '../core/object-store.ts';
import { ConfigError, type PipelineConfig, parseConfig } from '../pipeline/config.ts';
import { type MetricsPort, type PipelineContext, realSleep } from '../pipeline/context.ts';
import { projectMediaPolicy } from '../pipeline/media.ts';
import { parseS3Url } from '../pipeline/paths.ts';
import { DEFAULT_FANOUT_SEGMENTS } from '../pipeline/render-route.ts';
import { PolicyMedia } from '../storage/media.ts';
import { S3ObjectStore, type S3StoreOptions, s3ClientConfig } from '../storage/s3.ts';
import {
  defaultObservability,
  type Observability,
  powertoolsLog,
  powertoolsMetrics,
} from './observability.ts';
import { sfnRenderFanout } from './render-fanout.ts';

export const envSchema = z
  .object({
    LS_EXPORT_CONFIG: z.string().min(1).optional(),
    LS_EXPORT_CONFIG_S3: z
      .string()
      .regex(/^s3:\/\/[^/]+\/.+/, 'must be s3://bucket/key')
      .optional(),
    AWS_ENDPOINT_URL_S3: z.url().optional(),
    AWS_REGION: z.string().min(1).optional(),
    LS_EXPORT_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /** SSE-KMS key for everything the functions write (default: the bucket's own encryption). */
    LS_EXPORT_KMS_KEY_ID: z.string().min(1).optional(),
    /** Only for local S3 servers without conditional writes (fauxqs): emulate them in-process. */
    LS_EXPORT_EMULATE_CONDITIONAL_WRITES: z.enum(['true', 'false']).default('false'),
    /** Lifetime of download links, seconds. */
    LS_EXPORT_DOWNLOAD_TTL: z.coerce.number().int().min(1).max(604_800).default(300),
    /** Render state machine ARN by project id (JSON); absent: every render runs in-process. */
    LS_EXPORT_RENDER_STATE_MACHINES: z
      .string()
      .transform((s, c) => {
        try {
          return z.record(z.string(), z.string().startsWith('arn:')).parse(JSON.parse(s));
        } catch {
          c.addIssue({ code: 'custom', message: 'must be a JSON object of project id to state machine ARN' });
          return z.NEVER;
        }
      })
      .optional(),
    /** Renders with at least this many changed segments start the fan-out. */
    LS_EXPORT_RENDER_FANOUT_SEGMENTS: z.coerce.number().int().min(1).default(DEFAULT_FANOUT_SEGMENTS),
  })
  .refine((e) => e.LS_EXPORT_CONFIG || e.LS_EXPORT_CONFIG_S3, {
    message: 'set LS_EXPORT_CONFIG (the JSON configuration) or LS_EXPORT_CONFIG_S3 (s3://bucket/key of it)',
  });
export type Env = z.infer<typeof envSchema>;

export function parseEnv(env: NodeJS.ProcessEnv): Env {
  const r = envSchema.safeParse(env);
  if (!r.success)
    throw new ConfigError(
      `invalid environment: ${r.error.issues.map((i) => `${i.path.join('.') || 'env'}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}

/** What a handler works with. */
export interface Runtime {
  ctx: PipelineContext;
  client: S3Client;
  /** A short-lived GET URL for a download (of one S3 version of the key, when given). */
  presign(bucket: string, key: string, filename: string, versionId?: string): Promise<string>;
}

export interface RuntimeOptions {
  config: PipelineConfig;
  client: S3Client;
  storeOptions?: S3StoreOptions;
  /** The log port (the Lambda handlers: Powertools, see runtimeFromEnv; the CLI: console). */
  log: PipelineContext['log'];
  metrics?: MetricsPort;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  downloadTtlSeconds?: number;
  /** Wraps each bucket's store (local runs: emit S3 notifications, see local.ts). */
  wrapStore?: (store: ObjectStore, bucket: string) => ObjectStore;
  /** The render fan-out (the Lambda: Step Functions, see runtimeFromEnv; absent: in-process only). */
  renderFanout?: PipelineContext['renderFanout'];
}

export function createRuntime(options: RuntimeOptions): Runtime {
  const stores = new Map<string, ObjectStore>();
  const settings = options.config.settings;
  const storeOptions: S3StoreOptions = {
    partSize: settings.partSizeMiB * 1024 * 1024,
    queueSize: settings.queueSize,
    ...options.storeOptions,
  };
  const ctx: PipelineContext = {
    config: options.config,
    store(bucket) {
      let s = stores.get(bucket);
      if (!s) {
        s = new S3ObjectStore(options.client, bucket, storeOptions);
        if (options.wrapStore) s = options.wrapStore(s, bucket);
        stores.set(bucket, s);
      }
      return s;
    },
    now: options.now ?? (() => new Date()),
    sleep: options.sleep ?? realSleep,
    log: options.log,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.renderFanout ? { renderFanout: options.renderFanout } : {}),
    // Task media: only what the project's media policy allows (its configuration), never the
    // Lambda's own files; one PolicyMedia (one set of budgets) per render or snapshot.
    media: (project) =>
      new PolicyMedia(projectMediaPolicy(project), { store: (bucket) => ctx.store(bucket) }),
  };
  return {
    ctx,
    client: options.client,
    presign: (bucket, key, filename, versionId) =>
      getSignedUrl(
        options.client,
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(versionId ? { VersionId: versionId } : {}),
          ResponseContentDisposition: `attachment; filename="${filename.replace(/["\\]/g, '_')}"`,
        }),
        { expiresIn: options.downloadTtlSeconds ?? 300 },
      ),
  };
}

/**
 * Builds the runtime from the environment (reads the configuration object from S3 if asked); logs
 * and metrics go to the Powertools instances `obs`, and its tracer captures the S3 client.
 */
export async function runtimeFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  obs: Observability = defaultObservability(),
): Promise<Runtime> {
  const e = parseEnv(env);
  const client = obs.tracer.captureAWSv3Client(
    new S3Client(s3ClientConfig({ region: e.AWS_REGION, endpoint: e.AWS_ENDPOINT_URL_S3 })),
  );
  let configText = e.LS_EXPORT_CONFIG;
  if (!configText) {
    const { bucket, prefix: key } = parseS3Url(e.LS_EXPORT_CONFIG_S3!);
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    configText = await r.Body!.transformToString('utf8');
  }
  return createRuntime({
    config: parseConfig(configText),
    client,
    log: powertoolsLog(obs.logger),
    metrics: powertoolsMetrics(obs.metrics),
    downloadTtlSeconds: e.LS_EXPORT_DOWNLOAD_TTL,
    ...(e.LS_EXPORT_RENDER_STATE_MACHINES
      ? {
          renderFanout: sfnRenderFanout(
            obs.tracer.captureAWSv3Client(new SFNClient({ region: e.AWS_REGION })),
            e.LS_EXPORT_RENDER_STATE_MACHINES,
            e.LS_EXPORT_RENDER_FANOUT_SEGMENTS,
          ),
        }
      : {}),
    storeOptions: {
      emulateConditionalWrites: e.LS_EXPORT_EMULATE_CONDITIONAL_WRITES === 'true',
      ...(e.LS_EXPORT_KMS_KEY_ID
        ? { sse: { type: 'aws:kms' as const, kmsKeyId: e.LS_EXPORT_KMS_KEY_ID } }
        : {}),
    },
  });
}

let cached: Promise<Runtime> | undefined;

/** The runtime of this cold start (built on first use; a failure is not cached). */
export function defaultRuntime(): Promise<Runtime> {
  cached ??= runtimeFromEnv().catch((err) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

export type RuntimeProvider = () => Promise<Runtime> | Runtime;

/** An SQS handler reporting partial batch failures. */
export type SqsHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;
