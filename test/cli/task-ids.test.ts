/**
 * B6 through the CLI: odd task ids (`"abc"`, `-5`, `1.5`, a 30-digit integer) and a repeated id
 * are `report.json` warnings; every task is still exported, exit 0.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const CONFIG = `<View><Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/></Choices></View>`;

const task = (idLiteral: string, n: number) =>
  `{"id": ${idLiteral}, "data": {"text": "t${n}"}, "annotations": [{"id": ${n}, "completed_by": 1,` +
  ` "created_at": "2025-01-01T00:00:00Z", "result": [{"id": "r${n}", "from_name": "sentiment",` +
  ` "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}]}]}`;

describe('convert: odd and repeated task ids', () => {
  it('warns per task in report.json and exports every task', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-ids-'));
    const ids = ['"abc"', '-5', '1.5', '123456789012345678901234567890', '7', '7', '8'];
    writeFileSync(join(dir, 'tasks.json'), `[${ids.map(task).join(',\n')}]`);
    writeFileSync(join(dir, 'config.xml'), CONFIG);
    const out = join(dir, 'out');
    const r = await runCli([
      'convert',
      '-q',
      '-i',
      join(dir, 'tasks.json'),
      '-c',
      join(dir, 'config.xml'),
      '-o',
      out,
      '-f',
      'JSON_MIN',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.skippedCount).toBe(0);
    expect(
      report.warnings.map((w: { source: string; reason: string }) => `${w.source}: ${w.reason}`),
    ).toEqual([
      ...['"abc"', '-5', '1.5', '123456789012345678901234567890'].map(
        (shown, i) =>
          `tasks.json[${i}]: task id ${shown} is not a non-negative integer (Label Studio's task ids are); the task is exported as it is`,
      ),
      `tasks.json[5]: task id 7 was seen before in this run: two tasks share it; both are exported`,
    ]);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result.map((t: { id: unknown }) => t.id)).toEqual([
      'abc',
      -5,
      1.5,
      1.2345678901234568e29,
      7,
      7,
      8,
    ]);
  });
});
