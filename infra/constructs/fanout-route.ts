/**
 * Lets a pipeline function start the projects' render state machines: sets
 * `LS_EXPORT_RENDER_STATE_MACHINES` (JSON, project id → state machine ARN) and
 * `LS_EXPORT_RENDER_FANOUT_SEGMENTS` on it and grants `states:StartExecution` on exactly those
 * state machines (functions/runtime/render-fanout.ts reads both). Used by the render function
 * (large renders) and the snapshot function (large snapshots).
 */
import { Stack } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ConfigError } from '../../functions/pipeline/config.ts';
import type { PipelineFunction } from '../pipeline-function.ts';

/** Throws ConfigError for a threshold that is not an integer >= 1; no state machine: nothing set. */
export function routeToFanout(
  fn: PipelineFunction,
  stateMachines: ReadonlyMap<string, sfn.IStateMachine>,
  fanoutSegments: number,
): void {
  if (!Number.isInteger(fanoutSegments) || fanoutSegments < 1)
    throw new ConfigError(`renderFanoutSegments must be an integer >= 1, got ${fanoutSegments}`);
  if (stateMachines.size === 0) return;
  const arns: Record<string, string> = {};
  for (const [projectId, sm] of stateMachines) {
    arns[projectId] = sm.stateMachineArn;
    sm.grantStartExecution(fn.role);
  }
  fn.fn.addEnvironment('LS_EXPORT_RENDER_STATE_MACHINES', Stack.of(fn.fn).toJsonString(arns));
  fn.fn.addEnvironment('LS_EXPORT_RENDER_FANOUT_SEGMENTS', String(fanoutSegments));
}
