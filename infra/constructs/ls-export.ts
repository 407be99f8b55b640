/**
 * `LsExport`: the whole ls-export pipeline as one construct, for the ls-export stack or a team's
 * own CDK app. Label Studio's target-storage bucket(s) → S3 notifications → SQS → ingest; a
 * debounced render of `latest/`; snapshots on demand (HTTP API) and nightly (EventBridge
 * Scheduler); a rebuild state machine per project (Distributed Map over the S3 listing); alarms.
 *
 * The pipeline configuration is validated with the functions' own `parseConfig` at construction,
 * so a configuration the functions would reject fails `cdk synth` with the same message; so do bad
 * tuning values and media locations overlapping the export areas (infra/media.ts).
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ConfigError } from '../../functions/pipeline/config.ts';
import { notificationRoutes } from '../../functions/pipeline/notifications.ts';
import { type DeploymentLayout, planDeployment } from '../layout.ts';
import { checkMediaConfinement, type MediaLocation, mediaLocations } from '../media.ts';
import { NagAcknowledgements } from '../nag.ts';
import type { LogLevel, PipelineFunction } from '../pipeline-function.ts';
import { Alarms } from './alarms.ts';
import { Dashboard } from './dashboard.ts';
import { DeployedConfig } from './deployed-config.ts';
import { EventIngest } from './event-ingest.ts';
import { type ApiAuth, ExportApi } from './export-api.ts';
import { ExportStorage } from './export-storage.ts';
import { markGroupingScope } from './logical-ids.ts';
import type { PipelineProps } from './pipeline.ts';
import { ProjectRebuild, type RebuildTuning } from './project-rebuild.ts';
import { Render } from './render.ts';
import { RenderFanout, type RenderFanoutTuning } from './render-fanout.ts';
import type { FunctionTuning, QueueConsumerTuning } from './shared.ts';
import { Snapshots } from './snapshots.ts';

export interface LsExportProps {
  /** The pipeline configuration document (functions/pipeline/config.ts), validated at synth time. */
  readonly config: unknown;
  /** Key of the deployed configuration object in the export bucket. Default `_ls-export/config.json`. */
  readonly configKey?: string;
  /** `import` (default): source buckets exist (Label Studio's target storage); `create`: they are created. */
  readonly sourceBucketMode?: 'import' | 'create';
  /** KMS keys that encrypt source objects (SSE-KMS): ingest and rebuild get `kms:Decrypt` through S3. */
  readonly sourceKmsKeyArns?: readonly string[];
  /**
   * Extra `s3://bucket/prefix` locations of media referenced by `s3://` URLs in task data, on top of
   * each project's `media.uploadPrefix` and `media.s3Prefixes`: render and snapshot may read them.
   */
  readonly mediaS3Prefixes?: readonly string[];
  /** Optional e-mail address subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  /** Nightly snapshot schedule: EventBridge Scheduler cron fields (6 fields, default `15 2 * * ? *`). */
  readonly nightlyCron?: string;
  /** IANA time zone of the nightly schedule. Default `UTC`. */
  readonly nightlyTimeZone?: string;
  readonly nightlyEnabled?: boolean;
  /** Days before a snapshot under `snapshots/` expires. Default 30. */
  readonly snapshotRetentionDays?: number;
  /** Days before a noncurrent object version expires (export bucket). Default 30. */
  readonly noncurrentVersionDays?: number;
  /** Days before incomplete multipart uploads are aborted (1–7). Default 3. */
  readonly abortIncompleteUploadDays?: number;
  /** Days S3 server access logs are kept. Default 90. */
  readonly accessLogRetentionDays?: number;
  /** CloudWatch Logs retention of the functions, the state machines and the API. Default 30 days. */
  readonly logRetention?: logs.RetentionDays;
  readonly logLevel?: LogLevel;
  /** `retain` (default) keeps buckets, key and log groups on deletion; `destroy` deletes them. */
  readonly removalPolicy?: 'retain' | 'destroy';
  /** Delivery delay of the render queue: coalesces bursts of changes into one render. Default 60 s. */
  readonly renderDebounceSeconds?: number;
  /** Alarm threshold for the age of the oldest ingest message. Default 900 s. */
  readonly ingestMaxAgeSeconds?: number;
  readonly ingest?: QueueConsumerTuning;
  readonly render?: QueueConsumerTuning;
  readonly snapshot?: QueueConsumerTuning;
  readonly rebuildBatch?: FunctionTuning;
  readonly rebuildMerge?: FunctionTuning;
  readonly api?: FunctionTuning & {
    readonly throttleRateLimit?: number;
    readonly throttleBurstLimit?: number;
  };
  readonly rebuild?: RebuildTuning;
  /** The render fan-out state machines (Distributed Map over segments). */
  readonly renderFanout?: RenderFanoutTuning;
  /**
   * How API callers authenticate: `iam` (default), SigV4 with `execute-api:Invoke`; `token`, Label
   * Studio's `Authorization: Token <key>` checked against a generated Secrets Manager secret.
   */
  readonly apiAuth?: ApiAuth;
  /** A CloudWatch dashboard of the deployment (constructs/dashboard.ts). Default true. */
  readonly dashboard?: boolean;
}

