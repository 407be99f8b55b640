/**
 * What the concern constructs of one deployment share: the validated layout, the export storage,
 * the deployed configuration, the alarms, the cdk-nag acknowledgements and the function defaults.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { DeploymentLayout } from '../layout.ts';
import type { NagAcknowledgements } from '../nag.ts';
import { PipelineFunction } from '../pipeline-function.ts';
import type { S3Location } from '../s3-access.ts';
import type { Alarms } from './alarms.ts';
import type { DeployedConfig } from './deployed-config.ts';
import type { ExportStorage } from './export-storage.ts';
import { type FunctionDefaults, type FunctionTuning, tuned } from './shared.ts';

export interface PipelineProps {
  readonly layout: DeploymentLayout;
  readonly storage: ExportStorage;
  readonly config: DeployedConfig;
  readonly alarms: Alarms;
  readonly nag: NagAcknowledgements;
  readonly functionDefaults: FunctionDefaults;
}

export interface FunctionSpec {
  /** Handler entry relative to the repository root. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  readonly tuning?: FunctionTuning;
  /** /tmp size in MiB for functions that spool (default: Lambda's 512). */
  readonly ephemeralStorageMiB?: number;
}

/**
 * A pipeline function with the deployment's defaults that can read the deployed configuration,
 * waits for it, and alarms on errors and throttles (`alarmName` as in `LsExport.functions`).
 */
export function pipelineFunction(
  scope: Construct,
  id: string,
  alarmName: string,
  props: PipelineProps,
  spec: FunctionSpec,
): PipelineFunction {
  const f = new PipelineFunction(scope, id, {
    ...props.functionDefaults,
    ...tuned(spec.tuning, spec.memorySize, spec.timeoutSeconds),
    entry: spec.entry,
    description: spec.description,
    ephemeralStorageMiB: spec.ephemeralStorageMiB,
  });
  props.config.grantRead(f);
  f.acknowledgeTracing(props.nag);
  props.alarms.lambdaFunction(alarmName, f.fn);
  return f;
}

/** Every watched source prefix of the deployment. */
export function sourceLocations(layout: DeploymentLayout): S3Location[] {
  return layout.projects.map((p) => ({ bucket: p.sourceBucket, prefix: p.sourcePrefix }));
}

/** One area (`state`, `latest`, …) of every project in the export bucket. */
export function exportAreas(
  layout: DeploymentLayout,
  area: 'state' | 'latest' | 'snapshots' | 'exports',
): S3Location[] {
  return layout.projects.map((p) => ({ bucket: layout.exportBucketName, prefix: p[area] }));
}

/** `kms:Decrypt` on the given keys, only through S3 (SSE-KMS source objects). */
export function grantSourceKms(f: PipelineFunction, keyArns: readonly string[] | undefined): void {
  if (!keyArns || keyArns.length === 0) return;
  f.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DecryptSourceObjects',
      actions: ['kms:Decrypt'],
      resources: [...keyArns],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } },
    }),
  );
}
