/**
 * ExportApi: the HTTP API with IAM authorization, throttling and access logs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FULL_PROPS, ofType, type Resource, type Synth, synth } from './helpers.ts';

let s: Synth;
beforeAll(() => {
  s = synth(FULL_PROPS);
});

const resource = (id: string): Resource => s.json.Resources[id];

describe('API', () => {
  it('HTTP API: the Label Studio export routes, all with IAM authorization', () => {
    const routes = ofType(s, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(
      [
        'POST /api/projects/{id}/exports',
        'GET /api/projects/{id}/exports',
        'GET /api/projects/{id}/exports/{export_pk}',
        'DELETE /api/projects/{id}/exports/{export_pk}',
        'GET /api/projects/{id}/exports/{export_pk}/download',
        'POST /api/projects/{id}/exports/{export_pk}/convert',
        'GET /api/projects/{id}/export/formats',
      ].sort(),
    );
    for (const r of routes) expect(r.AuthorizationType).toBe('AWS_IAM');
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
  });

  it('the stage throttles and writes JSON access logs to a log group', () => {
    const [[, stage]] = ofType(s, 'AWS::ApiGatewayV2::Stage');
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
    const dest = stage.Properties.AccessLogSettings.DestinationArn['Fn::GetAtt'][0];
    expect(resource(dest).Type).toBe('AWS::Logs::LogGroup');
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
  });

  it('throttling is configurable', () => {
    const t = synth({ api: { throttleRateLimit: 5, throttleBurstLimit: 7 } });
    t.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 7 },
    });
  });
});
