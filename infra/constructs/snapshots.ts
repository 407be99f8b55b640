/**
 * Snapshots: export requests (`_exports/requests/*.json`, written by the API) notify the snapshot
 * queue (`subscribe`); EventBridge Scheduler invokes the snapshot function nightly (`{"kind":"nightly"}`, cron and
 * time zone, 3 retries within 2 h, then its own DLQ). The function reads `_state/` and the media
 * locations, writes `snapshots/` and `_exports/`. `routeTo` lets it start a large snapshot on its
 * project's render state machine (render-fanout.ts, job kind `snapshot`) instead.
 */
import { Aws, Duration, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { NotificationRoute } from '../../functions/pipeline/notifications.ts';
import { DEFAULT_FANOUT_SEGMENTS } from '../../functions/pipeline/render-route.ts';
import type { PipelineFunction } from '../pipeline-function.ts';
import { DELETE, READ, S3Access, type S3Location, WRITE } from '../s3-access.ts';
import { routeToFanout } from './fanout-route.ts';
import { markGroupingScope } from './logical-ids.ts';
import { addRouteNotifications } from './notifications.ts';
import { exportAreas, type PipelineProps, pipelineFunction } from './pipeline.ts';
import { QueueConsumer } from './queue-consumer.ts';
import { type QueueConsumerTuning, withDefaults } from './shared.ts';

export interface SnapshotsProps extends PipelineProps {
  readonly tuning?: QueueConsumerTuning;
  /** Locations the snapshot function may read media from (already checked against the export areas). */
  readonly media: readonly S3Location[];
  /** EventBridge Scheduler cron fields (6 fields). Default `15 2 * * ? *`. */
  readonly nightlyCron?: string;
  /** IANA time zone of the schedule. Default `UTC`. */
  readonly nightlyTimeZone?: string;
  /** Default true. */
  readonly nightlyEnabled?: boolean;
}

/** One snapshot at a time per message. */
export const SNAPSHOT_DEFAULTS = { batchSize: 1, maxBatchingWindowSeconds: 0, maxConcurrency: 2 } as const;

export class Snapshots extends Construct {
  readonly function: PipelineFunction;
  readonly consumer: QueueConsumer;
  /** Dead-letter queue of the nightly schedule. */
  readonly scheduleDeadLetterQueue: sqs.Queue;
  private readonly destination: s3n.SqsDestination;
  private readonly exportBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: SnapshotsProps) {
    super(scope, id);
    markGroupingScope(this);
    const { layout } = props;
    this.function = pipelineFunction(this, 'Snapshot', 'snapshot', props, {
      entry: 'functions/handlers/snapshot.ts',
      description: 'ls-export: writes immutable snapshots (nightly and on demand)',
      memorySize: 1769,
      timeoutSeconds: 900,
      // A snapshot renders every task in one run: CSV/COCO spools and zips are staged in /tmp.
      ephemeralStorageMiB: 10240,
      tuning: props.tuning,
    });
    const state = exportAreas(layout, 'state');
    const snapshots = exportAreas(layout, 'snapshots');
    const exportsArea = exportAreas(layout, 'exports');
    const access = new S3Access(this.function.role, props.nag);
    access.objects('ReadState', READ, state);
    access.objects('ReadWriteSnapshots', [...READ, ...WRITE], snapshots);
    access.objects('ReadWriteExports', [...READ, ...WRITE, ...DELETE], exportsArea);
    access.list('ListOwnAreas', [...state, ...snapshots, ...exportsArea]);
    access.objects('ReadMedia', READ, props.media);
    access.list('ListMedia', props.media);

    this.consumer = new QueueConsumer(this, 'Consumer', {
      name: 'Snapshot',
      consumer: this.function,
      tuning: withDefaults(SNAPSHOT_DEFAULTS, props.tuning),
      alarms: props.alarms,
    });
    this.destination = new s3n.SqsDestination(this.consumer.queue);
    this.exportBucket = props.storage.exportBucket;
    this.scheduleDeadLetterQueue = this.nightlySchedule(props);
  }

  /**
   * Routes large snapshots to the fan-out: sets `LS_EXPORT_RENDER_STATE_MACHINES` (JSON, project id
   * → state machine ARN) and `LS_EXPORT_RENDER_FANOUT_SEGMENTS` on the snapshot function and lets
   * it start exactly those state machines. A snapshot of at least `fanoutSegments` segments is then
   * started there (exports-worker.ts runSnapshot). Throws ConfigError for a threshold below 1.
   */
  routeTo(
    stateMachines: ReadonlyMap<string, sfn.IStateMachine>,
    fanoutSegments = DEFAULT_FANOUT_SEGMENTS,
  ): void {
    routeToFanout(this.function, stateMachines, fanoutSegments);
  }

  /** Subscribes the snapshot queue to a `snapshot` route (a project's `_exports/requests/*.json`). */
  subscribe(route: NotificationRoute): void {
    addRouteNotifications(this.exportBucket, this.destination, route);
  }

  private nightlySchedule(props: SnapshotsProps): sqs.Queue {
    const dlq = new sqs.Queue(this, 'NightlyScheduleDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    props.nag.add(
      dlq,
      'AwsSolutions-SQS3',
      'This queue is itself a dead-letter queue: it receives the nightly schedule invocations EventBridge Scheduler could not deliver.',
    );
    props.alarms.deadLetterQueue(dlq);
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
        resources: [this.function.fn.functionArn],
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
      schedule: scheduler.ScheduleExpression.expression(
        `cron(${props.nightlyCron ?? '15 2 * * ? *'})`,
        TimeZone.of(props.nightlyTimeZone ?? 'UTC'),
      ),
      timeWindow: scheduler.TimeWindow.off(),
      enabled: props.nightlyEnabled ?? true,
      target: new schedulerTargets.LambdaInvoke(this.function.fn, {
        role: role.withoutPolicyUpdates(),
        input: scheduler.ScheduleTargetInput.fromObject({ kind: 'nightly' }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(2),
        deadLetterQueue: dlq,
      }),
    });
    return dlq;
  }
}
