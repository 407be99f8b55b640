/**
 * Input limits (sec-03 deep nesting, sec-09 oversized element): every parser path refuses a value
 * nested deeper than MAX_JSON_DEPTH with the same reason, and the splitter skips an element above
 * its size limit without assembling it.
 */
import { describe, expect, it } from 'vitest';
import { type SplitEvent, splitJsonDocument } from '../../../functions/core/json/array-stream.ts';
import { exceedsDepth, JsonDepthError, MAX_JSON_DEPTH } from '../../../functions/core/json/limits.ts';
import { parseJson } from '../../../functions/core/json/parse.ts';
import { readJsonExport, readJsonLines } from '../../../functions/core/readers/json-export.ts';
import { parseStorageObject } from '../../../functions/core/readers/storage-objects.ts';
import { Report } from '../../../functions/core/report.ts';

/** `{"a":[[…]]}` with the object plus `levels - 1` arrays: `levels` levels in all. */
const nested = (levels: number, tail = '') =>
  `{"id": 1, "data": {"text": "t"}, "annotations": [], "d": ${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}${tail}}`;

async function* chunked(text: string, size: number) {
  for (let i = 0; i < text.length; i += size) yield Buffer.from(text.slice(i, i + size));
}

async function split(text: string, size: number, limits = {}) {
  const out: SplitEvent[] = [];
  for await (const e of splitJsonDocument(chunked(text, size), limits)) out.push(e);
  return out;
}

describe('depth limit', () => {
  it('exceedsDepth counts brackets outside strings only', () => {
    expect(exceedsDepth('[[[]]]', 3)).toBe(false);
    expect(exceedsDepth('[[[[]]]]', 3)).toBe(true);
    expect(exceedsDepth('["[[[[[[", {"k": "\\"[[[[["}]', 2)).toBe(false);
    expect(exceedsDepth('["a\\\\", [[[]]]]', 3)).toBe(true); // `\\` ends the string before the brackets
  });

  it('parseJson refuses deeper than MAX_JSON_DEPTH on the native and the exact path alike', () => {
    const ok = nested(MAX_JSON_DEPTH);
    expect((parseJson(ok) as { id: number }).id).toBe(1);
    expect((parseJson(ok.replace('"t"', '2.0'), true) as { id: number }).id).toBe(1);
    const deep = nested(MAX_JSON_DEPTH + 1);
    expect(() => parseJson(deep)).toThrow(JsonDepthError);
    expect(() => parseJson(deep, false)).toThrow('nested deeper than 1000 levels');
    // The exact parser (a 2.0 literal routes there) stops at the same level instead of overflowing.
    expect(() => parseJson(nested(20_000).replace('"t"', '2.0'))).toThrow('nested deeper than 1000 levels');
    expect(() => parseJson(nested(20_000), true)).toThrow(JsonDepthError);
    expect(() => parseJson('[[[1]]]', undefined, { maxDepth: 2 })).toThrow('nested deeper than 2 levels');
  });

  it('the splitter yields an invalid event for a too-deep element at any chunk size, and goes on', async () => {
    const doc = `[${nested(1500)}, {"id": 2}]`;
    for (const size of [7, 64, 4096, doc.length]) {
      const events = await split(doc, size);
      expect(events).toEqual([
        { type: 'root', kind: 'array' },
        { type: 'invalid', index: 0, reason: 'nested deeper than 1000 levels' },
        { type: 'element', index: 1, text: '{"id": 2}' },
      ]);
    }
  });

  it('every reader reports the same reason with its own source, and exports the rest', async () => {
    const deep = nested(5000);
    const good = '{"id": 2, "data": {"text": "fine"}, "annotations": []}';
    const exportReport = new Report();
    const fromExport = [];
    for await (const t of readJsonExport(chunked(`[${deep},\n${good}]`, 1000), 'export.json', exportReport))
      fromExport.push(t.task.id);
    const linesReport = new Report();
    const fromLines = [];
    for await (const t of readJsonLines(chunked(`${deep}\n${good}\n`, 1000), 'tasks.jsonl', linesReport))
      fromLines.push(t.task.id);
    expect(fromExport).toEqual([2]);
    expect(fromLines).toEqual([2]);
    expect(exportReport.skipped).toEqual([
      { source: 'export.json[0]', reason: 'nested deeper than 1000 levels' },
    ]);
    expect(linesReport.skipped).toEqual([
      { source: 'tasks.jsonl:1', reason: 'nested deeper than 1000 levels' },
    ]);
    expect(() => parseStorageObject(deep)).toThrow(/^nested deeper than 1000 levels$/);
  });
});

describe('element size limit', () => {
  const big = `{"id": 1, "data": {"text": "${'A'.repeat(3000)}"}, "annotations": []}`;
  const small = '{"id": 2, "data": {"text": "small"}, "annotations": []}';

  it('skips an element above the limit without its text, at any chunk size, and keeps the next', async () => {
    for (const size of [100, 1000, 65536]) {
      const events = await split(`[${big},\n${small}]`, size, { maxElementBytes: 1024 });
      expect(events).toEqual([
        { type: 'root', kind: 'array' },
        { type: 'invalid', index: 0, reason: 'element larger than 1024 bytes' },
        { type: 'element', index: 1, text: small },
      ]);
    }
  });

  it('measures UTF-8 bytes, not characters', async () => {
    // 400 three-byte characters: 400 units, 1,200+ bytes.
    const wide = `{"t": "${'€'.repeat(400)}"}`;
    const events = await split(`[${wide}, "ok"]`, 50, { maxElementBytes: 1024 });
    expect(events[1]).toEqual({ type: 'invalid', index: 0, reason: 'element larger than 1024 bytes' });
    expect(events[2]).toEqual({ type: 'element', index: 1, text: '"ok"' });
    const fits = await split(`[${wide}]`, 50, { maxElementBytes: 2048 });
    expect(fits[1]).toEqual({ type: 'element', index: 0, text: wide });
  });

  it('an oversized single root object, and a truncated oversized element, are reported', async () => {
    expect((await split(big, 100, { maxElementBytes: 1024 }))[1]).toEqual({
      type: 'invalid',
      index: 0,
      reason: 'element larger than 1024 bytes',
    });
    const cut = await split(`[${small}, ${big.slice(0, 2000)}`, 100, { maxElementBytes: 1024 });
    expect(cut.slice(2)).toEqual([
      { type: 'truncated', index: 1, reason: 'the document ends inside this element' },
    ]);
  });

  it('readJsonExport reports `export.json[0]: element larger than N bytes`; JSON Lines too', async () => {
    const report = new Report();
    const ids = [];
    for await (const t of readJsonExport(chunked(`[${big},\n${small}]`, 256), 'export.json', report, {
      maxElementBytes: 1024,
    }))
      ids.push(t.task.id);
    expect(ids).toEqual([2]);
    expect(report.skipped).toEqual([{ source: 'export.json[0]', reason: 'element larger than 1024 bytes' }]);

    const linesReport = new Report();
    const lineIds = [];
    const jsonl = `${small}\n${big}\n${small.replace('"id": 2', '"id": 3')}`;
    for (const size of [256, 5000]) {
      lineIds.length = 0;
      for await (const t of readJsonLines(chunked(jsonl, size), 'in.jsonl', linesReport, {
        maxElementBytes: 1024,
      }))
        lineIds.push(t.task.id);
      expect(lineIds).toEqual([2, 3]);
    }
    expect(linesReport.skipped).toEqual([{ source: 'in.jsonl:2', reason: 'element larger than 1024 bytes' }]);
  });
});
