/**
 * Event ingest: S3 notifications (created and removed objects) of every watched prefix and of every
 * label config object (`labelConfig.s3`) → the ingest queue → the ingest function, which merges
 * the changed objects into the project state (`_state/`) and marks it dirty (a label config
 * upload only marks it dirty; reading the config object is granted by DeployedConfig.grantRead). The function reads only the watched prefixes (and their SSE-KMS
 * keys through S3) and reads/writes only `_state/`. Alarms on the oldest waiting message.
 */
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { notificationRoutes } from '../../functions/pipeline/notifications.ts';
import type { PipelineFunction } from '../pipeline-function.ts';
import { DELETE, READ, S3Access, WRITE } from '../s3-access.ts';
import { markGroupingScope } from './logical-ids.ts';
import { addRouteNotifications } from './notifications.ts';
import {
  exportAreas,
  grantSourceKms,
  type PipelineProps,
  pipelineFunction,
  sourceLocations,
} from './pipeline.ts';
import { QueueConsumer } from './queue-consumer.ts';
import { type QueueConsumerTuning, withDefaults } from './shared.ts';

export interface EventIngestProps extends PipelineProps {
  readonly tuning?: QueueConsumerTuning;
  /** KMS keys of SSE-KMS source buckets. */
  readonly sourceKmsKeyArns?: readonly string[];
  /** Alarm threshold for the age of the oldest ingest message. Default 900 s. */
  readonly maxAgeSeconds?: number;
}

/** Ingest batches many small changes. */
export const INGEST_DEFAULTS = { batchSize: 100, maxBatchingWindowSeconds: 10, maxConcurrency: 5 } as const;

export class EventIngest extends Construct {
  readonly function: PipelineFunction;
  readonly consumer: QueueConsumer;

  constructor(scope: Construct, id: string, props: EventIngestProps) {
    super(scope, id);
    markGroupingScope(this);
    const { layout } = props;
    this.function = pipelineFunction(this, 'Ingest', 'ingest', props, {
      entry: 'functions/handlers/ingest.ts',
      description: 'ls-export: merges changed Label Studio objects into project state and marks it dirty',
      memorySize: 1024,
      timeoutSeconds: 120,
      tuning: props.tuning,
    });
    const sources = sourceLocations(layout);
    const state = exportAreas(layout, 'state');
    const access = new S3Access(this.function.role, props.nag);
    access.objects('ReadSource', READ, sources);
    access.list('ListSource', sources);
    access.objects('ReadWriteState', [...READ, ...WRITE, ...DELETE], state);
    access.list('ListState', state);
    grantSourceKms(this.function, props.sourceKmsKeyArns);

    this.consumer = new QueueConsumer(this, 'Consumer', {
      name: 'Ingest',
      consumer: this.function,
      tuning: withDefaults(INGEST_DEFAULTS, props.tuning),
      alarms: props.alarms,
    });
    props.alarms.queueAge(
      'IngestQueue',
      this.consumer.queue,
      props.maxAgeSeconds ?? 900,
      'ls-export: ingest is falling behind (age of the oldest message in the ingest queue)',
    );

    const dest = new s3n.SqsDestination(this.consumer.queue);
    const sourceBuckets = new Set([layout.exportBucketName, ...layout.sourceBuckets.keys()]);
    for (const route of notificationRoutes(layout.config)) {
      if (route.target !== 'ingest') continue;
      // A bucket holding only label configs is imported by name, never created.
      const bucket = sourceBuckets.has(route.bucket)
        ? props.storage.sourceBucket(route.bucket)
        : s3.Bucket.fromBucketName(this, `LabelConfigBucket-${route.bucket}`, route.bucket);
      addRouteNotifications(bucket, dest, route);
    }
  }
}
