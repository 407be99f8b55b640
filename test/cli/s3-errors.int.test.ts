/**
 * Against the local S3 server: a missing bucket, a missing key, an empty prefix, a missing config
 * key and an endpoint nobody listens on each end `convert` with one sentence and exit status 1.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../functions/cli/main.ts';
import { bucketNames, createBuckets, endpoint, s3Client } from '../integration/helpers.ts';

const CONFIG = join(import.meta.dirname, '..', '..', 'samples', 'text-ner', 'config.xml');

afterEach(() => vi.restoreAllMocks());

async function convert(input: string, config = CONFIG, url = endpoint()) {
  const err: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    err.push(String(c));
    return true;
  });
  const out = await mkdtemp(join(tmpdir(), 'ls-s3err-'));
  const status = await main(['convert', '-i', input, '-c', config, '-o', out, '--endpoint', url]);
  vi.restoreAllMocks();
  return { status, stderr: err.join('') };
}

describe('convert from s3:// — errors in one sentence (local S3 server)', () => {
  it('a missing bucket', async () => {
    const { src } = bucketNames();
    const r = await convert(`s3://${src}/ls`);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^ls-export: S3 bucket ("${src}" )?does not exist \\(check the s3:// address and --endpoint\\)\\n$`,
      ),
    );
  });

  it('a missing key, an empty prefix, a missing config key', async () => {
    const client = s3Client();
    const { src } = bucketNames();
    await createBuckets(client, [src]);
    await client.send(
      new PutObjectCommand({ Bucket: src, Key: 'other/1.json', Body: '{"id": 1, "data": {}}' }),
    );
    const key = await convert(`s3://${src}/exports/missing.json`);
    expect(key).toEqual({
      status: 1,
      stderr: `ls-export: input not found: no object at or under s3://${src}/exports/missing.json\n`,
    });
    const prefix = await convert(`s3://${src}/nothing-here/`);
    expect(prefix.stderr).toBe(
      `ls-export: input not found: no object at or under s3://${src}/nothing-here/\n`,
    );
    const config = await convert(`s3://${src}/other`, `s3://${src}/config.xml`);
    expect(config).toEqual({
      status: 1,
      stderr: `ls-export: label config not found: s3://${src}/config.xml\n`,
    });
  });

  it('an endpoint nobody listens on', async () => {
    const r = await convert('s3://bucket/ls', CONFIG, 'http://127.0.0.1:9');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'ls-export: cannot reach http://127.0.0.1:9 (ECONNREFUSED): check --endpoint / AWS_ENDPOINT_URL_S3 and the network\n',
    );
  });
});
