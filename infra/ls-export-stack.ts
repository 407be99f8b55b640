/**
 * The ls-export stack: Label Studio's target-storage bucket(s) → S3 notifications → SQS → ingest;
 * a debounced render of `latest/`; snapshots on demand (HTTP API) and nightly (EventBridge
 * Scheduler); a rebuild state machine per project (Distributed Map over the S3 listing); alarms.
 *
 * The pipeline configuration is validated with the functions' own `parseConfig` at synth time, so a
 * configuration the functions would reject (e.g. an export prefix inside a watched prefix) fails
 * `cdk synth` with the same message. The validated document is written to the export bucket at
 * deploy time and the functions get its location in `LS_EXPORT_CONFIG_S3` (Lambda's environment
 * is limited to 4 KB).
 */
import { createHash } from 'node:crypto';
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, TimeZone } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct, IConstruct } from 'constructs';
import { ConfigError } from '../functions/pipeline/config.ts';
import { type DeploymentLayout, type ProjectLayout, parseS3Url, planDeployment } from './layout.ts';
import { NagAcknowledgements } from './nag.ts';
import { type LogLevel, PipelineFunction } from './pipeline-function.ts';
import { bucketArn, DELETE, READ, S3Access, type S3Location, WRITE } from './s3-access.ts';

export interface FunctionTuning {
  readonly memorySize?: number;
  readonly timeoutSeconds?: number;
}

export interface QueueConsumerTuning extends FunctionTuning {
  readonly batchSize?: number;
  readonly maxBatchingWindowSeconds?: number;
  /** Lambda's SQS event source maximum concurrency (2–1000). */
  readonly maxConcurrency?: number;
  /** Receives before a message moves to the dead-letter queue (at least 5). */
  readonly maxReceiveCount?: number;
}

export interface LsExportStackProps extends StackProps {
  /** The pipeline configuration document (functions/pipeline/config.ts), validated at synth time. */
  readonly config: unknown;
  /** Key of the deployed configuration object in the export bucket. Default `_ls-export/config.json`. */
  readonly configKey?: string;
  /** `import` (default): source buckets exist (Label Studio's target storage); `create`: the stack creates them. */
  readonly sourceBucketMode?: 'import' | 'create';
  /** KMS keys that encrypt source objects (SSE-KMS): ingest and rebuild get `kms:Decrypt` through S3. */
  readonly sourceKmsKeyArns?: readonly string[];
  /**
   * Extra `s3://bucket/prefix` locations of media referenced by `s3://` URLs in task data (image
   * sizes, `*_WITH_IMAGES` formats): render and snapshot may read them. `media.uploadPrefix` of each
   * project is granted already.
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
  /** `retain` (default) keeps the buckets on stack deletion; `destroy` deletes them (they must be empty). */
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
  readonly rebuild?: {
    readonly maxItemsPerBatch?: number;
    readonly maxConcurrency?: number;
    readonly toleratedFailurePercentage?: number;
  };
}

/** The function names used for construct ids, tests and outputs. */
export type FunctionName = 'ingest' | 'render' | 'snapshot' | 'rebuildBatch' | 'rebuildMerge' | 'api';

const DEFAULT_CONFIG_KEY = '_ls-export/config.json';

/** SQS consumer defaults: ingest batches many small changes; render and snapshot run few at a time. */
const CONSUMER_DEFAULTS = {
  ingest: { batchSize: 100, maxBatchingWindowSeconds: 10, maxConcurrency: 5 },
  render: { batchSize: 10, maxBatchingWindowSeconds: 5, maxConcurrency: 2 },
  snapshot: { batchSize: 1, maxBatchingWindowSeconds: 0, maxConcurrency: 2 },
} as const;
const PERIOD = Duration.minutes(5);

export class LsExportStack extends Stack {
  readonly layout: DeploymentLayout;
  readonly nag = new NagAcknowledgements();
  readonly exportBucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;
  readonly functions: Record<FunctionName, PipelineFunction>;
  readonly queues: Record<'ingest' | 'render' | 'snapshot', sqs.Queue>;
  readonly deadLetterQueues: sqs.Queue[] = [];
  readonly stateMachines = new Map<string, sfn.StateMachine>();
  readonly alarmTopic: sns.Topic;
  readonly httpApi: apigw.HttpApi;

