import { describe, expect, it } from 'vitest';
import { exportWith, fixture, MemorySink } from '../../helpers/export.ts';
import { FakeMedia, jpegBytes, pngBytes } from '../images/fake-media.ts';

const YOLO_CONFIG = fixture('test_export_yolo/label_config.xml');
const YOLO_DATA = fixture('test_export_yolo/data.json');

// docs/label-studio-behaviour.md#reference-tests test_convert_to_yolo (reference run), per annotator.
const USER1_IMAGE1 =
  '0 0.39799635701275043 0.7404371584699453 0.03825136612021857 0.04553734061930784\n' +
  '1 0.5182149362477232 0.25136612021857924 0.052823315118397086 0.04007285974499089\n';
const USER2_IMAGE1 =
  '0 0.39253187613843354 0.7304189435336975 0.04189435336976321 0.04735883424408015\n' +
  '1 0.5969531379367445 0.6519291273389635 0.03808577579069383 0.04636529226693169\n';
const USER1_IMAGE2 =
  '1 0.21311475409836067 0.51183970856102 0.03278688524590164 0.029143897996357013\n' +
  '1 0.6302367941712204 0.39344262295081966 0.025500910746812388 0.043715846994535526\n';

/** The category example config of docs/label-studio-behaviour.md#coco-categories. */
const SPEC_CONFIG = `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="rect" toName="image">
    <Label value="Zebra"/><Label value="Cat"/><Label value="apple" category="5"/>
  </RectangleLabels>
  <PolygonLabels name="poly" toName="image"><Label value="Dog"/><Label value="Cat"/></PolygonLabels>
  <Choices name="time" toName="image"><Choice value="day"/><Choice value="night"/></Choices>
</View>`;

const rect = (
  value: Record<string, unknown>,
  extra: Record<string, unknown> = { original_width: 200, original_height: 100 },
) => ({
  from_name: 'rect',
  to_name: 'image',
  type: 'rectanglelabels',
  value,
  ...extra,
});
const poly = (points: unknown, labels = ['Dog']) => ({
  from_name: 'poly',
  to_name: 'image',
  type: 'polygonlabels',
  value: { points, polygonlabels: labels },
  original_width: 200,
  original_height: 100,
});
const task = (id: number, image: unknown, ...results: unknown[][]) => ({
  id,
  data: { image },
  annotations: results.map((result, i) => ({
    id: id * 10 + i,
    created_at: `2024-01-0${9 - i}T00:00:00Z`,
    result,
  })),
});

const lines = (text: string) => text.split('\n').filter(Boolean);

