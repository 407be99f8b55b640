/**
 * S3 failures end in one sentence, never a stack trace (unless --debug): refused credentials and
 * access denied, with aws-sdk-client-mock since the local S3 server accepts any credentials. No
 * credentials at all (the SDK's real chain, in a child process on the oldest Node available, which
 * also shows the SDK's Node-version warning is silenced): cli.process.test.ts.
 * Missing buckets, keys and endpoints are tested against the local server (s3-errors.int.test.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeError } from '../../functions/cli/errors.ts';
import { main } from '../../functions/cli/main.ts';
import { s3Error } from '../handlers/fake-s3.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TEXT_CONFIG = join(ROOT, 'samples', 'text-ner', 'config.xml');

afterEach(() => vi.restoreAllMocks());

async function run(...argv: string[]) {
  const err: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    err.push(String(c));
    return true;
  });
  const status = await main(argv);
  vi.restoreAllMocks();
  return { status, stderr: err.join('') };
}

describe('S3 errors in one sentence', () => {
  it('access denied and refused credentials (mocked S3): one sentence each, exit 1', async () => {
    const s3 = mockClient(S3Client);
    try {
      s3.on(HeadObjectCommand).rejects(s3Error('Forbidden', 403));
      s3.on(ListObjectsV2Command).rejects(s3Error('AccessDenied', 403, 'Access Denied'));
      const env = { ...process.env };
      process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
      process.env.AWS_SECRET_ACCESS_KEY = 'secret';
      try {
        const denied = await run(
          'convert',
          '-i',
          's3://b/ls',
          '-c',
          TEXT_CONFIG,
          '-o',
          mkdtempSync(join(tmpdir(), 'ls-')),
        );
        expect(denied).toEqual({
          status: 1,
          stderr:
            'ls-export: access denied by S3 (AccessDenied): the credentials in use may not read that bucket or key (s3:ListBucket, s3:GetObject)\n',
        });
        s3.on(ListObjectsV2Command).rejects(
          s3Error('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist'),
        );
        const refused = await run(
          'convert',
          '-i',
          's3://b/ls',
          '-c',
          TEXT_CONFIG,
          '-o',
          mkdtempSync(join(tmpdir(), 'ls-')),
        );
        expect(refused.status).toBe(1);
        expect(refused.stderr).toBe(
          'ls-export: AWS refused the credentials (InvalidAccessKeyId): check AWS_PROFILE or the access keys, or log in again\n',
        );
      } finally {
        process.env.AWS_ACCESS_KEY_ID = env.AWS_ACCESS_KEY_ID;
        process.env.AWS_SECRET_ACCESS_KEY = env.AWS_SECRET_ACCESS_KEY;
        if (env.AWS_ACCESS_KEY_ID === undefined) delete process.env.AWS_ACCESS_KEY_ID;
        if (env.AWS_SECRET_ACCESS_KEY === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      }
    } finally {
      s3.restore();
    }
  });

  it('an unexpected error: its message in one line, the stack only with --debug', async () => {
    const plain = await run('formats', '-c', ROOT); // a folder: EISDIR
    expect(plain.status).toBe(1);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    expect(plain.stderr).not.toMatch(/\n\s+at /);
  });

  it('describeError: each case its sentence; other errors none', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(describeError(refused, 'http://127.0.0.1:1')).toBe(
      'cannot reach http://127.0.0.1:1 (ECONNREFUSED): check --endpoint / AWS_ENDPOINT_URL_S3 and the network',
    );
    const nested = Object.assign(new Error('fetch failed'), {
      cause: Object.assign(new Error('getaddrinfo ENOTFOUND s3.example.invalid'), {
        code: 'ENOTFOUND',
        hostname: 's3.example.invalid',
      }),
    });
    expect(describeError(nested)).toMatch(/^cannot reach s3\.example\.invalid \(ENOTFOUND\)/);
    expect(describeError(Object.assign(s3Error('NoSuchBucket', 404), { BucketName: 'nope' }))).toBe(
      'S3 bucket "nope" does not exist (check the s3:// address and --endpoint)',
    );
    expect(describeError(s3Error('PermanentRedirect', 301))).toMatch(/another AWS region .*--region/);
    expect(describeError(new TypeError('x is undefined'))).toBeUndefined();
    expect(describeError('a string')).toBeUndefined();
  });
});

describe('local file system errors in one sentence', () => {
  it('a file in the way of an output folder: the call, the path and the reason, exit 1', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ls-export-fs-error-'));
    writeFileSync(join(out, 'labels'), 'not a folder');
    const sample = join(ROOT, 'samples', 'image-bbox');
    const { status, stderr } = await run(
      'convert',
      '-i',
      join(sample, 'tasks.json'),
      '-c',
      join(sample, 'config.xml'),
      '-o',
      out,
      '-f',
      'YOLO',
      '-q',
    );
    expect(status).toBe(1);
    expect(stderr).toBe(
      `ls-export: the file system refused mkdir ${join(out, 'labels')}: a file of that name is in the way (EEXIST); the output may be incomplete\n`,
    );
  });

  it('names both paths of a rename, and leaves other errors alone', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device'), {
      code: 'ENOSPC',
      syscall: 'rename',
      path: '/o/.tmp',
      dest: '/o/result.csv',
    });
    expect(describeError(enospc)).toBe(
      'the file system refused rename /o/.tmp -> /o/result.csv: no space left on the device (ENOSPC); the output may be incomplete',
    );
    expect(describeError(Object.assign(new Error('x'), { code: 'EACCES' }))).toBeUndefined();
    expect(describeError(Object.assign(new Error('x'), { code: 'EWHAT', path: '/a' }))).toBeUndefined();
  });
});
