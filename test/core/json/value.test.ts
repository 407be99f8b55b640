/** The value model's copies keep every key, `__proto__` included (a key like any other in Python). */
import { describe, expect, it } from 'vitest';
import { parseJson } from '../../../functions/core/json/parse.ts';
import { deepCopy, type JsonObject, keysOf } from '../../../functions/core/json/value.ts';

describe('deepCopy', () => {
  for (const [label, text] of [
    ['native parse', '{"a": 1, "__proto__": {"x": 2}, "b": [{"__proto__": 3}]}'],
    ['exact parse (integral float)', '{"a": 1.0, "__proto__": {"x": 2}, "b": [{"__proto__": 3}]}'],
  ] as const)
    it(`keeps a __proto__ key as an own key, in order, without touching the prototype (${label})`, () => {
      const v = parseJson(text) as JsonObject;
      const copy = deepCopy(v);
      expect(keysOf(copy)).toEqual(['a', '__proto__', 'b']);
      expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
      expect(Object.hasOwn(copy, '__proto__')).toBe(true);
      expect(JSON.stringify(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value)).toBe('{"x":2}');
      const inner = (copy.b as JsonObject[])[0];
      expect(Object.hasOwn(inner, '__proto__')).toBe(true);
      expect(Object.getOwnPropertyDescriptor(inner, '__proto__')?.value).toBe(3);
      // A copy of the copy is the same again (nothing inherited became an own key).
      expect(keysOf(deepCopy(copy))).toEqual(['a', '__proto__', 'b']);
      expect(copy).not.toBe(v);
    });
});
