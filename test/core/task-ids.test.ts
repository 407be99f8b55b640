/**
 * B6: odd and duplicate task ids are report warnings (core/task-ids.ts, checked by runExport);
 * the output does not change.
 */
import { describe, expect, it } from 'vitest';
import { parseLabelConfig } from '../../functions/core/config/label-config.ts';
import { runExport } from '../../functions/core/export.ts';
import { parseExportOptions } from '../../functions/core/formats/options.ts';
import { NumLit } from '../../functions/core/json/value.ts';
import { Report } from '../../functions/core/report.ts';
import { isTaskIdValid, showTaskId, TaskIdCheck } from '../../functions/core/task-ids.ts';
import { MemorySink, textSource } from '../helpers/export.ts';

const CONFIG = `<View><Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/></Choices></View>`;

/** A task text with the id written as given (a JSON literal, so big and float ids stay exact). */
const taskText = (idLiteral: string, n: number) =>
  `{"id": ${idLiteral}, "data": {"text": "t${n}"}, "annotations": [{"id": ${n}, "completed_by": 1,` +
  ` "created_at": "2025-01-01T00:00:00Z", "result": [{"id": "r${n}", "from_name": "sentiment",` +
  ` "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}]}]}`;

const ODD = ['"abc"', '-5', '1.5', '123456789012345678901234567890', '7', '7', '"7"', '2.0'];

async function run(checkTaskIds: boolean) {
  const sinks = { JSON_MIN: new MemorySink(), CSV: new MemorySink(), JSON: new MemorySink() };
  const report = new Report();
  await runExport({
    source: textSource(`[${ODD.map(taskText).join(',\n')}]`, 'tasks.json'),
    schema: parseLabelConfig(CONFIG),
    targets: Object.entries(sinks).map(([format, sink]) => ({ format: format as 'JSON', sink })),
    options: parseExportOptions({}),
    report,
    now: () => new Date('2026-01-02T03:04:05.678Z'),
    checkTaskIds,
  });
  return { sinks, report };
}

describe('isTaskIdValid', () => {
  it('accepts JSON integers from 0 to 2^63 - 1 only', () => {
    for (const id of [0, 1, 7, Number.MAX_SAFE_INTEGER, new NumLit(2 ** 63, false, '9223372036854775807')])
      expect(isTaskIdValid(id), showTaskId(id)).toBe(true);
    for (const id of [
      -5,
      1.5,
      Number.NaN,
      '7',
      'abc',
      null,
      true,
      new NumLit(2, true, '2.0'),
      new NumLit(2 ** 63, false, '9223372036854775808'),
      new NumLit(1.2e29, false, '123456789012345678901234567890'),
    ])
      expect(isTaskIdValid(id), showTaskId(id)).toBe(false);
  });
});

describe('TaskIdCheck', () => {
  it('stops remembering ids at its cap, says so once, and still finds repeats of remembered ids', () => {
    const report = new Report();
    const check = new TaskIdCheck(report, 2);
    for (const id of [1, 2, 3, 4, 1, 4]) check.check(id, { source: `t[${id}]`, taskId: id });
    const reasons = report.warnings.map((w) => `${w.source}: ${w.reason}`);
    expect(reasons).toEqual([
      't[3]: more than 2 tasks: ids after this one are not checked for duplicates',
      't[1]: task id 1 was seen before in this run: two tasks share it; both are exported',
    ]);
  });
});

describe('runExport: task ids', () => {
  it('warns about each odd id and each repeated id, with the task source', async () => {
    const { report } = await run(true);
    const got = report.warnings.map((w) => [w.source, w.taskId, w.reason]);
    const odd = (shown: string) =>
      `task id ${shown} is not a non-negative integer (Label Studio's task ids are); the task is exported as it is`;
    expect(got).toEqual([
      ['tasks.json[0]', 'abc', odd('"abc"')],
      ['tasks.json[1]', -5, odd('-5')],
      ['tasks.json[2]', 1.5, odd('1.5')],
      ['tasks.json[3]', undefined, odd('123456789012345678901234567890')],
      ['tasks.json[5]', 7, 'task id 7 was seen before in this run: two tasks share it; both are exported'],
      ['tasks.json[6]', '7', odd('"7"')],
      ['tasks.json[7]', undefined, odd('2.0')],
    ]);
    expect(report.skippedCount).toBe(0);
  });

  it('changes no output file: the same bytes with and without the check', async () => {
    const checked = await run(true);
    const plain = await run(false);
    expect(plain.report.warningCount).toBe(0);
    for (const [format, sink] of Object.entries(checked.sinks)) {
      const other = plain.sinks[format as keyof typeof plain.sinks];
      expect([...sink.files.keys()], format).toEqual([...other.files.keys()]);
      for (const [path, bytes] of sink.files) expect(bytes.equals(other.files.get(path)!), path).toBe(true);
    }
    // Every task is exported, the repeated id included.
    expect(JSON.parse(checked.sinks.JSON_MIN.text('result.json'))).toHaveLength(ODD.length);
  });
});
