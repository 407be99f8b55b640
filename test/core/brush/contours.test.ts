import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  boundingRect,
  ContourError,
  contourArea,
  findExternalContours,
  type Point,
} from '../../../functions/core/brush/contours.ts';
import { decodePngToGray } from '../../../functions/core/brush/png.ts';

/** Builds a W×H mask from a picture: '#' (or any non-'.') is foreground. */
function picture(rows: string[]): { mask: Uint8Array; width: number; height: number } {
  const height = rows.length;
  const width = rows[0].length;
  const mask = new Uint8Array(width * height);
  rows.forEach((row, y) => {
    for (let x = 0; x < width; x++) if (row[x] !== '.') mask[y * width + x] = 255;
  });
  return { mask, width, height };
}

function contoursOf(rows: string[]): Point[][] {
  const { mask, width, height } = picture(rows);
  return findExternalContours(mask, width, height);
}

describe('docs/label-studio-behaviour.md#external-contours fixtures (OpenCV 4.6)', () => {
  // 12×12: 2×2 block x1–2 y9–10, pixel (2,7), 4×4 block x7–10 y6–9, 4×3 block x1–4 y1–3,
  // diagonal (8,0) (9,1) (10,2).
  const image12 = [
    '........#...',
    '.####....#..',
    '.####.....#.',
    '.####.......',
    '............',
    '............',
    '.......####.',
    '..#....####.',
    '.......####.',
    '.##....####.',
    '.##.........',
    '............',
  ];

  it('returns the 12×12 components bottom-most start first, with exact points', () => {
    expect(contoursOf(image12)).toEqual([
      [
        [1, 9],
        [1, 10],
        [2, 10],
        [2, 9],
      ],
      [[2, 7]],
      [
        [7, 6],
        [7, 9],
        [10, 9],
        [10, 6],
      ],
      [
        [1, 1],
        [1, 3],
        [4, 3],
        [4, 1],
      ],
      [
        [8, 0],
        [10, 2],
      ],
    ]);
  });

  it('gives the spec boundingRect and contourArea for each 12×12 component', () => {
    const cs = contoursOf(image12);
    expect(cs.map(boundingRect)).toEqual([
      [1, 9, 2, 2],
      [2, 7, 1, 1],
      [7, 6, 4, 4],
      [1, 1, 4, 3],
      [8, 0, 3, 3],
    ]);
    expect(cs.map(contourArea)).toEqual([1.0, 0.0, 9.0, 6.0, 0.0]);
  });

  it('traces a 6×6 square with a hole and a notch, ignoring the hole', () => {
    const cs = contoursOf([
      '........',
      '.##.###.',
      '.######.',
      '.##..##.',
      '.##..##.',
      '.######.',
      '.######.',
      '........',
    ]);
    expect(cs).toEqual([
      [
        [1, 1],
        [1, 6],
        [6, 6],
        [6, 1],
        [4, 1],
        [3, 2],
        [2, 1],
      ],
    ]);
    expect(contourArea(cs[0])).toBe(24.0);
    expect(boundingRect(cs[0])).toEqual([1, 1, 6, 6]);
  });

  it('traces a fully set 5×4 image along the image border', () => {
    const cs = findExternalContours(new Uint8Array(20).fill(1), 5, 4);
    expect(cs).toEqual([
      [
        [0, 0],
        [0, 3],
        [4, 3],
        [4, 0],
      ],
    ]);
    expect(boundingRect(cs[0])).toEqual([0, 0, 5, 4]);
    expect(contourArea(cs[0])).toBe(12.0);
  });

  it('gives bbox [0, 0, 11, 11] for the test mock square 0..10', () => {
    const square: Point[] = [
      [0, 0],
      [0, 10],
      [10, 10],
      [10, 0],
    ];
    expect(boundingRect(square)).toEqual([0, 0, 11, 11]);
    expect(contourArea(square)).toBe(100);
    // The same square as a real 11×11 mask yields exactly the mocked contour.
    expect(findExternalContours(new Uint8Array(121).fill(255), 11, 11)).toEqual([square]);
  });
});

