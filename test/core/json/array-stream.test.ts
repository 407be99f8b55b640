import { describe, expect, it } from 'vitest';
import {
  type SplitEvent,
  type SplitOptions,
  splitJsonDocument,
} from '../../../functions/core/json/array-stream.ts';

async function collect(chunks: string[]): Promise<SplitEvent[]> {
  const out: SplitEvent[] = [];
  async function* gen() {
    for (const c of chunks) yield Buffer.from(c);
  }
  for await (const e of splitJsonDocument(gen())) out.push(e);
  return out;
}

/** Splits a text at every position, to prove chunk boundaries never matter. */
function everySplit(text: string): string[][] {
  const out: string[][] = [];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

describe('splitJsonDocument', () => {
  const doc = ' [ {"a": "x]\\"}", "b": [1, {"c": 2}]} , {"d": "\\\\"}, 7, "s,]" ] ';

  it('yields each top-level element of an array', async () => {
    const events = await collect([doc]);
    expect(events).toEqual([
      { type: 'root', kind: 'array' },
      { type: 'element', index: 0, text: '{"a": "x]\\"}", "b": [1, {"c": 2}]}' },
      { type: 'element', index: 1, text: '{"d": "\\\\"}' },
      { type: 'element', index: 2, text: '7' },
      { type: 'element', index: 3, text: '"s,]"' },
    ]);
  });

  it('gives the same elements wherever the chunks are cut', async () => {
    // A number cut by a chunk boundary may be flagged `exact` to be safe; the texts never differ.
    const strip = (evs: SplitEvent[]) =>
      evs.map((e) => (e.type === 'element' ? { ...e, exact: undefined } : e));
    const whole = strip(await collect([doc]));
    for (const parts of everySplit(doc)) expect(strip(await collect(parts))).toEqual(whole);
  });

  it('flags elements a plain JSON.parse would misread', async () => {
    const flags = async (json: string) =>
      (await collect([json]))
        .filter((e) => e.type === 'element')
        .map((e) => (e.type === 'element' ? Boolean(e.exact) : null));
    expect(
      await flags(
        '[{"a": 2.0}, {"a": 2.5}, {"a": 1e5}, {"a": 12345678901234567}, {"12": 1}, {"id": "a1e5 2.0"}, {"x": [1, -3]}]',
      ),
    ).toEqual([true, false, true, true, true, false, false]);
  });

  it('flags each kind of number literal a JS number would change, and only those', async () => {
    const flagOf = async (literal: string) => {
      const [ev] = (await collect([`[{"v": ${literal}}]`])).filter((e) => e.type === 'element');
      return ev.type === 'element' && Boolean(ev.exact);
    };
    const cases: Array<[string, boolean]> = [
      ['2.00', true],
      ['-0.0', true],
      ['-2.0', true],
      ['1E5', true],
      ['1.5e-3', true],
      ['1234567890123456', true], // 16 digits
      ['-1234567890123456', true],
      ['123456789012345', false], // 15 digits
      ['-123456789012345.5', false],
      ['0.10', false],
      ['12.345678901234567', false],
      ['-7', false],
      ['0', false],
    ];
    for (const [literal, exact] of cases) expect([literal, await flagOf(literal)]).toEqual([literal, exact]);
  });

  it('cuts multi-byte characters safely across chunks', async () => {
    const bytes = Buffer.from('[{"t": "ü😀"}]');
    const events: SplitEvent[] = [];
    async function* gen() {
      for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
    }
    for await (const e of splitJsonDocument(gen())) events.push(e);
    expect(events[1]).toEqual({ type: 'element', index: 0, text: '{"t": "ü😀"}' });
  });

  it('yields a root object as one element', async () => {
    expect(await collect(['{"id": 1}'])).toEqual([
      { type: 'root', kind: 'object' },
      { type: 'element', index: 0, text: '{"id": 1}' },
    ]);
  });

  it('reports truncation after the complete elements', async () => {
    expect(await collect(['[{"id": 1}, {"id": 2, "data": {"t'])).toEqual([
      { type: 'root', kind: 'array' },
      { type: 'element', index: 0, text: '{"id": 1}' },
      { type: 'truncated', index: 1, reason: 'the document ends inside this element' },
    ]);
    expect((await collect(['[{"id": 1}'])).at(-1)).toEqual({
      type: 'truncated',
      index: 1,
      reason: 'the array is not closed',
    });
  });

  it('classifies empty and non-JSON roots', async () => {
    expect(await collect(['  '])).toEqual([{ type: 'root', kind: 'empty' }]);
    expect(await collect(['x[1]'])).toEqual([{ type: 'root', kind: 'other', firstChar: 'x' }]);
    expect((await collect(['\ufeff[1]']))[0]).toEqual({ type: 'root', kind: 'array', bom: true });
  });
});

describe('splitJsonDocument skipKeys (values no format reads, not buffered or parsed)', () => {
  const SKIP = { skipKeys: new Set(['predictions', 'drafts']) };
  async function texts(chunks: string[], options: SplitOptions = SKIP): Promise<SplitEvent[]> {
    const out: SplitEvent[] = [];
    async function* gen() {
      for (const c of chunks) yield c;
    }
    for await (const e of splitJsonDocument(gen(), {}, options)) out.push(e);
    return out.filter((e) => e.type !== 'root');
  }
  const doc =
    '[{"id": 1, "predictions": [{"result": [{"v": 2.0, "s": "]}\\""}]}], "data": {"predictions": [1]}, "drafts" : [ ], "n": 3},' +
    ' {"id": 2, "predictions": null, "x": ["predictions", [5]], "drafts": [[{"12": 1}]]}]';

  it('replaces top-level array values of the keys by [] and keeps everything else', async () => {
    expect(await texts([doc])).toEqual([
      {
        type: 'element',
        index: 0,
        text: '{"id": 1, "predictions": [], "data": {"predictions": [1]}, "drafts" : [], "n": 3}',
      },
      {
        type: 'element',
        index: 1,
        text: '{"id": 2, "predictions": null, "x": ["predictions", [5]], "drafts": []}',
      },
    ]);
  });

  it('parses to the same task minus the skipped values, wherever the chunks are cut', async () => {
    const whole = (await texts([doc])).map((e) => (e.type === 'element' ? JSON.parse(e.text) : e));
    expect(whole[0]).toEqual({ id: 1, predictions: [], data: { predictions: [1] }, drafts: [], n: 3 });
    for (const parts of everySplit(doc)) {
      const got = (await texts(parts)).map((e) => (e.type === 'element' ? JSON.parse(e.text) : e));
      // A key cut by a chunk boundary is kept whole: the same task, with its value.
      for (const [k, task] of got.entries()) {
        const original = JSON.parse(doc)[k];
        for (const key of Object.keys(original))
          if (key !== 'predictions' && key !== 'drafts') expect(task[key]).toEqual(original[key]);
        for (const key of ['predictions', 'drafts'])
          expect([whole[k][key], original[key]]).toContainEqual(task[key]);
      }
    }
  });

  it('does not flag exactness for numbers or keys only inside skipped values', async () => {
    const [a, b] = await texts(['[{"predictions": [{"v": 2.0, "12": 1}], "x": 1}, {"x": 2.0}]']);
    expect(a).toEqual({ type: 'element', index: 0, text: '{"predictions": [], "x": 1}' });
    expect(b).toEqual({ type: 'element', index: 1, text: '{"x": 2.0}', exact: true });
  });

  it('still enforces the depth limit inside a skipped value', async () => {
    const deep = `[{"predictions": ${'['.repeat(1200)}${']'.repeat(1200)}}, {"id": 2}]`;
    expect(await texts([deep])).toEqual([
      { type: 'invalid', index: 0, reason: 'nested deeper than 1000 levels' },
      { type: 'element', index: 1, text: '{"id": 2}' },
    ]);
  });

  it('without skipKeys the elements are untouched', async () => {
    const [first] = await texts([doc], {});
    expect(first.type === 'element' && JSON.parse(first.text).predictions[0].result[0].s).toBe(']}"');
  });
});
