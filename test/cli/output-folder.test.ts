/**
 * Output folders the CLI cannot create (QA F4): one sentence and exit status 1, never a hang. Under
 * /proc on Linux, `mkdir` of a new folder fails with ENOENT although its parent exists, and Node's
 * recursive mkdir retried that forever.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TEXT_CONFIG = join(ROOT, 'samples', 'text-ner', 'config.xml');
const TEXT_TASKS = join(ROOT, 'samples', 'text-ner', 'tasks.json');

const convert = (output: string, format = 'JSON_MIN', ...more: string[]) =>
  runCli(['convert', '-i', TEXT_TASKS, '-c', TEXT_CONFIG, '-o', output, '-f', format, ...more], {
    cwd: ROOT,
  });

describe('an output folder that cannot be created', () => {
  it.skipIf(!existsSync('/proc/self'))(
    'under /proc: one sentence and exit 1, for the folder and for one below it',
    async () => {
      for (const o of ['/proc/ls-export-x', '/proc/ls-export-x/inner']) {
        const r = await convert(o);
        expect(r.code).toBe(1);
        expect(r.stderr).toBe(
          `ls-export: cannot write the output folder ${o}: the file system does not allow a folder there\n`,
        );
      }
    },
    10_000,
  );

  it('missing parents are created one by one; an existing folder is kept', async () => {
    const base = mkdtempSync(join(tmpdir(), 'ls-outdir-'));
    const o = join(base, 'a', 'b', 'c');
    const r = await convert(o);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(o).isDirectory()).toBe(true);
    expect(readdirSync(o).sort()).toEqual(['report.json', 'result.json']);
    const again = await convert(o);
    expect(again.code, again.stderr).toBe(0);
  });
});

describe('an output that goes through a scratch folder (a .csv file, --zip)', () => {
  it.skipIf(!existsSync('/proc/self'))(
    'under /proc: one sentence and exit 1, for a .csv file and for --zip',
    async () => {
      const csv = await convert('/proc/ls-export-x.csv', 'CSV');
      expect(csv.code).toBe(1);
      expect(csv.stderr).toBe(
        'ls-export: cannot write the output folder /proc: the file system does not allow a folder there\n',
      );
      const zip = await convert('/proc', 'JSON_MIN', '--zip');
      expect(zip.code).toBe(1);
      expect(zip.stderr).toBe(
        'ls-export: cannot write the output folder /proc: the file system does not allow a folder there\n',
      );
    },
    10_000,
  );

  it('a folder named like the .csv file: one sentence before any task is read, no scratch folder left', async () => {
    const base = mkdtempSync(join(tmpdir(), 'ls-outcsv-'));
    const o = join(base, 'taken.csv');
    mkdirSync(o);
    const r = await convert(o, 'CSV');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `ls-export: cannot write the output file ${o}: a folder of that name is in the way\n`,
    );
    expect(readdirSync(base)).toEqual(['taken.csv']);
    expect(readdirSync(o)).toEqual([]);
  });

  it('--zip with a folder named <FORMAT>.zip in the way: one sentence before any task is read, exit 1 (QA 8)', async () => {
    const o = join(mkdtempSync(join(tmpdir(), 'ls-outzip-')), 'out');
    mkdirSync(join(o, 'JSON_MIN.zip'), { recursive: true });
    const r = await convert(o, 'JSON_MIN', '--zip');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `ls-export: cannot write the output file ${join(o, 'JSON_MIN.zip')}: a folder of that name is in the way\n`,
    );
    // Nothing exported: no report, no scratch folder, no .part file.
    expect(readdirSync(o)).toEqual(['JSON_MIN.zip']);
    expect(readdirSync(join(o, 'JSON_MIN.zip'))).toEqual([]);
    // Several formats: the format folder's zip is named.
    const several = join(mkdtempSync(join(tmpdir(), 'ls-outzip-')), 'out');
    mkdirSync(join(several, 'CSV', 'CSV.zip'), { recursive: true });
    const s = await convert(several, 'JSON_MIN,CSV', '--zip');
    expect(s.code).toBe(1);
    expect(s.stderr).toBe(
      `ls-export: cannot write the output file ${join(several, 'CSV', 'CSV.zip')}: a folder of that name is in the way\n`,
    );
    expect(readdirSync(several)).toEqual(['CSV']);
  });
});

describe("a format's fixed file that cannot be written (QA s6 newcomer F6)", () => {
  it('a folder named result.csv / result.json / result.conll in the output folder: one sentence, exit 1, nothing written', async () => {
    for (const [format, file] of [
      ['CSV', 'result.csv'],
      ['JSON_MIN', 'result.json'],
      ['CONLL2003', 'result.conll'],
    ]) {
      const o = join(mkdtempSync(join(tmpdir(), 'ls-fixed-')), 'out');
      mkdirSync(join(o, file), { recursive: true });
      const r = await convert(o, format);
      expect(r.code, format).toBe(1);
      expect(r.stderr, format).toBe(
        `ls-export: cannot write the output file ${join(o, file)}: a folder of that name is in the way\n`,
      );
      expect(readdirSync(o), format).toEqual([file]);
    }
  });

  it('several formats: the format folder is named', async () => {
    const o = join(mkdtempSync(join(tmpdir(), 'ls-fixed-')), 'out');
    mkdirSync(join(o, 'CSV', 'result.csv'), { recursive: true });
    const r = await convert(o, 'JSON_MIN,CSV');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `ls-export: cannot write the output file ${join(o, 'CSV', 'result.csv')}: a folder of that name is in the way\n`,
    );
    expect(existsSync(join(o, 'report.json'))).toBe(false);
    // JSON_MIN's folder, made by this run before CSV's check failed, is removed (still empty).
    expect(readdirSync(o)).toEqual(['CSV']);
  });
});
