/**
 * Image headers: pixel size (image-size) and the number of bands Pillow would report (VOC's
 * `<depth>`), read from the first bytes of a file so remote images are never fetched whole.
 */
import { imageSize } from 'image-size';
import { type MediaAccess, type MediaFile, mediaReason, readHead } from '../media.ts';
import { reasonOf } from '../report.ts';

export interface ImageHeader {
  width: number;
  height: number;
  /** Pillow's `len(img.getbands())`; undefined when the format is not one we can tell. */
  channels?: number;
  type?: string;
}

/** First read: enough for PNG, GIF, BMP, WebP and most JPEGs; a JPEG with a big EXIF block gets a second try. */
export const HEAD_BYTES = 64 * 1024;
export const MAX_HEAD_BYTES = 2 * 1024 * 1024;

export class ImageHeaderError extends Error {
  override name = 'ImageHeaderError';
}

/** Parses an image header; throws ImageHeaderError when the bytes are not a readable image. */
export function parseImageHeader(bytes: Uint8Array): ImageHeader {
  let size: { width?: number; height?: number; type?: string };
  try {
    size = imageSize(bytes);
  } catch (err) {
    throw new ImageHeaderError(`not a readable image (${reasonOf(err)})`);
  }
  const { width, height } = size;
  if (!Number.isInteger(width) || !Number.isInteger(height))
    throw new ImageHeaderError('the image has no size');
  if (width! <= 0 || height! <= 0) throw new ImageHeaderError(`the image is ${width}×${height} pixels`);
  return { width: width!, height: height!, channels: imageChannels(bytes), type: size.type };
}

const u16be = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
const u16le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
const u32le = (b: Uint8Array, i: number) =>
  (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
const ascii = (b: Uint8Array, i: number, n: number) => String.fromCharCode(...b.subarray(i, i + n));

/** Pillow's band count for the formats a dataset image usually has. */
export function imageChannels(b: Uint8Array): number | undefined {
  if (b.length >= 26 && b[0] === 0x89 && ascii(b, 1, 3) === 'PNG') {
    // IHDR colour type: 0 gray (L, I, 1), 2 RGB, 3 palette (P), 4 gray+alpha (LA), 6 RGBA.
    return ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[b[25]];
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) return jpegComponents(b);
  if (b.length >= 6 && ascii(b, 0, 3) === 'GIF') return 1; // P (or L)
  if (b.length >= 30 && ascii(b, 0, 2) === 'BM') return bmpBands(b);
  if (b.length >= 30 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') {
    const chunk = ascii(b, 12, 4);
    if (chunk === 'VP8 ') return 3;
    if (chunk === 'VP8L') return b[24] & 0x10 ? 4 : 3; // alpha_is_used bit after the 28 size bits
    if (chunk === 'VP8X') return b[20] & 0x10 ? 4 : 3;
  }
  return undefined;
}

/** Number of components of a JPEG's first SOF marker: 1 → L, 3 → RGB, 4 → CMYK. */
function jpegComponents(b: Uint8Array): number | undefined {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const len = u16be(b, i + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return b[i + 9];
    i += 2 + len;
  }
  return undefined;
}

/** BMP: ≤ 8 bits palette (1 band), 16/24 bits RGB, 32 bits RGB unless a bitfield alpha mask makes it RGBA. */
function bmpBands(b: Uint8Array): number | undefined {
  const headerSize = u32le(b, 14);
  if (headerSize === 12) return u16le(b, 24) <= 8 ? 1 : 3; // OS/2 core header
  const bits = u16le(b, 28);
  if (bits <= 8) return 1;
  if (bits !== 32) return 3;
  const compression = b.length >= 34 ? u32le(b, 30) : 0;
  const alphaMask = headerSize >= 56 && b.length >= 70 ? u32le(b, 66) : 0;
  return (compression === 3 || compression === 6) && alphaMask !== 0 ? 4 : 3;
}

/** Reads and parses a header, trying a bigger head once for JPEGs whose size comes late. */
export async function readImageHeader(file: MediaFile): Promise<ImageHeader> {
  const head = await readHead(file, HEAD_BYTES);
  try {
    return parseImageHeader(head);
  } catch (err) {
    if (head.length < HEAD_BYTES) throw err;
  }
  return parseImageHeader(await readHead(file, MAX_HEAD_BYTES));
}

/** A small least-recently-used map, so per-URL caches stay bounded on big exports. */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly limit: number) {}
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.limit) this.map.delete(this.map.keys().next().value as K);
  }
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Opens images and reads their headers through the export's MediaAccess, remembering the outcome
 * per URL (success or failure) for the rest of the run, within a bounded cache.
 */
export class ImageProbe {
  private readonly files: LruCache<string, Promise<Outcome<MediaFile>>>;
  private readonly headers: LruCache<string, Promise<Outcome<ImageHeader>>>;

  constructor(
    private readonly media: MediaAccess | undefined,
    limit = 20_000,
  ) {
    this.files = new LruCache(limit);
    this.headers = new LruCache(limit);
  }

  get available(): boolean {
    return this.media !== undefined;
  }

  open(url: string): Promise<Outcome<MediaFile>> {
    let p = this.files.get(url);
    if (!p) {
      const media = this.media;
      p = media
        ? media.open(url).then(
            (value): Outcome<MediaFile> => ({ ok: true, value }),
            (err): Outcome<MediaFile> => ({ ok: false, reason: mediaReason(err) }),
          )
        : Promise.resolve<Outcome<MediaFile>>({ ok: false, reason: 'no media access is configured' });
      this.files.set(url, p);
    }
    return p;
  }

  /** Remembers a header read elsewhere (while copying the image), or why it could not be read. */
  remember(url: string, header: Outcome<ImageHeader> | Promise<Outcome<ImageHeader>>): void {
    this.headers.set(url, Promise.resolve(header));
  }

  header(url: string): Promise<Outcome<ImageHeader>> {
    let p = this.headers.get(url);
    if (!p) {
      p = this.open(url).then(async (file): Promise<Outcome<ImageHeader>> => {
        if (!file.ok) return file;
        try {
          return { ok: true, value: await readImageHeader(file.value) };
        } catch (err) {
          return { ok: false, reason: mediaReason(err) };
        }
      });
      this.headers.set(url, p);
    }
    return p;
  }
}
