import { describe, expect, it } from 'vitest';
import {
  PY_JSON_COMPACT,
  PY_JSON_PRETTY,
  quoteString,
  stringify,
  stringifyByParts,
  UJSON_COMPACT,
  UJSON_PRETTY,
  UJSON_PRETTY_ASCII,
} from '../../../functions/core/json/serialize.ts';
import { type JsonObject, type JsonValue, NumLit, setKey } from '../../../functions/core/json/value.ts';

describe('quoteString (ujson and Python json string escapes)', () => {
  it('ujson escapes quotes, backslashes, control characters and slashes, and keeps other text', () => {
    const s = 'a/b"c\\d\ne\tf\bg\fh\ri\u0001j\u001fk\u007fß€😀\u2028';
    const expected = '"a\\/b\\"c\\\\d\\ne\\tf\\bg\\fh\\ri\\u0001j\\u001fk\u007fß€😀\u2028"';
    expect(quoteString(s, UJSON_PRETTY)).toBe(expected);
    expect(quoteString(s, UJSON_COMPACT)).toBe(expected);
  });

  it('a JSON text inside a string (a CSV cell) is escaped character for character', () => {
    expect(quoteString('[{"x":1.5,"url":"/data/a.jpg"}]', UJSON_COMPACT)).toBe(
      '"[{\\"x\\":1.5,\\"url\\":\\"\\/data\\/a.jpg\\"}]"',
    );
  });

  it('keeps lone surrogates as they are where JSON.stringify would escape them', () => {
    expect(quoteString('"\ud800x', UJSON_PRETTY)).toBe('"\\"\ud800x"');
    expect(quoteString('/\udc00', PY_JSON_PRETTY)).toBe('"/\udc00"');
  });

  it('ensure_ascii styles escape non-ASCII as \\uXXXX; Python json also escapes U+007F, ujson does not', () => {
    expect(quoteString('ß"/\u007f😀', PY_JSON_COMPACT)).toBe('"\\u00df\\"/\\u007f\\ud83d\\ude00"');
    expect(quoteString('ß"/\u007f', UJSON_PRETTY_ASCII)).toBe('"\\u00df\\"\\/\u007f"');
  });

  it('Python json (not ensure_ascii) leaves slashes and non-ASCII alone', () => {
    expect(quoteString('a/b"ß\n', PY_JSON_PRETTY)).toBe('"a/b\\"ß\\n"');
    expect(quoteString('plain/text', PY_JSON_PRETTY)).toBe('"plain/text"');
  });
});

describe('stringify: the JSON.stringify way gives the piece-by-piece bytes', () => {
  /** A small deterministic generator (mulberry32), so a failure is reproducible. */
  const rng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const PIECES = [
    'a',
    'Ölfass',
    '/',
    '"',
    '\\',
    '\n',
    '\u0001',
    '\u007f',
    '😀',
    '\ud800',
    '\udc00',
    '\u2028',
    'ud',
    ' ',
  ];
  const NUMBERS = [
    0,
    -0,
    1,
    -7,
    2 ** 53 + 2,
    1e21,
    0.5,
    46.142244603929505,
    1e-4,
    9.99e-5,
    1e-7,
    -3.2e-5,
    1e16 - 2,
    NaN,
    Infinity,
  ];
  function value(next: () => number, depth: number): JsonValue {
    const r = next();
    if (depth > 3 || r < 0.35) {
      const p = next();
      if (p < 0.3)
        return Array.from(
          { length: Math.floor(next() * 4) },
          () => PIECES[Math.floor(next() * PIECES.length)],
        ).join('');
      if (p < 0.6) return NUMBERS[Math.floor(next() * NUMBERS.length)];
      if (p < 0.7) return next() * 200 - 100;
      if (p < 0.75) return NumLit.float(Math.floor(next() * 10));
      return p < 0.85 ? null : p < 0.93;
    }
    if (r < 0.65) return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
    const o: JsonObject = {};
    const n = Math.floor(next() * 4);
    for (let i = 0; i < n; i++) {
      const k =
        next() < 0.1 ? String(Math.floor(next() * 20)) : `k${PIECES[Math.floor(next() * PIECES.length)]}${i}`;
      setKey(o, k, value(next, depth + 1));
    }
    return o;
  }

  it('on 20,000 random values in every style (floats of every size, NumLit, integer keys, escapes, lone surrogates)', () => {
    const next = rng(20261130);
    let native = 0;
    for (let i = 0; i < 20_000; i++) {
      const v = value(next, 0);
      for (const style of [
        UJSON_PRETTY,
        UJSON_COMPACT,
        UJSON_PRETTY_ASCII,
        PY_JSON_COMPACT,
        PY_JSON_PRETTY,
      ]) {
        const expected = stringifyByParts(v, style);
        expect(stringify(v, style)).toBe(expected);
        if (style === UJSON_COMPACT && expected === JSON.stringify(v).replaceAll('/', '\\/')) native++;
      }
    }
    expect(native).toBeGreaterThan(5_000); // the fast way was taken, not only the fallback
  });

  it('takes the piece-by-piece way where JSON.stringify would differ', () => {
    expect(stringify({ a: [1e-5, 'x/y'] }, UJSON_COMPACT)).toBe('{"a":[1e-5,"x\\/y"]}');
    expect(stringify({ a: NumLit.float(2) }, UJSON_PRETTY)).toBe('{\n  "a": 2.0\n}');
    expect(stringify({ s: 'a\ud800b' }, UJSON_COMPACT)).toBe('{"s":"a\ud800b"}');
    const o: JsonObject = {};
    setKey(o, 'b', 1);
    setKey(o, '1', 2);
    expect(stringify(o, UJSON_COMPACT)).toBe('{"b":1,"1":2}');
    expect(stringify([NaN, Infinity], UJSON_COMPACT)).toBe('[NaN,Inf]');
  });
});
