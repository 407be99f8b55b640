/**
 * `ls-export sync` against the local S3 server: a pipeline warning (a render that did not finish,
 * so latest/ is rewritten in full) reads as one human line, not a JSON log line; with -q nothing is
 * printed (only errors would be). A malformed label config ends the run with one sentence, exit 2.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../functions/cli/main.ts';
import { S3ObjectStore } from '../../functions/storage/s3.ts';
import { bucketNames, createBuckets, endpoint, s3Client } from '../integration/helpers.ts';
import { annotatedTask, objectsOf, projectInput, tempDir } from '../pipeline/helpers.ts';

afterEach(() => vi.restoreAllMocks());

/** Runs main with stdout and stderr captured. */
async function run(argv: string[]) {
  const lines: string[] = [];
  const keep = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stderr, 'write').mockImplementation(keep);
  vi.spyOn(process.stdout, 'write').mockImplementation(keep);
  const errors = vi.spyOn(console, 'error').mockImplementation((...a) => void keep(a.join(' ')));
  const logs = vi.spyOn(console, 'log').mockImplementation((...a) => void keep(a.join(' ')));
  const status = await main(argv);
  errors.mockRestore();
  logs.mockRestore();
  vi.restoreAllMocks();
  return { status, output: lines.join('') };
}

describe('ls-export sync log lines', () => {
  it('a pipeline warning is one "ls-export: WARNING:" line; -q prints nothing', async () => {
    const client = s3Client();
    const names = bucketNames();
    await createBuckets(client, [names.src, names.out]);
    const src = new S3ObjectStore(client, names.src);
    const out = new S3ObjectStore(client, names.out);
    for (const o of [1, 2].flatMap((i) => objectsOf(annotatedTask(i), 'annotation', 'ls')))
      await src.put(o.key, o.body);
    const file = join(await tempDir(), 'pipeline.json');
    const project = projectInput({
      source: { bucket: names.src, prefix: 'ls' },
      export: { bucket: names.out, prefix: 'exp' },
      formats: ['JSON'],
    });
    await writeFile(file, JSON.stringify({ version: 1, projects: [project] }));
    const args = ['sync', '-c', file, '--endpoint', endpoint(), '--emulate-conditional-writes'];
    expect((await run(args)).status).toBe(0);

    // A render that started and never finished: the next render rewrites latest/ and warns.
    const unfinished = () =>
      out.put(
        'exp/proj/_state/render-inflight.json',
        JSON.stringify({ owner: 'gone', renderId: 'r-gone', startedAt: '2026-01-01T00:00:00.000Z' }),
      );
    await unfinished();
    const loud = await run(args);
    expect(loud.status).toBe(0);
    expect(loud.output).toContain(
      'ls-export: WARNING: latest/ is rewritten in full (project: proj, reason: render r-gone did not finish)\n',
    );
    expect(loud.output).not.toMatch(/"level"|^\{/m);

    await unfinished();
    const quiet = await run([...args, '-q']);
    expect(quiet.status).toBe(0);
    expect(quiet.output).toBe('');
    // The warning's cause was there: latest/ was rewritten (the record is gone after the render).
    expect(await out.head('exp/proj/_state/render-inflight.json')).toBeUndefined();
  });

  it('a malformed label config: one sentence naming the project, where the config is and the XML problem, exit 2', async () => {
    const client = s3Client();
    const names = bucketNames();
    await createBuckets(client, [names.src, names.out]);
    const src = new S3ObjectStore(client, names.src);
    for (const o of objectsOf(annotatedTask(1), 'annotation', 'ls')) await src.put(o.key, o.body);
    const file = join(await tempDir(), 'pipeline.json');
    const project = {
      ...projectInput({
        source: { bucket: names.src, prefix: 'ls' },
        export: { bucket: names.out, prefix: 'exp' },
        formats: ['JSON'],
      }),
      labelConfig: { inline: '<View>\n  <Labels name="label" toName="text">\n' },
    };
    await writeFile(file, JSON.stringify({ version: 1, projects: [project] }));
    const r = await run(['sync', '-c', file, '--endpoint', endpoint(), '--emulate-conditional-writes', '-q']);
    expect(r.status).toBe(2);
    expect(r.output).toBe(
      `ls-export: the label config of project proj (inline in ${file}) is not well-formed XML: the document ends with <View>, <Labels> still open (a closing tag is missing)\n`,
    );
  });
});
