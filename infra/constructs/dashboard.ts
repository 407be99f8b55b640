/**
 * One CloudWatch dashboard of a deployment: the queues (depth, oldest message, dead letters), the
 * functions (errors, throttles, duration), the API (5xx, 4xx, latency), the rebuilds (executions),
 * and the pipeline's own metrics (namespace `LsExport`, Powertools EMF written by the handlers:
 * tasks ingested, renders, render lag, skipped items, media refusals; functions/pipeline/metrics.ts).
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC } from '../../functions/pipeline/metrics.ts';
import { markGroupingScope } from './logical-ids.ts';

/** Namespace and `service` dimension of the handlers' metrics (functions/runtime/observability.ts). */
export const PIPELINE_NAMESPACE = 'LsExport';
export const PIPELINE_SERVICE = 'ls-export';

export interface DashboardProps {
  /** The work queues by name (ingest, render, snapshot). */
  readonly queues: Readonly<Record<string, sqs.IQueue>>;
  readonly deadLetterQueues: readonly (sqs.IQueue & Construct)[];
  /** The functions by name (as `LsExport.functions`, plus the token authorizer when there is one). */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly httpApi: apigw.IHttpApi;
  /** The rebuild state machine of each project, by ls-export project id. */
  readonly stateMachines: ReadonlyMap<string, sfn.IStateMachine>;
  /** The ls-export project ids (for the per-project render lag). */
  readonly projectIds: readonly string[];
}

const PERIOD = Duration.minutes(5);
const WIDTH = 8;
const HEIGHT = 6;

/** A metric of the handlers (service total, or one project's with `project`). */
export function pipelineMetric(name: string, statistic: string, project?: string): cw.Metric {
  return new cw.Metric({
    namespace: PIPELINE_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: PIPELINE_SERVICE, ...(project ? { project } : {}) },
    statistic,
    period: PERIOD,
    label: project ? `${name} ${project}` : name,
  });
}

export class Dashboard extends Construct {
  readonly dashboard: cw.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    markGroupingScope(this);
    const graph = (title: string, left: cw.IMetric[], extra: Partial<cw.GraphWidgetProps> = {}) =>
      new cw.GraphWidget({ title, left, width: WIDTH, height: HEIGHT, ...extra });
    const queues = Object.entries(props.queues);
    const fns = Object.entries(props.functions);
    const sum = { statistic: cw.Stats.SUM, period: PERIOD };
    const max = { statistic: cw.Stats.MAXIMUM, period: PERIOD };

    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(6),
      widgets: [
        [
          graph(
            'Queue depth (visible messages)',
            queues.map(([n, q]) => q.metricApproximateNumberOfMessagesVisible({ ...max, label: n })),
          ),
          graph(
            'Oldest message age (s)',
            queues.map(([n, q]) => q.metricApproximateAgeOfOldestMessage({ ...max, label: n })),
          ),
          graph(
            'Dead-letter queues (visible messages)',
            props.deadLetterQueues.map((q) =>
              q.metricApproximateNumberOfMessagesVisible({ ...max, label: q.node.id }),
            ),
          ),
        ],
        [
          graph(
            'Function errors',
            fns.map(([n, f]) => f.metricErrors({ ...sum, label: n })),
          ),
          graph(
            'Function throttles',
            fns.map(([n, f]) => f.metricThrottles({ ...sum, label: n })),
          ),
          graph(
            'Function duration p99 (ms)',
            fns.map(([n, f]) => f.metricDuration({ statistic: cw.Stats.p(99), period: PERIOD, label: n })),
          ),
        ],
        [
          graph('API responses', [
            props.httpApi.metricServerError({ ...sum, label: '5xx' }),
            props.httpApi.metricClientError({ ...sum, label: '4xx' }),
            props.httpApi.metricCount({ ...sum, label: 'requests' }),
          ]),
          graph('API latency (ms)', [
            props.httpApi.metricLatency({ statistic: cw.Stats.p(50), period: PERIOD, label: 'p50' }),
            props.httpApi.metricLatency({ statistic: cw.Stats.p(99), period: PERIOD, label: 'p99' }),
            props.httpApi.metricIntegrationLatency({
              statistic: cw.Stats.p(99),
              period: PERIOD,
              label: 'integration p99',
            }),
          ]),
          graph(
            'Rebuild executions',
            [...props.stateMachines].flatMap(([p, sm]) => [
              sm.metricStarted({ ...sum, label: `${p} started` }),
              sm.metricSucceeded({ ...sum, label: `${p} succeeded` }),
              sm.metricFailed({ ...sum, label: `${p} failed` }),
              sm.metricTimedOut({ ...sum, label: `${p} timed out` }),
            ]),
          ),
        ],
        [
          graph('Tasks ingested / objects skipped', [
            pipelineMetric(METRIC.TasksIngested, cw.Stats.SUM),
            pipelineMetric(METRIC.ObjectsSkipped, cw.Stats.SUM),
          ]),
          graph('Renders', [pipelineMetric(METRIC.Renders, cw.Stats.SUM)]),
          graph(
            'Render lag (s, change → published), max',
            props.projectIds.map((p) => pipelineMetric(METRIC.RenderLagSeconds, cw.Stats.MAXIMUM, p)),
          ),
        ],
        [
          graph('Skipped items / media refusals', [
            pipelineMetric(METRIC.SkippedItems, cw.Stats.SUM),
            pipelineMetric(METRIC.MediaRefusals, cw.Stats.SUM),
          ]),
        ],
      ],
    });
  }
}
