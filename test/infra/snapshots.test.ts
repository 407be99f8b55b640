/**
 * Snapshots: the nightly EventBridge schedule of the snapshot function.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../infra/ls-export-stack.ts';
import { FULL_PROPS, flat, fnId as fnIdOf, ofType, roleStatements, type Synth, synth } from './helpers.ts';

let s: Synth;
beforeAll(() => {
  s = synth(FULL_PROPS);
});

const fnId = (name: FunctionName) => fnIdOf(s, name);

describe('nightly schedule', () => {
  it('uses EventBridge Scheduler with the configured cron and time zone, no flexible window', () => {
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [fnId('snapshot'), 'Arn'] },
        Input: JSON.stringify({ kind: 'nightly' }),
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 7200 },
        DeadLetterConfig: { Arn: Match.anyValue() },
      },
    });
  });

  it('defaults to 02:15 UTC', () => {
    synth().template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(15 2 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
    });
  });

  it('its role can invoke exactly the snapshot function and write to its DLQ', () => {
    const [[schedId, sched]] = ofType(s, 'AWS::Scheduler::Schedule');
    expect(schedId).toBeDefined();
    const role = sched.Properties.Target.RoleArn['Fn::GetAtt'][0];
    const statements = roleStatements(s, role);
    expect(statements.map((st) => [st.Action, flat(st.Resource)])).toEqual([
      ['lambda:InvokeFunction', `<${fnId('snapshot')}.Arn>`],
      ['sqs:SendMessage', flat(sched.Properties.Target.DeadLetterConfig.Arn)],
    ]);
  });
});