/** The function names used for alarms, tests and outputs. */
export type FunctionName = 'ingest' | 'render' | 'snapshot' | 'rebuildBatch' | 'rebuildMerge' | 'api';

export const DEFAULT_CONFIG_KEY = '_ls-export/config.json';

export class LsExport extends Construct {
  readonly layout: DeploymentLayout;
  /** Every cdk-nag acknowledgement made for this deployment, each with its reason. */
  readonly nag = new NagAcknowledgements();
  readonly storage: ExportStorage;
  readonly config: DeployedConfig;
  readonly alarms: Alarms;
  readonly ingest: EventIngest;
  readonly render: Render;
  readonly snapshots: Snapshots;
  readonly api: ExportApi;
  readonly rebuild: ProjectRebuild;
  /** Per project, the render state machine for renders too large for one invocation. */
  readonly renderFanout: RenderFanout;
  /** Absent with `dashboard: false`. */
  readonly dashboard?: Dashboard;
  /** The media locations render and snapshot may read, with where each was configured. */
  readonly media: readonly MediaLocation[];

  constructor(scope: Construct, id: string, props: LsExportProps) {
    super(scope, id);
    markGroupingScope(this);
    this.layout = planDeployment(props.config, props.configKey ?? DEFAULT_CONFIG_KEY);
    checkTuning(props);
    this.media = mediaLocations(this.layout, props.config, props.mediaS3Prefixes);
    checkMediaConfinement(this.layout, this.media);

    const removalPolicy = props.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const { layout, nag } = this;
    this.storage = new ExportStorage(this, 'Storage', { ...props, layout, nag, removalPolicy });
    this.config = new DeployedConfig(this, 'Config', {
      layout,
      nag,
      exportBucket: this.storage.exportBucket,
      logRetention,
      removalPolicy,
    });
    this.alarms = new Alarms(this, 'Alarms', { email: props.alarmEmail, removalPolicy });
    const logLevel = props.logLevel ?? 'INFO';
    const shared: PipelineProps = {
      layout,
      nag,
      storage: this.storage,
      config: this.config,
      alarms: this.alarms,
      functionDefaults: {
        environment: { ...this.config.environment, LS_EXPORT_LOG_LEVEL: logLevel.toLowerCase() },
        logRetention,
        removalPolicy,
        logLevel,
      },
    };
    this.ingest = new EventIngest(this, 'EventIngest', {
      ...shared,
      tuning: props.ingest,
      sourceKmsKeyArns: props.sourceKmsKeyArns,
      maxAgeSeconds: props.ingestMaxAgeSeconds,
    });
    this.render = new Render(this, 'Render', {
      ...shared,
      tuning: props.render,
      debounceSeconds: props.renderDebounceSeconds,
      media: this.media,
    });
    this.snapshots = new Snapshots(this, 'Snapshots', {
      ...shared,
      tuning: props.snapshot,
      media: this.media,
      nightlyCron: props.nightlyCron,
      nightlyTimeZone: props.nightlyTimeZone,
      nightlyEnabled: props.nightlyEnabled,
    });
    // Export-bucket notifications per project, render then snapshot (functions/pipeline/notifications.ts).
    for (const route of notificationRoutes(layout.config)) {
      if (route.target === 'render') this.render.subscribe(route);
      else if (route.target === 'snapshot') this.snapshots.subscribe(route);
    }
    this.rebuild = new ProjectRebuild(this, 'ProjectRebuild', {
      ...shared,
      batchTuning: props.rebuildBatch,
      mergeTuning: props.rebuildMerge,
      rebuild: props.rebuild,
      sourceKmsKeyArns: props.sourceKmsKeyArns,
      logRetention,
      removalPolicy,
    });
    this.renderFanout = new RenderFanout(this, 'RenderFanout', {
      ...shared,
      fanout: props.renderFanout,
      media: this.media,
      logRetention,
      removalPolicy,
    });
    this.render.routeTo(this.renderFanout.stateMachines, props.renderFanout?.fanoutSegments);
    this.snapshots.routeTo(this.renderFanout.stateMachines, props.renderFanout?.fanoutSegments);
    this.api = new ExportApi(this, 'ExportApi', {
      ...shared,
      tuning: props.api,
      logRetention,
      removalPolicy,
      auth: props.apiAuth,
    });
    if (props.dashboard !== false) {
      const fns: Record<string, lambda.IFunction> = {};
      for (const [name, f] of Object.entries(this.functions)) fns[name] = f.fn;
      if (this.api.tokenAuth) fns.tokenAuthorizer = this.api.tokenAuth.function.fn;
      this.dashboard = new Dashboard(this, 'Dashboard', {
        queues: this.queues,
        deadLetterQueues: this.deadLetterQueues,
        functions: fns,
        httpApi: this.httpApi,
        stateMachines: this.stateMachines,
        projectIds: layout.projects.map((p) => p.id),
      });
    }
    this.acknowledgeCdkManagedResources();
  }

