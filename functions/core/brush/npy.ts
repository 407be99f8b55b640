/**
 * NumPy `.npy` format v1.0 for 2-D uint8 arrays, as `np.save` writes them (docs/label-studio-behaviour.md#brush-masks).
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const PREFIX_LEN = 10; // magic (6) + version (2) + uint16 header length (2)
const ALIGN = 64;
// numpy ≥ 1.23 leaves room for the first axis to grow to 21 digits; the spaces only move the
// padding around, so the bytes match older numpy whenever the total stays in the same 64-byte block.
const GROWTH_AXIS_MAX_DIGITS = 21;

export class NpyError extends Error {
  override name = 'NpyError';
}

function headerText(shape: [number, number]): string {
  const dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape[0]}, ${shape[1]}), }`;
  const text = dict + ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  // Same formula as numpy: a preamble that is already aligned still gets a full extra block.
  const pad = ALIGN - ((PREFIX_LEN + text.length + 1) % ALIGN);
  return `${text}${' '.repeat(pad)}\n`;
}

/** Serialises an H×W row-major uint8 array as a `.npy` file. */
export function encodeNpyUint8(data: Uint8Array, shape: [number, number]): Buffer {
  const [h, w] = shape;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0) {
    throw new NpyError(`invalid shape (${h}, ${w})`);
  }
  if (data.length !== h * w)
    throw new NpyError(`data has ${data.length} bytes, shape (${h}, ${w}) needs ${h * w}`);
  const header = headerText(shape);
  const out = Buffer.allocUnsafe(PREFIX_LEN + header.length + data.length);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  out.writeUInt16LE(header.length, 8);
  out.write(header, PREFIX_LEN, 'latin1');
  out.set(data, PREFIX_LEN + header.length);
  return out;
}

/** Reads back what {@link encodeNpyUint8} writes (v1.0, `|u1`, C order, 2-D); for tests and tooling. */
export function decodeNpyUint8(buf: Uint8Array): { shape: [number, number]; data: Uint8Array } {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bytes.length < PREFIX_LEN || !MAGIC.every((b, i) => bytes[i] === b))
    throw new NpyError('not an .npy file');
  if (bytes[6] !== 1 || bytes[7] !== 0)
    throw new NpyError(`unsupported .npy version ${bytes[6]}.${bytes[7]}`);
  const headerLen = bytes.readUInt16LE(8);
  const header = bytes.toString('latin1', PREFIX_LEN, PREFIX_LEN + headerLen);
  if (!header.includes("'descr': '|u1'") || !header.includes("'fortran_order': False")) {
    throw new NpyError(`unsupported .npy header: ${header.trim()}`);
  }
  const m = /'shape': \((\d+), (\d+)\)/.exec(header);
  if (!m) throw new NpyError(`not a 2-D .npy header: ${header.trim()}`);
  const shape: [number, number] = [Number(m[1]), Number(m[2])];
  const start = PREFIX_LEN + headerLen;
  const data = bytes.subarray(start);
  if (data.length !== shape[0] * shape[1]) {
    throw new NpyError(`.npy body has ${data.length} bytes, shape needs ${shape[0] * shape[1]}`);
  }
  return { shape, data: new Uint8Array(data) };
}
