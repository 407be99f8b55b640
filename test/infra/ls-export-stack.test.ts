/**
 * The whole stack: functions, least-privilege IAM across the constructs, media confinement, stable logical ids.
 */
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { LsExport } from '../../infra/index.ts';
import { type FunctionName, LsExportStack, type LsExportStackProps } from '../../infra/ls-export-stack.ts';
import {
  asArray,
  EXPORT,
  exampleConfig,
  FULL_PROPS,
  flat,
  fnId as fnIdOf,
  KMS_KEY,
  logicalId,
  makeApp,
  ofType,
  type Resource,
  readableObjects,
  roleId as roleIdOf,
  roleStatements,
  SOURCE,
  type Statement,
  type Synth,
  s3Arn,
  synth,
} from './helpers.ts';

const FUNCTIONS: FunctionName[] = ['ingest', 'render', 'snapshot', 'rebuildBatch', 'rebuildMerge', 'api'];

let s: Synth;
beforeAll(() => {
  s = synth(FULL_PROPS);
});

const fnId = (name: FunctionName) => fnIdOf(s, name);
const roleId = (name: FunctionName) => roleIdOf(s, name);
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
      expect(p.LoggingConfig.LogGroup).toEqual({ Ref: logicalId(s, s.ls.functions[name].logGroup) });
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

  it('trace actively to X-Ray (Powertools Tracer in the handlers), with only X-Ray writes on *', () => {
    for (const name of FUNCTIONS) {
      expect(resource(fnId(name)).Properties.TracingConfig).toEqual({ Mode: 'Active' });
      const xray = roleStatements(s, roleId(name)).filter((st) =>
        asArray(st.Action).some((a) => a.startsWith('xray:')),
      );
      expect(xray.flatMap((st) => asArray(st.Action)).sort()).toEqual([
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    }
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
        'Fn::GetAtt': [logicalId(s, s.ls.functions[name].logGroup), 'Arn'],
      });
    }
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
      // Files and zips are assembled from the previous versions' byte ranges (pinned versionId).
      [both('latest'), [...RWD, 's3:GetObjectVersion'].sort()],
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
      // latest/ downloads presign the manifest's S3 version of a file.
      [both('latest'), ['s3:GetObject', 's3:GetObjectVersion']],
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
    const ingestRole = logicalId(plain, plain.ls.functions.ingest.role);
    expect(roleStatements(plain, ingestRole).some((st) => asArray(st.Action).includes('kms:Decrypt'))).toBe(
      false,
    );
  });

  it('extra media locations (s3:// URLs in tasks) are readable by render and snapshot only', () => {
    const t = synth({ mediaS3Prefixes: ['s3://acme-images/raw/'] });
    const reads = (name: FunctionName) =>
      roleStatements(t, logicalId(t, t.ls.functions[name].role))
        .filter((st) => asArray(st.Action).includes('s3:GetObject'))
        .flatMap((st) => asArray(st.Resource).map(flat));
    for (const name of ['render', 'snapshot'] as const)
      expect(reads(name)).toContain(arn('acme-images/raw/*'));
    for (const name of ['ingest', 'rebuildBatch', 'rebuildMerge', 'api'] as const)
      expect(reads(name)).not.toContain(arn('acme-images/raw/*'));
  });

  it('no Resource "*" anywhere except the Step Functions logging/tracing statement and X-Ray writes', () => {
    const offenders: string[] = [];
    for (const [id, p] of ofType(s, 'AWS::IAM::Policy')) {
      for (const st of p.Properties.PolicyDocument.Statement as Statement[]) {
        if (st.Effect !== 'Allow') continue;
        for (const a of asArray(st.Action))
          if (a.endsWith(':*') || a === '*') offenders.push(`${id}: action ${a}`);
        const xrayOnly = asArray(st.Action).every((a) => a.startsWith('xray:'));
        if (asArray(st.Resource).some((r) => r === '*') && st.Sid !== 'LogDeliveryAndTracing' && !xrayOnly)
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

describe('logical ids', () => {
  it('stateful and named resources keep the logical ids of the stack before the constructs were split', () => {
    // Recorded from the pre-split stack (commit 2a04878): a changed id would replace the resource.
    const before: Record<string, string> = {
      AccessLogBucketDA470295: 'AWS::S3::Bucket',
      ExportBucket4E99310E: 'AWS::S3::Bucket',
      IngestDeadLetterQueue48D59084: 'AWS::SQS::Queue',
      IngestQueue2280FF4E: 'AWS::SQS::Queue',
      RenderDeadLetterQueue9AF94DDB: 'AWS::SQS::Queue',
      RenderQueue86559A2E: 'AWS::SQS::Queue',
      SnapshotDeadLetterQueueD1DC1B4E: 'AWS::SQS::Queue',
      SnapshotQueueE8274447: 'AWS::SQS::Queue',
      NightlyScheduleDeadLetterQueue2E540DB8: 'AWS::SQS::Queue',
      NightlySnapshotsABF14641: 'AWS::Scheduler::Schedule',
      Rebuildnewsner9AB0CA54: 'AWS::StepFunctions::StateMachine',
      Rebuildstreetscenes72F8B5E2: 'AWS::StepFunctions::StateMachine',
      HttpApiF5A9A8A7: 'AWS::ApiGatewayV2::Api',
      AlarmTopicKey57B0D3A7: 'AWS::KMS::Key',
      AlarmTopicD01E77F9: 'AWS::SNS::Topic',
      IngestLogs41B5EF21: 'AWS::Logs::LogGroup',
      ApiFunctionLogsA98C1C37: 'AWS::Logs::LogGroup',
      DeployedConfig80ADD08C: 'Custom::AWS',
      ExportBucketNotifications00765CA3: 'Custom::S3BucketNotifications',
      IngestFunctionSqsEventSourceLsExportTestIngestQueue052DEB3954F3EB8F: 'AWS::Lambda::EventSourceMapping',
    };
    for (const [id, type] of Object.entries(before)) expect(resource(id)?.Type, id).toBe(type);
    const created = synth({ sourceBucketMode: 'create' });
    expect(created.json.Resources.SourceBucketacmelabelstudiotarget359E0EC9?.Type).toBe('AWS::S3::Bucket');
  });

  it('two constructs that would flatten to one logical id are refused', () => {
    const stack = new LsExportStack(makeApp(), 'Collide', { config: exampleConfig() });
    // A second `ExportBucket` under another grouping scope flattens to the export bucket's id.
    new s3.Bucket(stack.lsExport.rebuild, 'ExportBucket');
    expect(() => Template.fromStack(stack)).toThrow(
      /logical id ExportBucket4E99310E of .* is already used by/,
    );
  });
});

describe('media confinement', () => {
  const withMedia = (s3Prefixes: string[], props: Partial<LsExportStackProps> = {}) => {
    const config = exampleConfig();
    config.projects[0].media = { s3Prefixes };
    return synth({ config, ...props });
  };

  it('render and snapshot read exactly the union of media.s3Prefixes, uploadPrefix and mediaS3Prefixes', () => {
    const t = withMedia(['s3://acme-images/raw/', 's3://acme-images/raw/'], {
      mediaS3Prefixes: ['s3://shared-media/'],
    });
    const media = [
      s3Arn('acme-images/raw/*'),
      s3Arn('acme-labelstudio-media/upload/*'),
      s3Arn('shared-media/*'),
    ];
    for (const name of ['render', 'snapshot'] as const) {
      const [st] = roleStatements(t, roleIdOf(t, name)).filter((x) => x.Sid === 'ReadMedia');
      expect(asArray(st.Action)).toEqual(['s3:GetObject']);
      expect(asArray(st.Resource).map(flat).sort()).toEqual(media);
    }
    for (const name of ['ingest', 'rebuildBatch', 'rebuildMerge', 'api'] as const)
      for (const m of media) expect(readableObjects(t, name)).not.toContain(m);
    expect(t.ls.media.map((m) => m.origin)).toEqual([
      'projects.0.media.s3Prefixes.0',
      'projects.0.media.s3Prefixes.1',
      'projects.1.media.uploadPrefix',
      'mediaS3Prefixes.0',
    ]);
  });

  it('media overlapping an export area, export prefix, config folder or watched prefix fail synthesis, naming both', () => {
    // mediaS3Prefixes come from the deployment, not the configuration: only this guard sees them.
    expect(() =>
      withMedia([], { mediaS3Prefixes: ['s3://acme-ls-export/exports/news-ner/_state/'] }),
    ).toThrow(
      'the media location s3://acme-ls-export/exports/news-ner/_state/ (mediaS3Prefixes.0) overlaps the export prefix of project "news-ner", s3://acme-ls-export/exports/',
    );
    // A media prefix containing the export areas (here the whole bucket) is as bad.
    expect(() => withMedia([], { mediaS3Prefixes: ['s3://acme-ls-export'] })).toThrow(
      /media location s3:\/\/acme-ls-export\/ \(mediaS3Prefixes\.0\) overlaps the export prefix of project "news-ner"/,
    );
    expect(() => withMedia([], { mediaS3Prefixes: ['s3://acme-labelstudio-target/ls/'] })).toThrow(
      /\(mediaS3Prefixes\.0\) overlaps the watched source prefix of project "news-ner", s3:\/\/acme-labelstudio-target\/ls\/news-ner\//,
    );
    // In the configuration: under the export prefix but outside every project area, and the config folder.
    expect(() => withMedia(['s3://acme-ls-export/exports/media/'])).toThrow(
      /\(projects\.0\.media\.s3Prefixes\.0\) overlaps the export prefix of project "news-ner"/,
    );
    expect(() => withMedia(['s3://acme-ls-export/_ls-export/'])).toThrow(
      /\(projects\.0\.media\.s3Prefixes\.0\) overlaps the deployed configuration, s3:\/\/acme-ls-export\/_ls-export\//,
    );
    const config = exampleConfig();
    for (const p of config.projects) p.export.prefix = '';
    expect(() => synth({ config, mediaS3Prefixes: ['s3://acme-ls-export/street-scenes/latest/'] })).toThrow(
      /\(mediaS3Prefixes\.0\) overlaps the export area \(_state\/, _exports\/, latest\/, snapshots\/\) of project "street-scenes"/,
    );
    // Elsewhere in the export bucket is fine (e.g. media uploaded next to the exports).
    expect(withMedia(['s3://acme-ls-export/media/']).ls.media[0]).toMatchObject({ prefix: 'media/' });
  });

  it('malformed media locations are refused with their path', () => {
    expect(() => withMedia(['https://example.com/x'])).toThrow(/projects\.0\.media\.s3Prefixes\.0/);
  });
});

describe('LsExport in a team’s own stack', () => {
  it('is importable from infra/index.ts and synthesizes in any stack, with outputs left to the app', () => {
    const app = makeApp();
    const stack = new Stack(app, 'TeamStack');
    const ls = new LsExport(stack, 'Exports', { config: exampleConfig() });
    const json = Template.fromStack(stack).toJSON() as {
      Resources: Record<string, Resource>;
      Outputs?: object;
    };
    const buckets = Object.entries(json.Resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket');
    expect(buckets.map(([, r]) => r.Properties.BucketName)).toContain(EXPORT);
    // Without LsExportStack's flattening the ids carry the construct path.
    expect(stack.getLogicalId(ls.exportBucket.node.defaultChild as CfnElement)).toMatch(
      /^ExportsStorageExportBucket[0-9A-F]{8}$/,
    );
    expect(json.Outputs).toBeUndefined();
    expect(Object.keys(ls.functions).sort()).toEqual([...FUNCTIONS].sort());
  });
});
