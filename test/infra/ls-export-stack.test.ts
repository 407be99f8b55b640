/**
 * The synthesized template, read resource by resource: every invariant of issue 5.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../infra/ls-export-stack.ts';
import {
  asArray,
  CDK_JSON,
  type Cfn,
  definition,
  exampleConfig,
  flat,
  logicalId,
  ofType,
  type Resource,
  roleStatements,
  type Statement,
  type Synth,
  synth,
} from './helpers.ts';

const FUNCTIONS: FunctionName[] = ['ingest', 'render', 'snapshot', 'rebuildBatch', 'rebuildMerge', 'api'];
const EXPORT = 'acme-ls-export';
const SOURCE = 'acme-labelstudio-target';
const KMS_KEY = 'arn:aws:kms:eu-central-1:111122223333:key/0a1b2c3d-1111-2222-3333-444455556666';

let s: Synth;
beforeAll(() => {
  s = synth({
    nightlyCron: '30 3 * * ? *',
    nightlyTimeZone: 'Europe/Berlin',
    snapshotRetentionDays: 45,
    sourceKmsKeyArns: [KMS_KEY],
    alarmEmail: 'ops@example.com',
  });
});

const fnId = (name: FunctionName) => logicalId(s, s.stack.functions[name].fn);
const roleId = (name: FunctionName) => logicalId(s, s.stack.functions[name].role);
const resource = (id: string): Resource => s.json.Resources[id];

describe('functions', () => {
  it('run on Node 22/24 (never nodejs20.x), arm64, with JSON logs to their own log group', () => {
    for (const [, fn] of ofType(s, 'AWS::Lambda::Function')) {
      const runtime = fn.Properties.Runtime as string;
      expect(runtime).not.toBe('nodejs20.x');
      if (runtime.startsWith('nodejs')) expect(['nodejs22.x', 'nodejs24.x']).toContain(runtime);
    }
    for (const name of FUNCTIONS) {
      const p = resource(fnId(name)).Properties;
      expect(['nodejs22.x', 'nodejs24.x']).toContain(p.Runtime);
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.Handler).toBe('index.handler');
      expect(p.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO' });
      expect(p.LoggingConfig.LogGroup).toEqual({ Ref: logicalId(s, s.stack.functions[name].logGroup) });
      expect(p.Environment.Variables).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        LS_EXPORT_CONFIG_S3: `s3://${EXPORT}/_ls-export/config.json`,
        LS_EXPORT_LOG_LEVEL: 'info',
      });
      expect(p.Environment.Variables.LS_EXPORT_CONFIG_SHA256).toMatch(/^[0-9a-f]{16}$/);
      // Lambda's environment is limited to 4 KB: the config itself is never inlined.
      expect(JSON.stringify(p.Environment.Variables).length).toBeLessThan(1024);
      expect(p.MemorySize).toBeGreaterThanOrEqual(128);
      expect(p.Timeout).toBeLessThanOrEqual(900);
    }
    expect(resource(fnId('api')).Properties.Timeout).toBeLessThanOrEqual(29);
  });

  it('log groups have a retention', () => {
    for (const [, lg] of ofType(s, 'AWS::Logs::LogGroup')) expect(lg.Properties.RetentionInDays).toBe(30);
  });

  it('each function has its own role with no AWS managed policy; logs only to its own group', () => {
    for (const name of FUNCTIONS) {
      const role = resource(roleId(name));
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      const logs = roleStatements(s, roleId(name)).filter((st) =>
        asArray(st.Action).some((a) => a.startsWith('logs:')),
      );
      expect(logs).toHaveLength(1);
      expect(logs[0].Resource).toEqual({
        'Fn::GetAtt': [logicalId(s, s.stack.functions[name].logGroup), 'Arn'],
      });
    }
  });

  it('wait for the deployed config object', () => {
    const cfg = ofType(s, 'Custom::AWS');
    expect(cfg).toHaveLength(1);
    const [cfgId, cfgRes] = cfg[0];
    for (const name of FUNCTIONS) expect(resource(fnId(name)).DependsOn).toContain(cfgId);
    const create = JSON.parse(flat(cfgRes.Properties.Create));
    expect(create).toMatchObject({ service: 'S3', action: 'putObject' });
    expect(create.parameters.Key).toBe('_ls-export/config.json');
    expect(JSON.parse(create.parameters.Body).projects.map((p: { id: string }) => p.id)).toEqual([
      'news-ner',
      'street-scenes',
    ]);
  });
});

describe('queues and event sources', () => {
  const esms = () =>
    ofType(s, 'AWS::Lambda::EventSourceMapping').map(([, r]) => {
      const queue = resource(r.Properties.EventSourceArn['Fn::GetAtt'][0]);
      const fn = resource(r.Properties.FunctionName.Ref);
      return {
        esm: r.Properties,
        queue: queue.Properties,
        fn: fn.Properties,
        fnRef: r.Properties.FunctionName.Ref,
      };
    });

  it('each consumer: visibility timeout ≥ 6 × function timeout + batching window (synthesized values)', () => {
    const all = esms();
    expect(all.map((e) => e.fnRef).sort()).toEqual([fnId('ingest'), fnId('render'), fnId('snapshot')].sort());
    for (const { esm, queue, fn } of all) {
      const window = esm.MaximumBatchingWindowInSeconds ?? 0;
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.Timeout + window);
    }
  });

  it('partial batch failures, batch size, batching window and maximum concurrency are set', () => {
    for (const { esm } of esms()) {
      expect(esm.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(esm.BatchSize).toBeGreaterThanOrEqual(1);
      expect(esm.ScalingConfig.MaximumConcurrency).toBeGreaterThanOrEqual(2);
      expect(esm.ScalingConfig.MaximumConcurrency).toBeLessThanOrEqual(1000);
    }
    const ingest = esms().find((e) => e.fnRef === fnId('ingest'))!;
    expect(ingest.esm).toMatchObject({
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 10,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    const render = esms().find((e) => e.fnRef === fnId('render'))!;
    expect(render.esm.ScalingConfig.MaximumConcurrency).toBe(2);
  });

  it('every consumer queue has a DLQ with maxReceiveCount ≥ 5', () => {
    for (const { queue } of esms()) {
      expect(queue.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(5);
      const dlq = resource(queue.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0]);
      expect(dlq.Type).toBe('AWS::SQS::Queue');
      expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
      expect(dlq.Properties.MessageRetentionPeriod).toBeGreaterThan(queue.MessageRetentionPeriod);
    }
  });

  it('the render queue debounces with a delivery delay', () => {
    expect(resource(logicalId(s, s.stack.queues.render)).Properties.DelaySeconds).toBe(60);
    expect(resource(logicalId(s, s.stack.queues.ingest)).Properties.DelaySeconds).toBeUndefined();
  });

  it('every queue is encrypted and refuses non-TLS access', () => {
    const queues = ofType(s, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(7);
    for (const [id, q] of queues) {
      expect(q.Properties.SqsManagedSseEnabled).toBe(true);
      const policy = ofType(s, 'AWS::SQS::QueuePolicy').find(([, p]) =>
        asArray(p.Properties.Queues).some((r: unknown) => flat(r) === `<${id}>`),
      );
      expect(policy, `queue policy of ${id}`).toBeDefined();
      expect(policy![1].Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });
});

describe('S3 notifications', () => {
  it('watched prefixes notify the ingest queue of created and removed objects', () => {
    const ingestQueue = logicalId(s, s.stack.queues.ingest);
    const notif = ofType(s, 'Custom::S3BucketNotifications').find(
      ([, r]) => flat(r.Properties.BucketName) === SOURCE,
    );
    expect(notif).toBeDefined();
    expect(notif![1].Properties.Managed).toBe(false); // imported bucket: existing notifications are kept
    const configs = notif![1].Properties.NotificationConfiguration.QueueConfigurations;
    for (const prefix of ['ls/news-ner/', 'ls/street-scenes/']) {
      for (const event of ['s3:ObjectCreated:*', 's3:ObjectRemoved:*']) {
        expect(configs).toContainEqual({
          Events: [event],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] } },
          QueueArn: { 'Fn::GetAtt': [ingestQueue, 'Arn'] },
        });
      }
    }
    expect(configs).toHaveLength(4);
    // Only S3 events of that bucket may be sent to the queue.
    const [, policy] = ofType(s, 'AWS::SQS::QueuePolicy').find(([, p]) =>
      asArray(p.Properties.Queues).some((q: unknown) => flat(q) === `<${ingestQueue}>`),
    )!;
    const allow = (policy.Properties.PolicyDocument.Statement as Statement[]).filter(
      (st) => st.Effect === 'Allow',
    );
    expect(allow).toHaveLength(1);
    expect(allow[0]).toMatchObject({ Principal: { Service: 's3.amazonaws.com' } });
    expect(flat(allow[0].Condition!.ArnLike['aws:SourceArn'])).toBe(`arn:<AWS::Partition>:s3:::${SOURCE}`);
  });

  it('the export bucket notifies render of dirty markers and snapshot of export requests', () => {
    const notif = ofType(s, 'Custom::S3BucketNotifications').find(
      ([, r]) => flat(r.Properties.BucketName) === `<${logicalId(s, s.stack.exportBucket)}>`,
    );
    const configs = notif![1].Properties.NotificationConfiguration.QueueConfigurations;
    const render = { 'Fn::GetAtt': [logicalId(s, s.stack.queues.render), 'Arn'] };
    const snapshot = { 'Fn::GetAtt': [logicalId(s, s.stack.queues.snapshot), 'Arn'] };
    for (const id of ['news-ner', 'street-scenes']) {
      expect(configs).toContainEqual({
        Events: ['s3:ObjectCreated:*'],
        Filter: {
          Key: {
            FilterRules: [
              { Name: 'suffix', Value: '_state/dirty' },
              { Name: 'prefix', Value: `exports/${id}/_state/` },
            ],
          },
        },
        QueueArn: render,
      });
      expect(configs).toContainEqual({
        Events: ['s3:ObjectCreated:*'],
        Filter: {
          Key: {
            FilterRules: [
              { Name: 'suffix', Value: '.json' },
              { Name: 'prefix', Value: `exports/${id}/_exports/requests/` },
            ],
          },
        },
        QueueArn: snapshot,
      });
    }
  });

  it('overlapping watched prefixes in one bucket collapse into one notification', () => {
    const config = exampleConfig();
    config.projects[1].source.prefix = 'ls/news-ner/images';
    const t = synth({ config });
    const notif = ofType(t, 'Custom::S3BucketNotifications').find(
      ([, r]) => flat(r.Properties.BucketName) === SOURCE,
    );
    const prefixes = notif![1].Properties.NotificationConfiguration.QueueConfigurations.map(
      (c: Cfn) => c.Filter.Key.FilterRules[0].Value,
    );
    expect([...new Set(prefixes)]).toEqual(['ls/news-ner/']);
  });
});

describe('nightly schedule', () => {
  it('uses EventBridge Scheduler with the configured cron and time zone, no flexible window', () => {
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [fnId('snapshot'), 'Arn'] },
        Input: JSON.stringify({ kind: 'nightly' }),
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 7200 },
        DeadLetterConfig: { Arn: Match.anyValue() },
      },
    });
  });

  it('defaults to 02:15 UTC', () => {
    synth().template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(15 2 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
    });
  });

  it('its role can invoke exactly the snapshot function and write to its DLQ', () => {
    const [[schedId, sched]] = ofType(s, 'AWS::Scheduler::Schedule');
    expect(schedId).toBeDefined();
    const role = sched.Properties.Target.RoleArn['Fn::GetAtt'][0];
    const statements = roleStatements(s, role);
    expect(statements.map((st) => [st.Action, flat(st.Resource)])).toEqual([
      ['lambda:InvokeFunction', `<${fnId('snapshot')}.Arn>`],
      ['sqs:SendMessage', flat(sched.Properties.Target.DeadLetterConfig.Arn)],
    ]);
  });
});

describe('rebuild state machines', () => {
  const sm = (projectId: string) => logicalId(s, s.stack.stateMachines.get(projectId)!);

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
          Bucket: `<${logicalId(s, s.stack.exportBucket)}>`,
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
    const def = definition(t, logicalId(t, t.stack.stateMachines.get('news-ner')!));
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

describe('IAM: least privilege', () => {
  const objectActions = ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'];
  const R = 's3:GetObject';
  const RW = ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'];
  const RWD = ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'];
  const arn = (key: string) => `arn:<AWS::Partition>:s3:::${key}`;
  const both = (area: string) =>
    ['news-ner', 'street-scenes'].map((p) => arn(`${EXPORT}/exports/${p}/${area}/*`));
  const sources = [arn(`${SOURCE}/ls/news-ner/*`), arn(`${SOURCE}/ls/street-scenes/*`)];
  const common = [arn(`${EXPORT}/_ls-export/config.json`), arn(`${EXPORT}/label-configs/street-scenes.xml`)];
  const media = [arn('acme-labelstudio-media/upload/*')];

  /** Every (actions, resource) an S3 object statement of the function allows. */
  function objectGrants(name: FunctionName): Map<string, string[]> {
    const grants = new Map<string, string[]>();
    for (const st of roleStatements(s, roleId(name))) {
      const actions = asArray(st.Action).filter((a) => a.startsWith('s3:') && a !== 's3:ListBucket');
      if (actions.length === 0) continue;
      for (const r of asArray(st.Resource).map(flat)) {
        grants.set(r, [...(grants.get(r) ?? []), ...actions].sort());
      }
    }
    return grants;
  }

  const expected: Record<FunctionName, [string[], string | string[]][]> = {
    ingest: [
      [common, R],
      [sources, R],
      [both('_state'), RWD],
    ],
    render: [
      [common, R],
      [both('_state'), RWD],
      [both('latest'), RWD],
      [media, R],
    ],
    snapshot: [
      [common, R],
      [both('_state'), R],
      [both('snapshots'), RW],
      [both('_exports'), RWD],
      [media, R],
    ],
    rebuildBatch: [
      [common, R],
      [sources, R],
      [both('_state'), RW],
    ],
    rebuildMerge: [
      [common, R],
      [both('_state'), RWD],
    ],
    api: [
      [common, R],
      [both('_exports'), RWD],
      [both('snapshots'), ['s3:DeleteObject', 's3:GetObject']],
      // Creating an export reserves its snapshot folder: only `export.json` may be written there.
      [
        ['news-ner', 'street-scenes'].map((p) => arn(`${EXPORT}/exports/${p}/snapshots/*/export.json`)),
        's3:PutObject',
      ],
    ],
  };

  for (const name of FUNCTIONS) {
    it(`${name}: S3 object access exactly on its bucket/prefix ARNs`, () => {
      const want = new Map<string, string[]>();
      for (const [resources, actions] of expected[name]) {
        for (const r of resources) want.set(r, asArray(actions).slice().sort());
      }
      expect(Object.fromEntries(objectGrants(name))).toEqual(Object.fromEntries(want));
      for (const st of roleStatements(s, roleId(name))) {
        for (const a of asArray(st.Action)) expect(a).not.toContain('*');
        if (asArray(st.Action).some((a) => objectActions.includes(a))) {
          for (const r of asArray(st.Resource).map(flat))
            expect(r).toMatch(/^arn:<AWS::Partition>:s3:::[a-z0-9.-]+\/.+/);
        }
      }
    });
  }

  it('listing is limited by s3:prefix to the prefixes the function may read', () => {
    const list = (name: FunctionName) =>
      roleStatements(s, roleId(name)).filter((st) => asArray(st.Action).includes('s3:ListBucket'));
    const ingest = list('ingest');
    expect(ingest.map((st) => [flat(st.Resource), st.Condition])).toEqual([
      [arn(SOURCE), { StringLike: { 's3:prefix': ['ls/news-ner/*', 'ls/street-scenes/*'] } }],
      [
        arn(EXPORT),
        { StringLike: { 's3:prefix': ['exports/news-ner/_state/*', 'exports/street-scenes/_state/*'] } },
      ],
    ]);
    for (const name of FUNCTIONS) for (const st of list(name)) expect(st.Condition).toBeDefined();
  });

  it('kms:Decrypt on the named source key, through S3 only, for the functions that read the source', () => {
    const kms = (name: FunctionName) =>
      roleStatements(s, roleId(name)).filter((st) => asArray(st.Action).some((a) => a.startsWith('kms:')));
    for (const name of ['ingest', 'rebuildBatch'] as const) {
      const [st, ...rest] = kms(name);
      expect(rest).toHaveLength(0);
      expect(st.Action).toBe('kms:Decrypt');
      expect(st.Resource).toBe(KMS_KEY);
      expect(flat(st.Condition!.StringEquals['kms:ViaService'])).toBe('s3.<AWS::Region>.amazonaws.com');
    }
    for (const name of ['render', 'snapshot', 'rebuildMerge', 'api'] as const)
      expect(kms(name)).toHaveLength(0);
    // No key given: no KMS statement at all.
    const plain = synth();
    const ingestRole = logicalId(plain, plain.stack.functions.ingest.role);
    expect(roleStatements(plain, ingestRole).some((st) => asArray(st.Action).includes('kms:Decrypt'))).toBe(
      false,
    );
  });

  it('extra media locations (s3:// URLs in tasks) are readable by render and snapshot only', () => {
    const t = synth({ mediaS3Prefixes: ['s3://acme-images/raw/'] });
    const reads = (name: FunctionName) =>
      roleStatements(t, logicalId(t, t.stack.functions[name].role))
        .filter((st) => asArray(st.Action).includes('s3:GetObject'))
        .flatMap((st) => asArray(st.Resource).map(flat));
    for (const name of ['render', 'snapshot'] as const)
      expect(reads(name)).toContain(arn('acme-images/raw/*'));
    for (const name of ['ingest', 'rebuildBatch', 'rebuildMerge', 'api'] as const)
      expect(reads(name)).not.toContain(arn('acme-images/raw/*'));
  });

  it('no Resource "*" anywhere except the documented Step Functions logging/tracing statement', () => {
    const offenders: string[] = [];
    for (const [id, p] of ofType(s, 'AWS::IAM::Policy')) {
      for (const st of p.Properties.PolicyDocument.Statement as Statement[]) {
        if (st.Effect !== 'Allow') continue;
        for (const a of asArray(st.Action))
          if (a.endsWith(':*') || a === '*') offenders.push(`${id}: action ${a}`);
        if (asArray(st.Resource).some((r) => r === '*') && st.Sid !== 'LogDeliveryAndTracing')
          offenders.push(`${id}: ${st.Sid ?? JSON.stringify(st.Action)} on *`);
      }
    }
    expect(offenders).toEqual([]);
    // The only `*` statements carry only actions that have no resource-level permissions.
    const star = ofType(s, 'AWS::IAM::Policy').flatMap(([, p]) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).filter((st) => st.Resource === '*'),
    );
    for (const st of star)
      for (const a of asArray(st.Action))
        expect(a).toMatch(/^(logs:\w*(LogDeliver|ResourcePolic|LogGroups)\w*|xray:\w+)$/);
  });

  it('only CDK’s S3-notifications handler uses an AWS managed policy (basic execution)', () => {
    const managed = ofType(s, 'AWS::IAM::Role').flatMap(([id, r]) =>
      asArray(r.Properties.ManagedPolicyArns).map((m) => `${id}: ${flat(m)}`),
    );
    expect(managed).toHaveLength(1);
    expect(managed[0]).toMatch(
      /^BucketNotificationsHandler\w+: arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole$/,
    );
  });
});

