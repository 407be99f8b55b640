/**
 * ProjectRebuild: one Distributed Map state machine per project, with a project-scoped role.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../infra/ls-export-stack.ts';
import {
  asArray,
  CDK_JSON,
  definition,
  EXPORT,
  FULL_PROPS,
  flat,
  fnId as fnIdOf,
  logicalId,
  type Resource,
  roleStatements,
  SOURCE,
  type Synth,
  synth,
} from './helpers.ts';

let s: Synth;
beforeAll(() => {
  s = synth(FULL_PROPS);
});

const fnId = (name: FunctionName) => fnIdOf(s, name);
const resource = (id: string): Resource => s.json.Resources[id];

describe('rebuild state machines', () => {
  const sm = (projectId: string) => logicalId(s, s.ls.stateMachines.get(projectId)!);

  it('one per project: Distributed Map over the S3 listing with batching, bounded concurrency, tolerated failures and ResultWriterV2, then the merge', () => {
    expect(CDK_JSON.context['@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2']).toBe(true);
    for (const [projectId, prefix] of [
      ['news-ner', 'ls/news-ner/'],
      ['street-scenes', 'ls/street-scenes/'],
    ]) {
      const def = definition(s, sm(projectId));
      const map = def.States[def.StartAt];
      expect(map.Type).toBe('Map');
      expect(map.ItemReader).toEqual({
        Resource: 'arn:<AWS::Partition>:states:::s3:listObjectsV2',
        Parameters: { Bucket: SOURCE, Prefix: prefix },
      });
      expect(map.ItemBatcher).toEqual({
        MaxItemsPerBatch: 200,
        MaxInputBytesPerBatch: 204800,
        BatchInput: { projectId, 'runId.$': '$$.Execution.Name' },
      });
      expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
      expect(map.MaxConcurrency).toBe(20);
      expect(map.ToleratedFailurePercentage).toBe(5);
      expect(map.ResultWriter).toEqual({
        Resource: 'arn:<AWS::Partition>:states:::s3:putObject',
        Parameters: {
          Bucket: `<${logicalId(s, s.ls.exportBucket)}>`,
          Prefix: `exports/${projectId}/_state/rebuild-results/`,
        },
      });
      const child = map.ItemProcessor.States[map.ItemProcessor.StartAt];
      expect(child.Resource).toBe(`<${fnId('rebuildBatch')}.Arn>`);
      expect(child.Retry.flatMap((r: { ErrorEquals: string[] }) => r.ErrorEquals)).toContain(
        'Lambda.TooManyRequestsException',
      );
      const merge = def.States[map.Next];
      expect(merge.Resource).toBe(`<${fnId('rebuildMerge')}.Arn>`);
      // The same run id as the batches, and the map's ResultWriter details.
      expect(merge.Parameters).toEqual({ projectId, 'runId.$': '$$.Execution.Name', 'mapResult.$': '$' });
      expect(map.ResultSelector).toEqual({ 'resultWriterDetails.$': '$.ResultWriterDetails' });
      expect(merge.End).toBe(true);
    }
  });

  it('ResultWriter is silently dropped without the feature flag (why cdk.json sets it)', () => {
    const t = synth({}, { context: { '@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2': false } });
    const def = definition(t, logicalId(t, t.ls.stateMachines.get('news-ner')!));
    expect(def.States[def.StartAt].ResultWriter).toBeUndefined();
  });

  it('log everything, trace with X-Ray, and time out', () => {
    for (const id of ['news-ner', 'street-scenes']) {
      const p = resource(sm(id)).Properties;
      expect(p.LoggingConfiguration.Level).toBe('ALL');
      expect(p.TracingConfiguration).toEqual({ Enabled: true });
      expect(definition(s, sm(id)).TimeoutSeconds).toBe(12 * 3600);
    }
  });

  it('their roles are scoped to the project: listing of its prefix, results under its prefix, its child executions', () => {
    const p = resource(sm('news-ner')).Properties;
    const role = p.RoleArn['Fn::GetAtt'][0];
    const st = roleStatements(s, role);
    const bySid = Object.fromEntries(st.map((x) => [x.Sid, x]));
    expect(bySid.ListSource.Resource).toSatisfy(
      (r: unknown) => flat(r) === `arn:<AWS::Partition>:s3:::${SOURCE}`,
    );
    expect(bySid.ListSource.Condition).toEqual({ StringLike: { 's3:prefix': ['ls/news-ner/*'] } });
    expect(asArray(bySid.WriteMapResults.Resource).map(flat)).toEqual([
      `arn:<AWS::Partition>:s3:::${EXPORT}/exports/news-ner/_state/rebuild-results/*`,
    ]);
    expect(asArray(bySid.InvokeRebuildFunctions.Resource).map(flat)).toEqual([
      `<${fnId('rebuildBatch')}.Arn>`,
      `<${fnId('rebuildMerge')}.Arn>`,
    ]);
    expect(flat(bySid.StartChildExecutions.Resource)).toBe(
      'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:LsExportTest-rebuild-news-ner',
    );
    expect(p.StateMachineName).toBe('LsExportTest-rebuild-news-ner');
    // The logging/tracing statement is the one documented Resource "*" (see the IAM test below).
    expect(bySid.LogDeliveryAndTracing.Resource).toBe('*');
  });
});
