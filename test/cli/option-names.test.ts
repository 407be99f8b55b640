/**
 * Reasons that name an export option spell it as the CLI flag when run from the CLI (QA s6 newcomer
 * F11): `--brush-max-task-pixels`, not the pipeline's `option brushMaxTaskPixels`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliReport, cliOptionNames } from '../../functions/cli/cli-report.ts';
import { REGISTRY } from '../../functions/core/formats/registry.ts';
import { runCli } from '../helpers/cli.ts';
import { brushTask } from '../sec/brush-tasks.ts';

const CASES = join(import.meta.dirname, '..', 'fixtures', 'cases');
const BRUSH_CONFIG = join(CASES, 'sec-08-brush-rle-output-amplification', 'config.xml');

describe('option names in report reasons', () => {
  it('a brush mask past --brush-max-task-pixels: the reason names that flag', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-optnames-'));
    const input = join(dir, 'tasks.json');
    writeFileSync(input, JSON.stringify([brushTask(1, 3, 100, 100)]));
    const out = join(dir, 'o');
    const r = await runCli([
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
    ]);
    expect(r.code, r.stderr).toBe(0);
    const skipped = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).skipped;
    expect(skipped).toHaveLength(1);
    expect(skipped[0].reason).toContain('more than 20000 pixels (--brush-max-task-pixels; 20000 used');
    expect(skipped[0].reason).not.toContain('option');
  });

  it('every spelling: a flag, a --fix switch; unknown names are kept', () => {
    const report = new CliReport(cliOptionNames(REGISTRY));
    report.warn({ source: 'a', reason: 'merged (option asrSegments writes one line per segment)' });
    report.warn({ source: 'b', reason: 'kept as is (option notAnOption)' });
    report.warn({ source: 'c', reason: 'set option conllMultiLabel to "columns" to keep them' });
    report.skip({ source: 'd', reason: 'see option brushMaxPixels and option brushMaxTotalPixels' });
    expect(report.warnings.map((w) => w.reason)).toEqual([
      'merged (--asr-segments writes one line per segment)',
      'kept as is (option notAnOption)',
      'set --conll-multi-label to "columns" to keep them',
    ]);
    expect(report.skipped[0].reason).toBe('see --brush-max-pixels and --brush-max-total-pixels');
    const fixes = Object.entries(REGISTRY.fixes());
    expect(fixes.length).toBeGreaterThan(0);
    const [name, fix] = fixes[0];
    expect(cliOptionNames(REGISTRY).get(fix.option)).toBe(`--fix ${name}`);
  });
});