describe('docs/label-studio-behaviour.md#brush_to_coco observed example', () => {
  it('6×4 mask with a 3×2 block at x 1–3, y 1–2', () => {
    const cs = contoursOf(['......', '.###..', '.###..', '......']);
    expect(cs).toEqual([
      [
        [1, 1],
        [1, 2],
        [3, 2],
        [3, 1],
      ],
    ]);
    expect(Math.trunc(contourArea(cs[0]))).toBe(2);
    expect(boundingRect(cs[0])).toEqual([1, 1, 3, 2]);
  });

  it('two isolated pixels give single-point contours (dropped by BRUSH_TO_COCO)', () => {
    const cs = contoursOf(['#.....', '......', '....#.', '......']);
    expect(cs).toEqual([[[4, 2]], [[0, 0]]]);
    expect(cs.filter((c) => c.length >= 3)).toEqual([]);
  });
});

describe('tracing conventions', () => {
  it('skips components inside a hole of another component', () => {
    const cs = contoursOf(['#######', '#.....#', '#.###.#', '#.#.#.#', '#.###.#', '#.....#', '#######']);
    expect(cs).toEqual([
      [
        [0, 0],
        [0, 6],
        [6, 6],
        [6, 0],
      ],
    ]);
  });

  it('joins diagonal neighbours (8-connectivity) and walks down the left side first', () => {
    expect(contoursOf(['#..', '.#.', '..#'])).toEqual([
      [
        [0, 0],
        [2, 2],
      ],
    ]);
    expect(contoursOf(['..#', '.#.', '#..'])).toEqual([
      [
        [2, 0],
        [0, 2],
      ],
    ]);
  });

  it('collapses straight runs of a single row or column to their end points', () => {
    expect(contoursOf(['.....', '.###.', '.....'])).toEqual([
      [
        [1, 1],
        [3, 1],
      ],
    ]);
    expect(contoursOf(['.#.', '.#.', '.#.', '.#.'])).toEqual([
      [
        [1, 0],
        [1, 3],
      ],
    ]);
  });

  it('treats any non-zero byte as foreground', () => {
    const mask = Uint8Array.from([0, 7, 0, 0, 255, 1]);
    expect(findExternalContours(mask, 3, 2)).toEqual([
      [
        [1, 0],
        [1, 1],
        [2, 1],
      ],
    ]);
  });

  it('returns nothing for an empty or all-background mask', () => {
    expect(findExternalContours(new Uint8Array(0), 0, 0)).toEqual([]);
    expect(findExternalContours(new Uint8Array(12), 4, 3)).toEqual([]);
  });

  it('rejects a mask whose size does not match', () => {
    expect(() => findExternalContours(new Uint8Array(5), 2, 2)).toThrow(ContourError);
  });
});

describe('test_brush fixture thresholded like image2rle', () => {
  // Expected values from OpenCV 4.6 findContours(RETR_EXTERNAL, CHAIN_APPROX_SIMPLE) on the same mask.
  const png = readFileSync(new URL('../../fixtures/label-studio/test_brush/test.png', import.meta.url));
  const { width, height, data } = decodePngToGray(png);
  const mask = data.map((v) => (v > 128 ? 255 : 0));
  const cs = findExternalContours(mask, width, height);

  it('finds the same contours as OpenCV', () => {
    expect(cs).toHaveLength(1181);
    expect(cs[0]).toEqual([
      [63, 426],
      [64, 426],
    ]);
    expect(cs.filter((c) => c.length >= 3)).toHaveLength(469);
    let largest = cs[0];
    for (const c of cs) if (contourArea(c) > contourArea(largest)) largest = c;
    expect(contourArea(largest)).toBe(27080);
    expect(boundingRect(largest)).toEqual([90, 0, 464, 272]);
    expect(largest).toHaveLength(1422);
  });
});

describe('contourArea and boundingRect', () => {
  it('is orientation independent and keeps half pixels', () => {
    const tri: Point[] = [
      [0, 0],
      [3, 0],
      [0, 3],
    ];
    expect(contourArea(tri)).toBe(4.5);
    expect(contourArea([...tri].reverse())).toBe(4.5);
    expect(contourArea([])).toBe(0);
    expect(contourArea([[5, 5]])).toBe(0);
  });

  it('uses the inclusive pixel extent, flooring float coordinates', () => {
    expect(
      boundingRect([
        [10, 10],
        [10, 90],
        [90, 90],
        [90, 10],
      ]),
    ).toEqual([10, 10, 81, 81]);
    expect(
      boundingRect([
        [1.7, 2.2],
        [4.9, 3.5],
      ]),
    ).toEqual([1, 2, 4, 2]);
    expect(boundingRect([])).toEqual([0, 0, 0, 0]);
  });
});
