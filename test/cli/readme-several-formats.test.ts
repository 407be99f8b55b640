/**
 * README "Several formats in one run" (QA D5): its example summary is what the CLI prints on the
 * bundled image sample, but for the time and rate.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const timeless = (s: string) => s.replace(/ in \d+\.\d s \([\d,.]+ tasks\/s\)/, ' in T s (R tasks/s)');

describe('README: several formats in one run', () => {
  it('the example output is the summary of the example command', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Several formats in one run'));
    const block = /```\n\$ ls-export (convert [^\n]+)\n([\s\S]*?)```/.exec(section);
    expect(block, 'the example block with its command').not.toBeNull();
    const [, command, printed] = block!;
    const cwd = mkdtempSync(join(tmpdir(), 'ls-readme-'));
    // The command's sample paths are relative to the repository root; `out` to a scratch folder.
    const args = command
      .split(' ')
      .map((a) => (a.startsWith('samples/') ? join(ROOT, a) : a === 'out' ? join(cwd, 'out') : a));
    const r = await runCli(args, { cwd });
    expect(r.code, r.stderr).toBe(0);
    // From the summary on (a progress line comes first when the run takes over 2 s).
    const summary = r.stderr.slice(r.stderr.indexOf('ls-export: read'));
    expect(timeless(summary.replaceAll(join(cwd, 'out'), 'out'))).toBe(timeless(printed));
  });
});
