/** `ls-export convert -i s3://…` end to end against the local S3 server: both layouts, a bad object. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CONFIGS } from '../../bench/generate.ts';
import { main } from '../../functions/cli/main.ts';
import { S3ObjectStore } from '../../functions/storage/s3.ts';
import { annotatedTask, objectsOf, tempDir } from '../pipeline/helpers.ts';
import { bucketNames, createBuckets, endpoint, s3Client } from './helpers.ts';

afterEach(() => vi.restoreAllMocks());

describe('ls-export convert from s3://', () => {
  it('reads a prefix of target-storage objects in either layout and reports a malformed one by key', async () => {
    const client = s3Client();
    const names = bucketNames();
    await createBuckets(client, [names.src]);
    const src = new S3ObjectStore(client, names.src);
    const objects = [
      ...objectsOf(annotatedTask(1), 'annotation', 'ls'),
      ...objectsOf(annotatedTask(2), 'task', 'ls'),
      { key: 'ls/999', body: '{"id": 999, "result": [' },
    ];
    for (const o of objects) await src.put(o.key, o.body);
    await src.put('config/text-ner.xml', CONFIGS['text-ner']);
    const out = await tempDir();
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
    const status = await main([
      'convert',
      '-i',
      `s3://${names.src}/ls`,
      '-c',
      `s3://${names.src}/config/text-ner.xml`,
      '-o',
      out,
      '-f',
      'JSON_MIN',
      '--endpoint',
      endpoint(),
    ]);
    expect(status).toBe(0);
    expect(stderr.join('')).toMatch(/exported 2 tasks as JSON_MIN .* 1 input skipped/);
    const records = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as Array<{ id: number }>;
    expect([...new Set(records.map((r) => r.id))]).toEqual([1, 2]);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.skipped).toEqual([
      expect.objectContaining({ source: 'ls/999', reason: expect.stringMatching(/^invalid JSON/) }),
    ]);
  });
});
