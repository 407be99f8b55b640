import { describe, expect, it } from 'vitest';
import {
  clipBoxPercent,
  obbCorners,
  polygonArea,
  polygonBbox,
  referenceRotatedBox,
  trueRotatedBoxPercent,
  yoloBox,
} from '../../../functions/core/images/geometry.ts';
import { pyFloatRepr } from '../../../functions/core/json/py-number.ts';

const close = (actual: number[], expected: number[], tol = 1e-9) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    expect(Math.abs(a - expected[i])).toBeLessThanOrEqual(tol);
  });
};

describe('COCO rotated bbox in percent space (docs/label-studio-behaviour.md#coco-rotated-rectangles)', () => {
  it('reproduces the observed values', () => {
    close(
      referenceRotatedBox(10, 20, 30, 40, 30)!,
      [-9.999999999999995, 19.999999999999996, 45.98076211353315, 49.64101615137754],
    );
    close(referenceRotatedBox(10, 20, 30, 40, -90)!, [10.000000000000004, -10.0, 40.0, 30.0]);
    expect(referenceRotatedBox(10, 20, 30, 40, 0)).toEqual([10, 20, 30, 40]);
  });

  it('has no answer for a rotated rectangle of width 0 (the reference divides by zero)', () => {
    expect(referenceRotatedBox(10, 20, 0, 40, 15)).toBeUndefined();
    expect(referenceRotatedBox(10, 20, 0, 40, 0)).toEqual([10, 20, 0, 40]);
  });

  it('the rotated-bbox fix bounds the pixel-space corners (200×100 image)', () => {
    const [x, y, w, h] = trueRotatedBoxPercent(10, 20, 30, 40, 30, 200, 100);
    // Pixels (Python): 3.55e-15, 20.0, 71.96152422706632, 64.64101615137756.
    close(
      [(x * 200) / 100, (y * 100) / 100, (w * 200) / 100, (h * 100) / 100],
      [0, 20, 71.96152422706632, 64.64101615137756],
      1e-9,
    );
  });
});

describe('YOLO boxes (docs/label-studio-behaviour.md#yolo-lines, docs/label-studio-behaviour.md#reference-tests)', () => {
  it('converts percent x, y, w, h to the centre box', () => {
    close(
      yoloBox(37.15846994535519, 70.67395264116576, 4.189435336976321, 4.735883424408015),
      [0.39253187613843354, 0.7304189435336975, 0.04189435336976321, 0.04735883424408015],
    );
  });

  it('OBB corners: the spec example and the three rotated boxes of test_convert_annotation_to_yolo_obb', () => {
    const line = obbCorners(10, 20, 30, 40, 30, 200, 100).flat().map(pyFloatRepr).join(' ');
    expect(line).toBe(
      '0.1 0.2 0.3598076211353316 0.5 0.2598076211353316 0.8464101615137756 1.7763568394002505e-17 0.5464101615137755',
    );
    const cases: Array<[number[], number[]]> = [
      [
        [11.552474514692952, 80.83731446979957, 19.0454700246567, 6.629026203797071, 328.33240366032834],
        [
          0.11552474514692952, 0.8083731446979957, 0.27762229351938456, 0.7306489626734597,
          0.3223923846720476, 0.7870691452334665, 0.16029483629959254, 0.8647933272580025,
        ],
      ],
      [
        [32.94000909818857, 77.3890916826675, 8.108689897439085, 7.490685233798283, 345.3894551068102],
        [
          0.32940009098188566, 0.7738909168266751, 0.4078648636432219, 0.7579911558782483,
          0.43217208011269465, 0.830475727539231, 0.35370730745135837, 0.8463754884876579,
        ],
      ],
      [
        [16.814074232397513, 57.43596079245723, 18.218991060518675, 6.298347014251024, 43.67748910099408],
        [
          0.16814074232397513, 0.5743596079245723, 0.29990750552628187, 0.6721650332758418,
          0.24395249444460837, 0.7177171056620688, 0.11218573124230163, 0.6199116803107994,
        ],
      ],
    ];
    for (const [[x, y, w, h, r], expected] of cases)
      close(obbCorners(x, y, w, h, r, 597, 768).flat(), expected);
  });
});

describe('polygons and clipping', () => {
  it('shoelace area and bbox', () => {
    expect(polygonArea([0, 10, 10, 0], [0, 0, 10, 10])).toBe(100);
    expect(polygonBbox([3, 1, 2], [5, 7, 6])).toEqual([1, 5, 2, 2]);
    expect(polygonArea([1], [1])).toBe(0);
  });

  it('clips a box to the image', () => {
    expect(clipBoxPercent(-10, 90, 30, 20)).toEqual([0, 90, 20, 10]);
  });
});
