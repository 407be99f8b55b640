/**
 * An SQS queue feeding a pipeline function: a dead-letter queue (14 days), the queue (SQS-managed
 * encryption, TLS only, 4 days) whose visibility timeout follows AWS's rule for Lambda consumers —
 * at least 6 × the function timeout plus the batching window — and the event source with partial
 * batch failures and maximum concurrency. With `alarms`, the DLQ and the function alarm.
 */
import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { PipelineFunction } from '../pipeline-function.ts';
import type { Alarms } from './alarms.ts';
import { markGroupingScope, noteUniqueIdUser } from './logical-ids.ts';
import type { QueueConsumerTuning } from './shared.ts';

export interface QueueConsumerProps {
  /** Prefix of the queue ids: `<name>Queue`, `<name>DeadLetterQueue`. */
  readonly name: string;
  readonly consumer: PipelineFunction;
  readonly tuning: Required<
    Pick<QueueConsumerTuning, 'batchSize' | 'maxBatchingWindowSeconds' | 'maxConcurrency'>
  > &
    QueueConsumerTuning;
  /** Delivery delay of every message (render: the debounce). */
  readonly deliveryDelaySeconds?: number;
  readonly alarms?: Alarms;
}

export class QueueConsumer extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: QueueConsumerProps) {
    super(scope, id);
    markGroupingScope(this);
    const { name, consumer, tuning: t } = props;
    this.deadLetterQueue = new sqs.Queue(this, `${name}DeadLetterQueue`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const window = t.maxBatchingWindowSeconds;
    // AWS guidance for Lambda + SQS: visibility timeout ≥ 6 × function timeout (+ batching window).
    const visibility = QueueConsumer.visibilityTimeoutSeconds(consumer.timeoutSeconds, window);
    this.queue = new sqs.Queue(this, `${name}Queue`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(visibility),
      retentionPeriod: Duration.days(4),
      deliveryDelay:
        props.deliveryDelaySeconds === undefined ? undefined : Duration.seconds(props.deliveryDelaySeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: t.maxReceiveCount ?? 5 },
    });
    // The event source mapping is named after the queue's unique id (`SqsEventSource:<id>`).
    noteUniqueIdUser(this.queue);
    consumer.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: t.batchSize,
        maxBatchingWindow: window > 0 ? Duration.seconds(window) : undefined,
        reportBatchItemFailures: true,
        maxConcurrency: t.maxConcurrency,
      }),
    );
    props.alarms?.deadLetterQueue(this.deadLetterQueue);
  }

  /** Seconds: 6 × the function timeout plus the batching window (both in seconds). */
  static visibilityTimeoutSeconds(functionTimeoutSeconds: number, batchingWindowSeconds: number): number {
    return 6 * functionTimeoutSeconds + batchingWindowSeconds;
  }
}
