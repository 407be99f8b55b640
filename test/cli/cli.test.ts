import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { endQuietlyOnEpipe } from '../../functions/cli/main.ts';
import { runCli } from '../helpers/cli.ts';
import { FIXTURES } from '../helpers/export.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The CLI in-process (test/helpers/cli.ts), from the repository root. */
async function cli(...args: string[]) {
  const r = await runCli(args, { cwd: ROOT });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'ls-cli-'));
const TEXT_CONFIG = join(ROOT, 'samples', 'text-ner', 'config.xml');
const TEXT_TASKS = join(ROOT, 'samples', 'text-ner', 'tasks.json');

describe('ls-export CLI', () => {
  it('--help prints usage with the converter-compatible flags', async () => {
    const r = await cli('--help');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'ls-export convert -i INPUT -c CONFIG.xml -o OUTPUT_DIR [-f FORMAT[,FORMAT…]]',
    );
    expect(r.stdout).toContain('--fix conll-all-labels');
  });

  it('converts, writes report.json and a one-line summary; skips do not fail the run', async () => {
    const out = tmp();
    const input = join(out, 'in.json');
    writeFileSync(
      input,
      '[{"id": 1, "data": {"text": "Jane"}, "annotations": []}, {"id": 2}, {"id": 3, "data": {"text": "ok"}',
    );
    const r = await cli('convert', '-i', input, '-c', TEXT_CONFIG, '-o', join(out, 'o'), '-f', 'CONLL2003');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^ls-export: exported 1 task as CONLL2003 into .* \(1 file\).* 2 inputs skipped/m,
    );
    expect(readFileSync(join(out, 'o', 'result.conll'), 'utf8')).toBe('-DOCSTART- -X- O\nJane -X- _ O\n\n');
    const report = JSON.parse(readFileSync(join(out, 'o', 'report.json'), 'utf8'));
    expect(report.skipped.map((s: { source: string }) => s.source)).toEqual(['in.json[1]', 'in.json[2]']);
    expect(report.skippedCount).toBe(2);
  });

  it('an output folder that cannot be made or written fails before reading, naming the folder and why', async () => {
    const out = tmp();
    const file = join(out, 'taken');
    writeFileSync(file, 'not a folder');
    for (const o of [file, join(file, 'inner')]) {
      const r = await cli('convert', '-i', TEXT_TASKS, '-c', TEXT_CONFIG, '-o', o, '-f', 'JSON_MIN');
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        `ls-export: cannot write the output folder ${o}: a file of that name is in the way\n`,
      );
    }
    expect(readdirSync(out)).toEqual(['taken']);
  });

  it('files an earlier export left in the output folder are named in one warning; a re-run into it is quiet', async () => {
    const out = tmp();
    const o = join(out, 'o');
    const image = (f: string) => join(ROOT, 'samples', 'image-bbox', f);
    const run = () =>
      cli('convert', '-i', image('tasks.json'), '-c', image('config.xml'), '-o', o, '-f', 'YOLO');
    const first = await run();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).not.toContain('WARNING');
    // The same export again: every file is rewritten, nothing is stale.
    const again = await run();
    expect(again.stderr).not.toContain('WARNING');
    writeFileSync(join(o, 'labels', 'from-an-earlier-export.txt'), '0 0.5 0.5 0.1 0.1\n');
    const third = await run();
    expect(third.status).toBe(0);
    expect(third.stderr).toContain(
      `ls-export: WARNING: 1 file in the output folder was not written by this run (left from an earlier export? use an empty folder), e.g. ${join(o, 'labels', 'from-an-earlier-export.txt')}\n`,
    );
    const report = JSON.parse(readFileSync(join(o, 'report.json'), 'utf8'));
    expect(report.warnings.map((w: { source: string }) => w.source)).toContain('output');
    // A JSON export copied byte for byte into its own folder: nothing stale either.
    const j = join(out, 'j');
    for (let i = 0; i < 2; i++) {
      const r = await cli(
        'convert',
        '-i',
        image('tasks.json'),
        '-c',
        image('config.xml'),
        '-o',
        j,
        '-f',
        'JSON',
      );
      expect(r.stderr).not.toContain('WARNING');
    }
  });

  it('CSV to an output ending in .csv writes that file (as the reference does), the report beside it', async () => {
    const out = tmp();
    const r = await cli(
      'convert',
      '-i',
      TEXT_TASKS,
      '-c',
      TEXT_CONFIG,
      '-o',
      join(out, 'sub', 'my.csv'),
      '-f',
      'CSV',
      '-q',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(out, 'sub')).sort()).toEqual(['my.csv', 'my.report.json']);
    expect(readFileSync(join(out, 'sub', 'my.csv'), 'utf8').split('\r\n')[0]).toContain('"annotation_id"');
  });

  it('JSON of a single export file is a byte-for-byte copy (the reference file mode)', async () => {
    const out = tmp();
    const r = await cli('convert', '-i', TEXT_TASKS, '-c', TEXT_CONFIG, '-o', out, '-f', 'JSON', '-q');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(join(out, 'result.json')).equals(readFileSync(TEXT_TASKS))).toBe(true);
  });

  it('reads a folder of target-storage objects', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, '41'),
      JSON.stringify({
        id: 41,
        result: [],
        completed_by: { id: 1, email: 'a@b.c' },
        task: { id: 4, data: { text: 'Hi there' } },
        created_at: '2025',
        updated_at: '2025',
      }),
    );
    const out = tmp();
    const r = await cli('convert', '-i', dir, '-c', TEXT_CONFIG, '-o', out, '-f', 'CONLL2003', '-q');
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'result.conll'), 'utf8')).toBe(
      '-DOCSTART- -X- O\nHi -X- _ O\nthere -X- _ O\n\n',
    );
  });

  it('fails with one clear sentence for a missing input, a bad config, an unsupported format', async () => {
    const out = tmp();
    const missing = await cli(
      'convert',
      '-i',
      join(out, 'nope.json'),
      '-c',
      TEXT_CONFIG,
      '-o',
      out,
      '-f',
      'CSV',
    );
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`ls-export: input not found: ${join(out, 'nope.json')}\n`);

    const badConfig = join(out, 'bad.xml');
    writeFileSync(badConfig, '<View><Image name="i" value="$image"></View>');
    const bad = await cli('convert', '-i', TEXT_TASKS, '-c', badConfig, '-o', out, '-f', 'CSV');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^ls-export: the label config .*bad\.xml is not well-formed XML: /);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);

    const unsupported = await cli('convert', '-i', TEXT_TASKS, '-c', TEXT_CONFIG, '-o', out, '-f', 'COCO');
    expect(unsupported.status).toBe(1);
    expect(unsupported.stderr).toBe(
      'ls-export: format COCO is not supported by this label config (it supports: JSON, JSON_MIN, CSV, TSV, CONLL2003)\n',
    );
    // CSV_OLD is not offered in that list (QA s6 newcomer F11): asking for it says it is not implemented.
    const csvOld = await cli('convert', '-i', TEXT_TASKS, '-c', TEXT_CONFIG, '-o', out, '-f', 'CSV_OLD');
    expect(csvOld.status).toBe(1);
    expect(csvOld.stderr).toBe(
      'ls-export: format CSV_OLD is not implemented by ls-export yet (see README "Formats")\n',
    );

    const audioConfig = join(ROOT, 'samples', 'audio-asr', 'config.xml');
    const notYet = await cli('convert', '-i', TEXT_TASKS, '-c', audioConfig, '-o', out, '-f', 'DOCLANG');
    expect(notYet.status).toBe(1);
    expect(notYet.stderr).toBe(
      'ls-export: format DOCLANG is not implemented by ls-export yet (see README "Formats")\n',
    );

    const noConfig = await cli(
      'convert',
      '-i',
      TEXT_TASKS,
      '-c',
      join(out, 'none.xml'),
      '-o',
      out,
      '-f',
      'CSV',
    );
    expect(noConfig.status).toBe(1);
    expect(noConfig.stderr).toBe(`ls-export: label config not found: ${join(out, 'none.xml')}\n`);

    const usage = await cli('convert', '-i', TEXT_TASKS);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('missing -c/--config');
  });

  it('--zip writes one archive with the whole tree (YOLO fixture), memory-flat', async () => {
    const out = tmp();
    const r = await cli(
      'convert',
      '-i',
      join(FIXTURES, 'test_export_yolo', 'data.json'),
      '-c',
      join(FIXTURES, 'test_export_yolo', 'label_config.xml'),
      '-o',
      out,
      '-f',
      'YOLO',
      '--zip',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['YOLO.zip', 'report.json']);
    // Read the archive with an independent implementation (Python's zipfile).
    const listing = spawnSync(
      'python3',
      [
        '-c',
        'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print("\\n".join(sorted(z.namelist()))); print(z.read("classes.txt").decode())',
        join(out, 'YOLO.zip'),
      ],
      { encoding: 'utf8' },
    );
    expect(listing.stdout).toBe(
      'classes.txt\nlabels/718f1d05__image1.txt\nlabels/eee3b1dc__image2.txt\nnotes.json\nparasites\nwhite\n\n',
    );
  });

  it('formats lists what a config supports', async () => {
    const r = await cli('formats', '-c', join(FIXTURES, 'test_export_coco', 'label_config.xml'));
    expect(r.status, r.stderr).toBe(0);
    const names = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]);
    expect(names).toContain('COCO');
    expect(names).toContain('YOLO_OBB');
    expect(names).not.toContain('CONLL2003');
  });
});

