/**
 * A folder input: a symbolic link to a task file is read through the link (as Label Studio's
 * converter reads a folder's files); what is not a file (a FIFO, a link to nothing) is reported
 * as a skipped input, not dropped in silence (QA s6 newcomer F3).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const task = (id: number) =>
  JSON.stringify({
    id,
    data: { text: `task ${id}` },
    annotations: [
      { id, result: [{ from_name: 'c', to_name: 'text', type: 'choices', value: { choices: ['a'] } }] },
    ],
  });

describe('a folder input', () => {
  it('reads a linked task file, and reports a FIFO and a dangling link as skipped inputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-folder-'));
    const tasks = join(dir, 'tasks');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(tasks);
    mkdirSync(elsewhere);
    writeFileSync(join(tasks, '1'), task(1));
    writeFileSync(join(elsewhere, '2'), task(2));
    symlinkSync(join(elsewhere, '2'), join(tasks, '2'));
    symlinkSync(join(elsewhere, 'gone'), join(tasks, '3'));
    execFileSync('mkfifo', [join(tasks, '4')]);
    writeFileSync(
      join(dir, 'config.xml'),
      '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="a"/></Choices></View>',
    );
    const r = await runCli(['convert', '-i', 'tasks', '-c', 'config.xml', '-o', 'out', '-f', 'JSON_MIN'], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8')) as Array<{ id: number }>;
    expect(out.map((t) => t.id).sort()).toEqual([1, 2]);
    const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')) as {
      skipped: Array<{ source: string; reason: string }>;
    };
    expect(report.skipped.map((e) => [e.source, e.reason])).toEqual([
      [join('tasks', '3'), 'a symbolic link to nothing is not read (a folder input is read file by file)'],
      [join('tasks', '4'), 'a FIFO is not read (a folder input is read file by file)'],
    ]);
    expect(r.stderr).toMatch(/2 inputs skipped/);
  });
});

describe('a UTF-16 input file (QA s6 newcomer F11)', () => {
  const CONFIG =
    '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="a"/></Choices></View>';

  it('with a byte order mark: the sentence and the report name UTF-16, not "it starts with \uFFFD"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-utf16-'));
    writeFileSync(join(dir, 'config.xml'), CONFIG);
    writeFileSync(
      join(dir, 'le.json'),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`[${task(1)}]`, 'utf16le')]),
    );
    const r = await runCli(['convert', '-i', 'le.json', '-c', 'config.xml', '-o', 'out', '-f', 'CSV'], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    const reason =
      "the file is UTF-16 LE (it starts with a byte order mark); Label Studio's exports are UTF-8: convert it (e.g. iconv -f UTF-16 -t UTF-8)";
    expect(r.stderr).toContain(`ls-export: no tasks were exported: le.json was skipped: ${reason}\n`);
    expect(r.stderr).not.toContain('\uFFFD');
    const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8'));
    expect(report.skipped).toEqual([{ source: 'le.json', reason }]);
    expect(report.warnings).toEqual([]);
    // -f JSON: the same reason in its one sentence, exit 1 as for any file that is not a JSON export.
    const j = await runCli(['convert', '-i', 'le.json', '-c', 'config.xml', '-o', 'outj', '-f', 'JSON'], {
      cwd: dir,
    });
    expect(j.code).toBe(1);
    expect(j.stderr).toBe(
      `ls-export: le.json is not a Label Studio JSON export (le.json: ${reason}); nothing was copied\n`,
    );
  });

  it('UTF-32 LE/BE without a byte order mark, and UTF-16 led by whitespace, are named with their iconv name (QA 8)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-utf32-'));
    writeFileSync(join(dir, 'config.xml'), CONFIG);
    const text = `\n  [${task(1)}]`;
    const utf16le = Buffer.from(text, 'utf16le');
    // UTF-32 from UTF-16 (the text is ASCII): each 2-byte unit followed (LE) or led (BE) by 00 00.
    const utf32le = Buffer.concat([...utf16le].flatMap((b, i) => (i % 2 ? [] : [Buffer.from([b, 0, 0, 0])])));
    const utf32be = Buffer.from(utf32le).swap32();
    const cases: Array<[string, Buffer, string]> = [
      ['32le.json', utf32le, 'UTF-32 LE (each of its characters comes with three NUL bytes)'],
      ['32be.json', utf32be, 'UTF-32 BE (each of its characters comes with three NUL bytes)'],
      ['16le.json', utf16le, 'UTF-16 LE (its characters alternate with NUL bytes)'],
      ['16be.jsonl', Buffer.from(utf16le).swap16(), 'UTF-16 BE (its characters alternate with NUL bytes)'],
    ];
    for (const [name, bytes, encoding] of cases) {
      writeFileSync(join(dir, name), bytes);
      const out = `out-${name}`;
      const r = await runCli(['convert', '-i', name, '-c', 'config.xml', '-o', out, '-f', 'CSV'], {
        cwd: dir,
      });
      expect(r.code, r.stderr).toBe(0);
      const iconv = encoding.slice(0, 9).replace(' ', '');
      const reason = `the file is ${encoding}; Label Studio's exports are UTF-8: convert it (e.g. iconv -f ${iconv} -t UTF-8)`;
      expect(r.stderr, name).toContain(`ls-export: no tasks were exported: ${name} was skipped: ${reason}\n`);
      const report = JSON.parse(readFileSync(join(dir, out, 'report.json'), 'utf8'));
      expect(report.skipped, name).toEqual([{ source: name, reason }]);
    }
  });
});
