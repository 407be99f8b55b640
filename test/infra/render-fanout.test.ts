/**
 * RenderFanout: per project a state machine Plan → Planned? → RenderSegments (Distributed Map over
 * the plan's S3 JSON items, batched) → Commit, with the abort path on failure; its role scoped to
 * the project's prefixes; the definition validated as Amazon States Language (asl-validator).
 */
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  asArray,
  definition,
  EXPORT,
  FULL_PROPS,
  flat,
  logicalId,
  type Resource,
  roleStatements,
  type Synth,
  synth,
} from './helpers.ts';

type AslValidator = (def: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };
const validateAsl = createRequire(import.meta.url)('asl-validator') as AslValidator;

let s: Synth;
beforeAll(() => {
  s = synth(FULL_PROPS);
});

const resource = (id: string): Resource => s.json.Resources[id];
const fn = (f: { fn: unknown }) => logicalId(s, f.fn);
const sm = (projectId: string) => logicalId(s, s.ls.renderFanout.stateMachines.get(projectId)!);
/**
 * The definition as deployed: CloudFormation tokens replaced by values of their shape (function
 * ARNs, partition, bucket name), which the validator checks.
 */
const deployed = (id: string) =>
  JSON.parse(
    JSON.stringify(definition(s, id))
      .replaceAll('arn:<AWS::Partition>:', 'arn:aws:')
      .replace(/<([A-Za-z0-9]+)\.Arn>/g, 'arn:aws:lambda:eu-central-1:111122223333:function:$1')
      .replace(/<([A-Za-z0-9]+)>/g, EXPORT),
  );
const errorsOf = (retry: Array<{ ErrorEquals: string[] }> = []) => retry.flatMap((r) => r.ErrorEquals);

describe('/tmp of the functions that spool', () => {
  it('render, snapshot and the fan-out commit get 10 GiB of /tmp, segment workers 2 GiB, the rest the default', () => {
    const tmp = (f: { fn: unknown }) => resource(fn(f)).Properties.EphemeralStorage;
    const f = s.ls.renderFanout;
    expect(tmp(s.ls.functions.render)).toEqual({ Size: 10240 });
    expect(tmp(s.ls.functions.snapshot)).toEqual({ Size: 10240 });
    expect(tmp(f.commitFunction)).toEqual({ Size: 10240 });
    expect(tmp(f.segmentFunction)).toEqual({ Size: 2048 });
    expect(tmp(f.planFunction)).toBeUndefined();
    expect(tmp(s.ls.functions.ingest)).toBeUndefined();
  });
});

