/**
 * Render: the export bucket notifies the render queue (a delivery delay debounces bursts) when a
 * project's `_state/dirty` marker is created (`subscribe`); the render function rewrites `latest/`. It may
 * read/write `_state/` and `latest/` and read the media locations (see infra/media.ts).
 * `routeTo` hands it the projects' render state machines (render-fanout.ts): a render with at
 * least `fanoutSegments` changed segments starts its project's execution instead of rendering here.
 */
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { NotificationRoute } from '../../functions/pipeline/notifications.ts';
import { DEFAULT_FANOUT_SEGMENTS } from '../../functions/pipeline/render-route.ts';
import type { PipelineFunction } from '../pipeline-function.ts';
import { DELETE, READ, READ_VERSIONS, S3Access, type S3Location, WRITE } from '../s3-access.ts';
import { routeToFanout } from './fanout-route.ts';
import { markGroupingScope } from './logical-ids.ts';
import { addRouteNotifications } from './notifications.ts';
import { exportAreas, type PipelineProps, pipelineFunction } from './pipeline.ts';
import { QueueConsumer } from './queue-consumer.ts';
import { type QueueConsumerTuning, withDefaults } from './shared.ts';

export interface RenderProps extends PipelineProps {
  readonly tuning?: QueueConsumerTuning;
  /** Delivery delay of the render queue, 0–900 s. Default 60. */
  readonly debounceSeconds?: number;
  /** Locations render may read media from (already checked against the export areas). */
  readonly media: readonly S3Location[];
}

/** Render runs few at a time. */
export const RENDER_DEFAULTS = { batchSize: 10, maxBatchingWindowSeconds: 5, maxConcurrency: 2 } as const;

export class Render extends Construct {
  readonly function: PipelineFunction;
  readonly consumer: QueueConsumer;
  private readonly destination: s3n.SqsDestination;
  private readonly exportBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: RenderProps) {
    super(scope, id);
    markGroupingScope(this);
    const { layout } = props;
    this.function = pipelineFunction(this, 'Render', 'render', props, {
      entry: 'functions/handlers/render.ts',
      description: 'ls-export: renders the latest/ exports of dirty projects',
      memorySize: 1769,
      timeoutSeconds: 900,
      // CSV/COCO spools and the segments' aggregate bodies (segments-spool.ts) live in /tmp.
      ephemeralStorageMiB: 10240,
      tuning: props.tuning,
    });
    const state = exportAreas(layout, 'state');
    const latest = exportAreas(layout, 'latest');
    const access = new S3Access(this.function.role, props.nag);
    access.objects('ReadWriteState', [...READ, ...WRITE, ...DELETE], state);
    access.objects('ReadWriteLatest', [...READ, ...READ_VERSIONS, ...WRITE, ...DELETE], latest);
    access.list('ListStateAndLatest', [...state, ...latest]);
    access.objects('ReadMedia', READ, props.media);
    access.list('ListMedia', props.media);

    this.consumer = new QueueConsumer(this, 'Consumer', {
      name: 'Render',
      consumer: this.function,
      tuning: withDefaults(RENDER_DEFAULTS, props.tuning),
      deliveryDelaySeconds: props.debounceSeconds ?? 60,
      alarms: props.alarms,
    });
    this.destination = new s3n.SqsDestination(this.consumer.queue);
    this.exportBucket = props.storage.exportBucket;
  }

  /**
   * Subscribes the render queue to a `render` route (a project's `_state/dirty` marker created).
   * `LsExport` calls it per project, interleaved with `Snapshots.subscribe`, in the order of
   * `notificationRoutes`.
   */
  subscribe(route: NotificationRoute): void {
    addRouteNotifications(this.exportBucket, this.destination, route);
  }

  /**
   * Routes large renders to the fan-out: sets `LS_EXPORT_RENDER_STATE_MACHINES` (JSON, project id →
   * state machine ARN) and `LS_EXPORT_RENDER_FANOUT_SEGMENTS` (default 20) on the render function
   * and grants it `states:StartExecution` on exactly these state machines. Throws ConfigError for
   * a threshold that is not an integer >= 1.
   */
  routeTo(
    stateMachines: ReadonlyMap<string, sfn.IStateMachine>,
    fanoutSegments = DEFAULT_FANOUT_SEGMENTS,
  ): void {
    routeToFanout(this.function, stateMachines, fanoutSegments);
  }
}
