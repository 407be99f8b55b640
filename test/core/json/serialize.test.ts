import { describe, expect, it } from 'vitest';
import {
  PY_JSON_COMPACT,
  PY_JSON_PRETTY,
  quoteString,
  UJSON_COMPACT,
  UJSON_PRETTY,
  UJSON_PRETTY_ASCII,
} from '../../../functions/core/json/serialize.ts';

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