describe('render fan-out state machines', () => {
  it('Plan → Planned? → RenderSegments (S3 JSON items, batches, concurrency, no tolerated failure) → Commit', () => {
    const f = s.ls.renderFanout;
    for (const projectId of ['news-ner', 'street-scenes']) {
      const def = definition(s, sm(projectId));
      expect(def.StartAt).toBe('Plan');
      const plan = def.States.Plan;
      expect(plan.Resource).toBe(`<${fn(f.planFunction)}.Arn>`);
      // The execution input tells a snapshot job (`kind`, `exportId`) from a latest/ render.
      expect(plan.Parameters).toEqual({
        projectId,
        'owner.$': '$$.Execution.Name',
        'input.$': '$$.Execution.Input',
      });
      expect(plan.ResultPath).toBe('$.plan');
      expect(errorsOf(plan.Retry)).toContain('Lambda.TooManyRequestsException');
      const choice = def.States[plan.Next];
      expect(choice.Type).toBe('Choice');
      expect(choice.Choices).toEqual([
        { Variable: '$.plan.status', StringEquals: 'planned', Next: 'RenderSegments' },
      ]);
      expect(def.States[choice.Default]).toMatchObject({ Type: 'Succeed' });
      const map = def.States.RenderSegments;
      expect(map.Type).toBe('Map');
      expect(map.ItemReader).toEqual({
        Resource: 'arn:<AWS::Partition>:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { Bucket: `<${logicalId(s, s.ls.exportBucket)}>`, 'Key.$': '$.plan.ref.items.key' },
      });
      expect(map.ItemBatcher).toEqual({
        MaxItemsPerBatch: 4,
        MaxInputBytesPerBatch: 204800,
        BatchInput: {
          projectId,
          'owner.$': '$.plan.ref.owner',
          'startedAt.$': '$.plan.ref.startedAt',
          'kind.$': '$.plan.ref.kind',
          'snapshot.$': '$.plan.ref.snapshot',
        },
      });
      expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
      expect(map.MaxConcurrency).toBe(40);
      // 0 % (the ASL default, which CDK leaves out): a failed batch fails the render.
      expect(map.ToleratedFailurePercentage).toBeUndefined();
      expect(map.ResultWriter.Parameters.Prefix).toBe(`exports/${projectId}/_state/render-results/`);
      expect(map.ResultPath).toBe('$.segments');
      const child = map.ItemProcessor.States[map.ItemProcessor.StartAt];
      expect(child.Resource).toBe(`<${fn(f.segmentFunction)}.Arn>`);
      expect(errorsOf(child.Retry)).toEqual(
        expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']),
      );
      const commit = def.States[map.Next];
      expect(commit.Resource).toBe(`<${fn(f.commitFunction)}.Arn>`);
      expect(commit.Parameters).toEqual({ action: 'commit', 'ref.$': '$.plan.ref' });
      // Only throttling is retried: a commit that ran and failed has released the lock.
      expect(errorsOf(commit.Retry)).toEqual(['Lambda.TooManyRequestsException']);
      expect(commit.End).toBe(true);
      // Plan, Map and Commit failures run the abort path, then fail the execution.
      for (const st of [plan, map, commit])
        expect(st.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Abort' }]);
      const abort = def.States.Abort;
      expect(abort.Resource).toBe(`<${fn(f.commitFunction)}.Arn>`);
      expect(abort.Parameters).toEqual({
        action: 'abort',
        projectId,
        'owner.$': '$$.Execution.Name',
        'error.$': '$.error',
        'input.$': '$$.Execution.Input',
      });
      expect(def.States[abort.Next]).toEqual({
        Type: 'Fail',
        Error: 'RenderFailed',
        CausePath: '$.error.Cause',
      });
    }
  });

  it('tuning: segments per batch, concurrency, tolerated failure %', () => {
    const t = synth({
      ...FULL_PROPS,
      renderFanout: { segmentsPerBatch: 1, maxConcurrency: 200, toleratedFailurePercentage: 2 },
    });
    const def = definition(t, logicalId(t, t.ls.renderFanout.stateMachines.get('news-ner')!));
    const map = def.States.RenderSegments;
    expect([map.ItemBatcher.MaxItemsPerBatch, map.MaxConcurrency, map.ToleratedFailurePercentage]).toEqual([
      1, 200, 2,
    ]);
  });

  it('is valid Amazon States Language (asl-validator), and a broken definition is not', () => {
    for (const projectId of ['news-ner', 'street-scenes']) {
      const def = deployed(sm(projectId));
      expect(JSON.stringify(def)).not.toMatch(/<[^>]+>/);
      const r = validateAsl(def);
      expect(r.errorsText('\n')).toBe('');
      expect(r.isValid).toBe(true);
    }
    const broken = deployed(sm('news-ner'));
    delete broken.States.RenderSegments.ItemProcessor;
    expect(validateAsl(broken).isValid).toBe(false);
  });

  it('logs everything, traces with X-Ray, times out, alarms on failures', () => {
    const p = resource(sm('news-ner')).Properties;
    expect(p.LoggingConfiguration.Level).toBe('ALL');
    expect(p.TracingConfiguration).toEqual({ Enabled: true });
    expect(p.StateMachineName).toBe('LsExportTest-render-news-ner');
    expect(definition(s, sm('news-ner')).TimeoutSeconds).toBe(6 * 3600);
    const alarms = Object.values(s.json.Resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => flat(r.Properties.AlarmDescription ?? ''));
    expect(alarms).toEqual(
      expect.arrayContaining([
        'ls-export: render fan-out of project news-ner failed',
        'ls-export: render fan-out of project news-ner timed out',
      ]),
    );
  });

  it('the role is scoped to the project: its plan items, its results, its functions, its child executions', () => {
    const p = resource(sm('news-ner')).Properties;
    const st = roleStatements(s, p.RoleArn['Fn::GetAtt'][0]);
    const bySid = Object.fromEntries(st.map((x) => [x.Sid, x]));
    expect(Object.keys(bySid).sort()).toEqual([
      'InvokeRenderFunctions',
      'LogDeliveryAndTracing',
      'ManageChildExecutions',
      'ReadPlanItems',
      'RedriveMapRuns',
      'StartChildExecutions',
      'WriteMapResults',
    ]);
    expect(asArray(bySid.ReadPlanItems.Resource).map(flat)).toEqual([
      `arn:<AWS::Partition>:s3:::${EXPORT}/exports/news-ner/_state/render-fanout/*`,
    ]);
    expect(asArray(bySid.WriteMapResults.Resource).map(flat)).toEqual([
      `arn:<AWS::Partition>:s3:::${EXPORT}/exports/news-ner/_state/render-results/*`,
    ]);
    const f = s.ls.renderFanout;
    expect(asArray(bySid.InvokeRenderFunctions.Resource).map(flat).sort()).toEqual(
      [f.planFunction, f.segmentFunction, f.commitFunction].map((x) => `<${fn(x)}.Arn>`).sort(),
    );
    expect(flat(bySid.StartChildExecutions.Resource)).toBe(
      'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:LsExportTest-render-news-ner',
    );
    expect(bySid.LogDeliveryAndTracing.Resource).toBe('*');
    // No statement names another project's prefixes.
    expect(flat(st)).not.toContain('street-scenes');
  });

  it('the segment function writes latest/ and state but cannot delete; only the commit deletes', () => {
    const f = s.ls.renderFanout;
    const actions = (x: { role: unknown }) =>
      roleStatements(s, logicalId(s, x.role)).flatMap((st) => asArray(st.Action as string | string[]));
    expect(actions(f.segmentFunction)).not.toContain('s3:DeleteObject');
    expect(actions(f.commitFunction)).toContain('s3:DeleteObject');
    // The commit copies ranges of the previous versions its manifest names (UploadPartCopy with a
    // versionId needs s3:GetObjectVersion); the segment workers never read a version.
    expect(actions(f.commitFunction)).toContain('s3:GetObjectVersion');
    expect(actions(f.segmentFunction)).not.toContain('s3:GetObjectVersion');
    expect(actions(f.planFunction)).toContain('s3:ListBucket');
  });

  it('snapshot jobs: the plan reads the export records, the segments write snapshots/ (no delete), the commit writes both and may delete snapshots/', () => {
    const f = s.ls.renderFanout;
    const area = (name: string) => `arn:<AWS::Partition>:s3:::${EXPORT}/exports/news-ner/${name}/*`;
    const grants = (x: { role: unknown }, sid: string) => {
      const st = roleStatements(s, logicalId(s, x.role)).find((y) => y.Sid === sid);
      return {
        actions: asArray(st?.Action as string | string[]).sort(),
        resources: asArray(st?.Resource).map(flat),
      };
    };
    const plan = grants(f.planFunction, 'ReadExports');
    expect(plan.actions).toContain('s3:GetObject');
    expect(plan.actions).not.toContain('s3:PutObject');
    expect(plan.resources).toContain(area('_exports'));
    const segment = grants(f.segmentFunction, 'WriteSnapshots');
    expect(segment.actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject']));
    expect(segment.resources).toContain(area('snapshots'));
    const commit = grants(f.commitFunction, 'ReadWriteSnapshots');
    expect(commit.actions).toEqual(
      expect.arrayContaining(['s3:GetObject', 's3:PutObject', 's3:DeleteObject']),
    );
    expect(commit.resources).toContain(area('snapshots'));
    const records = grants(f.commitFunction, 'ReadWriteExports');
    expect(records.actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject']));
    expect(records.actions).not.toContain('s3:DeleteObject');
    expect(records.resources).toContain(area('_exports'));
  });

  it("segment batches and the commit can renew the lock and read the plan's previous entries (_state/)", () => {
    const f = s.ls.renderFanout;
    // The lock (`_state/render.lock`, a conditional PutObject) and `_state/render-fanout/<owner>/
    // previous/<segment>.json` (GetObject) lie under each project's state prefix.
    for (const fnc of [f.segmentFunction, f.commitFunction]) {
      const st = roleStatements(s, logicalId(s, fnc.role)).find((x) => x.Sid === 'ReadWriteState');
      expect(asArray(st?.Action as string | string[])).toEqual(
        expect.arrayContaining(['s3:GetObject', 's3:PutObject']),
      );
      expect(asArray(st?.Resource).map(flat)).toEqual(
        expect.arrayContaining([`arn:<AWS::Partition>:s3:::${EXPORT}/exports/news-ner/_state/*`]),
      );
    }
  });
});
