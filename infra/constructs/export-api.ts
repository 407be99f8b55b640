/**
 * The export API: an HTTP API shaped like Label Studio's export API, authorized on every request by
 * IAM (SigV4, default) or by Label Studio's `Authorization: Token <key>` (`auth: 'token'`,
 * api-token-auth.ts), a throttled `$default` stage with JSON access logs, and the api function. The
 * function creates export records (`_exports/`, reserving a snapshot folder with its `export.json`
 * only), serves presigned snapshot downloads, deletes snapshots with their record, and serves the
 * published export (`latest/`, through its manifest, by S3 version id) and `/api/version`.
 *
 * One route, `ANY /api/{proxy+}`, sends every `/api/…` request to the function, which routes it
 * itself (functions/handlers/api.ts), because:
 * - Label Studio's SDK calls `/api/version/` and `…/exports/` with a trailing slash, and an HTTP API
 *   route path cannot end with `/` (CDK and API Gateway refuse it); the function's routes accept
 *   both forms;
 * - a wrong method on a known path gets the function's 405 with `Allow` (per-method routes would get
 *   API Gateway's own 404), and an unknown path the function's Label Studio-shaped 404;
 * - callers' IAM policies still scope by path: `execute-api:Invoke` is evaluated against the request
 *   (`…/$default/GET/api/projects/12/exports`), not the route. Access logs carry the request path.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { PipelineFunction } from '../pipeline-function.ts';
import { DELETE, READ, S3Access, WRITE } from '../s3-access.ts';
import { ApiTokenAuth } from './api-token-auth.ts';
import { markGroupingScope } from './logical-ids.ts';
import { exportAreas, type PipelineProps, pipelineFunction } from './pipeline.ts';
import type { FunctionTuning } from './shared.ts';

export interface ExportApiProps extends PipelineProps {
  readonly tuning?: FunctionTuning & {
    /** Steady-state requests per second. Default 20. */
    readonly throttleRateLimit?: number;
    /** Default 40. */
    readonly throttleBurstLimit?: number;
  };
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** `iam` (default): SigV4 on every request; `token`: Label Studio's `Authorization: Token <key>`. */
  readonly auth?: ApiAuth;
}

export type ApiAuth = 'iam' | 'token';

/** The one route of the API (see above). */
export const API_ROUTE_PATH = '/api/{proxy+}';

export class ExportApi extends Construct {
  readonly function: PipelineFunction;
  readonly httpApi: apigw.HttpApi;
  /** The token authorizer, its function and secret; only with `auth: 'token'`. */
  readonly tokenAuth?: ApiTokenAuth;

  constructor(scope: Construct, id: string, props: ExportApiProps) {
    super(scope, id);
    markGroupingScope(this);
    const { layout } = props;
    const t = props.tuning ?? {};
    this.function = pipelineFunction(this, 'ApiFunction', 'api', props, {
      entry: 'functions/handlers/api.ts',
      description: 'ls-export: export API shaped like Label Studio export snapshots',
      memorySize: 512,
      timeoutSeconds: 29,
      tuning: t,
    });
    const exportsArea = exportAreas(layout, 'exports');
    const snapshots = exportAreas(layout, 'snapshots');
    const access = new S3Access(this.function.role, props.nag);
    access.objects('ReadWriteExports', [...READ, ...WRITE, ...DELETE], exportsArea);
    access.objects('ReadDeleteSnapshots', [...READ, ...DELETE], snapshots);
    access.objects(
      'ReserveSnapshotFolders',
      ['s3:PutObject'],
      layout.projects.map((p) => ({
        bucket: layout.exportBucketName,
        prefix: `${p.snapshots}*/export.json`,
        exact: true,
      })),
    );
    access.list('ListExportsAndSnapshots', [...exportsArea, ...snapshots]);
    // Downloads of `latest/` presign the manifest's version of a file (GetObjectVersion); listing
    // makes a missing manifest a 404 ("no export published yet") instead of S3's 403. Snapshot
    // downloads presign the current object (no version id): GetObject is enough there.
    const latest = exportAreas(layout, 'latest');
    access.objects('ReadLatestVersions', ['s3:GetObject', 's3:GetObjectVersion'], latest);
    access.list('ListLatest', latest);

    if (props.auth === 'token') this.tokenAuth = new ApiTokenAuth(this, 'TokenAuth', props);
    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: this.tokenAuth
        ? 'ls-export API (Label Studio export shape); Label Studio token authorization'
        : 'ls-export API (Label Studio export-snapshot shape); IAM (SigV4) authorization',
      defaultAuthorizer: this.tokenAuth?.authorizer ?? new HttpIamAuthorizer(),
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    new apigw.HttpStage(this, 'HttpApiStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: t.throttleRateLimit ?? 20, burstLimit: t.throttleBurstLimit ?? 40 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            method: '$context.httpMethod',
            path: '$context.path',
            caller: '$context.identity.caller',
            user: '$context.identity.userArn',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            latency: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            // Which key version (AWSCURRENT/AWSPREVIOUS) a token request used: shows who still
            // uses the previous key before the next rotation.
            ...(this.tokenAuth ? { tokenStage: '$context.authorizer.tokenStage' } : {}),
          }),
        ),
      },
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', this.function.fn);
    this.httpApi.addRoutes({ path: API_ROUTE_PATH, methods: [apigw.HttpMethod.ANY], integration });
    props.alarms.httpApi(this.httpApi);
  }
}
