/**
 * A number literal past a double's range (`1e999`, 400 integer digits) is kept as written: as a
 * float it printed as ujson's `Inf` and made a whole JSON / JSON_MIN export unreadable (found by
 * test/sec/hostile-fuzz.test.ts, seed 1, a rectangle with `"x": 1e999`).
 */
import { describe, expect, it } from 'vitest';
import { parseJson } from '../../../functions/core/json/parse.ts';
import { PY_JSON_COMPACT, stringify, UJSON_PRETTY } from '../../../functions/core/json/serialize.ts';

const BIG = `1${'0'.repeat(400)}.5`;

describe('number literals past the double range', () => {
  for (const [name, exact] of [
    ['the exact parser', true],
    ['the regex router', undefined],
  ] as const) {
    it(`${name}: 1e999, -1.5e400 and a 401-digit number are written back as they were`, () => {
      const text = `{"x":1e999,"y":-1.5E400,"z":${BIG},"w":2.5}`;
      const value = parseJson(text, exact);
      for (const style of [UJSON_PRETTY, PY_JSON_COMPACT]) {
        const out = stringify(value, style);
        expect(out).not.toMatch(/Inf/);
        expect(out).toContain('1e999');
        expect(out).toContain('-1.5E400');
        expect(out).toContain(BIG);
        expect(Number((JSON.parse(out) as { x: number }).x)).toBe(Number.POSITIVE_INFINITY);
      }
    });
  }

  it('the regex router sends a 401-digit number alone (no exponent) to the exact parser', () => {
    for (const text of [`{"z":${BIG}}`, `[${BIG}]`, `{"z":-${BIG} }`]) {
      const out = stringify(parseJson(text), UJSON_PRETTY);
      expect(out).not.toMatch(/Inf/);
      expect(out).toContain(BIG);
    }
  });

  it('the value still reads as ±Infinity (geometry checks refuse it)', () => {
    const v = parseJson('[1e999,-1e999]', true) as unknown as Array<{ valueOf(): number }>;
    expect(v.map((n) => Number(n))).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  });
});
