import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodePngToGray, encodeGrayPng, PngError } from '../../../functions/core/brush/png.ts';
import { alphaChannel, decodeRle, maskToRle } from '../../../functions/core/brush/rle.ts';

const FIXTURE = new URL('../../fixtures/label-studio/test_brush/test.png', import.meta.url);

describe('encodeGrayPng', () => {
  it('writes an 8-bit grayscale (mode L) PNG of the given size', () => {
    const data = Uint8Array.from({ length: 24 }, (_, i) => (i * 37) % 256);
    const png = encodeGrayPng(data, 6, 4);
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    // IHDR: width, height, bit depth 8, colour type 0 (grayscale).
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(6);
    expect(png.readUInt32BE(20)).toBe(4);
    expect(png[24]).toBe(8);
    expect(png[25]).toBe(0);
  });

  it('round-trips pixel-equal, values not binarised', () => {
    const w = 37;
    const h = 23;
    const data = Uint8Array.from({ length: w * h }, (_, i) => (i * 97 + (i >> 3)) % 256);
    const back = decodePngToGray(encodeGrayPng(data, w, h));
    expect(back.width).toBe(w);
    expect(back.height).toBe(h);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    // pngjs' own reader sees gray replicated into RGB with opaque alpha.
    const raw = PNG.sync.read(encodeGrayPng(data, w, h));
    expect(Array.from(raw.data.subarray(4, 8))).toEqual([data[1], data[1], data[1], 255]);
  });

  it('accepts a subarray view without reading outside it', () => {
    const backing = Uint8Array.from([9, 9, 1, 2, 3, 4, 9, 9]);
    const back = decodePngToGray(encodeGrayPng(backing.subarray(2, 6), 2, 2));
    expect(Array.from(back.data)).toEqual([1, 2, 3, 4]);
  });

  it('rejects sizes that do not match the data', () => {
    expect(() => encodeGrayPng(new Uint8Array(5), 2, 2)).toThrow(PngError);
    expect(() => encodeGrayPng(new Uint8Array(0), 0, 0)).toThrow(PngError);
  });
});

describe('decodePngToGray', () => {
  it('converts colour with Pillow-style luma and ignores alpha', () => {
    const png = new PNG({ width: 4, height: 1 });
    png.data.set([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 0, 10, 20, 30, 128]);
    const { data } = decodePngToGray(PNG.sync.write(png));
    // (R·19595 + G·38470 + B·7471 + 0x8000) >> 16
    expect(Array.from(data)).toEqual([76, 150, 29, 18]);
  });

  it('reads the test_brush RGB fixture', () => {
    // Expected values: Pillow's luma formula over the fixture's RGB as decoded by OpenCV 4.6.
    const { width, height, data } = decodePngToGray(readFileSync(FIXTURE));
    expect([width, height]).toEqual([640, 427]);
    expect(data[0]).toBe(146); // (0, 0): RGB 135, 149, 158
    expect(data[213 * width + 320]).toBe(11); // RGB 11, 11, 9
    expect(data[140 * width + 450]).toBe(34); // RGB 45, 28, 38
    expect(data[426 * width + 639]).toBe(202); // RGB 206, 201, 195
    expect(data.reduce((s, v) => s + v, 0)).toBe(26965533);
  });

  it('image2rle: threshold > 128 → 255/0, RLE round trip of the fixture mask', () => {
    const { width, height, data } = decodePngToGray(readFileSync(FIXTURE));
    const mask = data.map((v) => (v > 128 ? 255 : 0));
    expect(mask.filter((v) => v === 255).length).toBe(86802);
    const alpha = alphaChannel(decodeRle(maskToRle(mask)), width, height);
    expect(Buffer.from(alpha).equals(Buffer.from(mask))).toBe(true);
  });
});
