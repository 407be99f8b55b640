/**
 * The alarm topic (KMS-encrypted, usable by CloudWatch, TLS-only, optional e-mail subscription) and
 * the alarms of the other constructs: each one is a 5-minute, greater-than-threshold alarm with
 * alarm and OK notifications to the topic.
 */
import { Aws, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { markGroupingScope } from './logical-ids.ts';
import { sanitize } from './shared.ts';

export interface AlarmsProps {
  /** E-mail address subscribed to the topic (the subscription must be confirmed). */
  readonly email?: string;
  readonly removalPolicy: RemovalPolicy;
}

const PERIOD = Duration.minutes(5);

export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  /** Every alarm created through this construct. */
  readonly all: cw.Alarm[] = [];
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    markGroupingScope(this);
    this.key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'ls-export: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    // CloudWatch alarms can publish to an encrypted topic only when the key lets CloudWatch use it.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'ls-export alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    if (props.email) this.topic.addSubscription(new subs.EmailSubscription(props.email));
    this.action = new SnsAction(this.topic);
  }

  /** An alarm `id` that fires when `metric` exceeds `threshold` in one 5-minute period. */
  add(id: string, metric: cw.IMetric, threshold: number, description: string): cw.Alarm {
    const a = new cw.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    a.addAlarmAction(this.action);
    a.addOkAction(this.action);
    this.all.push(a);
    return a;
  }

  /** `<queue id>Messages`: any visible message in a dead-letter queue. */
  deadLetterQueue(dlq: sqs.IQueue & Construct): void {
    const name = dlq.node.id;
    this.add(
      `${name}Messages`,
      dlq.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: cw.Stats.MAXIMUM }),
      0,
      `ls-export: messages in ${name}; inspect them, fix the cause, then redrive them to the source queue`,
    );
  }

  /** `<id>OldestMessageAge`: the oldest message of `queue` is older than `maxAgeSeconds`. */
  queueAge(id: string, queue: sqs.IQueue, maxAgeSeconds: number, description: string): void {
    this.add(
      `${id}OldestMessageAge`,
      queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: cw.Stats.MAXIMUM }),
      maxAgeSeconds,
      description,
    );
  }

  /** `<Name>Errors` and `<Name>Throttles` of a function (`name` as in the functions record). */
  lambdaFunction(name: string, fn: lambda.IFunction): void {
    const id = name[0].toUpperCase() + name.slice(1);
    this.add(
      `${id}Errors`,
      fn.metricErrors({ period: PERIOD, statistic: cw.Stats.SUM }),
      0,
      `ls-export: ${name} function errors`,
    );
    this.add(
      `${id}Throttles`,
      fn.metricThrottles({ period: PERIOD, statistic: cw.Stats.SUM }),
      0,
      `ls-export: ${name} function throttles`,
    );
  }

  /** `Rebuild-<project>-ExecutionsFailed` / `-ExecutionsTimedOut` of a project's rebuild. */
  rebuild(projectId: string, sm: sfn.IStateMachine): void {
    const id = sanitize(projectId);
    this.add(
      `Rebuild-${id}-ExecutionsFailed`,
      sm.metricFailed({ period: PERIOD, statistic: cw.Stats.SUM }),
      0,
      `ls-export: rebuild of project ${projectId} failed`,
    );
    this.add(
      `Rebuild-${id}-ExecutionsTimedOut`,
      sm.metricTimedOut({ period: PERIOD, statistic: cw.Stats.SUM }),
      0,
      `ls-export: rebuild of project ${projectId} timed out`,
    );
  }

  /** `RenderFanout-<project>-ExecutionsFailed` / `-ExecutionsTimedOut` of a project's render fan-out. */
  renderFanout(projectId: string, sm: sfn.IStateMachine): void {
    const id = sanitize(projectId);
    this.add(
      `RenderFanout-${id}-ExecutionsFailed`,
      sm.metricFailed({ period: PERIOD, statistic: cw.Stats.SUM }),
      0,
      `ls-export: render fan-out of project ${projectId} failed`,
    );
    this.add(
      `RenderFanout-${id}-ExecutionsTimedOut`,
      sm.metricTimedOut({ period: PERIOD, statistic: cw.Stats.SUM }),
      0,
      `ls-export: render fan-out of project ${projectId} timed out`,
    );
  }

  /** `ApiServerErrors`: any 5xx response of the HTTP API. */
  httpApi(api: apigw.HttpApi): void {
    this.add(
      'ApiServerErrors',
      api.metricServerError({ period: PERIOD, statistic: cw.Stats.SUM }),
      0,
      'ls-export: the export API returned 5xx responses',
    );
  }
}
