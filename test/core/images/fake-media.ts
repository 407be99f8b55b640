/** An in-memory MediaAccess for the image format tests, with real PNG/JPEG bytes. */
import { PNG } from 'pngjs';
import { type MediaAccess, MediaError, type MediaFile } from '../../../functions/core/media.ts';

/** A PNG of the given size; colour type 2 (RGB) unless asked otherwise. */
export function pngBytes(width: number, height: number, colorType: 0 | 2 | 4 | 6 = 2): Buffer {
  const png = new PNG({ width, height });
  png.data.fill(200);
  return PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true });
}

/** A minimal baseline JPEG header (SOI, APP0, optional APP1 padding, SOF0, EOI): enough for size and bands. */
export function jpegBytes(width: number, height: number, components = 3, app1Bytes = 0): Buffer {
  const parts: number[] = [
    0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
  ];
  let left = app1Bytes;
  while (left > 0) {
    const len = Math.min(left, 65533);
    parts.push(0xff, 0xe1, ((len + 2) >> 8) & 0xff, (len + 2) & 0xff, ...new Array(len).fill(0));
    left -= len;
  }
  const sofLen = 8 + 3 * components;
  parts.push(
    0xff,
    0xc0,
    sofLen >> 8,
    sofLen & 0xff,
    8,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    components,
  );
  for (let c = 0; c < components; c++) parts.push(c + 1, 0x11, 0);
  parts.push(0xff, 0xd9);
  return Buffer.from(parts);
}

export interface FakeMediaLog {
  opened: string[];
  /** Every read: the URL and the range asked for (undefined = whole file). */
  reads: Array<{ url: string; range?: { start: number; end: number } }>;
}

/** Serves the given files by URL; anything else fails as an unreachable image. */
export class FakeMedia implements MediaAccess {
  readonly log: FakeMediaLog = { opened: [], reads: [] };

  constructor(
    private readonly files: Record<string, Uint8Array>,
    private readonly chunk = 4096,
  ) {}

  async open(url: string): Promise<MediaFile> {
    this.log.opened.push(url);
    const bytes = this.files[url];
    if (!bytes) throw new MediaError(`${url}: not found`, url);
    const name = url.slice(url.lastIndexOf('/') + 1);
    const chunk = this.chunk;
    const log = this.log;
    return {
      name,
      size: bytes.length,
      read(range) {
        log.reads.push({ url, range });
        const data = range ? bytes.subarray(range.start, Math.min(range.end, bytes.length)) : bytes;
        return (async function* () {
          for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
        })();
      },
    };
  }
}
