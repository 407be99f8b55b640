/**
 * The export API: an HTTP API with IAM (SigV4) authorization on every route, shaped like Label
 * Studio's export-snapshot API, a throttled `$default` stage with JSON access logs, and the api
 * function. The function creates export records (`_exports/`, reserving a snapshot folder with its
 * `export.json` only), serves presigned snapshot downloads and deletes snapshots with their record.
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
}

export class ExportApi extends Construct {
  readonly function: PipelineFunction;
  readonly httpApi: apigw.HttpApi;

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

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'ls-export API (Label Studio export-snapshot shape); IAM (SigV4) authorization',
      defaultAuthorizer: new HttpIamAuthorizer(),
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
            caller: '$context.identity.caller',
            user: '$context.identity.userArn',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            latency: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', this.function.fn);
    const M = apigw.HttpMethod;
    const routes: [string, apigw.HttpMethod[]][] = [
      ['/api/projects/{id}/exports', [M.POST, M.GET]],
      ['/api/projects/{id}/exports/{export_pk}', [M.GET, M.DELETE]],
      ['/api/projects/{id}/exports/{export_pk}/download', [M.GET]],
      ['/api/projects/{id}/exports/{export_pk}/convert', [M.POST]],
      ['/api/projects/{id}/export/formats', [M.GET]],
    ];
    for (const [path, methods] of routes) this.httpApi.addRoutes({ path, methods, integration });
    props.alarms.httpApi(this.httpApi);
  }
}
