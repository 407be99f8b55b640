import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, parseJson } from '../../../functions/core/json/parse.ts';
import {
  PY_JSON_COMPACT,
  stringify,
  UJSON_COMPACT,
  UJSON_PRETTY,
} from '../../../functions/core/json/serialize.ts';
import { isJsonObject, keysOf, NumLit } from '../../../functions/core/json/value.ts';

describe('parseJson keeps what Python keeps', () => {
  it('keeps integral float literals as floats and ints as ints', () => {
    const v = parseJson('{"f": 2.0, "i": 2, "e": 1e5, "x": 0.5}');
    expect(stringify(v, UJSON_COMPACT)).toBe('{"f":2.0,"i":2,"e":100000.0,"x":0.5}');
    expect(isJsonObject(v) && v.f).toBeInstanceOf(NumLit);
  });

  it('keeps integer-like keys in written order', () => {
    const v = parseJson('{"text": "a", "10": 1, "2": 2}');
    expect(isJsonObject(v) && keysOf(v)).toEqual(['text', '10', '2']);
    expect(stringify(v, UJSON_COMPACT)).toBe('{"text":"a","10":1,"2":2}');
  });

  it('keeps integers beyond 2^53 digit for digit', () => {
    const v = parseJson('{"big": 123456789012345678901}');
    expect(stringify(v, UJSON_COMPACT)).toBe('{"big":123456789012345678901}');
  });

  it('decodes escapes, including surrogate pairs', () => {
    expect(parseJson('"caf\\u00e9 \\ud83d\\ude00 \\"q\\" 2.0"')).toBe('café 😀 "q" 2.0');
  });

  it('reports a truncated document with its position', () => {
    expect(() => parseJson('{"a": [1, 2')).toThrow(JsonSyntaxError);
    expect(() => parseJson('{"a": [1, 2')).toThrow(/truncated/);
  });

  it('reports garbage with a position and context', () => {
    expect(() => parseJson('{"a": tru}')).toThrow(/position 6/);
  });
});

describe('serializers', () => {
  const value = parseJson('{"s": "a/b ü \\u007f \\n", "n": [1, 2.5, 3.0], "o": {}, "l": []}');

  it('ujson indent=2 escapes "/" and keeps non-ASCII raw', () => {
    expect(stringify(value, UJSON_PRETTY)).toBe(
      '{\n  "s": "a\\/b ü \u007f \\n",\n  "n": [\n    1,\n    2.5,\n    3.0\n  ],\n  "o": {},\n  "l": []\n}',
    );
  });

  it("Python's json.dumps is compact with spaces and ASCII-escapes (U+007F too)", () => {
    expect(stringify(value, PY_JSON_COMPACT)).toBe(
      '{"s": "a/b \\u00fc \\u007f \\n", "n": [1, 2.5, 3.0], "o": {}, "l": []}',
    );
  });
});