  /**
   * Read-only access to the exports for a training job's role: `s3:GetObject` on `latest/` and
   * `snapshots/` of one project (ls-export id) or of all, `s3:ListBucket` limited to those prefixes.
   * The export bucket is SSE-S3 encrypted: no KMS permission is needed. Throws for an unknown project.
   */
  grantReadExports(grantee: iam.IRole, projectId?: string): void {
    this.storage.grantReadExports(grantee, projectId);
  }

  get exportBucket(): s3.Bucket {
    return this.storage.exportBucket;
  }

  get accessLogBucket(): s3.Bucket {
    return this.storage.accessLogBucket;
  }

  get alarmTopic(): sns.Topic {
    return this.alarms.topic;
  }

  get httpApi(): apigw.HttpApi {
    return this.api.httpApi;
  }

  get functions(): Record<FunctionName, PipelineFunction> {
    return {
      ingest: this.ingest.function,
      render: this.render.function,
      snapshot: this.snapshots.function,
      rebuildBatch: this.rebuild.batchFunction,
      rebuildMerge: this.rebuild.mergeFunction,
      api: this.api.function,
    };
  }

  get queues(): Record<'ingest' | 'render' | 'snapshot', sqs.Queue> {
    return {
      ingest: this.ingest.consumer.queue,
      render: this.render.consumer.queue,
      snapshot: this.snapshots.consumer.queue,
    };
  }

  /** The dead-letter queues: ingest, render, snapshot, nightly schedule. */
  get deadLetterQueues(): sqs.Queue[] {
    return [
      this.ingest.consumer.deadLetterQueue,
      this.render.consumer.deadLetterQueue,
      this.snapshots.consumer.deadLetterQueue,
      this.snapshots.scheduleDeadLetterQueue,
    ];
  }

  get stateMachines(): ReadonlyMap<string, sfn.StateMachine> {
    return this.rebuild.stateMachines;
  }

  /** Findings on resources CDK generates for us; ours are acknowledged where they are created. */
  private acknowledgeCdkManagedResources(): void {
    // The singleton Lambda behind Custom::S3BucketNotifications; CDK attaches the managed policy itself
    // (even to a role passed in), so it cannot be replaced from here.
    const handler = Stack.of(this).node.tryFindChild(
      'BucketNotificationsHandler050a0587b7544547bf325f094a3db834',
    );
    if (handler) {
      this.nag.add(
        handler,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'CDK-managed deploy-time handler that configures the S3 bucket notifications; AWSLambdaBasicExecutionRole only lets it write its own CloudWatch logs, and CDK attaches it unconditionally. Its S3 permission is limited to s3:PutBucketNotification/GetBucketNotification on the notified buckets.',
      );
    }
  }
}

/** Throws ConfigError listing every out-of-range tuning value. */
export function checkTuning(props: LsExportProps): void {
  const problems: string[] = [];
  for (const name of ['ingest', 'render', 'snapshot'] as const) {
    const t = props[name];
    if (!t) continue;
    if (t.maxReceiveCount !== undefined && t.maxReceiveCount < 5)
      problems.push(`${name}.maxReceiveCount must be ≥ 5`);
    if (t.maxConcurrency !== undefined && (t.maxConcurrency < 2 || t.maxConcurrency > 1000))
      problems.push(`${name}.maxConcurrency must be 2–1000`);
    if (
      t.maxBatchingWindowSeconds !== undefined &&
      (t.maxBatchingWindowSeconds < 0 || t.maxBatchingWindowSeconds > 300)
    )
      problems.push(`${name}.maxBatchingWindowSeconds must be 0–300`);
    if (t.timeoutSeconds !== undefined && (t.timeoutSeconds < 1 || t.timeoutSeconds > 900))
      problems.push(`${name}.timeoutSeconds must be 1–900`);
  }
  const abort = props.abortIncompleteUploadDays;
  if (abort !== undefined && (abort < 1 || abort > 7)) problems.push('abortIncompleteUploadDays must be 1–7');
  const debounce = props.renderDebounceSeconds;
  if (debounce !== undefined && (debounce < 0 || debounce > 900))
    problems.push('renderDebounceSeconds must be 0–900');
  const cron = props.nightlyCron;
  if (cron !== undefined && cron.trim().split(/\s+/).length !== 6)
    problems.push(`nightlyCron "${cron}" must have the 6 fields of an EventBridge Scheduler cron expression`);
  if (problems.length > 0) throw new ConfigError(`invalid ls-export deployment: ${problems.join('; ')}`);
}