describe('YOLO (docs/label-studio-behaviour.md#yolo, docs/label-studio-behaviour.md#reference-tests test_export_yolo)', () => {
  it('label-only YOLO names label files <md5_8>__<name>, keeps the oldest annotation, writes classes.txt', async () => {
    const { sink, report } = await exportWith(YOLO_DATA, YOLO_CONFIG, 'YOLO');
    expect([...sink.files.keys()].sort()).toEqual([
      'classes.txt',
      'labels/718f1d05__image1.txt',
      'labels/eee3b1dc__image2.txt',
      'notes.json',
    ]);
    // Task 1 has two annotations; newest first, so the older one (user 2) is written last and stays.
    expect(sink.text('labels/718f1d05__image1.txt')).toBe(USER2_IMAGE1);
    expect(sink.text('labels/eee3b1dc__image2.txt')).toBe(USER1_IMAGE2);
    expect(sink.text('classes.txt')).toBe('parasites\nwhite\n');
    expect(JSON.parse(sink.text('notes.json'))).toEqual({
      categories: [
        { id: 0, name: 'parasites' },
        { id: 1, name: 'white' },
      ],
      info: { year: 2026, version: '1.0', contributor: 'Label Studio' },
    });
    // The newer annotation's regions of task 1 were replaced: each is reported, none vanishes.
    expect(report.warningCount).toBe(0);
    expect(report.skipped.map((e) => [e.taskId, e.format, e.reason])).toEqual(
      report.skipped.map(() => [
        1,
        'YOLO',
        'replaced in labels/718f1d05__image1.txt by an older annotation of the task, as Label Studio does (--fix newest-annotation-wins keeps the newest)',
      ]),
    );
    const lineCount = (t: string) => t.split('\n').filter(Boolean).length;
    expect(report.toJSON().regions).toEqual({
      YOLO: {
        exported: lineCount(USER2_IMAGE1) + lineCount(USER1_IMAGE2),
        skipped: lineCount(USER1_IMAGE1),
      },
    });
    expect(report.skippedCount).toBe(lineCount(USER1_IMAGE1));
  });

  it("writes a task's label file once, with the lines its annotations leave (not once per annotation)", async () => {
    const sink = new MemorySink();
    await exportWith(YOLO_DATA, YOLO_CONFIG, 'YOLO', {}, undefined, sink);
    // Task 1 has two annotations: one write of its label file, holding the older one's lines.
    expect(sink.writes.filter((p) => p.startsWith('labels/')).sort()).toEqual([
      'labels/718f1d05__image1.txt',
      'labels/eee3b1dc__image2.txt',
    ]);
    expect(sink.text('labels/718f1d05__image1.txt')).toBe(USER2_IMAGE1);
  });

  it("an older annotation without regions keeps the newer one's lines, and they count as exported (QA, 2026-12-01)", async () => {
    const tasks = JSON.parse(YOLO_DATA) as Array<{ annotations: Array<{ result: unknown[] }> }>;
    // Task 1: the older annotation (written last) has no regions; the file keeps the newer lines.
    tasks[0].annotations[0].result = []; // user 2's, the older one
    const { sink, report } = await exportWith(JSON.stringify(tasks), YOLO_CONFIG, 'YOLO');
    expect(sink.text('labels/718f1d05__image1.txt')).toBe(USER1_IMAGE1);
    const lineCount = (t: string) => t.split('\n').filter(Boolean).length;
    expect(report.toJSON().regions).toEqual({
      YOLO: { exported: lineCount(USER1_IMAGE1) + lineCount(USER1_IMAGE2), skipped: 0 },
    });
    expect(report.skippedCount).toBe(0);
  });

  it('YOLO_WITH_IMAGES with unreachable images falls back to raw names (reference test run)', async () => {
    const { sink, report } = await exportWith(
      YOLO_DATA,
      YOLO_CONFIG,
      'YOLO_WITH_IMAGES',
      {},
      new FakeMedia({}),
    );
    expect(sink.text('labels/image1.txt')).toBe(USER2_IMAGE1);
    expect(sink.text('labels/image2.txt')).toBe(USER1_IMAGE2);
    expect([...sink.files.keys()].some((k) => k.startsWith('images/'))).toBe(false);
    expect(report.warnings.map((w) => w.reason)).toContain(
      'image /image1 could not be fetched: /image1: not found; it is not included',
    );
  });

  it('fix newest-annotation-wins keeps the newest annotation of a task', async () => {
    const { sink } = await exportWith(YOLO_DATA, YOLO_CONFIG, 'YOLO', { fixNewestAnnotationWins: true });
    expect(sink.text('labels/718f1d05__image1.txt')).toBe(USER1_IMAGE1);
    expect(sink.text('labels/eee3b1dc__image2.txt')).toBe(USER1_IMAGE2);
  });

  it('polygons: one line with the class and normalised points (test_convert_polygons_to_yolo)', async () => {
    const { sink } = await exportWith(
      fixture('test_export_yolo/data_polygons.json'),
      fixture('test_export_yolo/label_config_polygons.xml'),
      'YOLO_WITH_IMAGES',
      {},
      new FakeMedia({}),
    );
    const labelFiles = [...sink.files.keys()].filter((k) => k.startsWith('labels/'));
    expect(labelFiles).toEqual(['labels/image2.txt']);
    const text = sink.text('labels/image2.txt');
    expect(lines(text)).toHaveLength(1);
    expect(text.startsWith('0 0.6 0.1955922865013774 0.6110091743119266 0.15151515151515152 ')).toBe(true);
    expect(text.trim().split(' ').length % 2).toBe(1);
  });

  it('multi-label regions give one line per label; Choices options are classes; classes.txt in list order', async () => {
    const tasks = [
      task(1, 'http://example.com/a/b/photo%20one.JPG?sig=1', [
        rect({ x: 10, y: 20, width: 30, height: 40, rotation: 30, rectanglelabels: ['Zebra', 'Cat'] }),
        poly([
          [10, 10],
          [20, 10],
          [20, 30],
        ]),
        { from_name: 'time', to_name: 'image', type: 'choices', value: { choices: ['day'] } },
      ]),
    ];
    const { sink, report } = await exportWith(tasks, SPEC_CONFIG, 'YOLO');
    // Rotation is ignored outside OBB (docs/label-studio-behaviour.md#yolo-lines observed lines).
    expect(sink.text('labels/7f310598__photo%20one.txt')).toBe(
      '2 0.25 0.4 0.3 0.4\n0 0.25 0.4 0.3 0.4\n1 0.1 0.1 0.2 0.1 0.2 0.3\n',
    );
    // Quirk: explicit id 5 (apple) is line 0.
    expect(sink.text('classes.txt')).toBe('apple\nCat\nDog\nZebra\nday\nnight\n');
    // The Choices result has no place in a label file: reported, not silently dropped.
    expect(report.warningCount).toBe(0);
    expect(report.skipped).toEqual([
      expect.objectContaining({
        fromName: 'time',
        type: 'choices',
        reason: 'YOLO cannot carry a choices result; it is left out',
      }),
    ]);
    expect(report.toJSON().regions).toEqual({ YOLO: { exported: 2, skipped: 1 } });
  });

  it('fix config-category-ids: ids in config order, classes.txt line N is class N', async () => {
    const tasks = [
      task(1, '/img.png', [rect({ x: 10, y: 20, width: 30, height: 40, rectanglelabels: ['Zebra', 'Cat'] })]),
    ];
    const { sink } = await exportWith(tasks, SPEC_CONFIG, 'YOLO', { fixConfigCategoryIds: true });
    expect(sink.text('labels/a952824e__img.txt')).toBe('0 0.25 0.4 0.3 0.4\n1 0.25 0.4 0.3 0.4\n');
    expect(sink.text('classes.txt')).toBe('Zebra\nCat\nDog\nday\nnight\napple\n');
  });

  it('fix config-category-ids fills id gaps in classes.txt and reports them', async () => {
    const config = `<View><Image name="image" value="$image"/><RectangleLabels name="rect" toName="image">
      <Label value="car" category="3"/><Label value="bus"/></RectangleLabels></View>`;
    const { sink, report } = await exportWith([task(1, '/i.png', [])], config, 'YOLO', {
      fixConfigCategoryIds: true,
    });
    expect(sink.text('classes.txt')).toBe('bus\nunused_1\nunused_2\ncar\n');
    expect(report.warnings.filter((w) => w.source === 'classes.txt')).toHaveLength(2);
  });

  it('fix rotated-bbox bounds the rotated rectangle in pixel space', async () => {
    const tasks = [
      task(1, '/img.png', [
        rect({ x: 10, y: 20, width: 30, height: 40, rotation: 30, rectanglelabels: ['Cat'] }),
      ]),
    ];
    const { sink } = await exportWith(tasks, SPEC_CONFIG, 'YOLO', { fixRotatedBbox: true });
    const [cls, ...nums] = sink.text('labels/a952824e__img.txt').trim().split(' ');
    expect(cls).toBe('0');
    const expected = [
      71.96152422706632 / 2 / 200,
      (20 + 64.64101615137756 / 2) / 100,
      71.96152422706632 / 200,
      64.64101615137756 / 100,
    ];
    nums.map(Number).forEach((n, i) => {
      expect(n).toBeCloseTo(expected[i], 12);
    });
  });

  it('fix rotated-bbox without any image size exports the rectangle unrotated, with a warning', async () => {
    const tasks = [
      task(1, '/img.png', [
        rect({ x: 10, y: 20, width: 30, height: 40, rotation: 30, rectanglelabels: ['Cat'] }, {}),
      ]),
    ];
    const { sink, report } = await exportWith(tasks, SPEC_CONFIG, 'YOLO', { fixRotatedBbox: true });
    expect(sink.text('labels/a952824e__img.txt')).toBe('0 0.25 0.4 0.3 0.4\n');
    expect(report.warnings[0].reason).toMatch(/cannot be read .*; its rotation is ignored$/);
  });

  it('an item without regions creates an empty file only when none exists; shared names are reported', async () => {
    const tasks = [
      task(1, '/a/img.png', [rect({ x: 0, y: 0, width: 50, height: 50, rectanglelabels: ['Cat'] })]),
      { id: 2, data: { image: '/a/img.png' }, annotations: [] },
      { id: 3, data: { image: '/b/other.png' }, annotations: [] },
    ];
    const { sink, report } = await exportWith(tasks, SPEC_CONFIG, 'YOLO_WITH_IMAGES', {}, new FakeMedia({}));
    expect(sink.text('labels/img.txt')).toBe('0 0.25 0.25 0.5 0.5\n');
    expect(sink.text('labels/other.txt')).toBe('');
    expect(report.warnings.map((w) => w.reason)).toContain(
      'labels/img.txt was already written for another task (images share the name img.png); it is kept',
    );
    // The format's own warnings name it (a run of several formats lists each format's).
    const own = report.warnings.filter((w) => /already written|no annotation/.test(w.reason));
    expect(own.map((w) => w.format)).toEqual(own.map(() => 'YOLO_WITH_IMAGES'));
    expect(own.length).toBeGreaterThanOrEqual(2);
  });

  it('labels outside the config are added as classes with len(categories), and reported', async () => {
    const tasks = [
      task(1, '/img.png', [rect({ x: 0, y: 0, width: 10, height: 10, rectanglelabels: ['Unknown'] })]),
    ];
    const { sink, report } = await exportWith(tasks, SPEC_CONFIG, 'YOLO');
    expect(sink.text('labels/a952824e__img.txt')).toBe('6 0.05 0.05 0.1 0.1\n');
    expect(sink.text('classes.txt').split('\n')[6]).toBe('Unknown');
    expect(report.warnings[0].reason).toMatch(
      /"Unknown" is not in the label config; it was added as category 6/,
    );
  });

  it('bad regions are reported, never a crash: missing or null coordinates, bad points, short polygons, outside the image', async () => {
    const tasks = [
      task(1, '/img.png', [
        rect({ y: 0, width: 10, height: 10, rectanglelabels: ['Cat'] }),
        rect({ x: null, y: 0, width: 10, height: 10, rectanglelabels: ['Cat'] }),
        rect({ x: 'a', y: 0, width: 10, height: 10, rectanglelabels: ['Cat'] }),
        rect({ rectanglelabels: ['Cat'] }),
        rect({ x: -10, y: 95, width: 20, height: 10, rectanglelabels: ['Cat'] }),
        rect({ x: 0, y: 0, width: 10, height: 10, rectanglelabels: [5] }),
        poly([[10, 10, 3]]),
        poly('nope'),
        poly([
          [10, 10],
          [20, 20],
        ]),
        { from_name: 'poly', to_name: 'image', type: 'polygonlabels', value: { polygonlabels: ['Dog'] } },
      ]),
    ];
    const { sink, report } = await exportWith(tasks, SPEC_CONFIG, 'YOLO');
    expect(sink.text('labels/a952824e__img.txt')).toBe('0 0.0 1.0 0.2 0.1\n1 0.1 0.1 0.2 0.2\n');
    const reasons = [...report.skipped, ...report.warnings].map((e) => e.reason);
    // The report counts an identical entry of one task once.
    expect(reasons.filter((r) => r.includes('lacks numeric x/y/width/height'))).toHaveLength(1);
    expect(reasons).toContain('label 5 is not a string; it is left out');
    expect(reasons.filter((r) => r.includes('not [x, y] number pairs'))).toHaveLength(1);
    expect(reasons).toContain('a polygon has no points; it is left out');
    expect(reasons).toContain(
      'a polygon has 2 points; it is written as Label Studio writes it (YOLO loaders may read a 5-column line as a box)',
    );
    // 10 results: 2 written, 8 left out, each one counted.
    expect(report.toJSON().regions).toEqual({ YOLO: { exported: 2, skipped: 8 } });
    expect(reasons.filter((r) => r.includes('outside the image'))).toHaveLength(1);
  });

  it('fix clip-coordinates clips regions to the image', async () => {
    const tasks = [
      task(1, '/img.png', [rect({ x: -10, y: 95, width: 20, height: 10, rectanglelabels: ['Cat'] })]),
    ];
    const { sink, report } = await exportWith(tasks, SPEC_CONFIG, 'YOLO', { fixClipCoordinates: true });
    expect(sink.text('labels/a952824e__img.txt')).toBe('0 0.05 0.975 0.1 0.05\n');
    expect(report.warningCount).toBe(0);
  });

  it('a task without an image value or data key is reported', async () => {
    const { sink, report } = await exportWith(
      [{ id: 1, data: { other: 1 }, annotations: [] }],
      SPEC_CONFIG,
      'YOLO',
    );
    expect([...sink.files.keys()].filter((k) => k.startsWith('labels/'))).toEqual([]);
    expect(report.skipped[0].reason).toMatch(/data\["image"\] is not an image URL/);
  });

  it('a multi-page image list uses its last page for the file name, with all regions in it', async () => {
    const tasks = [
      task(
        1,
        ['/p1.png', '/p2.png'],
        [rect({ x: 0, y: 0, width: 10, height: 10, rectanglelabels: ['Cat'] })],
      ),
    ];
    const { sink } = await exportWith(tasks, SPEC_CONFIG, 'YOLO_WITH_IMAGES', {}, new FakeMedia({}));
    expect([...sink.files.keys()].filter((k) => k.startsWith('labels/'))).toEqual(['labels/p2.txt']);
  });
});

