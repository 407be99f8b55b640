/**
 * cdk-nag acknowledgements, recorded in one place. Every acknowledgement goes through
 * `NagAcknowledgements.add`, which calls `Validations.of(scope).acknowledge` (cdk-nag 3) and keeps
 * a list the tests assert over (each one carries a written reason).
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface NagAcknowledgement {
  /** Construct path the acknowledgement is attached to (it covers that construct and its children). */
  readonly path: string;
  /** Rule id, granular where cdk-nag reports findings (`AwsSolutions-IAM5[Resource::…]`). */
  readonly id: string;
  readonly reason: string;
}

export class NagAcknowledgements {
  private readonly list: NagAcknowledgement[] = [];

  add(scope: IConstruct, id: string, reason: string): void {
    if (reason.trim().length < 20) throw new Error(`cdk-nag acknowledgement ${id} needs a written reason`);
    const path = scope.node.path;
    if (this.list.some((a) => a.path === path && a.id === id)) return;
    Validations.of(scope).acknowledge({ id, reason });
    this.list.push({ path, id, reason });
  }

  get all(): readonly NagAcknowledgement[] {
    return this.list;
  }
}

/** The id cdk-nag gives a wildcard resource finding for a literal ARN built with `Aws.PARTITION`. */
export function iam5Resource(arnWithPartitionPlaceholder: string): string {
  return `AwsSolutions-IAM5[Resource::${arnWithPartitionPlaceholder}]`;
}
