/** The environment contract: parsed once with zod; the configuration inline or from S3. */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/pipeline/config.ts';
import { parseEnv, runtimeFromEnv } from '../../functions/runtime/env.ts';
import { bucketNames, createBuckets, endpoint, s3Client } from '../integration/helpers.ts';
import { projectInput } from '../pipeline/helpers.ts';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

const configText = JSON.stringify({ version: 1, projects: [projectInput()] });

describe('handler environment', () => {
  it('requires a configuration and validates the variables', () => {
    expect(() => parseEnv({})).toThrow(ConfigError);
    expect(() => parseEnv({})).toThrow(/LS_EXPORT_CONFIG/);
    expect(() => parseEnv({ LS_EXPORT_CONFIG_S3: 'bucket/key' })).toThrow(/s3:\/\/bucket\/key/);
    expect(() => parseEnv({ LS_EXPORT_CONFIG: '{}', AWS_ENDPOINT_URL_S3: 'not a url' })).toThrow(
      /AWS_ENDPOINT_URL_S3/,
    );
    expect(parseEnv({ LS_EXPORT_CONFIG: '{}' })).toMatchObject({
      LS_EXPORT_LOG_LEVEL: 'info',
      LS_EXPORT_DOWNLOAD_TTL: 300,
    });
  });

  it('reads an inline configuration, and rejects an invalid one', async () => {
    const rt = await runtimeFromEnv({ LS_EXPORT_CONFIG: configText, AWS_REGION: 'eu-west-1' });
    expect(rt.ctx.config.projects[0].id).toBe('proj');
    expect(await rt.client.config.region()).toBe('eu-west-1');
    await expect(runtimeFromEnv({ LS_EXPORT_CONFIG: '{"version": 2}' })).rejects.toThrow(ConfigError);
  });

  it('reads the configuration object from S3 through AWS_ENDPOINT_URL_S3 (path style)', async () => {
    const client = s3Client();
    const { src } = bucketNames();
    await createBuckets(client, [src]);
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    await client.send(new PutObjectCommand({ Bucket: src, Key: 'cfg/ls-export.json', Body: configText }));
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    const rt = await runtimeFromEnv({
      LS_EXPORT_CONFIG_S3: `s3://${src}/cfg/ls-export.json`,
      AWS_ENDPOINT_URL_S3: endpoint(),
    });
    expect(rt.ctx.config.projects.map((p) => p.id)).toEqual(['proj']);
    expect(rt.client.config.forcePathStyle).toBe(true);
  });
});
