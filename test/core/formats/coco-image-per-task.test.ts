/**
 * --fix coco-image-per-task: one COCO image entry per task (its newest annotation's regions), and
 * a file_name that resolves from the output folder (images/<name>) or is the task's image URL.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportWith, type MemorySink } from '../../helpers/export.ts';
import { FakeMedia, jpegBytes } from '../images/fake-media.ts';

const CONFIG = `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="rect" toName="image"><Label value="cat"/><Label value="dog"/></RectangleLabels>
</View>`;

const box = (label: string, x: number) => ({
  from_name: 'rect',
  to_name: 'image',
  type: 'rectanglelabels',
  original_width: 200,
  original_height: 100,
  value: { x, y: 10, width: 10, height: 10, rotation: 0, rectanglelabels: [label] },
});

/** Task 1: two annotations (the newer one, by created_at, has two dogs); task 2: one annotation. */
const TASKS = [
  {
    id: 1,
    data: { image: 'https://cdn.example.com/a/one.jpg' },
    annotations: [
      { id: 11, created_at: '2026-01-01T00:00:00Z', result: [box('cat', 1)] },
      { id: 12, created_at: '2026-02-01T00:00:00Z', result: [box('dog', 2), box('dog', 3)] },
    ],
  },
  {
    id: 2,
    data: { image: 'https://cdn.example.com/a/two.jpg' },
    annotations: [{ id: 21, created_at: '2026-01-05T00:00:00Z', result: [box('cat', 4)] }],
  },
];
const MEDIA = () =>
  new FakeMedia({
    'https://cdn.example.com/a/one.jpg': jpegBytes(200, 100),
    'https://cdn.example.com/a/two.jpg': jpegBytes(200, 100),
  });

interface Coco {
  images: Array<{ id: number; file_name: string; width: number }>;
  annotations: Array<{ image_id: number; category_id: number; bbox: number[] }>;
  categories: Array<{ id: number; name: string }>;
}
const coco = (sink: MemorySink): Coco => JSON.parse(sink.text('result.json'));

function onDisk(sink: MemorySink): string {
  const dir = mkdtempSync(join(tmpdir(), 'ls-coco-'));
  for (const [path, bytes] of sink.files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  return dir;
}

describe('--fix coco-image-per-task', () => {
  it('the reference emits one image entry per annotation: a two-annotation task appears twice', async () => {
    const { sink } = await exportWith(TASKS, CONFIG, 'COCO', {}, MEDIA());
    const out = coco(sink);
    expect(out.images.map((i) => i.file_name)).toEqual([
      expect.stringMatching(/^images\/[0-9a-f]{8}__one\.jpg$/),
      expect.stringMatching(/^images\/[0-9a-f]{8}__one\.jpg$/),
      expect.stringMatching(/^images\/[0-9a-f]{8}__two\.jpg$/),
    ]);
    expect(out.annotations).toHaveLength(4);
  });

  it('COCO_WITH_IMAGES: one entry per task with the newest annotation; every file_name exists from the output folder', async () => {
    const { sink } = await exportWith(
      TASKS,
      CONFIG,
      'COCO_WITH_IMAGES',
      { fixCocoImagePerTask: true },
      MEDIA(),
    );
    const out = coco(sink);
    expect(out.images).toHaveLength(2);
    const [one, two] = out.images;
    expect(one.file_name).toMatch(/^images\/[0-9a-f]{8}__one\.jpg$/);
    const dir = onDisk(sink);
    for (const image of out.images)
      expect(existsSync(join(dir, image.file_name)), image.file_name).toBe(true);
    // Task 1's regions are those of annotation 12 (the newest): two dogs, no cat.
    const dog = out.categories.find((c) => c.name === 'dog')!.id;
    const ofOne = out.annotations.filter((a) => a.image_id === one.id);
    expect(ofOne.map((a) => a.category_id)).toEqual([dog, dog]);
    expect(ofOne.map((a) => a.bbox[0])).toEqual([4, 6]);
    expect(out.annotations.filter((a) => a.image_id === two.id)).toHaveLength(1);
    expect(out.annotations).toHaveLength(3);
  });

  it("an older annotation's results are skipped entries in the report, counted in the region totals", async () => {
    const { sink, report } = await exportWith(
      TASKS,
      CONFIG,
      'COCO_WITH_IMAGES',
      { fixCocoImagePerTask: true },
      MEDIA(),
    );
    expect(coco(sink).annotations).toHaveLength(3);
    const older = report.skipped.filter((e) => e.annotationId === 11);
    expect(older).toEqual([
      expect.objectContaining({
        taskId: 1,
        format: 'COCO_WITH_IMAGES',
        fromName: 'rect',
        type: 'rectanglelabels',
        reason: 'older annotation of the task; coco-image-per-task keeps the newest',
      }),
    ]);
    expect(report.skipped.filter((e) => e.annotationId !== 11)).toEqual([]);
    expect(report.regionCounts('COCO_WITH_IMAGES')).toEqual({ exported: 3, skipped: 1 });
  });

  it('COCO without images: file_name is the task image URL (the reference names an images/ file it never writes)', async () => {
    const { sink } = await exportWith(TASKS, CONFIG, 'COCO', { fixCocoImagePerTask: true }, MEDIA());
    const out = coco(sink);
    expect(out.images.map((i) => i.file_name)).toEqual([
      'https://cdn.example.com/a/one.jpg',
      'https://cdn.example.com/a/two.jpg',
    ]);
    expect(out.images.map((i) => i.id)).toEqual([0, 1]);
    expect(out.annotations.map((a) => a.image_id)).toEqual([0, 0, 1]);
  });
});
