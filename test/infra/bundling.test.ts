/**
 * Real bundling of one function with the local esbuild (no Docker): an ESM `.mjs` bundle with the
 * createRequire banner and a source map. The template tests skip bundling; this one does not.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { PipelineFunction } from '../../infra/pipeline-function.ts';
import { CDK_JSON } from './helpers.ts';

describe('NodejsFunction bundling', () => {
  it('produces an ESM bundle with the createRequire banner and a source map, without Docker', () => {
    const app = new App({ context: CDK_JSON.context });
    const stack = new Stack(app, 'Bundling');
    const f = new PipelineFunction(stack, 'Api', {
      entry: 'functions/handlers/api.ts',
      description: 'bundling test',
      memorySize: 256,
      timeout: Duration.seconds(10),
      environment: {},
      logRetention: logs.RetentionDays.ONE_DAY,
      removalPolicy: RemovalPolicy.DESTROY,
      logLevel: 'INFO',
    });
    const assembly = app.synth();
    const code = stack.resolve((f.fn.node.defaultChild as lambda.CfnFunction).code) as { s3Key: string };
    const hash = String(code.s3Key).replace(/\.zip$/, '');
    const dir = join(assembly.directory, `asset.${hash}`);
    expect(existsSync(dir), dir).toBe(true);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['index.mjs', 'index.mjs.map']);
    const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(bundle.startsWith("import { createRequire as __lsxCreateRequire } from 'node:module';")).toBe(
      true,
    );
    expect(bundle).toMatch(/export\s*\{[^}]*handler/);
    expect(bundle).toContain('//# sourceMappingURL=index.mjs.map');
    expect(bundle).not.toContain('module.exports');
  });
  it('bundles the token authorizer with the Secrets Manager client; the bundle loads on Node and denies a request without a token', async () => {
    const app = new App({ context: CDK_JSON.context });
    const stack = new Stack(app, 'BundlingAuthorizer');
    const f = new PipelineFunction(stack, 'Authorizer', {
      entry: 'functions/handlers/token-authorizer.ts',
      description: 'bundling test',
      memorySize: 256,
      timeout: Duration.seconds(10),
      environment: {},
      logRetention: logs.RetentionDays.ONE_DAY,
      removalPolicy: RemovalPolicy.DESTROY,
      logLevel: 'INFO',
    });
    const assembly = app.synth();
    const code = stack.resolve((f.fn.node.defaultChild as lambda.CfnFunction).code) as { s3Key: string };
    const file = join(assembly.directory, `asset.${String(code.s3Key).replace(/\.zip$/, '')}`, 'index.mjs');
    const bundle = readFileSync(file, 'utf8');
    expect(bundle).toContain('GetSecretValue');
    process.env.LS_EXPORT_API_TOKEN_SECRET_ID =
      'arn:aws:secretsmanager:eu-central-1:111122223333:secret:t-AbCdEf';
    try {
      const mod = (await import(pathToFileURL(file).href)) as {
        handler: (e: unknown) => Promise<{ isAuthorized: boolean }>;
      };
      const res = await mod.handler({ headers: {}, requestContext: { requestId: 'r' } });
      expect(res.isAuthorized).toBe(false);
    } finally {
      delete process.env.LS_EXPORT_API_TOKEN_SECRET_ID;
    }
  });
});