describe('YOLO OBB (docs/label-studio-behaviour.md#yolo-obb, docs/label-studio-behaviour.md#reference-tests test_convert_to_yolo_obb)', () => {
  const OBB_DATA = fixture('test_export_yolo/data_obb.json');
  const OBB_CONFIG = fixture('test_export_yolo/label_config_obb.xml');

  it('writes 9-field corner lines; classes butterfly (config) then Butterfly (added)', async () => {
    const { sink } = await exportWith(OBB_DATA, OBB_CONFIG, 'YOLO_OBB_WITH_IMAGES', {}, new FakeMedia({}));
    expect(lines(sink.text('labels/image1.txt'))).toHaveLength(23);
    expect(lines(sink.text('labels/image2.txt'))).toHaveLength(1);
    expect(lines(sink.text('labels/image3.txt'))).toHaveLength(1);
    for (const f of ['image1', 'image2', 'image3']) {
      for (const line of lines(sink.text(`labels/${f}.txt`))) expect(line.split(' ')).toHaveLength(9);
    }
    expect(sink.text('labels/image2.txt')).toBe(
      '1 0.05695220963642262 0.4359434330542485 0.7706700208003349 0.32916120991714576 0.8818372301503987 0.5653491034294141 0.16811941898648647 0.6721313265665169\n',
    );
    expect(sink.text('classes.txt')).toBe('butterfly\nButterfly\n');
  });

  it('label-only YOLO_OBB uses hashed names', async () => {
    const { sink } = await exportWith(OBB_DATA, OBB_CONFIG, 'YOLO_OBB');
    expect([...sink.files.keys()].filter((k) => k.startsWith('labels/')).sort()).toEqual([
      'labels/3d738ebf__image3.txt',
      'labels/718f1d05__image1.txt',
      'labels/eee3b1dc__image2.txt',
    ]);
  });

  it('the spec example (200×100, rotation 30) and the multi-label duplication', async () => {
    const tasks = [
      task(1, '/img.png', [
        rect({ x: 10, y: 20, width: 30, height: 40, rotation: 30, rectanglelabels: ['Zebra'] }),
      ]),
    ];
    const { sink } = await exportWith(tasks, SPEC_CONFIG, 'YOLO_OBB');
    expect(sink.text('labels/a952824e__img.txt')).toBe(
      '2 0.1 0.2 0.3598076211353316 0.5 0.2598076211353316 0.8464101615137756 1.7763568394002505e-17 0.5464101615137755\n',
    );
  });

  it('drops a rectangle missing any required key (reported); fix obb-default-rotation keeps an unrotated one', async () => {
    const full = { x: 10, y: 20, width: 30, height: 40, rotation: 0, rectanglelabels: ['Cat'] };
    const results = ['x', 'y', 'width', 'height', 'rotation'].map((k) => {
      const value: Record<string, unknown> = { ...full };
      delete value[k];
      return rect(value);
    });
    const tasks = [task(1, '/img.png', results)];
    const { sink, report } = await exportWith(tasks, SPEC_CONFIG, 'YOLO_OBB');
    expect(sink.text('labels/a952824e__img.txt')).toBe('');
    // Four "lacks x/y/width/height" entries (one per task in the report) and the missing rotation.
    expect(report.skipped.map((e) => e.reason)).toEqual([
      'a rectangle lacks numeric x/y/width/height; it is left out',
      'a rectangle has no rotation; YOLO OBB leaves it out as Label Studio does (--fix obb-default-rotation keeps it)',
    ]);
    const fixed = await exportWith(tasks, SPEC_CONFIG, 'YOLO_OBB', { fixObbDefaultRotation: true });
    expect(fixed.sink.text('labels/a952824e__img.txt')).toBe('0 0.1 0.2 0.4 0.2 0.4 0.6 0.1 0.6\n');
  });

  it('takes a missing original size from the image header; without a reachable image the region is reported', async () => {
    const tasks = [
      task(1, '/img.png', [
        rect({ x: 10, y: 20, width: 30, height: 40, rotation: 30, rectanglelabels: ['Zebra'] }, {}),
      ]),
    ];
    const media = new FakeMedia({ '/img.png': pngBytes(200, 100) });
    const { sink } = await exportWith(tasks, SPEC_CONFIG, 'YOLO_OBB', {}, media);
    // An existing local path keeps its own name.
    expect(sink.text('labels/img.txt')).toBe(
      '2 0.1 0.2 0.3598076211353316 0.5 0.2598076211353316 0.8464101615137756 1.7763568394002505e-17 0.5464101615137755\n',
    );
    const missing = await exportWith(tasks, SPEC_CONFIG, 'YOLO_OBB');
    expect(missing.sink.text('labels/a952824e__img.txt')).toBe('');
    expect(missing.report.skipped[0].reason).toMatch(
      /no usable original_width\/original_height and the size of \/img.png cannot be read/,
    );
  });
});