describe('stdout closed early (EPIPE)', () => {
  it('endQuietlyOnEpipe swallows EPIPE (and a later write on the destroyed stream), rethrows others, once', () => {
    const stream = new EventEmitter();
    endQuietlyOnEpipe(stream);
    endQuietlyOnEpipe(stream);
    expect(stream.listenerCount('error')).toBe(1);
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    expect(stream.emit('error', epipe)).toBe(true); // handled: no unhandled 'error' event
    expect(stream.emit('error', Object.assign(new Error('gone'), { code: 'ERR_STREAM_DESTROYED' }))).toBe(
      true,
    );
    const other = Object.assign(new Error('write EIO'), { code: 'EIO' });
    expect(() => stream.emit('error', other)).toThrow(other);
  });
});

describe('runCli (test/helpers/cli.ts)', () => {
  it('resolves relative paths against its cwd, sets env for the run only, restores both', async () => {
    const cwd = process.cwd();
    const coco = await runCli(['formats', '-c', 'label_config.xml'], {
      cwd: join(FIXTURES, 'test_export_coco'),
    });
    expect(coco.code, coco.stderr).toBe(0);
    expect(coco.stdout).toMatch(/^COCO /m); // written by formats-command.ts to process.stdout
    expect(process.cwd()).toBe(cwd);

    expect(process.env.AWS_ENDPOINT_URL_S3).toBeUndefined();
    const out = tmp();
    const refused = await runCli(['convert', '-i', 's3://b/ls', '-c', TEXT_CONFIG, '-o', out], {
      env: {
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret',
      },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^ls-export: cannot reach http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
    expect(process.env.AWS_ENDPOINT_URL_S3).toBeUndefined();
  });
});
