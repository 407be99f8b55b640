/**
 * ExportStorage: the hardened buckets, their lifecycle, source buckets; read-only export grants.
 */
import { type CfnElement, type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { LsExportStack } from '../../infra/ls-export-stack.ts';
import {
  asArray,
  type Cfn,
  EXPORT,
  exampleConfig,
  FULL_PROPS,
  flat,
  logicalId,
  makeApp,
  ofType,
  type Resource,
  SOURCE,
  type Statement,
  type Synth,
  s3Arn,
  synth,
} from './helpers.ts';

let s: Synth;
beforeAll(() => {
  s = synth(FULL_PROPS);
});

const resource = (id: string): Resource => s.json.Resources[id];

describe('buckets', () => {
  const exportId = () => logicalId(s, s.ls.exportBucket);
  const logId = () => logicalId(s, s.ls.accessLogBucket);

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
    // Fan-out jobs' leftovers (a worker still running after its job's abort) expire after a week.
    for (const id of ['news-ner', 'street-scenes'])
      expect(rules).toContainEqual(
        expect.objectContaining({
          Prefix: `exports/${id}/_state/render-fanout/`,
          ExpirationInDays: 7,
          Status: 'Enabled',
        }),
      );
    // Nothing ever expires the live state or latest/.
    for (const r of rules.filter((x) => x.ExpirationInDays))
      expect(r.Prefix).toMatch(/\/(snapshots|_state\/rebuild-results|_state\/render-fanout)\/$/);
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
    // Ingest: 2 watched prefixes and street-scenes' label config object, created and removed each;
    // render and snapshot: one each per project.
    expect(notif[0][1].Properties.NotificationConfiguration.QueueConfigurations).toHaveLength(10);
  });
});

describe('grantReadExports (training jobs)', () => {
  const trainingRole = () => {
    const stack = new LsExportStack(makeApp(), 'Training', { config: exampleConfig() });
    const role = new iam.Role(stack, 'TrainingRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
    });
    return { t: { stack, ls: stack.lsExport }, role };
  };
  const statements = (stack: Stack, role: iam.Role) => {
    const json = Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> };
    const id = stack.getLogicalId(role.node.defaultChild as CfnElement);
    return Object.values(json.Resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' && asArray(r.Properties.Roles).some((x) => flat(x) === `<${id}>`),
      )
      .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
  };

  it('one project: GetObject on its latest/ and snapshots/, listing limited to them, nothing else', () => {
    const { t, role } = trainingRole();
    t.ls.grantReadExports(role, 'street-scenes');
    const st = statements(t.stack, role);
    expect(st.map((x) => [x.Sid, x.Action, asArray(x.Resource).map(flat), x.Condition])).toEqual([
      [
        'ReadExportsstreetscenes',
        's3:GetObject',
        [
          s3Arn(`${EXPORT}/exports/street-scenes/latest/*`),
          s3Arn(`${EXPORT}/exports/street-scenes/snapshots/*`),
        ],
        undefined,
      ],
      [
        'ListReadExportsstreetscenes',
        's3:ListBucket',
        [s3Arn(EXPORT)],
        {
          StringLike: {
            's3:prefix': ['exports/street-scenes/latest/*', 'exports/street-scenes/snapshots/*'],
          },
        },
      ],
    ]);
  });

  it('all projects when no project is given; an unknown project is refused', () => {
    const { t, role } = trainingRole();
    t.ls.grantReadExports(role);
    const [read] = statements(t.stack, role);
    expect(asArray(read.Resource).map(flat)).toEqual(
      ['news-ner', 'street-scenes'].flatMap((p) => [
        s3Arn(`${EXPORT}/exports/${p}/latest/*`),
        s3Arn(`${EXPORT}/exports/${p}/snapshots/*`),
      ]),
    );
    for (const x of statements(t.stack, role))
      for (const r of asArray(x.Resource).map(flat)) expect(r).not.toMatch(/_state|_exports|_ls-export/);
    expect(() => t.ls.grantReadExports(role, 'nope')).toThrow(
      'grantReadExports: no project "nope" in this deployment (projects: news-ner, street-scenes)',
    );
  });

  it('passes cdk-nag with the prefix wildcards acknowledged', () => {
    const app = makeApp();
    const stack = new LsExportStack(app, 'Nagged', { config: exampleConfig() });
    const role = new iam.Role(stack, 'TrainingRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
    });
    stack.lsExport.grantReadExports(role, 'news-ner');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    expect(() => Template.fromStack(stack)).not.toThrow();
    expect(stack.nag.all.filter((a) => a.path === role.node.path).map((a) => a.id)).toEqual([
      `AwsSolutions-IAM5[Resource::${s3Arn(`${EXPORT}/exports/news-ner/latest/*`)}]`,
      `AwsSolutions-IAM5[Resource::${s3Arn(`${EXPORT}/exports/news-ner/snapshots/*`)}]`,
    ]);
  });
});
