/**
 * The render fan-out port over Step Functions (pipeline/context.ts RenderFanoutPort): StartExecution
 * on the project's render state machine, whose ARN the deployment passes by project id
 * (`LS_EXPORT_RENDER_STATE_MACHINES`, JSON `{projectId: arn}`, set on the render function by
 * infra/constructs/render.ts and on the snapshot function by infra/constructs/snapshots.ts).
 * `ExecutionAlreadyExists` (the same name was started before: a duplicate SQS delivery, a retried
 * export request) is success.
 */
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { RenderFanoutPort } from '../pipeline/context.ts';

/**
 * `stateMachines`: ARN by ls-export project id; `minSegments`: the routing threshold (>= 1).
 * `start` throws for a project without a state machine and for any other service error.
 */
export function sfnRenderFanout(
  client: SFNClient,
  stateMachines: Readonly<Record<string, string>>,
  minSegments: number,
): RenderFanoutPort {
  return {
    minSegments,
    async start(project, name, input) {
      const arn = stateMachines[project.id];
      if (!arn)
        throw new Error(`project ${project.id}: no render state machine in LS_EXPORT_RENDER_STATE_MACHINES`);
      try {
        const r = await client.send(
          new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify(input) }),
        );
        return { executionArn: r.executionArn ?? executionArn(arn, name), existed: false };
      } catch (err) {
        if (
          err instanceof ExecutionAlreadyExists ||
          (err as { name?: string }).name === 'ExecutionAlreadyExists'
        )
          return { executionArn: executionArn(arn, name), existed: true };
        throw err;
      }
    },
  };
}

/** `arn:…:stateMachine:<name>` → `arn:…:execution:<name>:<execution>`. */
export function executionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
