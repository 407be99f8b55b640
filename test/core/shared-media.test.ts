/** SharedMedia: one fetch of a media file for every format of a task or segment. */
import { describe, expect, it } from 'vitest';
import { CONFIGS, generateTask } from '../../bench/generate.ts';
import { parseLabelConfig } from '../../functions/core/config/label-config.ts';
import { runExport } from '../../functions/core/export.ts';
import { parseExportOptions } from '../../functions/core/formats/options.ts';
import type { MediaAccess } from '../../functions/core/media.ts';
import { Report } from '../../functions/core/report.ts';
import { SHARED_MEDIA_FILE_BYTES, SharedMedia } from '../../functions/core/shared-media.ts';
import { placeholderJpeg } from '../../functions/local/placeholder-jpeg.ts';
import { exportWith, MemorySink, tasksSource } from '../helpers/export.ts';

/** Media of fixed bodies, counting whole and ranged reads; `cut` URLs fail after their first chunk. */
function fakeMedia(bodies: Record<string, Buffer>, cut = new Set<string>()) {
  const reads: string[] = [];
  const media: MediaAccess = {
    async open(url) {
      const body = bodies[url];
      if (!body) throw new Error(`no ${url}`);
      return {
        name: url,
        size: body.length,
        async *read(range) {
          reads.push(range ? `${url}@${range.start}` : url);
          const b = range ? body.subarray(range.start, range.end) : body;
          yield b.subarray(0, 3);
          if (cut.has(url)) throw new Error('connection reset');
          yield b.subarray(3);
        },
      };
    },
  };
  return { media, reads };
}

const readAllOf = async (m: MediaAccess, url: string, range?: { start: number; end: number }) => {
  const parts: Uint8Array[] = [];
  for await (const c of (await m.open(url)).read(range)) parts.push(c);
  return Buffer.concat(parts);
};

describe('SharedMedia', () => {
  it('reads an image once for every format, whole or ranged, concurrently too', async () => {
    const a = Buffer.from('image-a-bytes');
    const { media, reads } = fakeMedia({ a });
    const m = new SharedMedia(media);
    const [x, y] = await Promise.all([readAllOf(m, 'a'), readAllOf(m, 'a')]);
    expect([x.equals(a), y.equals(a)]).toEqual([true, true]);
    expect((await readAllOf(m, 'a', { start: 2, end: 7 })).toString()).toBe('age-a');
    expect(reads).toEqual(['a']);
  });

  it('does not keep a file past the size limit or a read that failed', async () => {
    const big = Buffer.alloc(SHARED_MEDIA_FILE_BYTES + 10, 1);
    const b = Buffer.from('bbbbbbbb');
    const { media, reads } = fakeMedia({ big, b }, new Set(['b']));
    const m = new SharedMedia(media);
    expect((await readAllOf(m, 'big')).length).toBe(big.length);
    expect((await readAllOf(m, 'big')).length).toBe(big.length);
    await expect(readAllOf(m, 'b')).rejects.toThrow('connection reset');
    await expect(readAllOf(m, 'b')).rejects.toThrow('connection reset');
    expect(reads).toEqual(['big', 'big', 'b', 'b']);
    await expect(m.open('missing')).rejects.toThrow('no missing');
  });
});

describe('runExport with several formats', () => {
  it("fetches each task's images once for every format, with the bytes each format alone writes", async () => {
    const tasks = Array.from({ length: 6 }, (_, i) => generateTask('image-bbox', i + 1, 3));
    const urls = [...new Set(tasks.map((t) => (t.data as { image: string }).image))];
    const bodies = Object.fromEntries(urls.map((u, i) => [u, Buffer.from(placeholderJpeg(40 + i, 30))]));
    const formats = ['COCO_WITH_IMAGES', 'YOLO_WITH_IMAGES', 'VOC'] as const;
    const together = fakeMedia(bodies);
    const sinks = formats.map((format) => ({ format, sink: new MemorySink() }));
    await runExport({
      source: tasksSource(tasks),
      schema: parseLabelConfig(CONFIGS['image-bbox']),
      targets: sinks,
      options: parseExportOptions({}),
      media: together.media,
      report: new Report(),
      now: () => new Date('2026-01-02T03:04:05.678Z'),
    });
    // One whole read per image; ranged reads (an image's size) are served from the kept bytes.
    expect(together.reads.filter((r) => !r.includes('@')).sort()).toEqual([...urls].sort());
    expect(together.reads.filter((r) => r.includes('@'))).toEqual([]);
    for (const { format, sink } of sinks) {
      const alone = await exportWith(tasks, CONFIGS['image-bbox'], format, {}, fakeMedia(bodies).media);
      expect([...sink.files.keys()].sort(), format).toEqual([...alone.sink.files.keys()].sort());
      for (const [path, bytes] of alone.sink.files)
        expect(sink.files.get(path)?.equals(bytes), path).toBe(true);
      expect(sink.files.size, format).toBeGreaterThan(1);
    }
  });
});
