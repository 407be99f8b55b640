/**
 * rw-01 (test/fixtures/cases/rw-01-failed-http-image-name): an http(s) image whose download fails
 * is named as Label Studio names a failed download (expected.txt), in every downloading format.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type MediaAccess, MediaError, type MediaFile } from '../../../functions/core/media.ts';
import { exportWith } from '../../helpers/export.ts';

const CASE = join(import.meta.dirname, '..', '..', 'fixtures', 'cases', 'rw-01-failed-http-image-name');
const TASKS = readFileSync(join(CASE, 'tasks.json'), 'utf8');
const CONFIG = readFileSync(join(CASE, 'config.xml'), 'utf8');
const URL = 'https://storage.example.com/bucket%2Fframe-112_Color.png?Expires=1677588881034&Signature=abc';

/** http media as the CLI opens it: found lazily, the download fails on read (expired signature). */
class ExpiredUrlMedia implements MediaAccess {
  async open(url: string): Promise<MediaFile> {
    if (!url.startsWith('https://')) throw new MediaError(`${url}: not found`, url);
    return {
      name: 'bucket%2Fframe-112_Color.png',
      read() {
        return {
          [Symbol.asyncIterator]: () => ({
            next: () => Promise.reject(new MediaError('fetch failed: HTTP 403', url)),
          }),
        };
      },
    };
  }
}

describe('rw-01: failed http(s) download names follow the reference', () => {
  it('VOC: XML named after the plain basename, <filename> keeps the query string', async () => {
    const { sink } = await exportWith(TASKS, CONFIG, 'VOC', {}, new ExpiredUrlMedia());
    expect([...sink.files.keys()]).toEqual(['Annotations/bucket%2Fframe-112_Color.xml']);
    expect(sink.text('Annotations/bucket%2Fframe-112_Color.xml')).toContain(
      '<filename>bucket%2Fframe-112_Color.png?Expires=1677588881034&amp;Signature=abc</filename>',
    );
  });

  for (const format of ['YOLO_WITH_IMAGES', 'YOLO_OBB_WITH_IMAGES'] as const) {
    it(`${format}: labels/bucket%2Fframe-112_Color.txt, no image copy`, async () => {
      const { sink, report } = await exportWith(TASKS, CONFIG, format, {}, new ExpiredUrlMedia());
      const keys = [...sink.files.keys()];
      expect(keys.filter((k) => k.startsWith('labels/'))).toEqual(['labels/bucket%2Fframe-112_Color.txt']);
      expect(keys.filter((k) => k.startsWith('images/') && sink.files.get(k)!.length > 0)).toEqual([]);
      expect(report.warnings.map((w) => w.reason)).toContainEqual(
        expect.stringContaining('could not be fetched: fetch failed: HTTP 403'),
      );
    });
  }

  it('COCO_WITH_IMAGES: file_name is the original URL', async () => {
    const { sink } = await exportWith(TASKS, CONFIG, 'COCO_WITH_IMAGES', {}, new ExpiredUrlMedia());
    const coco = JSON.parse(sink.text('result.json'));
    expect(coco.images).toEqual([{ width: 1280, height: 720, id: 0, file_name: URL }]);
  });

  it('plain COCO and YOLO (no download) keep the hashed names, as both tools do', async () => {
    const coco = await exportWith(TASKS, CONFIG, 'COCO', {}, new ExpiredUrlMedia());
    expect(JSON.parse(coco.sink.text('result.json')).images[0].file_name).toBe(
      'images/f5659d01__bucket%2Fframe-112_Color.png',
    );
    const yolo = await exportWith(TASKS, CONFIG, 'YOLO', {}, new ExpiredUrlMedia());
    expect([...yolo.sink.files.keys()]).toContain('labels/f5659d01__bucket%2Fframe-112_Color.txt');
  });
});