describe('buckets', () => {
  const exportId = () => logicalId(s, s.stack.exportBucket);
  const logId = () => logicalId(s, s.stack.accessLogBucket);

  function expectHardened(id: string) {
    const p = resource(id).Properties;
    expect(
      p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm,
    ).toMatch(/^(AES256|aws:kms)$/);
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const policy = ofType(s, 'AWS::S3::BucketPolicy').find(
      ([, bp]) => flat(bp.Properties.Bucket) === `<${id}>`,
    );
    expect(policy, `bucket policy of ${id}`).toBeDefined();
    expect(policy![1].Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(policy![1].Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
    );
  }

  it('the export bucket is versioned, encrypted, private, TLS-only and logged, and retained', () => {
    const b = resource(exportId());
    expect(b.Properties.BucketName).toBe(EXPORT);
    expect(b.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(b.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logId() },
      LogFilePrefix: `s3/${EXPORT}/`,
    });
    expect(b.DeletionPolicy).toBe('Retain');
    expect(b.UpdateReplacePolicy).toBe('Retain');
    expectHardened(exportId());
    expectHardened(logId());
  });

  it('lifecycle: snapshots expire after the configured days, incomplete uploads are aborted, old versions expire', () => {
    const rules = resource(exportId()).Properties.LifecycleConfiguration.Rules as Cfn[];
    const abort = rules.find((r) => r.AbortIncompleteMultipartUpload && !r.Prefix);
    expect(abort.AbortIncompleteMultipartUpload.DaysAfterInitiation).toBeGreaterThanOrEqual(1);
    expect(abort.AbortIncompleteMultipartUpload.DaysAfterInitiation).toBeLessThanOrEqual(7);
    expect(rules).toContainEqual(
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
    );
    for (const id of ['news-ner', 'street-scenes']) {
      expect(rules).toContainEqual(
        expect.objectContaining({
          Prefix: `exports/${id}/snapshots/`,
          ExpirationInDays: 45,
          Status: 'Enabled',
        }),
      );
    }
    // Nothing ever expires the live state or latest/.
    for (const r of rules.filter((x) => x.ExpirationInDays))
      expect(r.Prefix).toMatch(/\/(snapshots|_state\/rebuild-results)\/$/);
  });

  it('the access log bucket expires its logs and does not log itself', () => {
    const p = resource(logId()).Properties;
    expect(p.LoggingConfiguration).toBeUndefined();
    expect(p.LifecycleConfiguration.Rules).toContainEqual(expect.objectContaining({ ExpirationInDays: 90 }));
  });

  it('source buckets are imported by name by default, created (hardened) on request', () => {
    expect(ofType(s, 'AWS::S3::Bucket')).toHaveLength(2);
    const created = synth({ sourceBucketMode: 'create', removalPolicy: 'destroy' });
    const buckets = ofType(created, 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(3);
    const [srcId, src] = buckets.find(([, b]) => b.Properties.BucketName === SOURCE)!;
    expect(src.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(src.Properties.LoggingConfiguration.LogFilePrefix).toBe(`s3/${SOURCE}/`);
    expect(src.DeletionPolicy).toBe('Delete');
    const saved = s;
    s = created;
    try {
      expectHardened(srcId);
    } finally {
      s = saved;
    }
  });

  it('a source prefix in the export bucket itself works (single-bucket deployments)', () => {
    const config = exampleConfig();
    for (const p of config.projects) p.source.bucket = EXPORT;
    const t = synth({ config });
    expect(ofType(t, 'AWS::S3::Bucket')).toHaveLength(2);
    const notif = ofType(t, 'Custom::S3BucketNotifications');
    expect(notif).toHaveLength(1);
    expect(notif[0][1].Properties.NotificationConfiguration.QueueConfigurations).toHaveLength(8);
  });
});

describe('alarms', () => {
  const alarms = () => ofType(s, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const topicRef = () => ({ Ref: logicalId(s, s.stack.alarmTopic) });

  it('every DLQ alarms on visible messages', () => {
    for (const dlq of s.stack.deadLetterQueues) {
      const id = logicalId(s, dlq);
      const a = alarms().find(
        (x) =>
          x.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          x.Dimensions?.[0]?.Value?.['Fn::GetAtt']?.[0] === id,
      );
      expect(a, `alarm for ${id}`).toMatchObject({
        Namespace: 'AWS/SQS',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [topicRef()],
      });
    }
    expect(s.stack.deadLetterQueues).toHaveLength(4);
  });

  it('the ingest queue alarms on the age of its oldest message', () => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        MetricName: 'ApproximateAgeOfOldestMessage',
        Threshold: 900,
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(s, s.stack.queues.ingest), 'QueueName'] } },
        ],
      }),
    );
  });

  it('every function alarms on errors and throttles', () => {
    for (const name of FUNCTIONS) {
      for (const metric of ['Errors', 'Throttles']) {
        expect(alarms()).toContainEqual(
          expect.objectContaining({
            Namespace: 'AWS/Lambda',
            MetricName: metric,
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(name) } }],
            Threshold: 0,
            AlarmActions: [topicRef()],
          }),
        );
      }
    }
  });

  it('every state machine alarms on failed executions', () => {
    for (const sm of s.stack.stateMachines.values()) {
      expect(alarms()).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/States',
          MetricName: 'ExecutionsFailed',
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalId(s, sm) } }],
          AlarmActions: [topicRef()],
        }),
      );
    }
  });

  it('the topic is KMS-encrypted, usable by CloudWatch, TLS-only, with the e-mail subscription', () => {
    const [[, topic]] = ofType(s, 'AWS::SNS::Topic');
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    const key = resource(topic.Properties.KmsMasterKeyId['Fn::GetAtt'][0]);
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' } }),
    );
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    const [[, tp]] = ofType(s, 'AWS::SNS::TopicPolicy');
    expect(tp.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(synth().template.findResources('AWS::SNS::Subscription')).toEqual({});
  });
});

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