describe('YOLO with images (docs/label-studio-behaviour.md#yolo-label-files, test_yolo_with_images, test_yolo_cloud_images)', () => {
  it('copies images into images/: uploads under their basename, URLs under <md5_8>__<name>', async () => {
    const png = pngBytes(4, 3);
    const jpg = jpegBytes(8, 6);
    const media = new FakeMedia({
      '/data/upload/7/a.png': png,
      'https://cdn.example.com/x/photo.jpg?s=1': jpg,
    });
    const tasks = [
      task(1, '/data/upload/7/a.png', [
        rect({ x: 0, y: 0, width: 10, height: 10, rectanglelabels: ['Cat'] }),
      ]),
      task(2, 'https://cdn.example.com/x/photo.jpg?s=1', [
        rect({ x: 0, y: 0, width: 10, height: 10, rectanglelabels: ['Cat'] }),
      ]),
    ];
    const { sink, report } = await exportWith(tasks, SPEC_CONFIG, 'YOLO_WITH_IMAGES', {}, media);
    const jpgName = `${'b12be183'}__photo.jpg`;
    expect(sink.files.get('images/a.png')).toEqual(png);
    expect([...sink.files.keys()].filter((k) => k.startsWith('images/')).sort()).toEqual([
      'images/a.png',
      `images/${jpgName}`,
    ]);
    expect(sink.files.get(`images/${jpgName}`)).toEqual(jpg);
    expect(sink.text('labels/a.txt')).toBe('0 0.05 0.05 0.1 0.1\n');
    expect(sink.text(`labels/${jpgName.replace('.jpg', '.txt')}`)).toBe('0 0.05 0.05 0.1 0.1\n');
    expect(report.warningCount).toBe(0);
  });

  it('unresolved upload paths are reported, and keep their raw name', async () => {
    const tasks = [
      task(1, '/data/upload/7/a.png', [
        rect({ x: 0, y: 0, width: 10, height: 10, rectanglelabels: ['Cat'] }),
      ]),
    ];
    const { sink, report } = await exportWith(tasks, SPEC_CONFIG, 'YOLO_WITH_IMAGES', {}, new FakeMedia({}));
    expect(sink.text('labels/a.txt')).toBe('0 0.05 0.05 0.1 0.1\n');
    expect(report.warnings[0].reason).toMatch(/Label Studio upload paths need the upload folder/);
  });

  it('cloud images that cannot be fetched get no label file (no orphan labels)', async () => {
    for (const uri of [
      'gs://bucket/photo.jpg',
      's3://bucket/photo.jpg',
      'azure-blob://container/photo.jpg',
    ]) {
      const tasks = [task(1, uri, [rect({ x: 0, y: 0, width: 10, height: 10, rectanglelabels: ['Cat'] })])];
      const { sink, report } = await exportWith(
        tasks,
        SPEC_CONFIG,
        'YOLO_WITH_IMAGES',
        {},
        new FakeMedia({}),
      );
      expect(
        [...sink.files.keys()].filter((k) => k.startsWith('images/') || k.startsWith('labels/')),
      ).toEqual([]);
      expect(report.skipped[0].reason).toMatch(/no label file is written/);
    }
  });

  it('a fetched cloud image is copied under the reference cache name of its URI, with its label', async () => {
    const jpg = jpegBytes(8, 6);
    const tasks = [
      task(42, 's3://bucket/a/photo.jpg', [
        rect({ x: 0, y: 0, width: 10, height: 10, rectanglelabels: ['Cat'] }),
      ]),
    ];
    const { sink } = await exportWith(
      tasks,
      SPEC_CONFIG,
      'YOLO_WITH_IMAGES',
      {},
      new FakeMedia({ 's3://bucket/a/photo.jpg': jpg }),
    );
    expect([...sink.files.keys()].filter((k) => k.startsWith('images/'))).toEqual([
      'images/3681e5b9__photo.jpg',
    ]);
    expect(sink.text('labels/3681e5b9__photo.txt')).toBe('0 0.05 0.05 0.1 0.1\n');
  });

  it('a storage-proxy image fetched with a Label Studio URL configured is named <md5_8>__1.jpg', async () => {
    const url = '/storage-data/uploaded/?filepath=upload/5/1.jpg';
    const tasks = [task(1, url, [rect({ x: 0, y: 0, width: 10, height: 10, rectanglelabels: ['Cat'] })])];
    const media = new FakeMedia({ [url]: jpegBytes(8, 6) });
    const { sink } = await exportWith(
      tasks,
      SPEC_CONFIG,
      'YOLO_WITH_IMAGES',
      { labelStudioUrl: 'http://ls.example.com' },
      media,
    );
    // md5("http://ls.example.com/storage-data/uploaded/?filepath=upload/5/1.jpg")[:8], as the reference fetches it.
    expect([...sink.files.keys()].filter((k) => k.startsWith('images/'))).toEqual(['images/06e52cd1__1.jpg']);
    expect(sink.exists('labels/06e52cd1__1.txt')).toBe(true);
  });

  it('an existing local image is used in place and not copied (quirk); fix copy-local-images copies it', async () => {
    const png = pngBytes(4, 3);
    const media = new FakeMedia({ '/abs/local.png': png });
    const tasks = [
      task(1, '/abs/local.png', [rect({ x: 0, y: 0, width: 10, height: 10, rectanglelabels: ['Cat'] })]),
    ];
    const plain = await exportWith(tasks, SPEC_CONFIG, 'YOLO_WITH_IMAGES', {}, media);
    expect([...plain.sink.files.keys()].filter((k) => k.startsWith('images/'))).toEqual([]);
    expect(plain.sink.text('labels/local.txt')).toBe('0 0.05 0.05 0.1 0.1\n');
    const fixed = await exportWith(
      tasks,
      SPEC_CONFIG,
      'YOLO_WITH_IMAGES',
      { fixCopyLocalImages: true },
      media,
    );
    expect(fixed.sink.files.get('images/local.png')).toEqual(png);
  });

  it('YOLO_OBB_WITH_IMAGES and YOLO_WITH_IMAGES integration on the fixtures', async () => {
    const obb = await exportWith(
      fixture('test_export_yolo/data_obb.json'),
      fixture('test_export_yolo/label_config_obb.xml'),
      'YOLO_OBB_WITH_IMAGES',
      {},
      new FakeMedia({}),
    );
    for (const f of ['image1', 'image2', 'image3'])
      expect(obb.sink.text(`labels/${f}.txt`).length).toBeGreaterThan(0);
    expect(obb.sink.text('classes.txt').length).toBeGreaterThan(0);
    expect(obb.sink.exists('notes.json')).toBe(true);
    const plain = await exportWith(YOLO_DATA, YOLO_CONFIG, 'YOLO_WITH_IMAGES', {}, new FakeMedia({}));
    for (const f of ['image1', 'image2'])
      expect(plain.sink.text(`labels/${f}.txt`).length).toBeGreaterThan(0);
    expect(lines(plain.sink.text('classes.txt')).length).toBeGreaterThanOrEqual(2);
  });
});