  private readonly sourceBucketCache = new Map<string, s3.IBucket>();
  private readonly props: LsExportStackProps;
  private readonly removal: RemovalPolicy;
  private readonly logRetention: logs.RetentionDays;

  constructor(scope: Construct, id: string, props: LsExportStackProps) {
    super(scope, id, {
      description: 'ls-export: Label Studio target-storage objects to training-ready datasets',
      ...props,
    });
    this.props = props;
    const configKey = props.configKey ?? DEFAULT_CONFIG_KEY;
    this.layout = planDeployment(props.config, configKey);
    checkTuning(props);
    this.removal = props.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    this.logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const { layout } = this;

    // ---------------------------------------------------------------- buckets
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED, // the only encryption S3 server access logging delivers to
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(props.accessLogRetentionDays ?? 90) },
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: this.removal,
    });
    this.nag.add(
      this.accessLogBucket,
      'AwsSolutions-S1',
      'This is the server access log bucket of the other buckets; logging its own access would recurse.',
    );

    this.exportBucket = new s3.Bucket(this, 'ExportBucket', {
      bucketName: layout.exportBucketName,
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: `s3/${layout.exportBucketName}/`,
      lifecycleRules: this.exportLifecycleRules(),
      removalPolicy: this.removal,
    });

    // ---------------------------------------------------------------- deployed configuration
    const configBody = JSON.stringify(layout.config);
    const configHash = createHash('sha256').update(configBody).digest('hex').slice(0, 16);
    const deployedConfig = this.deployConfig(configBody);
    const environment = {
      LS_EXPORT_CONFIG_S3: `s3://${layout.exportBucketName}/${layout.configKey}`,
      // Changes with the config, so warm containers are replaced and re-read it.
      LS_EXPORT_CONFIG_SHA256: configHash,
    };

    // ---------------------------------------------------------------- functions
    const logLevel = props.logLevel ?? 'INFO';
    const fnDefaults = {
      environment: { ...environment, LS_EXPORT_LOG_LEVEL: logLevel.toLowerCase() },
      logRetention: this.logRetention,
      removalPolicy: this.removal,
      logLevel,
    } as const;
    const tuned = (t: FunctionTuning | undefined, memorySize: number, timeoutSeconds: number) => ({
      memorySize: t?.memorySize ?? memorySize,
      timeout: Duration.seconds(t?.timeoutSeconds ?? timeoutSeconds),
    });
    this.functions = {
      ingest: new PipelineFunction(this, 'Ingest', {
        ...fnDefaults,
        ...tuned(props.ingest, 1024, 120),
        entry: 'functions/handlers/ingest.ts',
        description: 'ls-export: merges changed Label Studio objects into project state and marks it dirty',
      }),
      render: new PipelineFunction(this, 'Render', {
        ...fnDefaults,
        ...tuned(props.render, 1769, 900),
        entry: 'functions/handlers/render.ts',
        description: 'ls-export: renders the latest/ exports of dirty projects',
      }),
      snapshot: new PipelineFunction(this, 'Snapshot', {
        ...fnDefaults,
        ...tuned(props.snapshot, 1769, 900),
        entry: 'functions/handlers/snapshot.ts',
        description: 'ls-export: writes immutable snapshots (nightly and on demand)',
      }),
      rebuildBatch: new PipelineFunction(this, 'RebuildBatch', {
        ...fnDefaults,
        ...tuned(props.rebuildBatch, 1024, 300),
        entry: 'functions/handlers/rebuild-batch.ts',
        description: 'ls-export: rebuild, one batch of listed source keys into partial state',
      }),
      rebuildMerge: new PipelineFunction(this, 'RebuildMerge', {
        ...fnDefaults,
        ...tuned(props.rebuildMerge, 1769, 900),
        entry: 'functions/handlers/rebuild-merge.ts',
        description: 'ls-export: rebuild, merges the partial states into the project state',
      }),
      api: new PipelineFunction(this, 'ApiFunction', {
        ...fnDefaults,
        ...tuned(props.api, 512, 29),
        entry: 'functions/handlers/api.ts',
        description: 'ls-export: export API shaped like Label Studio export snapshots',
      }),
    };
    for (const f of Object.values(this.functions)) f.fn.node.addDependency(deployedConfig);
    this.grantDataAccess();

    // ---------------------------------------------------------------- queues and event sources
    this.queues = {
      ingest: this.queueConsumer(
        'Ingest',
        this.functions.ingest,
        withDefaults(CONSUMER_DEFAULTS.ingest, props.ingest),
      ),
      render: this.queueConsumer(
        'Render',
        this.functions.render,
        withDefaults(CONSUMER_DEFAULTS.render, props.render),
        props.renderDebounceSeconds ?? 60,
      ),
      snapshot: this.queueConsumer(
        'Snapshot',
        this.functions.snapshot,
        withDefaults(CONSUMER_DEFAULTS.snapshot, props.snapshot),
      ),
    };

    // ---------------------------------------------------------------- S3 notifications
    for (const [bucketName, prefixes] of layout.sourceBuckets) {
      const bucket = this.sourceBucket(bucketName);
      const dest = new s3n.SqsDestination(this.queues.ingest);
      for (const prefix of prefixes) {
        const filters = prefix === '' ? [] : [{ prefix }];
        bucket.addEventNotification(s3.EventType.OBJECT_CREATED, dest, ...filters);
        bucket.addEventNotification(s3.EventType.OBJECT_REMOVED, dest, ...filters);
      }
    }
    const renderDest = new s3n.SqsDestination(this.queues.render);
    const snapshotDest = new s3n.SqsDestination(this.queues.snapshot);
    for (const p of layout.projects) {
      this.exportBucket.addEventNotification(s3.EventType.OBJECT_CREATED, renderDest, {
        prefix: p.state,
        suffix: '_state/dirty',
      });
      this.exportBucket.addEventNotification(s3.EventType.OBJECT_CREATED, snapshotDest, {
        prefix: p.exportRequests,
        suffix: '.json',
      });
    }

    // ---------------------------------------------------------------- nightly snapshots
    this.nightlySchedule();

    // ---------------------------------------------------------------- rebuild state machines
    for (const p of layout.projects) this.rebuildStateMachine(p);

    // ---------------------------------------------------------------- API
    this.httpApi = this.exportApi();

    // ---------------------------------------------------------------- alarms
    this.alarmTopic = this.alarms();

    this.acknowledgeCdkManagedResources();

    new CfnOutput(this, 'ExportBucketName', { value: this.exportBucket.bucketName });
    new CfnOutput(this, 'ConfigObject', { value: environment.LS_EXPORT_CONFIG_S3 });
    new CfnOutput(this, 'ApiEndpoint', { value: this.httpApi.apiEndpoint });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'IngestQueueUrl', { value: this.queues.ingest.queueUrl });
    for (const [projectId, sm] of this.stateMachines) {
      new CfnOutput(this, `RebuildStateMachine${sanitize(projectId)}`, {
        value: sm.stateMachineArn,
        description: `Rebuild of project ${projectId}: aws stepfunctions start-execution --state-machine-arn <this>`,
      });
    }
  }

  // ================================================================== buckets

  private exportLifecycleRules(): s3.LifecycleRule[] {
    const p = this.props;
    const abortDays = p.abortIncompleteUploadDays ?? 3;
    const rules: s3.LifecycleRule[] = [
      { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(abortDays) },
      {
        id: 'expire-noncurrent-versions',
        noncurrentVersionExpiration: Duration.days(p.noncurrentVersionDays ?? 30),
        expiredObjectDeleteMarker: true,
      },
    ];
    for (const proj of this.layout.projects) {
      const id = proj.id;
      rules.push(
        {
          id: `expire-snapshots-${id}`,
          prefix: proj.snapshots,
          expiration: Duration.days(p.snapshotRetentionDays ?? 30),
        },
        // State is rewritten on every change: old versions of it are worthless after a day.
        {
          id: `expire-noncurrent-state-${id}`,
          prefix: proj.state,
          noncurrentVersionExpiration: Duration.days(1),
        },
        { id: `expire-rebuild-results-${id}`, prefix: proj.rebuildResults, expiration: Duration.days(7) },
      );
    }
    return rules;
  }

  /** A source bucket: the export bucket itself, created (mode `create`) or imported by name. */
  private sourceBucket(name: string): s3.IBucket {
    if (name === this.layout.exportBucketName) return this.exportBucket;
    const cached = this.sourceBucketCache.get(name);
    if (cached) return cached;
    const id = `SourceBucket-${name}`;
    const bucket =
      this.props.sourceBucketMode === 'create'
        ? new s3.Bucket(this, id, {
            bucketName: name,
            versioned: true,
            encryption: s3.BucketEncryption.S3_MANAGED,
            blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
            objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforceSSL: true,
            minimumTLSVersion: 1.2,
            serverAccessLogsBucket: this.accessLogBucket,
            serverAccessLogsPrefix: `s3/${name}/`,
            lifecycleRules: [
              {
                id: 'abort-incomplete-multipart',
                abortIncompleteMultipartUploadAfter: Duration.days(this.props.abortIncompleteUploadDays ?? 3),
              },
              {
                id: 'expire-noncurrent-versions',
                noncurrentVersionExpiration: Duration.days(this.props.noncurrentVersionDays ?? 30),
              },
            ],
            removalPolicy: this.removal,
          })
        : s3.Bucket.fromBucketName(this, id, name);
    this.sourceBucketCache.set(name, bucket);
    return bucket;
  }

  /** Writes the validated configuration to the export bucket at deploy time (one PutObject). */
  private deployConfig(body: string): IConstruct {
    const { exportBucketName, configKey } = this.layout;
    const logGroup = new logs.LogGroup(this, 'ConfigWriterLogs', {
      retention: this.logRetention,
      removalPolicy: this.removal,
    });
    const role = new iam.Role(this, 'ConfigWriterRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'ls-export: writes the deployed configuration object, nothing else',
    });
    logGroup.grantWrite(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteConfigObject',
        actions: ['s3:PutObject'],
        resources: [`${bucketArn(exportBucketName)}/${configKey}`],
      }),
    );
    const call: cr.AwsSdkCall = {
      service: 'S3',
      action: 'putObject',
      parameters: {
        Bucket: this.exportBucket.bucketName,
        Key: configKey,
        Body: body,
        ContentType: 'application/json',
      },
      physicalResourceId: cr.PhysicalResourceId.of(`s3://${exportBucketName}/${configKey}`),
    };
    const resource = new cr.AwsCustomResource(this, 'DeployedConfig', {
      onCreate: call,
      onUpdate: call,
      role,
      logGroup,
      installLatestAwsSdk: false,
      timeout: Duration.minutes(2),
    });
    resource.node.addDependency(role);
    return resource;
  }

  // ================================================================== permissions

  private grantDataAccess(): void {
    const { layout } = this;
    const exp = layout.exportBucketName;
    const at = (prefix: string): S3Location => ({ bucket: exp, prefix });
    const projects = layout.projects;
    const sources = projects.map((p): S3Location => ({ bucket: p.sourceBucket, prefix: p.sourcePrefix }));
    const state = projects.map((p) => at(p.state));
    const latest = projects.map((p) => at(p.latest));
    const snapshots = projects.map((p) => at(p.snapshots));
    const exportsArea = projects.map((p) => at(p.exports));
    const media = [
      ...projects.flatMap((p): S3Location[] => (p.media ? [p.media] : [])),
      ...(this.props.mediaS3Prefixes ?? []).map((url): S3Location => parseS3Url(url)),
    ];
    const common: S3Location[] = [
      { bucket: exp, prefix: layout.configKey, exact: true },
      ...projects.flatMap((p): S3Location[] =>
        p.labelConfigObject
          ? [{ bucket: p.labelConfigObject.bucket, prefix: p.labelConfigObject.key, exact: true }]
          : [],
      ),
    ];

    for (const f of Object.values(this.functions))
      new S3Access(f.role, this.nag).objects('ReadConfig', READ, common);

    const ingest = new S3Access(this.functions.ingest.role, this.nag);
    ingest.objects('ReadSource', READ, sources);
    ingest.list('ListSource', sources);
    ingest.objects('ReadWriteState', [...READ, ...WRITE, ...DELETE], state);
    ingest.list('ListState', state);
    this.grantSourceKms(this.functions.ingest);

    const render = new S3Access(this.functions.render.role, this.nag);
    render.objects('ReadWriteState', [...READ, ...WRITE, ...DELETE], state);
    render.objects('ReadWriteLatest', [...READ, ...WRITE, ...DELETE], latest);
    render.list('ListStateAndLatest', [...state, ...latest]);
    render.objects('ReadMedia', READ, media);
    render.list('ListMedia', media);

    const snapshot = new S3Access(this.functions.snapshot.role, this.nag);
    snapshot.objects('ReadState', READ, state);
    snapshot.objects('ReadWriteSnapshots', [...READ, ...WRITE], snapshots);
    snapshot.objects('ReadWriteExports', [...READ, ...WRITE, ...DELETE], exportsArea);
    snapshot.list('ListOwnAreas', [...state, ...snapshots, ...exportsArea]);
    snapshot.objects('ReadMedia', READ, media);
    snapshot.list('ListMedia', media);

    const batch = new S3Access(this.functions.rebuildBatch.role, this.nag);
    batch.objects('ReadSource', READ, sources);
    batch.list('ListSource', sources);
    batch.objects('ReadWriteState', [...READ, ...WRITE], state);
    this.grantSourceKms(this.functions.rebuildBatch);

    const merge = new S3Access(this.functions.rebuildMerge.role, this.nag);
    merge.objects('ReadWriteState', [...READ, ...WRITE, ...DELETE], state);
    merge.list('ListState', state);

    // The API creates export records (reserving the snapshot folder with its `export.json`), serves
    // presigned downloads of snapshots, and deletes a snapshot with its record.
    const api = new S3Access(this.functions.api.role, this.nag);
    api.objects('ReadWriteExports', [...READ, ...WRITE, ...DELETE], exportsArea);
    api.objects('ReadDeleteSnapshots', [...READ, ...DELETE], snapshots);
    api.objects(
      'ReserveSnapshotFolders',
      ['s3:PutObject'],
      projects.map((p) => ({ bucket: exp, prefix: `${p.snapshots}*/export.json`, exact: true })),
    );
    api.list('ListExportsAndSnapshots', [...exportsArea, ...snapshots]);
  }

  private grantSourceKms(f: PipelineFunction): void {
    const keys = this.props.sourceKmsKeyArns ?? [];
    if (keys.length === 0) return;
    f.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptSourceObjects',
        actions: ['kms:Decrypt'],
        resources: [...keys],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } },
      }),
    );
  }

  // ================================================================== queues

  /** Queue + dead-letter queue + SQS event source for one consumer function. */
  private queueConsumer(
    id: string,
    consumer: PipelineFunction,
    t: Required<Pick<QueueConsumerTuning, 'batchSize' | 'maxBatchingWindowSeconds' | 'maxConcurrency'>> &
      QueueConsumerTuning,
    deliveryDelaySeconds?: number,
  ): sqs.Queue {
    const dlq = new sqs.Queue(this, `${id}DeadLetterQueue`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueues.push(dlq);
    const window = t.maxBatchingWindowSeconds;
    // AWS guidance for Lambda + SQS: visibility timeout ≥ 6 × function timeout (+ batching window).
    const visibility = 6 * consumer.timeoutSeconds + window;
    const queue = new sqs.Queue(this, `${id}Queue`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(visibility),
      retentionPeriod: Duration.days(4),
      deliveryDelay: deliveryDelaySeconds === undefined ? undefined : Duration.seconds(deliveryDelaySeconds),
      deadLetterQueue: { queue: dlq, maxReceiveCount: t.maxReceiveCount ?? 5 },
    });
    consumer.fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: t.batchSize,
        maxBatchingWindow: window > 0 ? Duration.seconds(window) : undefined,
        reportBatchItemFailures: true,
        maxConcurrency: t.maxConcurrency,
      }),
    );
    return queue;
  }

  // ================================================================== nightly

  private nightlySchedule(): void {
    const cron = this.props.nightlyCron ?? '15 2 * * ? *';
    const timeZone = this.props.nightlyTimeZone ?? 'UTC';
    const dlq = new sqs.Queue(this, 'NightlyScheduleDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueues.push(dlq);
    this.nag.add(
      dlq,
      'AwsSolutions-SQS3',
      'This queue is itself a dead-letter queue: it receives the nightly schedule invocations EventBridge Scheduler could not deliver.',
    );
    // Our own role: exactly the unqualified function ARN and the DLQ (CDK's grant adds `<function>:*`).
    const role = new iam.Role(this, 'NightlyScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'ls-export: EventBridge Scheduler invokes the snapshot function nightly',
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeSnapshot',
        actions: ['lambda:InvokeFunction'],
        resources: [this.functions.snapshot.fn.functionArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeadLetters',
        actions: ['sqs:SendMessage'],
        resources: [dlq.queueArn],
      }),
    );
    new scheduler.Schedule(this, 'NightlySnapshots', {
      description: 'ls-export: nightly snapshot of every configured project',
      schedule: scheduler.ScheduleExpression.expression(`cron(${cron})`, TimeZone.of(timeZone)),
      timeWindow: scheduler.TimeWindow.off(),
      enabled: this.props.nightlyEnabled ?? true,
      target: new schedulerTargets.LambdaInvoke(this.functions.snapshot.fn, {
        role: role.withoutPolicyUpdates(),
        input: scheduler.ScheduleTargetInput.fromObject({ kind: 'nightly' }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(2),
        deadLetterQueue: dlq,
      }),
    });
  }

  // ================================================================== rebuild

  private rebuildStateMachine(p: ProjectLayout): void {
    const r = this.props.rebuild ?? {};
    const id = `Rebuild-${sanitize(p.id)}`;
    const map = new sfn.DistributedMap(this, `${id}-Map`, {
      stateName: 'IngestSourceListing',
      comment: `Lists s3://${p.sourceBucket}/${p.sourcePrefix} and ingests it in batches`,
      itemReader: new sfn.S3ObjectsItemReader({
        bucket: this.sourceBucket(p.sourceBucket),
        prefix: p.sourcePrefix === '' ? undefined : p.sourcePrefix,
      }),
      itemBatcher: new sfn.ItemBatcher({
        maxItemsPerBatch: r.maxItemsPerBatch ?? 200,
        // Each child's input must stay under the 256 KiB state payload limit.
        maxInputBytesPerBatch: 200 * 1024,
        // One run id (the execution name) for every batch and the merge: partial state goes to
        // `_state/rebuild/<runId>/`, which the merge collects.
        batchInput: { projectId: p.id, 'runId.$': '$$.Execution.Name' },
      }),
      maxConcurrency: r.maxConcurrency ?? 20,
      toleratedFailurePercentage: r.toleratedFailurePercentage ?? 5,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      label: 'Rebuild',
      resultWriterV2: new sfn.ResultWriterV2({ bucket: this.exportBucket, prefix: p.rebuildResults }),
      resultSelector: { 'resultWriterDetails.$': '$.ResultWriterDetails' },
    });
    const batch = new tasks.LambdaInvoke(this, `${id}-Batch`, {
      stateName: 'IngestBatch',
      lambdaFunction: this.functions.rebuildBatch.fn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    // Up to maxConcurrency batches start at once: ride out Lambda throttling instead of failing them.
    batch.addRetry({
      errors: ['Lambda.TooManyRequestsException'],
      interval: Duration.seconds(2),
      maxAttempts: 8,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    map.itemProcessor(batch);
    const merge = new tasks.LambdaInvoke(this, `${id}-Merge`, {
      stateName: 'MergeState',
      lambdaFunction: this.functions.rebuildMerge.fn,
      payload: sfn.TaskInput.fromObject({
        projectId: p.id,
        runId: sfn.JsonPath.executionName,
        mapResult: sfn.JsonPath.entirePayload,
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    const logGroup = new logs.LogGroup(this, `${id}-Logs`, {
      retention: this.logRetention,
      removalPolicy: this.removal,
    });

    // The state machine gets a role whose policies are written here, scoped to this project's
    // prefixes; the statements CDK would generate (a whole-bucket ResultWriter grant, an unconditioned
    // ListBucket, function-version wildcards) are dropped by handing CDK an immutable view of it.
    const stateMachineName = `${this.stackName}-rebuild-${p.id}`.slice(0, 80);
    const role = new iam.Role(this, `${id}-Role`, {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: `ls-export rebuild of project ${p.id}`,
    });
    const access = new S3Access(role, this.nag);
    access.list('ListSource', [{ bucket: p.sourceBucket, prefix: p.sourcePrefix }]);
    access.objects(
      'WriteMapResults',
      ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
      [{ bucket: this.layout.exportBucketName, prefix: p.rebuildResults }],
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeRebuildFunctions',
        actions: ['lambda:InvokeFunction'],
        resources: [this.functions.rebuildBatch.fn.functionArn, this.functions.rebuildMerge.fn.functionArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'LogDeliveryAndTracing',
        actions: [
          'logs:CreateLogDelivery',
          'logs:GetLogDelivery',
          'logs:UpdateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:DescribeLogGroups',
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
        ],
        resources: ['*'],
      }),
    );
    this.nag.add(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'AWS requires Resource "*" for these actions: CloudWatch Logs vended log delivery (logs:*LogDelivery*, PutResourcePolicy, Describe*) used by Step Functions logging, and X-Ray trace submission; neither supports resource-level permissions.',
    );
    // Child executions of the Distributed Map; a separate policy, because it names the state machine
    // itself and the state machine must not wait for it.
    const executions = `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${stateMachineName}`;
    const executionsFlat = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stateMachineName}`;
    const childPolicy = new iam.Policy(this, `${id}-ChildExecutions`, {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'StartChildExecutions',
          actions: ['states:StartExecution'],
          resources: [
            `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:stateMachine:${stateMachineName}`,
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ManageChildExecutions',
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: [`${executions}:*`],
        }),
        new iam.PolicyStatement({
          sid: 'RedriveMapRuns',
          actions: ['states:RedriveExecution'],
          resources: [`${executions}/Rebuild:*`],
        }),
      ],
    });
    this.nag.add(
      childPolicy,
      `AwsSolutions-IAM5[Resource::${executionsFlat}:*]`,
      'Distributed Map child executions of this state machine only; their names are generated at run time, so the execution ARN ends in a wildcard.',
    );
    this.nag.add(
      childPolicy,
      `AwsSolutions-IAM5[Resource::${executionsFlat}/Rebuild:*]`,
      'Redrive of this state machine\'s Map Run (label "Rebuild") only; Map Run ids are generated at run time.',
    );

    const sm = new sfn.StateMachine(this, id, {
      stateMachineName,
      comment: `ls-export rebuild of project ${p.id}: state from a full listing of its source prefix`,
      definitionBody: sfn.DefinitionBody.fromChainable(map.next(merge)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      role: role.withoutPolicyUpdates(),
      timeout: Duration.hours(12),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // Logging permissions are checked when the state machine is created.
    sm.node.addDependency(role);
    // CDK's own child-execution policy was attached to the immutable role view, i.e. to nothing, and is
    // never synthesized; drop the orphan so the construct tree matches the template (cdk-nag walks it).
    sm.node.tryRemoveChild('DistributedMapPolicy');
    this.stateMachines.set(p.id, sm);
  }

  // ================================================================== API

  private exportApi(): apigw.HttpApi {
    const t = this.props.api ?? {};
    const api = new apigw.HttpApi(this, 'HttpApi', {
      description: 'ls-export API (Label Studio export-snapshot shape); IAM (SigV4) authorization',
      defaultAuthorizer: new HttpIamAuthorizer(),
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: this.logRetention,
      removalPolicy: this.removal,
    });
    new apigw.HttpStage(this, 'HttpApiStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: t.throttleRateLimit ?? 20, burstLimit: t.throttleBurstLimit ?? 40 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            caller: '$context.identity.caller',
            user: '$context.identity.userArn',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            latency: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', this.functions.api.fn);
    const M = apigw.HttpMethod;
    const routes: [string, apigw.HttpMethod[]][] = [
      ['/api/projects/{id}/exports', [M.POST, M.GET]],
      ['/api/projects/{id}/exports/{export_pk}', [M.GET, M.DELETE]],
      ['/api/projects/{id}/exports/{export_pk}/download', [M.GET]],
      ['/api/projects/{id}/exports/{export_pk}/convert', [M.POST]],
      ['/api/projects/{id}/export/formats', [M.GET]],
    ];
    for (const [path, methods] of routes) api.addRoutes({ path, methods, integration });
    return api;
  }

  // ================================================================== alarms

  private alarms(): sns.Topic {
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'ls-export: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: this.removal,
    });
    // CloudWatch alarms can publish to an encrypted topic only when the key lets CloudWatch use it.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'ls-export alarms',
      masterKey: key,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    if (this.props.alarmEmail) topic.addSubscription(new subs.EmailSubscription(this.props.alarmEmail));
    const action = new SnsAction(topic);

    const alarm = (id: string, metric: cw.IMetric, threshold: number, description: string) => {
      const a = new cw.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
    };

    for (const dlq of this.deadLetterQueues) {
      const name = dlq.node.id;
      alarm(
        `${name}Messages`,
        dlq.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: cw.Stats.MAXIMUM }),
        0,
        `ls-export: messages in ${name}; inspect them, fix the cause, then redrive them to the source queue`,
      );
    }
    alarm(
      'IngestQueueOldestMessageAge',
      this.queues.ingest.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: cw.Stats.MAXIMUM }),
      this.props.ingestMaxAgeSeconds ?? 900,
      'ls-export: ingest is falling behind (age of the oldest message in the ingest queue)',
    );
    for (const [name, f] of Object.entries(this.functions)) {
      const id = name[0].toUpperCase() + name.slice(1);
      alarm(
        `${id}Errors`,
        f.fn.metricErrors({ period: PERIOD, statistic: cw.Stats.SUM }),
        0,
        `ls-export: ${name} function errors`,
      );
      alarm(
        `${id}Throttles`,
        f.fn.metricThrottles({ period: PERIOD, statistic: cw.Stats.SUM }),
        0,
        `ls-export: ${name} function throttles`,
      );
    }
    for (const [projectId, sm] of this.stateMachines) {
      const id = sanitize(projectId);
      alarm(
        `Rebuild-${id}-ExecutionsFailed`,
        sm.metricFailed({ period: PERIOD, statistic: cw.Stats.SUM }),
        0,
        `ls-export: rebuild of project ${projectId} failed`,
      );
      alarm(
        `Rebuild-${id}-ExecutionsTimedOut`,
        sm.metricTimedOut({ period: PERIOD, statistic: cw.Stats.SUM }),
        0,
        `ls-export: rebuild of project ${projectId} timed out`,
      );
    }
    alarm(
      'ApiServerErrors',
      this.httpApi.metricServerError({ period: PERIOD, statistic: cw.Stats.SUM }),
      0,
      'ls-export: the export API returned 5xx responses',
    );
    return topic;
  }

  // ================================================================== cdk-nag

  /** Findings on resources CDK generates for us; ours are acknowledged where they are created. */
  private acknowledgeCdkManagedResources(): void {
    // The singleton Lambda behind Custom::S3BucketNotifications; CDK attaches the managed policy itself
    // (even to a role passed in), so it cannot be replaced from here.
    const handler = this.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (handler) {
      this.nag.add(
        handler,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'CDK-managed deploy-time handler that configures the S3 bucket notifications; AWSLambdaBasicExecutionRole only lets it write its own CloudWatch logs, and CDK attaches it unconditionally. Its S3 permission is limited to s3:PutBucketNotification/GetBucketNotification on the notified buckets.',
      );
    }
  }
}

/** `defaults` overridden by the values of `overrides` that are not undefined. */
function withDefaults<D extends object, O extends object>(defaults: D, overrides: O | undefined): D & O {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(overrides ?? {})) if (v !== undefined) out[k] = v;
  return out as D & O;
}

/** Construct-id-safe form of a project id or bucket name. */
function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9]/g, '');
}

function checkTuning(props: LsExportStackProps): void {
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
