import { describe, expect, it } from 'vitest';
import { parseImageHeader } from '../../functions/core/images/image-info.ts';
import { placeholderJpeg } from '../../functions/local/placeholder-jpeg.ts';

describe('placeholderJpeg', () => {
  it('is a baseline grayscale JPEG of the size asked, 2 bits per 8×8 block of scan data', () => {
    for (const [w, h] of [
      [2048, 1536],
      [641, 479],
      [1, 1],
    ]) {
      const jpeg = placeholderJpeg(w, h);
      expect(parseImageHeader(jpeg)).toEqual({ width: w, height: h, channels: 1, type: 'jpg' });
      expect([...jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
      expect([...jpeg.subarray(-2)]).toEqual([0xff, 0xd9]);
      const sos = jpeg.findIndex((b, i) => b === 0xff && jpeg[i + 1] === 0xda);
      const scan = jpeg.subarray(sos + 2 + 8, -2);
      expect(scan.length).toBe(Math.ceil((Math.ceil(w / 8) * Math.ceil(h / 8) * 2) / 8));
      // Entropy-coded data never holds 0xFF (no byte stuffing needed).
      expect(scan.includes(0xff)).toBe(false);
    }
  });

  it('refuses a size a JPEG header cannot hold', () => {
    expect(() => placeholderJpeg(0, 10)).toThrow(/width must be an integer in 1…65535, not 0/);
    expect(() => placeholderJpeg(10, 70000)).toThrow(/height must be an integer in 1…65535, not 70000/);
  });
});
