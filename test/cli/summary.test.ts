/** The convert summary counts skipped inputs apart from skipped regions (each region is also in `regions`). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summaryLine } from '../../functions/cli/summary.ts';
import { runCli } from '../helpers/cli.ts';

const base = {
  results: [{ format: 'YOLO', copied: false, into: 'out', files: 3 }],
  tasks: 3,
  seconds: 1,
  warnings: 0,
  reportName: 'report.json',
};

describe('summaryLine', () => {
  it('regions skipped only: no "inputs skipped", the regions are named', () => {
    const line = summaryLine({ ...base, skipped: 98, regions: { YOLO: { exported: 2, skipped: 98 } } });
    expect(line).toContain('; regions 2 exported, 98 skipped');
    expect(line).not.toContain('input');
    expect(line).not.toContain('nothing skipped');
  });

  it('inputs and regions: the inputs are the report skips that are not regions', () => {
    const line = summaryLine({ ...base, skipped: 7, regions: { YOLO: { exported: 2, skipped: 5 } } });
    expect(line).toContain('; regions 2 exported, 5 skipped; 2 inputs skipped');
  });

  it('nothing skipped', () => {
    expect(summaryLine({ ...base, skipped: 0, regions: { YOLO: { exported: 2, skipped: 0 } } })).toContain(
      '; nothing skipped',
    );
  });
});

/** The sec-01 case's folder (test/fixtures/cases). */
const SEC01 = join(import.meta.dirname, '..', 'fixtures', 'cases', 'sec-01-render-copies-lambda-local-files');

/**
 * `convert` of the sec-01 case (`tasksFrom`: its tasks from that index on) as `formats` into a fresh
 * folder: the run and its output folder.
 */
async function convertSec01(formats: string, tasksFrom = 0) {
  const work = mkdtempSync(join(tmpdir(), 'ls-summary-'));
  const tasks = JSON.parse(readFileSync(join(SEC01, 'tasks.json'), 'utf8')).slice(tasksFrom);
  writeFileSync(join(work, 'in.json'), JSON.stringify(tasks));
  const out = join(work, 'out');
  const r = await runCli([
    'convert',
    '-i',
    join(work, 'in.json'),
    '-c',
    join(SEC01, 'config.xml'),
    '-o',
    out,
    '-f',
    formats,
  ]);
  return { r, out };
}

