/**
 * Alarms: the encrypted topic and an alarm for every DLQ, queue age, function, rebuild and the API.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../infra/ls-export-stack.ts';
import {
  FULL_PROPS,
  fnId as fnIdOf,
  logicalId,
  ofType,
  type Resource,
  type Synth,
  synth,
} from './helpers.ts';

const FUNCTIONS: FunctionName[] = ['ingest', 'render', 'snapshot', 'rebuildBatch', 'rebuildMerge', 'api'];

let s: Synth;
beforeAll(() => {
  s = synth(FULL_PROPS);
});

const fnId = (name: FunctionName) => fnIdOf(s, name);
const resource = (id: string): Resource => s.json.Resources[id];

describe('alarms', () => {
  const alarms = () => ofType(s, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const topicRef = () => ({ Ref: logicalId(s, s.ls.alarmTopic) });

  it('every DLQ alarms on visible messages', () => {
    for (const dlq of s.ls.deadLetterQueues) {
      const id = logicalId(s, dlq);
      const a = alarms().find(
        (x) =>
          x.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          x.Dimensions?.[0]?.Value?.['Fn::GetAtt']?.[0] === id,
      );
      expect(a, `alarm for ${id}`).toMatchObject({
        Namespace: 'AWS/SQS',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [topicRef()],
      });
    }
    expect(s.ls.deadLetterQueues).toHaveLength(4);
  });

  it('the ingest queue alarms on the age of its oldest message', () => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        MetricName: 'ApproximateAgeOfOldestMessage',
        Threshold: 900,
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(s, s.ls.queues.ingest), 'QueueName'] } },
        ],
      }),
    );
  });

  it('every function alarms on errors and throttles', () => {
    for (const name of FUNCTIONS) {
      for (const metric of ['Errors', 'Throttles']) {
        expect(alarms()).toContainEqual(
          expect.objectContaining({
            Namespace: 'AWS/Lambda',
            MetricName: metric,
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(name) } }],
            Threshold: 0,
            AlarmActions: [topicRef()],
          }),
        );
      }
    }
  });

  it('every state machine alarms on failed executions', () => {
    for (const sm of s.ls.stateMachines.values()) {
      expect(alarms()).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/States',
          MetricName: 'ExecutionsFailed',
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalId(s, sm) } }],
          AlarmActions: [topicRef()],
        }),
      );
    }
  });

  it('the topic is KMS-encrypted, usable by CloudWatch, TLS-only, with the e-mail subscription', () => {
    const [[, topic]] = ofType(s, 'AWS::SNS::Topic');
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    const key = resource(topic.Properties.KmsMasterKeyId['Fn::GetAtt'][0]);
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' } }),
    );
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    const [[, tp]] = ofType(s, 'AWS::SNS::TopicPolicy');
    expect(tp.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(synth().template.findResources('AWS::SNS::Subscription')).toEqual({});
  });
});
