import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { polygonArea } from '../../../functions/core/images/geometry.ts';
import { crAtan, crCos, crSin, fma } from '../../../functions/core/images/libm.ts';

/** Values printed by the reference's runtime (Python's math on glibc, NumPy/OpenBLAS), see the file. */
const REF = JSON.parse(readFileSync(join(import.meta.dirname, 'reference-libm.json'), 'utf8')) as {
  trig: number[][];
  special: number[][];
  atan: number[][];
  polygons: Array<{ xs: number[]; ys: number[]; area: number }>;
};

const agreement = (rows: number[][], f: (x: number) => number, col: number) =>
  rows.filter((r) => f(r[0]) === r[col]).length / rows.length;

describe('correctly rounded trigonometry (matches glibc where V8 does not)', () => {
  it('agrees with glibc on the special angles exactly', () => {
    for (const [x, s, c] of REF.special) {
      expect(crSin(x)).toBe(s);
      expect(crCos(x)).toBe(c);
    }
  });

  it('agrees with glibc on ≥ 99.5 % of random arguments (V8 on ~97 %)', () => {
    expect(agreement(REF.trig, crSin, 1)).toBeGreaterThanOrEqual(0.995);
    expect(agreement(REF.trig, crCos, 2)).toBeGreaterThanOrEqual(0.995);
    expect(agreement(REF.atan, crAtan, 1)).toBeGreaterThanOrEqual(0.995);
    expect(agreement(REF.trig, Math.sin, 1)).toBeLessThan(0.99);
  });

  it('stays within an ulp of Math on edge inputs', () => {
    for (const x of [0, -0, 1e-300, 1e8, -7.5, Math.PI / 4, 3 * Math.PI]) {
      expect(Math.abs(crSin(x) - Math.sin(x))).toBeLessThanOrEqual(Math.abs(Math.sin(x)) * 2.3e-16);
      expect(Math.abs(crCos(x) - Math.cos(x))).toBeLessThanOrEqual(Math.abs(Math.cos(x)) * 2.3e-16 + 1e-300);
    }
    expect(Object.is(crSin(-0), -0)).toBe(true);
    expect(crAtan(Number.POSITIVE_INFINITY)).toBe(Math.PI / 2);
    expect(Number.isNaN(crCos(Number.NaN))).toBe(true);
  });
});

describe('fused multiply-add and polygon areas', () => {
  it('rounds a·b + c once', () => {
    // 0.1·10 − 1 is 5.55e-17 exactly in binary; separate rounding gives 0.
    expect(fma(0.1, 10, -1)).toBe(5.551115123125783e-17);
    expect(0.1 * 10 - 1).toBe(0);
    expect(fma(2, 3, 4)).toBe(10);
    const a = 1 + 2 ** -30;
    expect(fma(a, a, -1)).toBe(2 ** -29 + 2 ** -60);
  });

  it('gives NumPy’s shoelace areas to the last bit for polygons under 16 points', () => {
    for (const p of REF.polygons) expect(polygonArea(p.xs, p.ys)).toBe(p.area);
  });
});
