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
