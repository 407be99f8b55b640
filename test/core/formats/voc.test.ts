import { describe, expect, it } from 'vitest';
import { vocXml, xmlText } from '../../../functions/core/formats/voc.ts';
import { exportWith, fixture, MemorySink } from '../../helpers/export.ts';
import { FakeMedia, jpegBytes, pngBytes } from '../images/fake-media.ts';

const CONFIG = `<View>
  <Image name="image" value="$image"/>
  <Choices name="time" toName="image"><Choice value="day"/></Choices>
  <RectangleLabels name="rect" toName="image"><Label value="Zebra"/><Label value="Cat"/></RectangleLabels>
  <PolygonLabels name="poly" toName="image"><Label value="Dog"/></PolygonLabels>
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
const choice = { from_name: 'time', to_name: 'image', type: 'choices', value: { choices: ['day'] } };
const task = (id: number, image: unknown, completedBy: unknown, ...results: unknown[][]) => ({
  id,
  data: { image },
  annotations: results.map((result, i) => ({
    id: id * 10 + i,
    completed_by: completedBy,
    created_at: `2024-01-0${9 - i}T00:00:00Z`,
    result,
  })),
});

// docs/label-studio-behaviour.md#voc, observed file (the rectangle had rotation 30, ignored).
const OBSERVED = `<?xml version="1.0" encoding="utf-8"?>
<annotation>
<folder>images</folder>
<filename>local.jpg</filename>
<source>
<database>MyDatabase</database>
<annotation>COCO2017</annotation>
<image>flickr</image>
<flickrid>NULL</flickrid>
<annotator>a&amp;b&lt;c&gt;@x.com</annotator>
</source>
<owner>
<flickrid>NULL</flickrid>
<name>Label Studio</name>
</owner>
<size>
<width>200</width>
<height>100</height>
<depth>3</depth>
</size>
<segmented>0</segmented>
<object>
<name>Zebra</name>
<pose>Unspecified</pose>
<truncated>0</truncated>
<difficult>0</difficult>
<bndbox>
<xmin>20</xmin>
<ymin>20</ymin>
<xmax>80</xmax>
<ymax>60</ymax>
</bndbox>
</object>
</annotation>
`;

const ZEBRA = rect({ x: 10, y: 20, width: 30, height: 40, rotation: 30, rectanglelabels: ['Zebra'] });

describe('VOC (docs/label-studio-behaviour.md#voc)', () => {
  it('writes the observed file byte for byte (existing local image: used in place, depth 3)', async () => {
    const media = new FakeMedia({ '/work/pics/local.jpg': jpegBytes(200, 100, 1) });
    const tasks = [task(1, '/work/pics/local.jpg', { id: 1, email: 'a&b<c>@x.com' }, [ZEBRA])];
    const { sink, report } = await exportWith(tasks, CONFIG, 'VOC', {}, media);
    expect([...sink.files.keys()]).toEqual(['Annotations/local.xml']);
    expect(sink.text('Annotations/local.xml')).toBe(OBSERVED);
    expect(report.skippedCount + report.warningCount).toBe(0);
  });

  it("writes a task's VOC file once, with its oldest annotation's objects (not once per annotation)", async () => {
    const sink = new MemorySink();
    const media = new FakeMedia({ '/work/pics/local.jpg': jpegBytes(200, 100, 1) });
    const cat = rect({ x: 50, y: 10, width: 20, height: 20, rectanglelabels: ['Cat'] });
    const tasks = [task(1, '/work/pics/local.jpg', 1, [ZEBRA], [cat], [ZEBRA, cat])];
    const { report } = await exportWith(tasks, CONFIG, 'VOC', { vocImages: false }, media, sink);
    expect(sink.writes).toEqual(['Annotations/local.xml']);
    // Newest first: the oldest annotation (created_at 2024-01-07) is written last and stays.
    const xml = sink.text('Annotations/local.xml');
    expect(xml.match(/<name>(\w+)<\/name>/g)).toEqual(['<name>Zebra</name>', '<name>Cat</name>']);
    expect(report.toJSON().regions).toEqual({ VOC: { exported: 2, skipped: 2 } });
  });

  it('includes images by default: copied under the cache name, depth read from the file', async () => {
    const media = new FakeMedia({
      'https://h/img.png': pngBytes(200, 100, 6),
      '/data/upload/2/g.png': pngBytes(200, 100, 0),
    });
    const tasks = [task(1, 'https://h/img.png', 7, [ZEBRA]), task(2, '/data/upload/2/g.png', 7, [ZEBRA])];
    const { sink } = await exportWith(tasks, CONFIG, 'VOC', {}, media);
    expect([...sink.files.keys()].sort()).toEqual([
      'Annotations/d8f35368__img.xml',
      'Annotations/g.xml',
      'images/d8f35368__img.png',
      'images/g.png',
    ]);
    const xml = sink.text('Annotations/d8f35368__img.xml');
    expect(xml).toContain('<filename>d8f35368__img.png</filename>');
    expect(xml).toContain('<annotator>7</annotator>');
    expect(xml).toContain('<depth>4</depth>');
    expect(sink.text('Annotations/g.xml')).toContain('<depth>1</depth>');
  });

  it('an unreachable image keeps its raw name (the reference test run), reported', async () => {
    const { sink, report } = await exportWith(
      fixture('test_export_yolo/data.json'),
      fixture('test_export_yolo/label_config.xml'),
      'VOC',
      {},
      new FakeMedia({}),
    );
    expect([...sink.files.keys()].sort()).toEqual(['Annotations/image1.xml', 'Annotations/image2.xml']);
    // Oldest annotation (user 2) wins: x 37.158…% of 2800 = 1040.
    const xml = sink.text('Annotations/image1.xml');
    expect(xml).toContain('<annotator>2</annotator>');
    expect(xml).toContain('<xmin>1040</xmin>\n<ymin>1978</ymin>\n<xmax>1157</xmax>\n<ymax>2110</ymax>');
    expect(report.warnings.map((w) => w.reason)).toContain(
      'image /image1 could not be fetched: /image1: not found; it is not included',
    );
    const newest = await exportWith(
      fixture('test_export_yolo/data.json'),
      fixture('test_export_yolo/label_config.xml'),
      'VOC',
      { fixNewestAnnotationWins: true },
      new FakeMedia({}),
    );
    expect(newest.sink.text('Annotations/image1.xml')).toContain('<annotator>1</annotator>');
  });

  it('vocImages: false names images as a label-only export, without copying', async () => {
    const tasks = [task(1, 'https://h/img.png', 7, [ZEBRA])];
    const { sink } = await exportWith(
      tasks,
      CONFIG,
      'VOC',
      { vocImages: false },
      new FakeMedia({ 'https://h/img.png': pngBytes(2, 2) }),
    );
    expect([...sink.files.keys()]).toEqual(['Annotations/d8f35368__img.xml']);
    expect(sink.text('Annotations/d8f35368__img.xml')).toContain('<depth>3</depth>');
  });

  it('size comes from the first region only: a leading Choices result means no file unless the header can be read', async () => {
    const tasks = [task(1, '/p/a.png', 7, [choice, ZEBRA])];
    const { sink, report } = await exportWith(tasks, CONFIG, 'VOC', {}, new FakeMedia({}));
    expect([...sink.files.keys()]).toEqual([]);
    expect(report.skipped[0].reason).toMatch(
      /no VOC file for task image \/p\/a.png: its first region has no original_width\/original_height/,
    );
    const read = await exportWith(
      tasks,
      CONFIG,
      'VOC',
      {},
      new FakeMedia({ '/p/a.png': pngBytes(400, 300) }),
    );
    const xml = read.sink.text('Annotations/a.xml');
    expect(xml).toContain('<width>400</width>\n<height>300</height>');
    expect(xml).toContain('<xmin>40</xmin>\n<ymin>60</ymin>\n<xmax>160</xmax>\n<ymax>180</ymax>');
  });

  it('prints sizes as Python str() does and truncates each coordinate separately', async () => {
    const text = `[{"id": 1, "data": {"image": "/q/b.png"}, "annotations": [{"id": 1, "completed_by": {"id": 3}, "result": [
      {"from_name": "rect", "to_name": "image", "type": "rectanglelabels", "original_width": 640.0, "original_height": 100,
       "value": {"x": 33.3333, "y": 10.9, "width": 33.3333, "height": 10.9, "rectanglelabels": ["Cat", "Zebra"]}}]}]}]`;
    const { sink } = await exportWith(text, CONFIG, 'VOC', {}, new FakeMedia({}));
    const xml = sink.text('Annotations/b.xml');
    expect(xml).toContain('<annotator></annotator>');
    expect(xml).toContain('<width>640.0</width>\n<height>100</height>');
    // Truncated one by one: y int(10.9) + int(10.9) = 20, where int(21.8) would be 21.
    expect(xml).toContain('<name>Cat</name>');
    expect(xml).toContain('<xmin>213</xmin>\n<ymin>10</ymin>\n<xmax>426</xmax>\n<ymax>20</ymax>');
  });

  it('no file for an image without regions; --fix keep-negative-images writes one without objects', async () => {
    const tasks = [{ id: 1, data: { image: '/p/a.png' }, annotations: [] }];
    const media = new FakeMedia({ '/p/a.png': pngBytes(40, 30) });
    const plain = await exportWith(tasks, CONFIG, 'VOC', {}, media);
    expect([...plain.sink.files.keys()]).toEqual([]);
    const kept = await exportWith(tasks, CONFIG, 'VOC', { fixKeepNegativeImages: true }, media);
    const xml = kept.sink.text('Annotations/a.xml');
    expect(xml).toContain('<width>40</width>\n<height>30</height>');
    expect(xml).not.toContain('<object>');
    expect(xml.endsWith('<segmented>0</segmented>\n</annotation>\n')).toBe(true);
  });

  it('fix rotated-bbox boxes the rotated rectangle; fix clip-coordinates clips it', async () => {
    const tasks = [task(1, '/p/a.png', 7, [ZEBRA])];
    const { sink } = await exportWith(
      tasks,
      CONFIG,
      'VOC',
      { fixRotatedBbox: true, fixClipCoordinates: true },
      new FakeMedia({}),
    );
    // Pixel corners span x 0…71.96, y 20…84.64 on 200×100.
    expect(sink.text('Annotations/a.xml')).toContain(
      '<xmin>0</xmin>\n<ymin>20</ymin>\n<xmax>71</xmax>\n<ymax>84</ymax>',
    );
  });

  it('bad regions are reported, never a crash', async () => {
    const tasks = [
      task(1, '/p/a.png', null, [
        rect({ y: 1, width: 2, height: 3, rectanglelabels: ['Cat'] }),
        rect({ x: -10, y: 1, width: 20, height: 3, rectanglelabels: ['Cat'] }),
        rect({ x: 1, y: 1, width: 2, height: 3, rectanglelabels: [] }),
      ]),
    ];
    const { sink, report } = await exportWith(tasks, CONFIG, 'VOC', {}, new FakeMedia({}));
    const xml = sink.text('Annotations/a.xml');
    expect(xml).toContain('<annotator>None</annotator>');
    expect(xml.match(/<object>/g)).toHaveLength(1);
    expect(xml).toContain('<xmin>-20</xmin>');
    expect(report.skipped.map((s) => s.reason)).toContain(
      'a rectangle lacks numeric x/y/width/height; it is left out',
    );
    expect(report.warnings.map((s) => s.reason)).toContain(
      'a region extends outside the image; written as drawn (--fix clip-coordinates clips it)',
    );
  });

  it('escapes text as Python 3.12 minidom does', () => {
    expect(xmlText('a"b\'c&<>')).toBe("a&quot;b'c&amp;&lt;&gt;");
    expect(xmlText('plain Ölfass')).toBe('plain Ölfass');
  });

  it('vocXml: every text escaped, an empty text as <tag></tag>, objects in order', () => {
    const xml = vocXml({
      folder: 'a<b',
      filename: 'x&y.jpg',
      annotator: '',
      width: '640.5',
      height: '"480"',
      depth: 1,
      objects: [
        { name: 'Car>', xmin: -3, ymin: 0, xmax: 10, ymax: 20 },
        { name: 'Hund', xmin: 1, ymin: 2, xmax: 3, ymax: 4 },
      ],
    });
    const object = (name: string, [a, b, c, d]: number[]) =>
      `<object>\n<name>${name}</name>\n<pose>Unspecified</pose>\n<truncated>0</truncated>\n<difficult>0</difficult>\n` +
      `<bndbox>\n<xmin>${a}</xmin>\n<ymin>${b}</ymin>\n<xmax>${c}</xmax>\n<ymax>${d}</ymax>\n</bndbox>\n</object>\n`;
    expect(xml).toBe(
      OBSERVED.replace('<folder>images', '<folder>a&lt;b')
        .replace('local.jpg', 'x&amp;y.jpg')
        .replace('a&amp;b&lt;c&gt;@x.com', '')
        .replace('<width>200', '<width>640.5')
        .replace('<height>100', '<height>&quot;480&quot;')
        .replace('<depth>3', '<depth>1')
        .replace(
          /<object>[\s\S]*<\/object>\n/,
          object('Car&gt;', [-3, 0, 10, 20]) + object('Hund', [1, 2, 3, 4]),
        ),
    );
  });
});
