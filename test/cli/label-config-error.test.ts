/**
 * A label config that is not well-formed XML is the user's input error: one sentence naming the
 * file and the XML problem, exit status 2, never "unexpected error" (convert and formats; sync in
 * sync-log.int.test.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TASKS = join(ROOT, 'samples', 'text-ner', 'tasks.json');

function configFile(xml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ls-badcfg-')), 'config.xml');
  writeFileSync(file, xml);
  return file;
}

describe('a malformed label config', () => {
  it('elements left open: names the file and the open elements, exit 2 (convert and formats)', async () => {
    const file = configFile('<View>\n  <Labels name="label" toName="text">\n');
    const sentence = `ls-export: the label config ${file} is not well-formed XML: the document ends with <View>, <Labels> still open (a closing tag is missing)\n`;
    const convert = await runCli(['convert', '-i', TASKS, '-c', file, '-o', join(file, '..', 'out')]);
    expect(convert).toMatchObject({ code: 2, stderr: sentence });
    const formats = await runCli(['formats', '-c', file]);
    expect(formats).toMatchObject({ code: 2, stderr: sentence, stdout: '' });
  });

  it('a mismatched closing tag: names the file, the tags and where, exit 2', async () => {
    const file = configFile(
      '<View>\n  <Labels name="l" toName="t">\n  <Text name="t" value="$text"/>\n</View>\n',
    );
    const r = await runCli(['formats', '-c', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `ls-export: the label config ${file} is not well-formed XML: Expected closing tag 'Labels' (opened in line 2, col 3) instead of closing tag 'View' (line 4, column 1)\n`,
    );
    expect(r.stderr).not.toMatch(/unexpected/);
  });
});
