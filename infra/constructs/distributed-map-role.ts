/**
 * What the role of a state machine with a Distributed Map needs besides invoking its functions:
 * vended log delivery and X-Ray (actions without resource-level permissions), and its own child
 * executions (start, describe/stop, redrive of the Map Run). Shared by the rebuild and render
 * fan-out state machines; the child policy is a separate policy because it names the state machine
 * itself, which must not wait for it.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { NagAcknowledgements } from '../nag.ts';

/**
 * Grants `role` log delivery, tracing and its Distributed Map's child executions.
 * @param id the state machine's construct id (the child policy is `<id>-ChildExecutions`)
 * @param mapLabel the Map state's name (Map Run ARNs end in `/<mapLabel>:<run id>`)
 */
export function grantDistributedMapRole(
  scope: Construct,
  id: string,
  role: iam.Role,
  stateMachineName: string,
  mapLabel: string,
  nag: NagAcknowledgements,
): void {
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
  nag.add(
    role,
    'AwsSolutions-IAM5[Resource::*]',
    'AWS requires Resource "*" for these actions: CloudWatch Logs vended log delivery (logs:*LogDelivery*, PutResourcePolicy, Describe*) used by Step Functions logging, and X-Ray trace submission; neither supports resource-level permissions.',
  );
  const executions = `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${stateMachineName}`;
  const executionsFlat = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stateMachineName}`;
  const childPolicy = new iam.Policy(scope, `${id}-ChildExecutions`, {
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
        resources: [`${executions}/${mapLabel}:*`],
      }),
    ],
  });
  nag.add(
    childPolicy,
    `AwsSolutions-IAM5[Resource::${executionsFlat}:*]`,
    'Distributed Map child executions of this state machine only; their names are generated at run time, so the execution ARN ends in a wildcard.',
  );
  nag.add(
    childPolicy,
    `AwsSolutions-IAM5[Resource::${executionsFlat}/${mapLabel}:*]`,
    `Redrive of this state machine's Map Run (label "${mapLabel}") only; Map Run ids are generated at run time.`,
  );
}
