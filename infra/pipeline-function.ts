/**
 * The house defaults for every ls-export Lambda function, in one place: Node 24 on arm64, an ESM
 * bundle built by the local esbuild (no Docker), source maps, a dedicated log group with retention,
 * JSON structured logs, active X-Ray tracing, and a role of its own that can write only to that log group (no AWS managed
 * policy); each function then gets its data permissions from the stack.
 */
import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { NagAcknowledgements } from './nag.ts';

/** Repository root: bundling's projectRoot, where package-lock.json lives. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The Lambda runtime of every function (cdk-nag L1 wants the latest; Node 20 is end of life). */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;

/** ESM bundles that pull in CommonJS dependencies calling `require` need a real `require`. */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __lsxCreateRequire } from 'node:module'; const require = __lsxCreateRequire(import.meta.url);";

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface PipelineFunctionProps {
  /** Handler entry relative to the repository root, e.g. `functions/handlers/ingest.ts`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  readonly logLevel: LogLevel;
  readonly reservedConcurrentExecutions?: number;
  /** /tmp size in MiB (512 by default): spools of CSV/COCO and of render segments live there. */
  readonly ephemeralStorageMiB?: number;
}

export class PipelineFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `ls-export ${id}: log delivery to its own log group plus the data access granted by the stack`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      entry: fileURLToPath(new URL(`../${props.entry}`, import.meta.url)),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: fileURLToPath(new URL('../package-lock.json', import.meta.url)),
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      // X-Ray traces from the Powertools Tracer in every handler (functions/runtime/observability.ts).
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel[props.logLevel],
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      ephemeralStorageSize: props.ephemeralStorageMiB ? Size.mebibytes(props.ephemeralStorageMiB) : undefined,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        sourceMap: true,
        sourcesContent: false,
        minify: true,
        keepNames: true,
        // Ship the SDK version pinned in package-lock.json instead of the runtime's.
        bundleAwsSDK: true,
      },
    });
    // The function must not start before its role can write logs.
    this.fn.node.addDependency(this.role);
  }

  /**
   * Records why the role's one `Resource: *` statement is fine: active tracing adds
   * `xray:PutTraceSegments`/`xray:PutTelemetryRecords`, which have no resource-level permissions.
   */
  acknowledgeTracing(nag: NagAcknowledgements): void {
    nag.add(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Active X-Ray tracing (Powertools Tracer) needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions; the role has no other statement on *.',
    );
  }

  /** The function timeout in seconds (used for the queue visibility rule). */
  get timeoutSeconds(): number {
    return (this.fn.timeout ?? Duration.seconds(3)).toSeconds();
  }
}
