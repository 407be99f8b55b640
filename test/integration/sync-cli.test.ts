/** `ls-export sync` end to end against the local S3 server. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../functions/cli/main.ts';
import { S3ObjectStore } from '../../functions/storage/s3.ts';
import { annotatedTask, objectsOf, projectInput, readJsonObject, tempDir } from '../pipeline/helpers.ts';
import { bucketNames, createBuckets, endpoint, s3Client } from './helpers.ts';

afterEach(() => vi.restoreAllMocks());

function capture() {
  const lines: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

describe('ls-export sync', () => {
  it('rebuilds, renders, and then reads only what changed', async () => {
    const client = s3Client();
    const names = bucketNames();
    await createBuckets(client, [names.src, names.out]);
    const src = new S3ObjectStore(client, names.src);
    const objs = [1, 2, 3].flatMap((i) => objectsOf(annotatedTask(i), 'annotation', 'ls'));
    for (const o of objs) await src.put(o.key, o.body);
    const dir = await tempDir();
    const file = join(dir, 'pipeline.json');
    await writeFile(
      file,
      JSON.stringify({
        version: 1,
        projects: [
          projectInput({
            source: { bucket: names.src, prefix: 'ls' },
            export: { bucket: names.out, prefix: 'exp' },
            formats: ['JSON', 'CSV'],
          }),
        ],
      }),
    );
    const args = ['sync', '-c', file, '--endpoint', endpoint(), '--emulate-conditional-writes'];
    let out = capture();
    expect(await main(args)).toBe(0);
    expect(out.join('')).toMatch(/proj: rebuilt from 3 objects/);
    expect(out.join('')).toMatch(/latest rendered — state v1, 3 tasks/);
    const manifest = await readJsonObject<{ counts: { tasks: number } }>(
      new S3ObjectStore(client, names.out),
      'exp/proj/latest/manifest.json',
    );
    expect(manifest.counts.tasks).toBe(3);
    vi.restoreAllMocks();

    await src.delete(objs[0].key);
    out = capture();
    expect(await main([...args, '-p', '7'])).toBe(0);
    expect(out.join('')).toMatch(/proj: 2 objects listed, 0 read, 1 deleted, 1 tasks changed/);
    vi.restoreAllMocks();

    out = capture();
    expect(await main(['sync', '--endpoint', endpoint()])).toBe(2);
    expect(out.join('')).toMatch(/missing -c\/--config/);
    expect(await main(['sync', '-c', file, '-p', 'nope', '--endpoint', endpoint()])).toBe(1);
    expect(out.join('')).toMatch(/no project "nope"/);
    expect(await main(['sync', '--help'])).toBe(0);
    expect(out.join('')).toMatch(/ls-export sync -c PIPELINE.json/);
  });
});
