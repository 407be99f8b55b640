import { describe, expect, it } from 'vitest';
import { readJsonExport, readJsonLines } from '../../../functions/core/readers/json-export.ts';
import { Report } from '../../../functions/core/report.ts';

async function read(text: string, lines = false) {
  const report = new Report();
  const chunks = (async function* () {
    yield Buffer.from(text);
  })();
  const tasks = [];
  for await (const t of (lines ? readJsonLines : readJsonExport)(chunks, 'in.json', report)) tasks.push(t);
  return { ids: tasks.map((t) => t.task.id), report };
}

describe('readers report bad input and keep the rest', () => {
  it('truncated JSON: the complete tasks are read, the cut one reported', async () => {
    const { ids, report } = await read('[{"id": 1, "data": {}}, {"id": 2, "data": {"t": "abc');
    expect(ids).toEqual([1]);
    expect(report.skipped).toEqual([
      {
        source: 'in.json[1]',
        reason: 'truncated JSON: the document ends inside this element; everything before it was exported',
      },
    ]);
  });

  it('a task without data, a non-object and a malformed element are each reported by index', async () => {
    const { ids, report } = await read(
      '[{"id": 1}, 7, {"id": 3, "data": {}, "x": tru}, {"id": 4, "data": {}}]',
    );
    expect(ids).toEqual([4]);
    expect(report.skipped.map((s) => [s.source, s.reason.split(':')[0]])).toEqual([
      ['in.json[0]', 'not a Label Studio task'],
      ['in.json[1]', 'not a Label Studio task'],
      ['in.json[2]', 'invalid JSON'],
    ]);
    expect(report.skipped[0].reason).toBe('not a Label Studio task: data is missing');
  });

  it('huge strings, non-ASCII text and \\u escapes pass through intact', async () => {
    const big = 'x'.repeat(5_000_000);
    const { ids, report } = await read(
      `[{"id": 1, "data": {"t": "${big}", "u": "\\u00e9\\ud83d\\ude00", "n": "日本語"}}]`,
    );
    expect(ids).toEqual([1]);
    expect(report.skippedCount).toBe(0);
  });

  it('a UTF-8 BOM is read with a warning (the reference silently exports nothing)', async () => {
    const { ids, report } = await read('\ufeff[{"id": 1, "data": {}}]');
    expect(ids).toEqual([1]);
    expect(report.warnings[0].reason).toMatch(/^the file starts with a UTF-8 byte order mark/);
  });

  it('a file that is not JSON at all is reported', async () => {
    const { ids, report } = await read('id,data\n1,x');
    expect(ids).toEqual([]);
    expect(report.skipped[0].reason).toBe('not a JSON array or object: it starts with "i"');
  });

  it('JSON Lines: blank lines skipped, bad lines reported by line number', async () => {
    const { ids, report } = await read('{"id": 1, "data": {}}\n\nnot json\n{"id": 2, "data": {}}', true);
    expect(ids).toEqual([1, 2]);
    expect(report.skipped.map((s) => s.source)).toEqual(['in.json:3']);
  });
});

describe('readers take chunks larger than a decoding piece (64 KiB)', () => {
  // One 400 KB chunk, multi-byte text cut by piece ends: every task read whole, in order.
  const tasks = Array.from({ length: 3000 }, (_, i) => ({
    id: i + 1,
    data: { text: `ü€😀 ${i}`.repeat(8) },
  }));
  async function readAll(text: string, lines: boolean) {
    const report = new Report();
    const chunks = (async function* () {
      yield Buffer.from(text);
    })();
    const out = [];
    for await (const t of (lines ? readJsonLines : readJsonExport)(chunks, 'in.json', report))
      out.push(t.task);
    return { out, report };
  }

  it('JSON export', async () => {
    const { out, report } = await readAll(JSON.stringify(tasks), false);
    expect(out).toEqual(tasks);
    expect(report.skippedCount).toBe(0);
  });

  it('JSON Lines', async () => {
    const { out, report } = await readAll(tasks.map((t) => JSON.stringify(t)).join('\n'), true);
    expect(out).toEqual(tasks);
    expect(report.skippedCount).toBe(0);
  });

  it('JSON Lines: a line spread over many pieces is joined once, an oversized one skipped, the next read', async () => {
    const long = `{"id": 1, "data": {"text": "${'x'.repeat(300_000)}"}}`;
    const input = `${long}\r\n${`{"id": 2, "data": {"t": "${'y'.repeat(2_000)}"}}`}\n\n{"id": 3, "data": {}}`;
    for (const size of [1_000, 65_536, 7]) {
      const report = new Report();
      const pieces = async function* () {
        for (let i = 0; i < input.length; i += size) yield Buffer.from(input.slice(i, i + size));
      };
      const ids: unknown[] = [];
      const texts: number[] = [];
      for await (const t of readJsonLines(pieces(), 'in.jsonl', report, { maxElementBytes: 100_000 }))
        ids.push(t.task.id);
      expect(ids, `pieces of ${size}`).toEqual([2, 3]);
      expect(report.skipped.map((e) => e.source)).toEqual(['in.jsonl:1']);
      for await (const t of readJsonLines(pieces(), 'in.jsonl', new Report()))
        texts.push(String((t.task.data as { text?: string; t?: string }).text ?? '').length);
      expect(texts, `pieces of ${size}`).toEqual([300_000, 0, 0]);
    }
  });

  it('more JSON after the root value (JSON Lines in a .json, two arrays) is reported, not lost silently', async () => {
    const task = (id: number) => `{"id": ${id}, "data": {}}`;
    const one = await read(`${task(1)}\n${task(2)}\n`);
    expect(one.ids).toEqual([1]);
    expect(one.report.skipped.map((e) => [e.source, e.reason])).toEqual([
      [
        'in.json',
        'more follows the task object: it is not read (a .json file holds one JSON value; JSON Lines are read from a .jsonl file)',
      ],
    ]);
    const two = await read(`[${task(1)}]\n[${task(2)}]`);
    expect(two.ids).toEqual([1]);
    expect(two.report.skipped.map((e) => e.reason)).toEqual([
      expect.stringMatching(/^more follows the array's closing \]/),
    ]);
    // Whitespace after the value is fine; content in a later chunk is found too.
    expect((await read(`[${task(1)}]\n \r\n\t`)).report.skipped).toEqual([]);
    const report = new Report();
    const chunks = (async function* () {
      yield `[${task(1)}]  `;
      yield '   ';
      yield `\n${task(2)}`;
    })();
    for await (const _ of readJsonExport(chunks, 'in.json', report));
    expect(report.skipped.length).toBe(1);
  });
});
