import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRle, maskToRle } from '../../../functions/core/brush/rle.ts';
import { categoryColor } from '../../../functions/core/formats/brush-coco.ts';
import { pyDateTimeStr } from '../../../functions/core/images/values.ts';
import { exportWith } from '../../helpers/export.ts';

// The export clock is 2026-01-02T03:04:05.678Z; `date_created` is local time, as Python prints it.
const savedTz = process.env.TZ;
beforeAll(() => {
  process.env.TZ = 'UTC';
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

const CONFIG = `<View>
  <Image name="image" value="$image"/>
  <BrushLabels name="tag" toName="image"><Label value="Air/plane"/><Label value="class1"/></BrushLabels>
  <PolygonLabels name="poly" toName="image"><Label value="class2"/></PolygonLabels>
  <RectangleLabels name="box" toName="image"><Label value="A"/></RectangleLabels>
  <Choices name="quality" toName="image"><Choice value="ok"/></Choices>
</View>`;

/** LS-style RLE of a W×H alpha mask given as rows (colour channels set to junk). */
function rle(rows: number[][]): number[] {
  const rgba: number[] = [];
  for (const a of rows.flat()) rgba.push(1, 2, 3, a);
  return encodeRle(rgba);
}

function brush(rows: number[][], labels: unknown, extra: Record<string, unknown> = {}) {
  return {
    from_name: 'tag',
    to_name: 'image',
    type: 'brushlabels',
    original_width: rows[0].length,
    original_height: rows.length,
    value: { format: 'rle', rle: rle(rows), brushlabels: labels },
    ...extra,
  };
}

function polygon(points: unknown[], labels: unknown[], w = 100, h = 100) {
  return {
    from_name: 'poly',
    to_name: 'image',
    type: 'polygonlabels',
    original_width: w,
    original_height: h,
    value: { points, polygonlabels: labels, closed: true },
  };
}

function task(
  id: number,
  image: unknown,
  result: unknown[],
  completedBy: unknown = { email: 'Jo hn+x@ex.com' },
) {
  return { id, data: { image }, annotations: [{ id: id * 10, completed_by: completedBy, result }] };
}

// observed in docs/label-studio-behaviour.md#brush_to_coco: a 3×2 block at x 1–3, y 1–2 on a 6×4 mask; a region of two isolated pixels; one
// with an empty label list.
const BLOCK = [
  [0, 0, 0, 0, 0, 0],
  [0, 255, 255, 255, 0, 0],
  [0, 255, 255, 255, 0, 0],
  [0, 0, 0, 0, 0, 0],
];
const TWO_PIXELS = [
  [0, 0, 0, 0, 0, 9],
  [0, 0, 0, 0, 0, 0],
  [0, 0, 0, 0, 0, 0],
  [255, 0, 0, 0, 0, 0],
];

const OBSERVED_JSON = `{
  "images": [
    {
      "id": 0,
      "file_name": "photo.PNG",
      "path": "s3://bucket/dir/photo.PNG",
      "width": 6,
      "height": 4
    }
  ],
  "annotations": [
    {
      "id": 0,
      "image_id": 0,
      "category_id": 1,
      "segmentation": [
        [
          1,
          1,
          1,
          2,
          3,
          2,
          3,
          1
        ]
      ],
      "area": 2,
      "bbox": [
        1,
        1,
        3,
        2
      ],
      "iscrowd": 0,
      "annotator": "Jo hn+x@ex.com"
    }
  ],
  "categories": [
    {
      "id": 1,
      "name": "Air/plane",
      "supercategory": "",
      "color": "#e0fe01",
      "metadata": {}
    }
  ],
  "info": {
    "year": 2026,
    "version": "1.0",
    "description": "Converted from Label Studio",
    "contributor": "Label Studio Converter",
    "date_created": "2026-01-02 03:04:05.678000"
  }
}`;

const EMPTY_JSON = `{
  "images": [],
  "annotations": [],
  "categories": [],
  "info": {
    "year": 2026,
    "version": "1.0",
    "description": "Converted from Label Studio",
    "contributor": "Label Studio Converter",
    "date_created": "2026-01-02 03:04:05.678000"
  }
}`;

async function coco(tasks: unknown[] | string, options = {}) {
  const run = await exportWith(tasks, CONFIG, 'BRUSH_TO_COCO', options);
  expect([...run.sink.files.keys()]).toEqual(['result_coco.json']);
  const text = run.sink.text('result_coco.json');
  return { ...run, text, json: JSON.parse(text) };
}

describe('BRUSH_TO_COCO', () => {
  it('writes the observed example of docs/label-studio-behaviour.md#brush_to_coco byte for byte (stdlib json layout, `/` unescaped)', async () => {
    const tasks = [
      task(5, 's3://bucket/dir/photo.PNG', [
        brush(BLOCK, ['Air/plane']),
        brush(TWO_PIXELS, ['Air/plane']),
        brush(BLOCK, []),
      ]),
    ];
    const { text, report } = await coco(tasks);
    expect(text).toBe(OBSERVED_JSON);
    // The two-pixel region: its contours have fewer than 3 points, as in the reference; said.
    expect(report.warnings.map((w) => w.reason)).toEqual([expect.stringContaining('region 2: no contour')]);
  });

  it('test_brush_to_coco: polygon on 100×100 → int segmentation, inclusive bbox, int area', async () => {
    const tasks = [
      task(
        1,
        'a.jpg',
        [
          polygon(
            [
              [10, 10],
              [10, 90],
              [90, 90],
              [90, 10],
            ],
            ['class2'],
          ),
        ],
        7,
      ),
    ];
    const { json, text } = await coco(tasks);
    expect(json.annotations).toEqual([
      {
        id: 0,
        image_id: 0,
        category_id: 1,
        segmentation: [[10, 10, 10, 90, 90, 90, 90, 10]],
        area: 6400,
        bbox: [10, 10, 81, 81],
        iscrowd: 0,
        annotator: '7',
      },
    ]);
    expect(text).toContain('"area": 6400,\n');
    expect(json.images).toEqual([{ id: 0, file_name: 'a.jpg', path: 'a.jpg', width: 100, height: 100 }]);
  });

  it('test_brush_to_coco: brush + polygon items → 2 images, 2 annotations, categories class1, class2', async () => {
    // The mocked contour of the reference test: the square 0..10 → bbox [0, 0, 11, 11].
    const square = Array.from({ length: 12 }, (_, y) =>
      Array.from({ length: 12 }, (_, x) => (x <= 10 && y <= 10 ? 255 : 0)),
    );
    const tasks = [
      task(1, '/data/upload/1/one.jpg', [brush(square, ['class1'])]),
      task(2, '/data/upload/1/two.jpeg', [
        polygon(
          [
            [10, 10],
            [10, 90],
            [90, 90],
            [90, 10],
          ],
          ['class2'],
        ),
      ]),
    ];
    const { json } = await coco(tasks);
    expect(json.images.map((i: { id: number; file_name: string }) => [i.id, i.file_name])).toEqual([
      [0, 'one.jpg'],
      [1, 'two.jpeg'],
    ]);
    expect(json.annotations[0]).toMatchObject({
      id: 0,
      image_id: 0,
      segmentation: [[0, 0, 0, 10, 10, 10, 10, 0]],
      bbox: [0, 0, 11, 11],
      area: 100,
      annotator: 'Jo hn+x@ex.com',
    });
    expect(json.annotations[1]).toMatchObject({ id: 1, image_id: 1, category_id: 2 });
    expect(json.categories).toEqual([
      { id: 1, name: 'class1', supercategory: '', color: '#66e78e', metadata: {} },
      { id: 2, name: 'class2', supercategory: '', color: '#b14c9a', metadata: {} },
    ]);
  });

  it('test_brush_to_coco: a brush item without original_width yields nothing but its category', async () => {
    const noSize = { ...brush(BLOCK, ['class1']), original_width: undefined };
    const tasks = [
      task(1, 'one.jpg', [noSize]),
      task(2, 'two.jpg', [
        polygon(
          [
            [10, 10],
            [10, 90],
            [90, 90],
            [90, 10],
          ],
          ['class2'],
        ),
      ]),
    ];
    const { json, report } = await coco(tasks);
    expect(json.images.map((i: { id: number }) => i.id)).toEqual([1]); // ids are item indexes: a gap
    expect(json.annotations).toHaveLength(1);
    expect(json.annotations[0]).toMatchObject({ id: 0, image_id: 1, category_id: 2 });
    // The category is registered before the geometry is checked (reference order).
    expect(json.categories.map((c: { name: string }) => c.name)).toEqual(['class1', 'class2']);
    expect(report.skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/region 1 left out: a brush region needs original_width and original_height/),
      expect.stringMatching(/no brush, polygon or rectangle annotation could be made/),
    ]);
  });

  it('test_brush_to_coco: empty output → no images, no annotations', async () => {
    const tasks = [task(1, 'a.jpg', []), { id: 2, data: { image: 'b.jpg' }, annotations: [] }];
    const { text, report } = await coco(tasks);
    expect(text).toBe(EMPTY_JSON);
    expect(report.skippedCount).toBe(2);
    expect((await coco([])).text).toBe(EMPTY_JSON);
  });

  it('duplicates a multi-label region per label; rectangles are pixel floats; annotators as in get_annotator', async () => {
    const rect = {
      from_name: 'box',
      to_name: 'image',
      type: 'rectanglelabels',
      original_width: 333,
      original_height: 100,
      value: { x: 12.5, y: 20, width: 30, height: 40, rotation: 45, rectanglelabels: ['A'] },
    };
    const tasks = [task(1, 'x.bmp', [brush(BLOCK, ['B', 'A']), rect], {})];
    const { json, text } = await coco(tasks);
    expect(json.annotations.map((a: { id: number; category_id: number }) => [a.id, a.category_id])).toEqual([
      [0, 1],
      [1, 2],
      [2, 2],
    ]);
    expect(json.annotations[0].segmentation).toEqual(json.annotations[1].segmentation);
    expect(json.categories.map((c: { name: string; color: string }) => [c.name, c.color])).toEqual([
      ['B', '#9d5ed6'],
      ['A', '#7fc562'],
    ]);
    // 12.5·333/100 = 41.625; 30·333/100 = 99.9; floats keep `.0` as Python prints them.
    expect(text).toContain(
      '"segmentation": [],\n      "area": 3996.0,\n      "bbox": [\n        41.625,\n        20.0,\n        99.9,\n        40.0\n      ],\n      "iscrowd": 0,\n      "annotator": "unknown"',
    );
  });

  it('image paths: first data value with an image extension; query strings defeat it; items keep their index', async () => {
    const block = brush(BLOCK, ['A']);
    const tasks = [
      {
        id: 1,
        data: { text: 'x', image: 'https://h/p.jpg?sig=1' },
        annotations: [{ id: 1, result: [block] }],
      },
      {
        id: 2,
        data: { a: 'notes.txt', b: 'http://h/dir/PIC.Jpeg', c: 'z.png' },
        annotations: [{ id: 2, result: [block] }],
      },
    ];
    const { json, report } = await coco(tasks);
    expect(json.images).toEqual([
      { id: 1, file_name: 'PIC.Jpeg', path: 'http://h/dir/PIC.Jpeg', width: 6, height: 4 },
    ]);
    expect(json.annotations[0]).toMatchObject({ id: 0, image_id: 1 });
    expect(report.skipped[0]).toMatchObject({
      taskId: 1,
      reason: expect.stringMatching(/no task data value is an image path/),
    });
  });

  it('reports malformed RLE and size mismatches (the reference only logs), keeping the category', async () => {
    const bad = brush(BLOCK, ['A']);
    bad.value.rle = bad.value.rle.slice(0, 10);
    const mismatch = brush(BLOCK, ['A'], { original_height: 5 });
    const tasks = [task(1, 'a.jpg', [bad, mismatch])];
    const { json, report } = await coco(tasks);
    expect(json.images).toEqual([]);
    expect(json.annotations).toEqual([]);
    expect(json.categories).toHaveLength(1);
    expect(report.skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/region 1 left out: malformed RLE/),
      expect.stringMatching(/region 2 left out: the RLE holds 96 values but .* 6×5×4 = 120/),
      expect.stringMatching(/no brush, polygon or rectangle annotation/),
    ]);
  });

  it('reports values and labels the reference crashes on, and goes on', async () => {
    const tasks = [
      task(1, 'a.jpg', [
        // Has original_width but no original_height: the reference crashes reading the image size.
        { ...brush(BLOCK, ['A']), original_height: undefined, value: { rle: [1], brushlabels: ['A'] } },
        polygon([], ['class2']), // empty polygon
        polygon([[10, 'x']], ['class2']), // non-numeric coordinate
        { ...polygon([[1, 1]], [['nested']]) }, // unhashable label
        polygon(
          [
            [10, 10],
            [20, 20],
          ],
          ['class2'],
        ), // two points: exported as the reference does, with a warning
      ]),
    ];
    const { json, report } = await coco(tasks);
    expect(json.annotations).toEqual([
      {
        id: 0,
        image_id: 0,
        category_id: 2,
        segmentation: [[10, 10, 20, 20]],
        area: 0,
        bbox: [10, 10, 11, 11],
        iscrowd: 0,
        annotator: 'Jo hn+x@ex.com',
      },
    ]);
    expect(json.images).toEqual([{ id: 0, file_name: 'a.jpg', path: 'a.jpg', width: 100, height: 100 }]);
    expect(json.categories.map((c: { id: number; name: string }) => [c.id, c.name])).toEqual([
      [1, 'A'],
      [2, 'class2'],
    ]);
    expect(report.skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(
        /"tag" region 1 left out: a brush region needs original_width and original_height/,
      ),
      expect.stringMatching(/"poly" region 1 left out: the polygon has no points/),
      expect.stringMatching(/"poly" region 2 left out: a point y is not a number/),
      expect.stringMatching(/"poly" region 3: a label is a list or an object/),
    ]);
    expect(report.warnings.map((s) => s.reason)).toEqual([
      expect.stringMatching(/"tag" region 1 has original_width but no original_height/),
      expect.stringMatching(/"poly" region 4: the polygon has 2 point\(s\)/),
    ]);
  });

  it('keeps integral-float sizes as written and the first size seen', async () => {
    const json = `[{"id":1,"data":{"image":"a.jpg"},"annotations":[{"id":2,"result":[
      {"from_name":"poly","to_name":"image","type":"polygonlabels","original_width":100.0,"original_height":50.0,
       "value":{"points":[[0,0],[50,0],[50,50]],"polygonlabels":["class2"]}}]}]}]`;
    const { text } = await coco(json);
    expect(text).toContain('"width": 100.0,\n      "height": 50.0\n');
    expect(text).toContain(
      '"segmentation": [\n        [\n          0,\n          0,\n          50,\n          0,\n          50,\n          25\n',
    );
  });

  it('colours are deterministic across runs', async () => {
    const tasks = [task(1, 'a.jpg', [brush(BLOCK, ['class1', 'Air/plane'])])];
    const a = await coco(tasks);
    const b = await coco(tasks);
    expect(a.text).toBe(b.text);
    expect(categoryColor('class1')).toBe('#66e78e');
    expect(categoryColor('Air/plane')).toBe('#e0fe01');
  });

  it('streams many tasks into valid JSON with sequential ids', async () => {
    const block = brush(BLOCK, ['A']);
    const tasks = Array.from({ length: 300 }, (_, i) => task(i + 1, `img${i}.png`, [block, block]));
    const { json } = await coco(tasks);
    expect(json.images).toHaveLength(300);
    expect(json.annotations).toHaveLength(600);
    expect(
      json.annotations.every(
        (a: { id: number; image_id: number }, i: number) => a.id === i && a.image_id === i >> 1,
      ),
    ).toBe(true);
  });

  it('round-trips a mask written with maskToRle', async () => {
    const mask = Uint8Array.from(BLOCK.flat());
    const region = { ...brush(BLOCK, ['A']), value: { rle: maskToRle(mask), brushlabels: ['A'] } };
    const { json } = await coco([task(1, 'a.jpg', [region])]);
    expect(json.annotations[0].segmentation).toEqual([[1, 1, 1, 2, 3, 2, 3, 1]]);
  });
});

describe('pyDateTimeStr', () => {
  it('prints str(datetime) with microseconds, omitted when zero', () => {
    expect(pyDateTimeStr(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02 03:04:05.678000');
    expect(pyDateTimeStr(new Date('2026-11-12T13:14:15.000Z'))).toBe('2026-11-12 13:14:15');
  });
});
