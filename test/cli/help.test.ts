import { describe, expect, it } from 'vitest';
import { convertHelp } from '../../functions/cli/help.ts';

/** The option lines of `convert --help` (two spaces, then a flag), text continuations joined. */
function optionText(help: string, flag: string): string {
  const lines = help.split('\n');
  const i = lines.findIndex((l) => new RegExp(`^  (-\\w, )?${flag}\\b`).test(l));
  if (i < 0) return '';
  const out = [lines[i]];
  for (let j = i + 1; j < lines.length && /^ {28}\S/.test(lines[j]); j++) out.push(lines[j].trim());
  return out.join(' ');
}

describe('convert --help', () => {
  const help = convertHelp();

  it('lists --strict and --only-annotated as options, not only in the exit-status footer', () => {
    expect(optionText(help, '--strict')).toMatch(/exit status 3 when any input or region was skipped/);
    expect(optionText(help, '--only-annotated')).toMatch(
      /leave out tasks without a non-cancelled annotation/,
    );
  });

  it('--annotator-emails says user ids are written by default and the flag writes e-mails', () => {
    const text = optionText(help, '--annotator-emails');
    expect(text).toMatch(/e-mail/);
    expect(text).toMatch(/instead of the user ids written by default/);
    expect(text).not.toMatch(/omitted by default/);
  });

  it('the exit-status footer names the statuses of an interrupted run, as the README does', () => {
    expect(help.replace(/\s+/g, ' ')).toMatch(/130 \/ 143 when interrupted \(Ctrl-C, SIGTERM/);
  });
});
