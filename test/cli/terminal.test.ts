/**
 * Task data reaches the CLI's messages (a control name in a skip reason, a file name): its control
 * characters are escaped, so a task cannot drive the terminal (QA s6 newcomer F7).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { terminalSafe } from '../../functions/cli/terminal.ts';
import { runCli } from '../helpers/cli.ts';

describe('terminalSafe', () => {
  it('escapes C0 (but LF and TAB), DEL and C1 controls; leaves other text alone', () => {
    expect(terminalSafe('a\u001b]0;pwned\u0007b\r\n\tc\u007f\u009bü€')).toBe(
      'a\\u001b]0;pwned\\u0007b\\u000d\n\tc\\u007f\\u009bü€',
    );
  });
});

describe('convert', () => {
  it("prints a task's escape sequences escaped in its stderr sentence", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-term-'));
    const evil = 'x\u001b[2J\u001b]0;owned\u0007';
    const tasks = [1, 2, 3].map((id) => ({
      id,
      data: { image: `/data/upload/1/a${id}.jpg` },
      annotations: [
        {
          id,
          result: [
            {
              from_name: evil,
              to_name: 'image',
              type: 'rectanglelabels',
              original_width: 10,
              original_height: 10,
              value: { x: 1, y: 1, width: 2, height: 2, rectanglelabels: ['Car'] },
            },
          ],
        },
      ],
    }));
    writeFileSync(join(dir, 'tasks.json'), JSON.stringify(tasks));
    writeFileSync(
      join(dir, 'config.xml'),
      '<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image"><Label value="Car"/></RectangleLabels></View>',
    );
    const r = await runCli(['convert', '-i', 'tasks.json', '-c', 'config.xml', '-o', 'out', '-f', 'YOLO'], {
      cwd: dir,
    });
    expect(r.stderr).toContain('x\\u001b[2J\\u001b]0;owned\\u0007');
    expect(r.stderr).not.toContain('\u001b');
  });
});
