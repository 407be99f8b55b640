/**
 * The ls-export stack: the `LsExport` construct (infra/constructs/ls-export.ts) plus the stack
 * outputs. Logical ids stay those of the stack before the constructs were split out: the grouping
 * constructs (`LsExport`, `Storage`, `EventIngest`, …) are left out of them (see
 * constructs/logical-ids.ts), so an update of an existing deployment replaces nothing — the export
 * bucket and the named state machines could not be replaced at all.
 */
import { type CfnElement, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';
import { flatLogicalIdScopes, uniqueIdUsersOf } from './constructs/logical-ids.ts';
import { LsExport, type LsExportProps } from './constructs/ls-export.ts';
import { sanitize } from './constructs/shared.ts';

export type { FunctionName } from './constructs/ls-export.ts';
export type { FunctionTuning, QueueConsumerTuning } from './constructs/shared.ts';

export interface LsExportStackProps extends StackProps, LsExportProps {}

export class LsExportStack extends Stack {
  readonly lsExport: LsExport;
  /** Logical id → construct path, to refuse two resources flattening to one id. */
  private readonly flatIds = new Map<string, string>();

  constructor(scope: Construct, id: string, props: LsExportStackProps) {
    super(scope, id, {
      description: 'ls-export: Label Studio target-storage objects to training-ready datasets',
      ...props,
    });
    const ls = new LsExport(this, 'LsExport', props);
    this.lsExport = ls;

    new CfnOutput(this, 'ExportBucketName', { value: ls.exportBucket.bucketName });
    new CfnOutput(this, 'ConfigObject', { value: ls.config.environment.LS_EXPORT_CONFIG_S3 });
    new CfnOutput(this, 'ApiEndpoint', { value: ls.httpApi.apiEndpoint });
    const token = ls.api.tokenAuth;
    if (token) {
      new CfnOutput(this, 'ApiTokenSecretArn', {
        value: token.secret.secretArn,
        description:
          'API key for "Authorization: Token <key>": aws secretsmanager get-secret-value --secret-id <this> --query SecretString --output text',
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: ls.alarmTopic.topicArn });
    new CfnOutput(this, 'IngestQueueUrl', { value: ls.queues.ingest.queueUrl });
    if (ls.dashboard) {
      new CfnOutput(this, 'DashboardName', { value: ls.dashboard.dashboard.dashboardName });
    }
    for (const [projectId, sm] of ls.stateMachines) {
      new CfnOutput(this, `RebuildStateMachine${sanitize(projectId)}`, {
        value: sm.stateMachineArn,
        description: `Rebuild of project ${projectId}: aws stepfunctions start-execution --state-machine-arn <this>`,
      });
    }
    for (const [projectId, sm] of ls.renderFanout.stateMachines) {
      new CfnOutput(this, `RenderFanoutStateMachine${sanitize(projectId)}`, {
        value: sm.stateMachineArn,
        description: `Render fan-out of project ${projectId} (started by the render function for large renders)`,
      });
    }
  }

  /** The cdk-nag acknowledgements of the deployment. */
  get nag(): LsExport['nag'] {
    return this.lsExport.nag;
  }

  /**
   * CDK's logical id of the element's path without the grouping scopes, where path components
   * named after a construct's unique id use the unique id of its flat path; throws on a collision.
   */
  protected override allocateLogicalId(element: CfnElement): string {
    const users = uniqueIdUsersOf(this.node.root);
    const rename = (id: string): string => {
      const colon = id.indexOf(':');
      const user = colon >= 0 ? users.get(id.slice(colon + 1)) : undefined;
      return user ? `${id.slice(0, colon + 1)}${this.flatUniqueId(user)}` : id;
    };
    const scopes = flatLogicalIdScopes(element.node.scopes);
    const below = scopes.slice(scopes.indexOf(this) + 1).map((s) => ({ node: { id: rename(s.node.id) } }));
    const id = this.uniqueId([this, ...below], this);
    const path = element.node.path;
    const other = this.flatIds.get(id);
    if (other !== undefined && other !== path) {
      throw new Error(`logical id ${id} of ${path} is already used by ${other}: rename one construct`);
    }
    this.flatIds.set(id, path);
    return id;
  }

  /** `Names.nodeUniqueId` of the construct's path without the grouping scopes. */
  private flatUniqueId(c: IConstruct): string {
    const scopes = flatLogicalIdScopes(c.node.scopes);
    return this.uniqueId(scopes, scopes[0]);
  }

  /** CDK's unique id of the ids of `scopes` below `from` (Stack.allocateLogicalId reads only these two). */
  private uniqueId(scopes: readonly { node: { id: string } }[], from: unknown): string {
    return super.allocateLogicalId({ node: { scopes }, stack: from } as unknown as CfnElement);
  }
}
