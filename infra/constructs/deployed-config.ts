/**
 * The deployed configuration: the validated pipeline configuration written to
 * `s3://<export bucket>/<configKey>` at deploy time by a one-call custom resource (its own role may
 * put exactly that key). Functions get its location in `LS_EXPORT_CONFIG_S3` (Lambda's environment
 * is limited to 4 KB) and `LS_EXPORT_CONFIG_SHA256`, which changes with the config so warm
 * containers are replaced.
 */
import { createHash } from 'node:crypto';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { DeploymentLayout } from '../layout.ts';
import type { NagAcknowledgements } from '../nag.ts';
import type { PipelineFunction } from '../pipeline-function.ts';
import { bucketArn, READ, S3Access, type S3Location } from '../s3-access.ts';
import { markGroupingScope } from './logical-ids.ts';

export interface DeployedConfigProps {
  readonly layout: DeploymentLayout;
  readonly exportBucket: s3.IBucket;
  readonly nag: NagAcknowledgements;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

export class DeployedConfig extends Construct {
  /** The environment every pipeline function gets: `LS_EXPORT_CONFIG_S3`, `LS_EXPORT_CONFIG_SHA256`. */
  readonly environment: { readonly LS_EXPORT_CONFIG_S3: string; readonly LS_EXPORT_CONFIG_SHA256: string };
  /** The custom resource that writes the object; functions depend on it. */
  readonly resource: cr.AwsCustomResource;
  private readonly props: DeployedConfigProps;

  constructor(scope: Construct, id: string, props: DeployedConfigProps) {
    super(scope, id);
    markGroupingScope(this);
    this.props = props;
    const { exportBucketName, configKey } = props.layout;
    const body = JSON.stringify(props.layout.config);
    this.environment = {
      LS_EXPORT_CONFIG_S3: `s3://${exportBucketName}/${configKey}`,
      LS_EXPORT_CONFIG_SHA256: createHash('sha256').update(body).digest('hex').slice(0, 16),
    };
    const logGroup = new logs.LogGroup(this, 'ConfigWriterLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const role = new iam.Role(this, 'ConfigWriterRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'ls-export: writes the deployed configuration object, nothing else',
    });
    logGroup.grantWrite(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteConfigObject',
        actions: ['s3:PutObject'],
        resources: [`${bucketArn(exportBucketName)}/${configKey}`],
      }),
    );
    const call: cr.AwsSdkCall = {
      service: 'S3',
      action: 'putObject',
      parameters: {
        Bucket: props.exportBucket.bucketName,
        Key: configKey,
        Body: body,
        ContentType: 'application/json',
      },
      physicalResourceId: cr.PhysicalResourceId.of(`s3://${exportBucketName}/${configKey}`),
    };
    this.resource = new cr.AwsCustomResource(this, 'DeployedConfig', {
      onCreate: call,
      onUpdate: call,
      role,
      logGroup,
      installLatestAwsSdk: false,
      timeout: Duration.minutes(2),
    });
    this.resource.node.addDependency(role);
  }

  /**
   * Lets a pipeline function read the configuration: `s3:GetObject` on the config object and on
   * every label config object the configuration references; the function waits for the object.
   */
  grantRead(f: PipelineFunction): void {
    const { layout, nag } = this.props;
    const objects: S3Location[] = [
      { bucket: layout.exportBucketName, prefix: layout.configKey, exact: true },
      ...layout.projects.flatMap((p): S3Location[] =>
        p.labelConfigObject
          ? [{ bucket: p.labelConfigObject.bucket, prefix: p.labelConfigObject.key, exact: true }]
          : [],
      ),
    ];
    new S3Access(f.role, nag).objects('ReadConfig', READ, objects);
    f.fn.node.addDependency(this.resource);
  }
}