describe('summaryLine: a format that kept nothing of the tasks (QA D3)', () => {
  const asr = { ...base, results: [{ format: 'ASR_MANIFEST', copied: false, into: 'out', files: 1 }] };

  it('every region and item left out: "read N tasks, no region of them exported", not "exported N tasks"', () => {
    const line = summaryLine({ ...asr, skipped: 3, regions: { ASR_MANIFEST: { exported: 0, skipped: 1 } } });
    expect(line).toBe(
      'ls-export: read 3 tasks, no region of them exported as ASR_MANIFEST into out (1 file) in 1.0 s (3 tasks/s); regions 0 exported, 1 skipped; 2 inputs skipped — see report.json\n',
    );
  });

  it('tasks without regions, an element skipped: the tasks were exported as they are (a CONLL document)', () => {
    const line = summaryLine({
      ...base,
      results: [{ format: 'CONLL2003', copied: false, into: 'out', files: 1 }],
      tasks: 1,
      skipped: 2,
      regions: { CONLL2003: { exported: 0, skipped: 0 } },
    });
    expect(line).toMatch(/^ls-export: exported 1 task as CONLL2003 into out \(1 file\).*; 2 inputs skipped/);
  });

  it('tasks without results and nothing skipped (a CSV of unannotated tasks) were exported', () => {
    const line = summaryLine({
      ...base,
      results: [{ format: 'CSV', copied: false, into: 'out', files: 1 }],
      skipped: 0,
      regions: { CSV: { exported: 0, skipped: 0 } },
    });
    expect(line).toMatch(/^ls-export: exported 3 tasks as CSV into out \(1 file\).*; nothing skipped/);
  });

  it('one region written: the tasks count as exported', () => {
    const line = summaryLine({ ...asr, skipped: 2, regions: { ASR_MANIFEST: { exported: 1, skipped: 2 } } });
    expect(line).toMatch(/^ls-export: exported 3 tasks as ASR_MANIFEST into out/);
  });

  it('the sec-01 case through the CLI: all 3 items left out, manifest.json empty', async () => {
    const { r, out } = await convertSec01('ASR_MANIFEST');
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(
        `^ls-export: read 3 tasks, no region of them exported as ASR_MANIFEST into ${out} \\(1 file\\) .*; regions 0 exported, 1 skipped; 2 items skipped —`,
        'm',
      ),
    );
    expect(r.stderr).not.toContain('exported 3 tasks');
  });

  it('tasks without regions whose audio is refused (sec-01 tasks 2 and 3): no "exported 2 tasks" for an empty manifest (QA s6 F4)', async () => {
    const { r, out } = await convertSec01('ASR_MANIFEST', 1);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(
        `^ls-export: read 2 tasks, none of them exported as ASR_MANIFEST into ${out} \\(1 file\\) .*; regions 0 exported, 0 skipped; 2 items skipped —`,
        'm',
      ),
    );
    expect(r.stderr).not.toContain('exported 2 tasks');
    expect(r.stderr).not.toContain('input');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.skipped.map((e: { taskId: number; format?: string }) => [e.taskId, e.format])).toEqual([
      [2, 'ASR_MANIFEST'],
      [3, 'ASR_MANIFEST'],
    ]);
  });

  it("several formats: the items ASR left out are counted under ASR_MANIFEST, not as the run's inputs (QA s6 F4)", async () => {
    const { r, out } = await convertSec01('JSON_MIN,ASR_MANIFEST');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(/^ls-export: read 3 tasks once, 2 formats in .* — see report\.json$/);
    expect(lines[0]).not.toContain('skipped');
    expect(lines[1]).toMatch(/^ {2}JSON_MIN {6}written into .*; regions 1 exported, 0 skipped$/);
    // Every region left out: the words of the one-format summary, not "written into" (QA 8).
    expect(lines[2]).toMatch(
      /^ {2}ASR_MANIFEST {2}no region of them exported into .*; regions 0 exported, 1 skipped; 2 items skipped$/,
    );
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.skipped.map((e: { taskId: number; format?: string }) => [e.taskId, e.format])).toEqual([
      [1, 'ASR_MANIFEST'],
      [2, 'ASR_MANIFEST'],
      [3, 'ASR_MANIFEST'],
    ]);
  });

  it('several formats, ASR_MANIFEST writing no byte (sec-01 tasks 2 and 3): its line says none of them exported (QA 8)', async () => {
    const { r, out } = await convertSec01('ASR_MANIFEST,CSV', 1);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'ASR_MANIFEST', 'manifest.json'), 'utf8')).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(/^ls-export: read 2 tasks once, 2 formats in /);
    expect(lines[1]).toBe(
      `  ASR_MANIFEST  none of them exported into ${join(out, 'ASR_MANIFEST')} (1 file); regions 0 exported, 0 skipped; 2 items skipped`,
    );
    expect(lines[2]).toMatch(/^ {2}CSV {11}written into /);
  });

  it('several formats: a copy and a written format keep their words; an empty one does not say written', () => {
    const results = [
      { format: 'JSON', copied: true, into: 'out/JSON', files: 1 },
      { format: 'CSV', copied: false, into: 'out/CSV', files: 1 },
      { format: 'ASR_MANIFEST', copied: false, into: 'out/ASR_MANIFEST', files: 1, empty: true },
    ];
    const lines = summaryLine({ ...base, results, skipped: 0 }).split('\n');
    expect(lines.slice(1)).toEqual([
      '  JSON          copied into out/JSON (1 file)',
      '  CSV           written into out/CSV (1 file)',
      '  ASR_MANIFEST  none of them exported into out/ASR_MANIFEST (1 file)',
      '',
    ]);
  });

  it('an empty output with tasks read says none of them was exported; a copy or a non-empty output does not', () => {
    const empty = {
      format: 'ASR_MANIFEST',
      copied: false,
      into: 'out',
      files: 1,
      empty: true,
      itemsSkipped: 3,
    };
    expect(summaryLine({ ...base, results: [empty], skipped: 3 })).toMatch(
      /^ls-export: read 3 tasks, none of them exported as ASR_MANIFEST into out \(1 file\) .*; 3 items skipped —/,
    );
    expect(summaryLine({ ...base, results: [{ ...empty, empty: false }], skipped: 3 })).toMatch(
      /^ls-export: exported 3 tasks as ASR_MANIFEST/,
    );
  });
});
