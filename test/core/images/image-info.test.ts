import { describe, expect, it } from 'vitest';
import {
  ImageProbe,
  imageChannels,
  LruCache,
  parseImageHeader,
  readImageHeader,
} from '../../../functions/core/images/image-info.ts';
import { FakeMedia, jpegBytes, pngBytes } from './fake-media.ts';

describe('image headers', () => {
  it('reads PNG sizes and the band count Pillow reports', () => {
    expect(parseImageHeader(pngBytes(20, 10))).toMatchObject({
      width: 20,
      height: 10,
      channels: 3,
      type: 'png',
    });
    expect(imageChannels(pngBytes(2, 2, 0))).toBe(1);
    expect(imageChannels(pngBytes(2, 2, 4))).toBe(2);
    expect(imageChannels(pngBytes(2, 2, 6))).toBe(4);
  });

  it('reads JPEG sizes and components (L, RGB, CMYK)', () => {
    expect(parseImageHeader(jpegBytes(640, 480))).toMatchObject({ width: 640, height: 480, channels: 3 });
    expect(imageChannels(jpegBytes(8, 8, 1))).toBe(1);
    expect(imageChannels(jpegBytes(8, 8, 4))).toBe(4);
  });

  it('rejects what is not an image, and zero-size images', () => {
    expect(() => parseImageHeader(Buffer.from('hello world, not an image'))).toThrow(/not a readable image/);
    expect(() => parseImageHeader(jpegBytes(0, 10))).toThrow();
  });

  it('reads only the head of a file, and a bigger head for a JPEG whose size comes late', async () => {
    const media = new FakeMedia({ small: jpegBytes(30, 40), late: jpegBytes(300, 200, 3, 100_000) });
    const small = await readImageHeader(await media.open('small'));
    expect(small).toMatchObject({ width: 30, height: 40 });
    expect(media.log.reads).toEqual([{ url: 'small', range: { start: 0, end: 65536 } }]);
    const late = await readImageHeader(await media.open('late'));
    expect(late).toMatchObject({ width: 300, height: 200 });
    expect(media.log.reads.slice(1).map((r) => r.range?.end)).toEqual([65536, 2097152]);
  });

  it('the probe caches outcomes per URL, failures included', async () => {
    const media = new FakeMedia({ a: pngBytes(5, 6) });
    const probe = new ImageProbe(media);
    expect(await probe.header('a')).toEqual({
      ok: true,
      value: expect.objectContaining({ width: 5, height: 6 }),
    });
    expect(await probe.header('a')).toMatchObject({ ok: true });
    expect(await probe.header('missing')).toEqual({ ok: false, reason: 'missing: not found' });
    await probe.header('missing');
    expect(media.log.opened).toEqual(['a', 'missing']);
    expect(await new ImageProbe(undefined).header('a')).toEqual({
      ok: false,
      reason: 'no media access is configured',
    });
  });

  it('LRU cache evicts the least recently used entry', () => {
    const lru = new LruCache<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.get('a');
    lru.set('c', 3);
    expect([lru.get('a'), lru.get('b'), lru.get('c')]).toEqual([1, undefined, 3]);
  });
});
