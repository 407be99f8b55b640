import { describe, expect, it } from 'vitest';
import { pyFloatRepr, pyJsonFloat, pyRound, ujsonFloat } from '../../../functions/core/json/py-number.ts';

describe('pyFloatRepr (Python repr of a float, docs/label-studio-behaviour.md#number-formatting)', () => {
  it.each([
    [1, '1.0'],
    [100, '100.0'],
    [0, '0.0'],
    [-0, '-0.0'],
    [0.5, '0.5'],
    [0.25000001, '0.25000001'],
    [1e-5, '1e-05'],
    [1.5e-5, '1.5e-05'],
    [0.0001, '0.0001'],
    [1.7763568394002505e-17, '1.7763568394002505e-17'],
    [1e16, '1e+16'],
    [1234567890123456, '1234567890123456.0'],
    [0.39799635701275043, '0.39799635701275043'],
    [-2.5, '-2.5'],
    [Number.NaN, 'nan'],
    [Number.POSITIVE_INFINITY, 'inf'],
  ])('%s → %s', (x, text) => {
    expect(pyFloatRepr(x)).toBe(text);
  });

  it('json module spells NaN and Infinity', () => {
    expect(pyJsonFloat(Number.NaN)).toBe('NaN');
    expect(pyJsonFloat(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
  });
});

describe('ujsonFloat', () => {
  it.each([
    [1e-5, '1e-5'],
    [1.5e-5, '1.5e-5'],
    [2e-6, '2e-6'],
    [1e16, '1e+16'],
    [2, '2.0'],
    [10.744, '10.744'],
  ])('%s → %s', (x, text) => {
    expect(ujsonFloat(x)).toBe(text);
  });
});

describe('pyRound (half to even)', () => {
  it.each([
    [2.5, 2],
    [3.5, 4],
    [-2.5, -2],
    [-3.5, -4],
    [0.5, 0],
    [1.4999, 1],
    [112.5, 112],
    [113.5, 114],
  ])('round(%s) = %s', (x, r) => {
    expect(pyRound(x)).toBe(r);
  });
});
