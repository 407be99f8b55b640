/**
 * sec-03 and sec-08 through the CLI: a task nested 10,000 levels deep, or brush masks past the
 * pixel budget, are report.json entries with their reason; the run exits 0 and the good task is
 * exported. (sec-09's 256 MiB element limit is tested on the reader with a 1 KiB limit:
 * test/core/json/limits.test.ts.)
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { brushTask } from './brush-tasks.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CASES = join(ROOT, 'test', 'fixtures', 'cases');
const DEEP_DIR = join(CASES, 'sec-03-deep-nesting-aborts-and-poisons-batch');
const DEEP = join(DEEP_DIR, 'deep10k.json');
const DEEP_CONFIG = join(DEEP_DIR, 'config.xml');
const BRUSH_CONFIG = join(CASES, 'sec-08-brush-rle-output-amplification', 'config.xml');

/** The CLI in-process (test/helpers/cli.ts), from the repository root. */
async function cli(...args: string[]) {
  const r = await runCli(args, { cwd: ROOT });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}
const tmp = () => mkdtempSync(join(tmpdir(), 'ls-sec-'));
const reportOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
    skipped: Array<{ source: string; taskId?: number; reason: string }>;
  };

describe('sec-03: a task nested 10,000 levels deep (CLI)', () => {
  for (const format of ['CSV', 'JSON_MIN']) {
    it(`${format}: exit 0, the deep task in report.json, task 2 exported`, async () => {
      const out = join(tmp(), 'o');
      const r = await cli('convert', '-q', '-i', DEEP, '-c', DEEP_CONFIG, '-o', out, '-f', format);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(reportOf(out).skipped).toEqual([
        { source: 'deep10k.json[0]', reason: 'nested deeper than 1000 levels' },
      ]);
      if (format === 'JSON_MIN') {
        const rows = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
        expect(rows.map((t: { id: number; text: string }) => [t.id, t.text])).toEqual([[2, 'fine task']]);
      } else {
        const lines = readFileSync(join(out, 'result.csv'), 'utf8').split('\r\n');
        expect(lines).toHaveLength(3); // header, task 2, final CRLF
        expect(lines[1]).toContain('"fine task"');
      }
    });
  }

  it('a folder of storage objects: the deep object reported by its file name, the other exported', async () => {
    const dir = tmp();
    const tasks = readFileSync(DEEP, 'utf8').slice(1, -1).split(',\n');
    mkdirSync(join(dir, 'in'));
    writeFileSync(join(dir, 'in', '1'), tasks[0]);
    writeFileSync(join(dir, 'in', '2'), tasks[1]);
    const out = join(dir, 'o');
    const r = await cli(
      'convert',
      '-q',
      '-i',
      join(dir, 'in'),
      '-c',
      DEEP_CONFIG,
      '-o',
      out,
      '-f',
      'JSON_MIN',
    );
    expect(r.status).toBe(0);
    expect(reportOf(out).skipped).toEqual([{ source: '1', reason: 'nested deeper than 1000 levels' }]);
    expect(
      JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).map((t: { id: number }) => t.id),
    ).toEqual([2]);
  });

  it('JSON from JSON Lines (the serializer path of the case): exit 0, the deep line reported', async () => {
    const dir = tmp();
    const tasks = readFileSync(DEEP, 'utf8').slice(1, -1).split(',\n');
    expect(tasks).toHaveLength(2);
    writeFileSync(join(dir, 'deep10k.jsonl'), `${tasks.join('\n')}\n`);
    const out = join(dir, 'o');
    const r = await cli(
      'convert',
      '-q',
      '-i',
      join(dir, 'deep10k.jsonl'),
      '-c',
      DEEP_CONFIG,
      '-o',
      out,
      '-f',
      'JSON',
    );
    expect(r.status).toBe(0);
    expect(reportOf(out).skipped).toEqual([
      { source: 'deep10k.jsonl:1', reason: 'nested deeper than 1000 levels' },
    ]);
    expect(
      JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).map((t: { id: number }) => t.id),
    ).toEqual([2]);
  });
});

describe('sec-08: brush masks past the pixel budget (CLI)', () => {
  it('--brush-max-task-pixels / --brush-max-total-pixels: excess regions reported, the rest written', async () => {
    const dir = tmp();
    const input = join(dir, 'tasks.json');
    // Two tasks of 3 uniform 100×100 regions (10,000 pixels each).
    writeFileSync(input, JSON.stringify([brushTask(1, 3, 100, 100), brushTask(2, 3, 100, 100)]));
    const out = join(dir, 'o');
    const r = await cli(
      'convert',
      '-q',
      '-i',
      input,
      '-c',
      BRUSH_CONFIG,
      '-o',
      out,
      '-f',
      'BRUSH_TO_NUMPY',
      '--brush-max-task-pixels',
      '20000',
      '--brush-max-total-pixels',
      '30000',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(
      readdirSync(out)
        .filter((f) => f.endsWith('.npy'))
        .sort(),
    ).toEqual([
      'task-1-annotation-1-by-1-tag-Car-0.npy',
      'task-1-annotation-1-by-1-tag-Car-1.npy',
      'task-2-annotation-2-by-1-tag-Car-0.npy',
    ]);
    const reasons = reportOf(out).skipped.map((s) => `${s.taskId}: ${s.reason.replace(/ \(--.*/, '')}`);
    expect(reasons).toEqual([
      `1: annotation 1, "tag" region 3 (tag-Car-2) left out: the task's brush masks would decode to more than 20000 pixels`,
      `2: annotation 2, "tag" region 2 (tag-Car-1) left out: the export's brush masks would decode to more than 30000 pixels`,
      `2: annotation 2, "tag" region 3 (tag-Car-2) left out: the export's brush masks would decode to more than 30000 pixels`,
    ]);
  });

  it('--help lists the budget flags; a bad budget value is a usage error', async () => {
    const help = (await cli('--help')).stdout;
    expect(help).toContain('--brush-max-task-pixels N');
    expect(help).toContain('--brush-max-total-pixels N');
    const r = await cli(
      'convert',
      '-i',
      DEEP,
      '-c',
      BRUSH_CONFIG,
      '-o',
      tmp(),
      '-f',
      'BRUSH_TO_PNG',
      '--brush-max-task-pixels',
      '0',
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/too small|positive|>0/i);
  });
});
