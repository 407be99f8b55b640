import { describe, expect, it } from 'vitest';
import { parseLabelConfig } from '../../../functions/core/config/label-config.ts';
import { cocoWriter } from '../../../functions/core/formats/coco.ts';
import { parseExportOptions } from '../../../functions/core/formats/options.ts';
import { pyDateTimeStr } from '../../../functions/core/images/values.ts';
import { parseJson } from '../../../functions/core/json/parse.ts';
import { stringify, UJSON_PRETTY_ASCII } from '../../../functions/core/json/serialize.ts';
import type { JsonObject } from '../../../functions/core/json/value.ts';
import { Report } from '../../../functions/core/report.ts';
import { createSpool } from '../../../functions/core/spool.ts';
import { exportWith, fixture, MemorySink } from '../../helpers/export.ts';
import { FakeMedia, pngBytes } from '../images/fake-media.ts';

interface Coco {
  images: Array<{ width: number | null; height: number | null; id: number; file_name: string }>;
  categories: Array<Record<string, unknown>>;
  annotations: Array<{
    id: number;
    image_id: number;
    category_id: number;
    bbox: number[];
    area: number;
    segmentation: number[][];
    keypoints: number[];
    num_keypoints: number;
    annotator?: unknown;
  }>;
  info: Record<string, unknown>;
}

const closeTo = (actual: number[], expected: number[], tol = 1e-9) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    expect(Math.abs(a - expected[i])).toBeLessThanOrEqual(tol);
  });
};

const SPEC_CONFIG = `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="rect" toName="image">
    <Label value="Zebra"/><Label value="Cat"/><Label value="apple" category="5"/>
  </RectangleLabels>
  <PolygonLabels name="poly" toName="image"><Label value="Dog"/><Label value="Cat"/></PolygonLabels>
  <Choices name="time" toName="image"><Choice value="day"/><Choice value="night"/></Choices>
</View>`;

const KP_CONFIG = `<View><Image name="image" value="$image"/>
  <RectangleLabels name="rect" toName="image"><Label value="person"/></RectangleLabels>
  <KeyPointLabels name="kp" toName="image"><Label value="nose" model_index="0"/><Label value="eye" model_index="1"/></KeyPointLabels>
</View>`;

const rect = (
  value: Record<string, unknown>,
  size: Record<string, unknown> = { original_width: 200, original_height: 100 },
) => ({
  from_name: 'rect',
  to_name: 'image',
  type: 'rectanglelabels',
  value,
  ...size,
});
const poly = (points: unknown) => ({
  from_name: 'poly',
  to_name: 'image',
  type: 'polygonlabels',
  value: { points, polygonlabels: ['Dog'] },
  original_width: 200,
  original_height: 100,
});
const choice = { from_name: 'time', to_name: 'image', type: 'choices', value: { choices: ['day'] } };
const task = (id: number, image: unknown, ...results: unknown[][]) => ({
  id,
  data: { image },
  annotations: results.map((result, i) => ({
    id: id * 10 + i,
    completed_by: { id: i, email: `u${i}@x.com` },
    created_at: `2024-01-0${9 - i}T00:00:00Z`,
    result,
  })),
});

async function coco(...args: Parameters<typeof exportWith>) {
  const run = await exportWith(...args);
  const text = run.sink.text('result.json');
  return { ...run, text, json: JSON.parse(text) as Coco };
}

