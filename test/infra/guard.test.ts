/**
 * Synth-time guards: a configuration the pipeline would loop on, or one that does not fit a stack,
 * fails synthesis with a clear message — in the stack and through the CDK app itself.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/pipeline/config.ts';
import { stackPropsFromContext } from '../../infra/context.ts';
import { minimalPrefixes, planDeployment, projectBase, watchedPrefix } from '../../infra/layout.ts';
import { LsExportStack } from '../../infra/ls-export-stack.ts';
import { exampleConfig, makeApp } from './helpers.ts';

const build =
  (config: unknown, props: Record<string, unknown> = {}) =>
  () =>
    new LsExportStack(makeApp(), 'Guard', { config, ...props });

describe('synth-time guard', () => {
  it('an export prefix inside a watched prefix fails synthesis with a clear message', () => {
    const config = exampleConfig();
    // Label Studio writes under ls/ of the export bucket, and the exports would go to ls/exports.
    config.projects[0].source = { bucket: 'acme-ls-export', prefix: 'ls/' };
    config.projects[0].export = { bucket: 'acme-ls-export', prefix: 'ls/exports' };
    config.projects[1].export = { bucket: 'acme-ls-export', prefix: 'ls/exports' };
    expect(build(config)).toThrow(ConfigError);
    expect(build(config)).toThrow(
      'export location s3://acme-ls-export/ls/exports lies under the watched prefix s3://acme-ls-export/ls/ of project "news-ner": exports would trigger the pipeline again',
    );
  });

  it('a watched bucket root catches any export prefix in that bucket', () => {
    const config = exampleConfig();
    config.projects[1].source = { bucket: 'acme-ls-export', prefix: '' };
    expect(build(config)).toThrow(
      /lies under the watched prefix s3:\/\/acme-ls-export\/ of project "street-scenes"/,
    );
  });

  it('a watched prefix inside a project’s export area fails too', () => {
    const config = exampleConfig();
    config.projects[0].source = { bucket: 'acme-ls-export', prefix: 'exports/street-scenes/latest' };
    expect(build(config)).toThrow(
      /watched prefix s3:\/\/acme-ls-export\/exports\/street-scenes\/latest\/ of project "news-ner" lies inside the export area/,
    );
  });

  it('the deployed config object may not lie under a watched prefix', () => {
    const config = exampleConfig();
    config.projects[0].source = { bucket: 'acme-ls-export', prefix: 'ls/' };
    expect(build(config, { configKey: 'ls/config.json' })).toThrow(
      /config object s3:\/\/acme-ls-export\/ls\/config.json/,
    );
  });

  it('project ids that collide in CloudFormation names are rejected', () => {
    const config = exampleConfig();
    config.projects[1].id = 'news_ner';
    expect(build(config)).toThrow('project ids "news-ner" and "news_ner" differ only in "-" or "_"');
  });

  it('one export bucket per stack', () => {
    const config = exampleConfig();
    config.projects[1].export = { bucket: 'other-export', prefix: 'x' };
    expect(build(config)).toThrow('every project must use the same export bucket');
  });

  it('schema errors are reported by the functions’ own parser', () => {
    const config = exampleConfig();
    config.projects[0].formats = ['NOT_A_FORMAT'];
    expect(build(config)).toThrow(/invalid ls-export configuration: projects\.0\.formats\.0/);
  });

  it('bad tuning values are rejected', () => {
    expect(build(exampleConfig(), { ingest: { maxReceiveCount: 3 } })).toThrow(
      'ingest.maxReceiveCount must be ≥ 5',
    );
    expect(build(exampleConfig(), { abortIncompleteUploadDays: 10 })).toThrow(
      'abortIncompleteUploadDays must be 1–7',
    );
    expect(build(exampleConfig(), { nightlyCron: '0 2 * * *' })).toThrow(/6 fields/);
  });

  it('the CDK app prints the message and exits non-zero', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-export-guard-'));
    const config = exampleConfig();
    config.projects[0].source = { bucket: 'acme-ls-export', prefix: 'exports' };
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    const run = promisify(execFile)(process.execPath, ['bin/run-ts.mjs', 'infra/app.ts'], {
      cwd: new URL('../../', import.meta.url).pathname,
      env: {
        ...process.env,
        CDK_OUTDIR: dir,
        CDK_CONTEXT_JSON: JSON.stringify({ config: file, 'aws:cdk:bundling-stacks': [] }),
      },
    });
    const err = (await run.then(
      () => undefined,
      (e: unknown) => e,
    )) as { code: number; stderr: string } | undefined;
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain(
      'ls-export: invalid ls-export configuration: projects.0.export: export location s3://acme-ls-export/exports lies under the watched prefix s3://acme-ls-export/exports of project "news-ner"',
    );
  });
});

describe('layout helpers', () => {
  it('normalise prefixes the way the functions build keys', () => {
    expect(watchedPrefix('')).toBe('');
    expect(watchedPrefix('ls/proj')).toBe('ls/proj/');
    expect(watchedPrefix('ls/proj//')).toBe('ls/proj/');
    expect(projectBase('', 'p1')).toBe('p1/');
    expect(projectBase('exports', 'p1')).toBe('exports/p1/');
    expect(projectBase('exports/', 'p1')).toBe('exports/p1/');
  });

  it('keep only the outermost of nested watched prefixes', () => {
    expect(minimalPrefixes(['a/b/', 'a/', 'c/', 'a/', 'cd/'])).toEqual(['a/', 'c/', 'cd/']);
    expect(minimalPrefixes(['a/', ''])).toEqual(['']);
  });

  it('derive every project area', () => {
    const plan = planDeployment(exampleConfig(), '_ls-export/config.json');
    expect(plan.exportBucketName).toBe('acme-ls-export');
    expect(plan.projects[1]).toMatchObject({
      sourcePrefix: 'ls/street-scenes/',
      state: 'exports/street-scenes/_state/',
      latest: 'exports/street-scenes/latest/',
      snapshots: 'exports/street-scenes/snapshots/',
      exportRequests: 'exports/street-scenes/_exports/requests/',
      media: { bucket: 'acme-labelstudio-media', prefix: 'upload/' },
      labelConfigObject: { bucket: 'acme-ls-export', key: 'label-configs/street-scenes.xml' },
    });
  });
});

describe('context', () => {
  const ctx = (values: Record<string, unknown>) => stackPropsFromContext((k) => values[k]);

  it('reads -c strings and cdk.json values', () => {
    const p = ctx({
      sourceKmsKeyArns: 'arn:a, arn:b',
      nightlyCron: '0 1 * * ? *',
      nightlyEnabled: 'false',
      snapshotRetentionDays: '14',
      logRetentionDays: 90,
      removalPolicy: 'destroy',
      ingestBatchSize: 50,
    });
    expect(p).toMatchObject({
      sourceKmsKeyArns: ['arn:a', 'arn:b'],
      nightlyCron: '0 1 * * ? *',
      nightlyEnabled: false,
      snapshotRetentionDays: 14,
      logRetention: 90,
      removalPolicy: 'destroy',
      ingest: { batchSize: 50 },
    });
  });

  it('rejects unknown values clearly', () => {
    expect(() => ctx({ removalPolicy: 'keep' })).toThrow(
      'context removalPolicy must be one of retain, destroy',
    );
    expect(() => ctx({ logRetentionDays: 10 })).toThrow(/logRetentionDays must be one of/);
    expect(() => ctx({ snapshotRetentionDays: 'soon' })).toThrow('must be a number');
  });
});
