/**
 * Placeholder images for the demo: a baseline grayscale JPEG of a given pixel size, every pixel
 * mid-gray (128). Each 8×8 block is coded as "DC difference 0, end of block" (2 bits) with one-code
 * Huffman tables, so a 2048×1536 image is about 12 KB. Real JPEG any decoder reads; it carries no
 * picture, only the size a dataset needs (COCO width/height, YOLO label files, copied images).
 */

/** A JPEG marker segment: 0xFF, the marker, a 2-byte length (itself included), the payload. */
function segment(marker: number, payload: number[]): number[] {
  const length = payload.length + 2;
  return [0xff, marker, length >> 8, length & 0xff, ...payload];
}

/** A Huffman table with one symbol coded as the 1-bit code `0`. */
function oneCodeTable(classAndId: number, symbol: number): number[] {
  return segment(0xc4, [classAndId, 1, ...new Array(15).fill(0), symbol]);
}

/**
 * The bytes of a `width`×`height` mid-gray baseline JPEG (1 component, 8 bits).
 * Throws RangeError unless both are integers in 1…65535 (the JPEG header's limit).
 */
export function placeholderJpeg(width: number, height: number): Uint8Array {
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const)
    if (!Number.isInteger(v) || v < 1 || v > 65535)
      throw new RangeError(`placeholder JPEG ${name} must be an integer in 1…65535, not ${v}`);
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const bits = blocks * 2; // all zero bits: DC difference 0 (code 0), end of block (code 0)
  const data = new Uint8Array(Math.ceil(bits / 8));
  if (bits % 8) data[data.length - 1] = 0xff >> (bits % 8); // pad the last byte with 1 bits
  const head = [
    0xff,
    0xd8, // SOI
    ...segment(0xdb, [0x00, ...new Array(64).fill(1)]), // DQT: table 0, every step 1
    ...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]), // SOF0
    ...oneCodeTable(0x00, 0x00), // DC table 0: category 0 (difference 0)
    ...oneCodeTable(0x10, 0x00), // AC table 0: EOB
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]), // SOS: component 1, tables 0/0, spectral 0…63
  ];
  const out = new Uint8Array(head.length + data.length + 2);
  out.set(head, 0);
  out.set(data, head.length);
  out.set([0xff, 0xd9], head.length + data.length); // EOI
  return out;
}