describe('COCO (docs/label-studio-behaviour.md#coco, docs/label-studio-behaviour.md#reference-tests test_export_coco)', () => {
  it('reproduces the observed test_export_coco output', async () => {
    const { sink, text, json, report } = await coco(
      fixture('test_export_coco/data.json'),
      fixture('test_export_coco/label_config.xml'),
      'COCO',
    );
    expect([...sink.files.keys()]).toEqual(['result.json']);
    expect(Object.keys(json)).toEqual(['images', 'categories', 'annotations', 'info']);
    expect(json.images).toEqual([
      { width: 500, height: 320, id: 0, file_name: 'images/235b37ac__test_image1.jpg' },
    ]);
    expect(text).toContain('"file_name": "images\\/235b37ac__test_image1.jpg"');
    expect(json.categories).toEqual([
      { id: 2, name: 'polygon_label' },
      { id: 3, name: 'rectangle_label' },
      {
        id: 4,
        name: 'default',
        supercategory: 'default',
        keypoints: ['keypoint_label1', 'keypoint_label2'],
        skeleton: [],
      },
    ]);
    expect(json.annotations).toHaveLength(3);
    const [r, p, k] = json.annotations;
    expect(Object.keys(r)).toEqual([
      'id',
      'image_id',
      'category_id',
      'segmentation',
      'bbox',
      'ignore',
      'iscrowd',
      'area',
    ]);
    expect(r).toMatchObject({ id: 0, image_id: 0, category_id: 3, segmentation: [], ignore: 0, iscrowd: 0 });
    closeTo(r.bbox, [159.70961887477313, 13.163120567375884, 31.76043557168784, 31.773049645390074]);
    closeTo([r.area], [1009.1258961784506]);
    // test_export_coco contents: bbox ≈ percent × size (rel 1e-6).
    closeTo(
      r.bbox,
      [
        (31.941923774954628 / 100) * 500,
        (4.113475177304964 / 100) * 320,
        (6.352087114337568 / 100) * 500,
        (9.929078014184398 / 100) * 320,
      ],
      1e-6,
    );
    expect(p).toMatchObject({ id: 1, image_id: 0, category_id: 2 });
    expect(p.segmentation[0]).toHaveLength(6);
    closeTo(p.bbox, [207.80399274047187, 11.347517730496454, 19.056261343012693, 28.595744680851062]);
    closeTo([p.area], [264.22622955039697]);
    expect(k).toEqual({
      id: 2,
      image_id: 0,
      category_id: 4,
      keypoints: [113, 102, 2, 89, 91, 2],
      num_keypoints: 2,
      bbox: [89, 91, 24, 11],
      iscrowd: 0,
    });
    expect(k.keypoints).toHaveLength(3 * k.num_keypoints);
    expect(json.info).toEqual({
      year: 2026,
      version: '1.0',
      description: '',
      contributor: 'Label Studio',
      url: '',
      date_created: pyDateTimeStr(new Date('2026-01-02T03:04:05.678Z')),
    });
    expect(report.skippedCount + report.warningCount).toBe(0);
  });

  it('streams the same bytes ujson writes for the whole object (indent 2, floats with .0, \\/ and \\u escapes)', async () => {
    const tasks = [
      task(1, '/données/é.png', [
        rect({ x: 10, y: 20, width: 30, height: 40, rectanglelabels: ['Zebra'] }),
        poly([
          [1, 2],
          [3, 4],
          [5, 1],
        ]),
      ]),
      { id: 2, data: { image: 'x"y.png' }, annotations: [] },
    ];
    const { text } = await coco(tasks, SPEC_CONFIG, 'COCO');
    expect(text).toBe(stringify(parseJson(text), UJSON_PRETTY_ASCII));
    const withAnnotator = await coco(tasks, SPEC_CONFIG, 'COCO', { cocoAnnotator: true });
    expect(withAnnotator.text).toBe(stringify(parseJson(withAnnotator.text), UJSON_PRETTY_ASCII));
    expect(withAnnotator.text).toContain('"area": 2400.0,\n      "annotator": "u0@x.com"\n    }');
    expect(text).toContain('"width": null,\n      "height": null,');
    expect(text).toContain('"bbox": [\n        20.0,\n        20.0,\n        60.0,\n        40.0\n      ],');
    expect(text).toContain('"area": 2400.0');
    expect(text).toContain('"file_name": "images\\/');
    expect(text).toContain('__\\u00e9.png"');
    expect(text.startsWith('{\n  "images": [\n    {\n      "width": 200,')).toBe(true);
    expect(text.endsWith('\n  }\n}')).toBe(true);
  });

  it('keeps explicit category ids (car 10, person 2, truck 7)', async () => {
    const config = `<View><Image name="image" value="$image"/><RectangleLabels name="rect" toName="image">
      <Label value="car" category="10"/><Label value="person" category="2"/><Label value="truck" category="7"/></RectangleLabels></View>`;
    const tasks = [
      task(1, '/a.png', [
        rect({ x: 1, y: 1, width: 5, height: 5, rectanglelabels: ['car'] }),
        rect({ x: 1, y: 1, width: 5, height: 5, rectanglelabels: ['truck'] }),
      ]),
    ];
    const { json } = await coco(tasks, config, 'COCO');
    expect(json.categories).toEqual([
      { id: 10, name: 'car' },
      { id: 2, name: 'person' },
      { id: 7, name: 'truck' },
    ]);
    expect(new Set(json.annotations.map((a) => a.category_id))).toEqual(new Set([10, 7]));
  });

  it('categories of the spec example: every control, code-point order, unknown labels appended', async () => {
    const tasks = [
      task(1, '/a.png', [
        rect({ x: 1, y: 1, width: 5, height: 5, rectanglelabels: ['NotInConfig'] }),
        choice,
      ]),
    ];
    const { json, report } = await coco(tasks, SPEC_CONFIG, 'COCO');
    expect(json.categories).toEqual([
      { id: 5, name: 'apple' },
      { id: 0, name: 'Cat' },
      { id: 1, name: 'Dog' },
      { id: 2, name: 'Zebra' },
      { id: 3, name: 'day' },
      { id: 4, name: 'night' },
      { id: 6, name: 'NotInConfig' },
    ]);
    expect(json.annotations[0].category_id).toBe(6);
    expect(report.warnings).toHaveLength(1);
    const fixed = await coco(tasks, SPEC_CONFIG, 'COCO', {
      fixRegionCategories: true,
      fixConfigCategoryIds: true,
    });
    expect(fixed.json.categories).toEqual([
      { id: 0, name: 'Zebra' },
      { id: 1, name: 'Cat' },
      { id: 2, name: 'Dog' },
      { id: 5, name: 'apple' },
      { id: 6, name: 'NotInConfig' },
    ]);
  });

  it('boxes a rotated rectangle in percent space (docs/label-studio-behaviour.md#coco-rotated-rectangles), or truly with --fix rotated-bbox', async () => {
    const tasks = [
      task(1, '/a.png', [
        rect({ x: 10, y: 20, width: 30, height: 40, rotation: 30, rectanglelabels: ['Cat'] }),
      ]),
    ];
    const { json } = await coco(tasks, SPEC_CONFIG, 'COCO');
    closeTo(
      json.annotations[0].bbox,
      [-19.99999999999999, 19.999999999999996, 91.9615242270663, 49.64101615137754],
    );
    closeTo([json.annotations[0].area], [4565.063509461095], 1e-8);
    const fixed = await coco(tasks, SPEC_CONFIG, 'COCO', { fixRotatedBbox: true });
    closeTo(fixed.json.annotations[0].bbox, [0, 20, 71.96152422706632, 64.64101615137756]);
    const minus90 = await coco(
      [
        task(1, '/a.png', [
          rect(
            { x: 10, y: 20, width: 30, height: 40, rotation: -90, rectanglelabels: ['Cat'] },
            { original_width: 100, original_height: 100 },
          ),
        ]),
      ],
      SPEC_CONFIG,
      'COCO',
    );
    closeTo(minus90.json.annotations[0].bbox, [10.000000000000004, -10.0, 40.0, 30.0]);
  });

  it('quirks: one image entry per annotation; an item adding no image leaves its id to the next', async () => {
    const tasks = [
      task(
        1,
        '/a.png',
        [rect({ x: 0, y: 0, width: 10, height: 10, rectanglelabels: ['Cat'] })],
        [
          poly([
            [1, 1],
            [2, 2],
            [3, 1],
          ]),
        ],
      ),
      task(2, '/b.png', [choice]),
      task(3, '/c.png', [rect({ x: 0, y: 0, width: 10, height: 10, rectanglelabels: ['Cat'] })]),
    ];
    const { json } = await coco(tasks, SPEC_CONFIG, 'COCO');
    expect(json.images.map((i) => [i.id, i.file_name])).toEqual([
      [0, 'images/8383dc40__a.png'],
      [1, 'images/8383dc40__a.png'],
      [2, 'images/b640d4e8__c.png'],
    ]);
    expect(json.annotations.map((a) => [a.id, a.image_id])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
    const fixed = await coco(tasks, SPEC_CONFIG, 'COCO', { fixKeepNegativeImages: true });
    expect(fixed.json.images.map((i) => [i.id, i.width])).toEqual([
      [0, 200],
      [1, 200],
      [2, null],
      [3, 200],
    ]);
  });

  it('an image without regions gets null sizes, or its header size when the image can be read', async () => {
    const tasks = [{ id: 1, data: { image: '/x/empty.png' }, annotations: [] }];
    const none = await coco(tasks, SPEC_CONFIG, 'COCO');
    expect(none.json.images).toEqual([
      { width: null, height: null, id: 0, file_name: 'images/a1236795__empty.png' },
    ]);
    expect(none.report.warnings.map((w) => w.reason)).toEqual([
      'no annotation: exported as an image without objects',
      expect.stringMatching(/the task has no regions, and the size of \/x\/empty.png cannot be read/),
    ]);
    const read = await coco(
      tasks,
      SPEC_CONFIG,
      'COCO',
      {},
      new FakeMedia({ '/x/empty.png': pngBytes(7, 5) }),
    );
    // An existing absolute local path: used as is, and its size read (the reference opens it too).
    expect(read.json.images).toEqual([{ width: 7, height: 5, id: 0, file_name: '/x/empty.png' }]);
  });

  it('a region without original size: the reference drops it; we read the image header, or report', async () => {
    const tasks = [
      task(1, 'https://h/img.png', [
        rect({ x: 10, y: 10, width: 50, height: 50, rectanglelabels: ['Cat'] }, {}),
      ]),
    ];
    const dropped = await coco(tasks, SPEC_CONFIG, 'COCO');
    expect(dropped.json.images).toEqual([]);
    expect(dropped.json.annotations).toEqual([]);
    expect(dropped.report.skipped[0].reason).toMatch(/region "Cat" is left out: its image size is unknown/);
    const read = await coco(
      tasks,
      SPEC_CONFIG,
      'COCO',
      {},
      new FakeMedia({ 'https://h/img.png': pngBytes(40, 20) }),
    );
    expect(read.json.images).toEqual([
      { width: 40, height: 20, id: 0, file_name: 'images/d8f35368__img.png' },
    ]);
    expect(read.json.annotations[0].bbox).toEqual([4, 2, 20, 10]);
  });

  it('keeps original sizes as written (a float literal stays 640.0)', async () => {
    const text = `[{"id": 1, "data": {"image": "/a.png"}, "annotations": [{"id": 1, "result": [
      {"from_name": "rect", "to_name": "image", "type": "rectanglelabels", "original_width": 640.0, "original_height": 480,
       "value": {"x": 50, "y": 50, "width": 10, "height": 10, "rectanglelabels": ["Cat"]}}]}]}]`;
    const { text: out } = await coco(text, SPEC_CONFIG, 'COCO');
    expect(out).toContain('"width": 640.0,\n      "height": 480,');
    expect(out).toContain('"bbox": [\n        320.0,\n        240.0,\n        64.0,\n        48.0\n      ]');
  });

  it('COCO_WITH_IMAGES copies the image and takes the image entry size from the file, as the reference does', async () => {
    const png = pngBytes(300, 150);
    const media = new FakeMedia({ 'https://h/img.png': png, '/data/upload/3/u.png': pngBytes(10, 10) });
    const tasks = [
      task(
        1,
        'https://h/img.png',
        [rect({ x: 10, y: 10, width: 50, height: 50, rectanglelabels: ['Cat'] })],
        [choice],
      ),
      { id: 2, data: { image: '/data/upload/3/u.png' }, annotations: [] },
    ];
    const { json, sink, report } = await coco(tasks, SPEC_CONFIG, 'COCO_WITH_IMAGES', {}, media);
    expect(sink.files.get('images/d8f35368__img.png')).toEqual(png);
    expect(json.images).toEqual([
      { width: 300, height: 150, id: 0, file_name: 'images/d8f35368__img.png' },
      { width: 300, height: 150, id: 1, file_name: 'images/d8f35368__img.png' },
      { width: 10, height: 10, id: 2, file_name: 'images/u.png' },
    ]);
    // The rectangle still scales by its own original size (200×100).
    expect(json.annotations[0].bbox).toEqual([20, 10, 100, 50]);
    // Copied once, though two annotations point at it.
    expect(media.log.reads.filter((r) => r.url === 'https://h/img.png' && !r.range)).toHaveLength(1);
    // Task 2 has no annotation: exported as an image without objects, and said so.
    expect(report.warnings.map((w) => [w.taskId, w.reason])).toEqual([
      [2, 'no annotation: exported as an image without objects'],
    ]);
  });

  it('COCO_WITH_IMAGES: an image that cannot be fetched keeps its raw path, reported', async () => {
    const tasks = [
      task(1, '/data/upload/3/u.png', [rect({ x: 0, y: 0, width: 5, height: 5, rectanglelabels: ['Cat'] })]),
    ];
    const { json, report } = await coco(tasks, SPEC_CONFIG, 'COCO_WITH_IMAGES', {}, new FakeMedia({}));
    expect(json.images[0]).toEqual({ width: 200, height: 100, id: 0, file_name: '/data/upload/3/u.png' });
    expect(report.warnings[0].reason).toMatch(
      /could not be fetched \(Label Studio upload paths need the upload folder/,
    );
  });

  it('bad regions are reported, never a crash', async () => {
    const tasks = [
      task(1, '/a.png', [
        rect({ x: 10, y: 20, width: 0, height: 40, rotation: 15, rectanglelabels: ['Cat'] }),
        rect({ x: 10, y: 20, width: 10, height: 40, rotation: null, rectanglelabels: ['Cat'] }),
        rect({ x: 10, y: 20, rectanglelabels: ['Cat'] }),
        rect({ x: -5, y: 20, width: 10, height: 10, rectanglelabels: ['Cat'] }),
        poly([]),
        poly([[1, 2]]),
        poly([['a', 2]]),
        rect({ x: 10, y: 20, width: 10, height: 10, rectanglelabels: [{}] }),
        rect(
          { x: 10, y: 20, width: 10, height: 10, rectanglelabels: ['Cat'] },
          { original_width: 0, original_height: 100 },
        ),
      ]),
    ];
    const { json, report } = await coco(tasks, SPEC_CONFIG, 'COCO');
    const reasons = [...report.skipped, ...report.warnings].map((e) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'a rectangle has zero or negative size (0×40 %); it is left out',
        'a rectangle has non-numeric x/y/width/height/rotation; it is left out',
        'a rectangle lacks numeric x/y/width/height; it is left out',
        'a region extends outside the image; written as drawn (--fix clip-coordinates clips it)',
        'a polygon has 0 points (a region needs at least 2); it is left out',
        'a polygon has 1 point (a region needs at least 2); it is left out',
        'a polygon has points that are not [x, y] number pairs (finite numbers); it is left out',
        'label {} is not a string; the region is left out',
      ]),
    );
    // Kept (rectangles first: values come in from_name order): the outside rectangle and the last
    // rectangle — its size 0 is unusable, so it scales by the image size the first region
    // established. Polygons with fewer than 2 points are never written.
    expect(json.annotations.map((a) => a.bbox)).toEqual([
      [-10, 20, 20, 10],
      [20, 20, 20, 10],
    ]);
    expect(json.images).toHaveLength(1);
    expect(report.toJSON().regions).toEqual({ COCO: { exported: 2, skipped: 7 } });
  });

  it('fix clip-coordinates clips boxes and polygons', async () => {
    const tasks = [
      task(1, '/a.png', [
        rect({ x: -5, y: 90, width: 10, height: 20, rectanglelabels: ['Cat'] }),
        poly([
          [-10, 50],
          [50, 120],
          [50, 50],
        ]),
      ]),
    ];
    const { json, report } = await coco(tasks, SPEC_CONFIG, 'COCO', { fixClipCoordinates: true });
    expect(json.annotations[0].bbox).toEqual([0, 90, 10, 10]);
    expect(json.annotations[1].segmentation).toEqual([[0, 50, 100, 100, 100, 50]]);
    expect(report.warningCount).toBe(0);
  });

  it('keypoints: one annotation per item, rounded half to even; no model_index → reported', async () => {
    const kp = (x: number, y: number, label: string) => ({
      from_name: 'kp',
      to_name: 'image',
      type: 'keypointlabels',
      value: { x, y, keypointlabels: [label] },
      original_width: 200,
      original_height: 100,
    });
    // 1.25 % of 200 = 2.5 → 2; 3.5 % of 100 = 3.5 → 4.
    const tasks = [
      task(1, '/a.png', [
        kp(1.25, 3.5, 'eye'),
        rect({ x: 0, y: 0, width: 50, height: 50, rectanglelabels: ['person'] }),
        kp(10, 10, 'nose'),
      ]),
    ];
    const { json } = await coco(tasks, KP_CONFIG, 'COCO');
    // Sorted eye 0, nose 1, person 2; the keypoint labels leave, person keeps 2, default is 3.
    expect(json.categories).toEqual([
      { id: 2, name: 'person' },
      { id: 3, name: 'default', supercategory: 'default', keypoints: ['nose', 'eye'], skeleton: [] },
    ]);
    expect(json.annotations[1]).toEqual({
      id: 1,
      image_id: 0,
      category_id: 3,
      keypoints: [20, 10, 2, 2, 4, 2],
      num_keypoints: 2,
      bbox: [2, 4, 18, 6],
      iscrowd: 0,
    });
    const noIndex = KP_CONFIG.replace(/ model_index="\d"/g, '');
    const { json: j2, report } = await coco(tasks, noIndex, 'COCO');
    expect(j2.annotations).toHaveLength(1);
    expect(report.skipped[0].reason).toMatch(/no KeyPointLabels label has a model_index/);
  });

  it('cocoAnnotator adds the annotator e-mail to region annotations', async () => {
    const tasks = [task(1, '/a.png', [rect({ x: 0, y: 0, width: 5, height: 5, rectanglelabels: ['Cat'] })])];
    const { json } = await coco(tasks, SPEC_CONFIG, 'COCO', { cocoAnnotator: true });
    expect(json.annotations[0].annotator).toBe('u0@x.com');
  });

  it('writes an empty but valid file for an empty export', async () => {
    const { text } = await coco([], SPEC_CONFIG, 'COCO');
    const json = JSON.parse(text) as Coco;
    expect(json.images).toEqual([]);
    expect(json.annotations).toEqual([]);
    expect(text.startsWith('{\n  "images": [],\n  "categories": [\n    {\n      "id": 5,')).toBe(true);
    expect(text).toContain('"annotations": [],\n  "info": {');
  });

  it('spills annotations to a temporary file on big exports and writes the same bytes', async () => {
    const tasks = Array.from({ length: 300 }, (_, i) =>
      task(i + 1, `/img${i}.png`, [
        rect({ x: i % 90, y: 5, width: 7.5, height: 3.25, rectanglelabels: ['Cat'] }),
        poly([
          [1, 2],
          [3, 4],
          [5, 1],
        ]),
      ]),
    );
    const run = async (memoryLimit?: number) => {
      const sink = new MemorySink();
      const spools: Array<{ spilled: boolean }> = [];
      const writer = cocoWriter(
        {
          schema: parseLabelConfig(SPEC_CONFIG),
          sink,
          report: new Report(),
          options: parseExportOptions({}),
          now: () => new Date(2026, 0, 2, 3, 4, 5),
        },
        {
          withImages: false,
          spool: () => {
            const s = createSpool({ memoryLimit });
            spools.push(s);
            return s;
          },
        },
      );
      for (const t of tasks)
        await writer.addTask(parseJson(JSON.stringify(t)) as JsonObject, { source: 't' });
      const spilled = spools[0].spilled;
      await writer.finish();
      return { text: sink.text('result.json'), spilled };
    };
    const small = await run(1024);
    const big = await run();
    expect(small.spilled).toBe(true);
    expect(big.spilled).toBe(false);
    expect(small.text).toBe(big.text);
    const json = JSON.parse(small.text) as Coco;
    expect(json.images).toHaveLength(300);
    expect(json.annotations).toHaveLength(600);
    expect(json.annotations[599].id).toBe(599);
    expect(json.info.date_created).toBe('2026-01-02 03:04:05');
  });
});

describe('str(datetime)', () => {
  it('prints microseconds only when non-zero', () => {
    expect(pyDateTimeStr(new Date(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02 03:04:05.678000');
    expect(pyDateTimeStr(new Date(2026, 10, 12, 13, 14, 15, 0))).toBe('2026-11-12 13:14:15');
  });
});
