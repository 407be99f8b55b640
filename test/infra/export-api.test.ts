/**
 * ExportApi: one `ANY /api/{proxy+}` route to the api function (Label Studio's paths with and
 * without a trailing slash, the function's own 404/405), IAM or token authorization, throttling,
 * access logs, and the api function's `latest/` grant.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { route } from '../../functions/handlers/api.ts';
import { stackPropsFromContext } from '../../infra/context.ts';
import {
  asArray,
  EXPORT,
  FULL_PROPS,
  flat,
  fnId,
  logicalId,
  ofType,
  type Resource,
  roleId,
  roleStatements,
  type Synth,
  s3Arn,
  synth,
} from './helpers.ts';

let s: Synth;
let token: Synth;
beforeAll(() => {
  s = synth(FULL_PROPS);
  token = synth({ ...FULL_PROPS, apiAuth: 'token' }, { nag: true });
});

const resource = (t: Synth, id: string): Resource => t.json.Resources[id];
const routes = (t: Synth) => ofType(t, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);

/** Whether API Gateway sends `path` to a route key's path (`{x}`: one segment, `{x+}`: the rest). */
function routeMatches(routePath: string, path: string): boolean {
  const pattern = routePath
    .split(/(\{[^}]+\})/)
    .map((part) =>
      part.startsWith('{')
        ? part.endsWith('+}')
          ? '.+'
          : '[^/]+'
        : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${pattern}$`).test(path);
}

/** The paths Label Studio's SDK and our README call, as sent (the SDK adds trailing slashes). */
const LS_PATHS = [
  '/api/version',
  '/api/projects/12/export',
  '/api/projects/12/export/formats',
  '/api/projects/12/exports',
  '/api/projects/12/exports/7',
  '/api/projects/12/exports/7/download',
  '/api/projects/12/exports/latest/download',
  '/api/projects/12/exports/7/convert',
];

describe('routes', () => {
  it('one route, ANY /api/{proxy+}, to the api function', () => {
    const all = routes(s);
    expect(all.map((r) => r.RouteKey)).toEqual(['ANY /api/{proxy+}']);
    const integrationId = all[0].Target['Fn::Join'][1][1].Ref;
    const integration = resource(s, integrationId);
    expect(integration.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    expect(integration.Properties.IntegrationUri['Fn::GetAtt'][0]).toBe(fnId(s, 'api'));
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
  });

  it('every Label Studio path, with and without a trailing slash, reaches the function, which knows it (405 with Allow, not 404)', async () => {
    const keys = routes(s).map((r) => String(r.RouteKey).split(' ')[1]);
    for (const base of LS_PATHS) {
      for (const path of [base, `${base}/`]) {
        expect(
          keys.some((k) => routeMatches(k, path)),
          path,
        ).toBe(true);
        // PUT is no method of any route: the function answers 405 listing the path's methods,
        // which proves its router matched the path (an unknown path is 404).
        const res = await route(
          {} as never,
          {
            rawPath: path,
            requestContext: { http: { method: 'PUT' }, requestId: 'r' },
          } as unknown as APIGatewayProxyEventV2,
        );
        expect(res.statusCode, path).toBe(405);
        expect(res.headers?.allow ?? res.headers?.Allow, path).toMatch(/GET|POST/);
      }
    }
    const unknown = await route(
      {} as never,
      {
        rawPath: '/api/projects/12/nothing-here/',
        requestContext: { http: { method: 'GET' }, requestId: 'r' },
      } as unknown as APIGatewayProxyEventV2,
    );
    expect(unknown.statusCode).toBe(404);
  });

  it('API Gateway may invoke the function for that route only', () => {
    const perms = ofType(s, 'AWS::Lambda::Permission').filter(
      ([, p]) => flat(p.Properties.FunctionName) === `<${fnId(s, 'api')}.Arn>`,
    );
    expect(perms).toHaveLength(1);
    expect(perms[0][1].Properties.Principal).toBe('apigateway.amazonaws.com');
    // HTTP APIs invoke with the route's path (template included) in the source ARN.
    expect(flat(perms[0][1].Properties.SourceArn)).toMatch(/:<HttpApi\w+>\/\*\/\*\/api\/\{proxy\+\}$/);
  });
});

describe('IAM authorization (default)', () => {
  it('the route requires AWS_IAM; no authorizer, no secret', () => {
    for (const r of routes(s)) {
      expect(r.AuthorizationType).toBe('AWS_IAM');
      expect(r.AuthorizerId).toBeUndefined();
    }
    expect(ofType(s, 'AWS::ApiGatewayV2::Authorizer')).toHaveLength(0);
    expect(ofType(s, 'AWS::SecretsManager::Secret')).toHaveLength(0);
    expect(s.ls.api.tokenAuth).toBeUndefined();
    expect(Object.keys(s.template.toJSON().Outputs)).not.toContain('ApiTokenSecretArn');
  });
});

describe('token authorization (apiAuth: token)', () => {
  const auth = () => token.ls.api.tokenAuth!;
  const authFnId = () => logicalId(token, auth().function.fn);
  const secretId = () => logicalId(token, auth().secret);

  it('a Lambda authorizer with simple responses, the Authorization header, 60 s cache, on the route', () => {
    const [[authorizerId, authorizer], ...more] = ofType(token, 'AWS::ApiGatewayV2::Authorizer');
    expect(more).toHaveLength(0);
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: 60,
    });
    expect(flat(authorizer.Properties.AuthorizerUri)).toContain(`<${authFnId()}.Arn>`);
    for (const r of routes(token)) {
      expect(r.AuthorizationType).toBe('CUSTOM');
      expect(r.AuthorizerId).toEqual({ Ref: authorizerId });
    }
    expect(routes(token).map((r) => r.RouteKey)).toEqual(['ANY /api/{proxy+}']);
    // API Gateway may invoke the authorizer function.
    const perms = ofType(token, 'AWS::Lambda::Permission').filter(
      ([, p]) => flat(p.Properties.FunctionName) === `<${authFnId()}.Arn>`,
    );
    expect(perms.map(([, p]) => p.Properties.Principal)).toEqual(['apigateway.amazonaws.com']);
    expect(flat(perms[0][1].Properties.SourceArn)).toContain('/authorizers/');
  });

  it('the authorizer function: Node 24 arm64, JSON logs to its own group, the secret ARN in its environment', () => {
    const p = resource(token, authFnId()).Properties;
    expect(p.Runtime).toBe('nodejs24.x');
    expect(p.Architectures).toEqual(['arm64']);
    expect(p.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO' });
    expect(p.LoggingConfig.LogGroup).toEqual({ Ref: logicalId(token, auth().function.logGroup) });
    expect(p.Environment.Variables.LS_EXPORT_API_TOKEN_SECRET_ID).toEqual({ Ref: secretId() });
    expect(p.Timeout).toBeLessThanOrEqual(10);
  });

  it('a generated secret of ≥ 40 letters and digits; the function may read it and nothing else but its logs and traces', () => {
    const secret = resource(token, secretId());
    expect(secret.Type).toBe('AWS::SecretsManager::Secret');
    const gen = secret.Properties.GenerateSecretString;
    expect(gen.PasswordLength).toBeGreaterThanOrEqual(40);
    expect(gen.ExcludePunctuation).toBe(true);
    expect(secret.DeletionPolicy).toBe('Retain');
    const statements = roleStatements(token, logicalId(token, auth().function.role));
    const secretGrants = statements.filter((st) =>
      asArray(st.Action).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(secretGrants).toHaveLength(1);
    expect(asArray(secretGrants[0].Action)).toContain('secretsmanager:GetSecretValue');
    expect(secretGrants[0].Resource).toEqual({ Ref: secretId() });
    const other = statements
      .flatMap((st) => asArray(st.Action))
      .filter((a) => !a.startsWith('secretsmanager:') && !a.startsWith('logs:'));
    expect(other.sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  it('outputs the secret ARN; errors and throttles of the authorizer alarm', () => {
    const outputs = token.template.toJSON().Outputs;
    expect(outputs.ApiTokenSecretArn.Value).toEqual({ Ref: secretId() });
    expect(outputs.ApiTokenSecretArn.Description).toContain('aws secretsmanager get-secret-value');
    const alarms = ofType(token, 'AWS::CloudWatch::Alarm').filter(([, a]) =>
      (a.Properties.Dimensions ?? []).some((d: { Value: unknown }) => flat(d.Value) === `<${authFnId()}>`),
    );
    expect(alarms.map(([, a]) => a.Properties.MetricName).sort()).toEqual(['Errors', 'Throttles']);
  });

  it('access logs record which key version (AWSCURRENT/AWSPREVIOUS) a request used', () => {
    const [[, stage]] = ofType(token, 'AWS::ApiGatewayV2::Stage');
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
    expect(format.tokenStage).toBe('$context.authorizer.tokenStage');
  });

  it('cdk-nag passes; the rotation finding is acknowledged with the manual rotation reason', () => {
    // `token` was synthesized with AwsSolutionsChecks: an unacknowledged finding would have thrown.
    const smg4 = token.stack.nag.all.filter((a) => a.id === 'AwsSolutions-SMG4');
    expect(smg4.map((a) => a.path)).toEqual([auth().secret.node.path]);
    expect(smg4[0].reason).toMatch(/put-secret-value/);
    expect(smg4[0].reason).toMatch(/AWSPREVIOUS/);
  });

  it('context apiAuth selects it; anything but iam/token is refused', () => {
    const ctx = (v: unknown) => stackPropsFromContext((k) => (k === 'apiAuth' ? v : undefined));
    expect(ctx('token').apiAuth).toBe('token');
    expect(ctx(undefined).apiAuth).toBeUndefined();
    expect(() => ctx('jwt')).toThrow('context apiAuth must be one of iam, token, got "jwt"');
  });
});

describe('api function: latest/ downloads', () => {
  it('GetObject and GetObjectVersion on each project’s latest/*, listing limited to latest/ prefixes', () => {
    const statements = roleStatements(s, roleId(s, 'api'));
    const versions = statements.filter((st) => asArray(st.Action).includes('s3:GetObjectVersion'));
    expect(versions).toHaveLength(1);
    expect(asArray(versions[0].Action).sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expect(asArray(versions[0].Resource).map(flat).sort()).toEqual(
      [
        s3Arn(`${EXPORT}/exports/news-ner/latest/*`),
        s3Arn(`${EXPORT}/exports/street-scenes/latest/*`),
      ].sort(),
    );
    const lists = statements.filter((st) => asArray(st.Action).includes('s3:ListBucket'));
    const latestList = lists.find((st) =>
      asArray(st.Condition?.StringLike?.['s3:prefix']).some((p) => String(p).includes('/latest/')),
    );
    expect(latestList?.Condition?.StringLike['s3:prefix']).toEqual([
      'exports/news-ner/latest/*',
      'exports/street-scenes/latest/*',
    ]);
    // Snapshot downloads presign the current object: no version permission there.
    expect(
      statements
        .filter((st) =>
          asArray(st.Resource)
            .map(flat)
            .some((r) => r.includes('/snapshots/')),
        )
        .flatMap((st) => asArray(st.Action)),
    ).not.toContain('s3:GetObjectVersion');
  });
});

describe('stage', () => {
  it('the stage throttles and writes JSON access logs (with the request path) to a log group', () => {
    const [[, stage]] = ofType(s, 'AWS::ApiGatewayV2::Stage');
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
    const dest = stage.Properties.AccessLogSettings.DestinationArn['Fn::GetAtt'][0];
    expect(resource(s, dest).Type).toBe('AWS::Logs::LogGroup');
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      method: '$context.httpMethod',
      path: '$context.path',
    });
    expect(format.tokenStage).toBeUndefined();
  });

  it('throttling is configurable', () => {
    const t = synth({ api: { throttleRateLimit: 5, throttleBurstLimit: 7 } });
    t.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 7 },
    });
  });
});
