/**
 * cdk-nag 3 (AwsSolutions) through the Validations API: synthesis passes, and every acknowledged
 * finding carries a written reason. `Template.fromStack` throws ValidationFailed on any
 * unacknowledged finding, so "does not throw" is the gate.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { exampleConfig, makeApp, synth } from './helpers.ts';

describe('cdk-nag AwsSolutions', () => {
  it('is active in these tests: an unacknowledged finding fails synthesis', () => {
    const app = makeApp();
    const stack = new Stack(app, 'Bad');
    new s3.Bucket(stack, 'Open'); // no access logs, no TLS policy
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    expect(() => Template.fromStack(stack)).toThrow(/AwsSolutions-S1/);
  });

  it('the stack synthesizes with AwsSolutionsChecks (defaults)', () => {
    expect(() => synth({}, { nag: true })).not.toThrow();
  });

  it('the stack synthesizes with AwsSolutionsChecks (created source buckets, KMS, e-mail, one bucket)', () => {
    expect(() =>
      synth(
        {
          sourceBucketMode: 'create',
          sourceKmsKeyArns: ['arn:aws:kms:eu-west-1:111122223333:key/abcd'],
          alarmEmail: 'ops@example.com',
          removalPolicy: 'destroy',
        },
        { nag: true },
      ),
    ).not.toThrow();
    const config = exampleConfig();
    for (const p of config.projects) p.source = { bucket: 'acme-ls-export', prefix: `raw/${p.id}` };
    expect(() => synth({ config }, { nag: true })).not.toThrow();
  });

  it('every acknowledgement carries a written reason and is recorded where cdk-nag reads it', () => {
    const { stack } = synth({ sourceKmsKeyArns: ['arn:aws:kms:eu-west-1:111122223333:key/abcd'] });
    const acks = stack.nag.all;
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.reason.trim().length, a.id).toBeGreaterThanOrEqual(40);
      expect(a.id).toMatch(/^AwsSolutions-(IAM4|IAM5|S1|SQS3)(\[.+\])?$/);
      // Recorded as construct metadata, which is what cdk-nag checks.
      const scope = stack.node.findAll().find((c) => c.node.path === a.path)!;
      const recorded = scope.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>));
      expect(
        recorded.some(([id, reason]) => id.endsWith(a.id) && reason === a.reason),
        a.id,
      ).toBe(true);
    }
    // No blanket acknowledgement: IAM5 findings are acknowledged one resource at a time, never "*" on a function.
    const ids = acks.map((a) => `${a.path} ${a.id}`);
    expect(new Set(ids).size).toBe(ids.length);
    const star = acks.filter((a) => a.id === 'AwsSolutions-IAM5[Resource::*]');
    // Step Functions logging/tracing on the rebuild and render fan-out roles, and X-Ray writes (active tracing) on each
    // function role, whose acknowledgement says so; the stack test asserts those are the only `*` actions.
    const functionRoles = star.filter(
      (a) => a.path.endsWith('/Role') && !a.path.includes('/Rebuild-') && !a.path.includes('/RenderFanout-'),
    );
    for (const a of functionRoles) expect(a.reason).toMatch(/xray:PutTraceSegments/);
    expect(star.filter((a) => !functionRoles.includes(a)).map((a) => a.path)).toEqual([
      'LsExportTest/LsExport/ProjectRebuild/Rebuild-newsner-Role',
      'LsExportTest/LsExport/ProjectRebuild/Rebuild-streetscenes-Role',
      'LsExportTest/LsExport/RenderFanout/RenderFanout-newsner-Role',
      'LsExportTest/LsExport/RenderFanout/RenderFanout-streetscenes-Role',
    ]);
    // ingest, render, snapshot, rebuild batch/merge, api, render plan/segment/commit
    expect(functionRoles).toHaveLength(9);
    for (const a of acks.filter((x) =>
      x.id.startsWith('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::'),
    ))
      expect(a.id).toMatch(
        /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:s3:::[a-z0-9.-]+\/.+(\*|\/snapshots\/\*\/export\.json)\]$/,
      );
  });
});
