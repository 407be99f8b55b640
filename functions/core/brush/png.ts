/**
 * 8-bit grayscale PNG ("mode L") for BRUSH_TO_PNG (docs/label-studio-behaviour.md#brush-masks). Pixel equality is the
 * contract, not byte-identical files: we skip pngjs's adaptive filter search (5× faster on masks,
 * whose long runs deflate well unfiltered).
 */
import { PNG } from 'pngjs';

export class PngError extends Error {
  override name = 'PngError';
}

/** Encodes H×W row-major bytes as an 8-bit grayscale PNG (colour type 0). */
export function encodeGrayPng(data: Uint8Array, width: number, height: number): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    // PNG has no zero-sized images.
    throw new PngError(`invalid PNG size ${width}×${height}`);
  }
  if (data.length !== width * height) {
    throw new PngError(`data has ${data.length} bytes, ${width}×${height} needs ${width * height}`);
  }
  // A plain object, not `new PNG()`: the constructor allocates an unused RGBA buffer and schedules
  // a nextTick that pins it. The input is already in the output layout (gray, 8-bit).
  const image = { width, height, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } as PNG;
  return PNG.sync.write(image, {
    colorType: 0,
    inputColorType: 0,
    inputHasAlpha: false,
    bitDepth: 8,
    filterType: 0,
  });
}

/**
 * Decodes any PNG to H×W gray bytes, as Pillow's `convert('L')` would: pngjs hands back 8-bit RGBA
 * (palette expanded, 16-bit scaled down, gray replicated into R=G=B); colour becomes ITU-R 601-2
 * luma with Pillow's fixed-point rounding, `(R·19595 + G·38470 + B·7471 + 0x8000) >> 16`, which is
 * the identity for gray pixels. Alpha is ignored, as `convert('L')` ignores it.
 */
export function decodePngToGray(buf: Buffer): { width: number; height: number; data: Uint8Array } {
  const png = PNG.sync.read(buf);
  const { width, height } = png;
  const rgba = png.data;
  const data = new Uint8Array(width * height);
  for (let p = 0, i = 0; p < data.length; p++, i += 4) {
    data[p] = (rgba[i] * 19595 + rgba[i + 1] * 38470 + rgba[i + 2] * 7471 + 0x8000) >>> 16;
  }
  return { width, height, data };
}
