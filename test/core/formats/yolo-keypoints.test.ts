import { describe, expect, it } from 'vitest';
import { parseLabelConfig } from '../../../functions/core/config/label-config.ts';
import { keypointLabelText } from '../../../functions/core/formats/yolo-keypoints.ts';
import { keypointOrder, yoloKeypointCategories } from '../../../functions/core/images/categories.ts';
import type { JsonObject } from '../../../functions/core/json/value.ts';
import { Report } from '../../../functions/core/report.ts';
import { exportWith, fixture } from '../../helpers/export.ts';

const task = (id: number, image: unknown, ...results: unknown[][]) => ({
  id,
  data: { image },
  annotations: results.map((result, i) => ({
    id: id * 10 + i,
    created_at: `2024-01-0${9 - i}T00:00:00Z`,
    result,
  })),
});

describe('YOLO keypoints (docs/label-studio-behaviour.md#yolo-keypoints, docs/label-studio-behaviour.md#reference-tests test_export_keypoints_yolo)', () => {
  const KP_CONFIG = fixture('test_export_yolo/label_config_keypoints.xml');

  it('writes the observed keypoint line, no trailing newline', async () => {
    const { sink } = await exportWith(fixture('test_export_yolo/data_keypoints.json'), KP_CONFIG, 'YOLO');
    expect([...sink.files.keys()].filter((k) => k.startsWith('labels/'))).toEqual(['labels/image1.txt']);
    const text = sink.text('labels/image1.txt');
    expect(text.endsWith('\n')).toBe(false);
    expect(
      text.startsWith(
        '0 0.6250197005516155 0.3312056737588653 0.47304964539007094 0.5092198581560283 0.6444444444444444 0.39290780141843973 2 0.5838849487785658 0.3078014184397163 2 0.7050039401103231 0.3219858156028369 2 0.0 0.0 0 0.0 0.0 0',
      ),
    ).toBe(true);
    const fields = text.split(' ');
    expect(fields).toHaveLength(5 + 17 * 3);
    const kps = fields.slice(5);
    for (let i = 0; i < kps.length; i += 3) {
      expect(Number(kps[i])).toBeGreaterThanOrEqual(0);
      expect(Number(kps[i])).toBeLessThanOrEqual(1);
    }
    expect(sink.text('classes.txt')).toBe('person\n');
    expect(JSON.parse(sink.text('notes.json')).categories[0].keypoints).toHaveLength(17);
  });

  const kpConfig = `<View><Image name="image" value="$image"/>
    <KeyPointLabels name="kp" toName="image"><Label value="nose" model_index="0"/></KeyPointLabels>
    <RectangleLabels name="rect" toName="image"><Label value="classA"/></RectangleLabels></View>`;
  const rectKp = (id: string, labels: string[]) => ({
    id,
    from_name: 'rect',
    to_name: 'image',
    type: 'rectanglelabels',
    value: { x: 10, y: 20, width: 30, height: 40, rectanglelabels: labels },
  });
  const kp = (parentID: string, labels: string[]) => ({
    id: 'k',
    parentID,
    from_name: 'kp',
    to_name: 'image',
    type: 'keypointlabels',
    value: { x: 50, y: 60, keypointlabels: labels },
  });

  it('a rectangle with no label gives an empty file (as Label Studio); both regions are reported', async () => {
    const { sink, report } = await exportWith(
      [task(1, '/i.png', [rectKp('r1', []), kp('r1', ['nose'])])],
      kpConfig,
      'YOLO',
    );
    expect(sink.text('labels/d73e1615__i.txt')).toBe('');
    expect(report.skipped.map((e) => [e.type, e.reason])).toEqual([
      ['rectanglelabels', 'a rectangle has no label; YOLO keypoint lines need one, it is left out'],
      [
        'keypointlabels',
        'a keypoint has no parent rectangle (parentID); YOLO keypoint lines need one, it is left out',
      ],
    ]);
    expect(report.toJSON().regions).toEqual({ YOLO: { exported: 0, skipped: 2 } });
  });

  it('the skip reasons name the format that runs (YOLO_OBB, not YOLO)', async () => {
    const { report } = await exportWith(
      [task(1, '/i.png', [rectKp('r1', []), kp('r1', ['nose']), rectKp('r2', ['unknown'])])],
      kpConfig,
      'YOLO_OBB',
    );
    expect(report.skipped.map((e) => [e.type, e.reason])).toEqual([
      ['rectanglelabels', 'a rectangle has no label; YOLO_OBB keypoint lines need one, it is left out'],
      [
        'rectanglelabels',
        'label "unknown" is not in the label config; YOLO_OBB keypoint classes come from it',
      ],
      [
        'keypointlabels',
        'a keypoint has no parent rectangle (parentID); YOLO_OBB keypoint lines need one, it is left out',
      ],
    ]);
    expect(report.toJSON().regions).toEqual({ YOLO_OBB: { exported: 0, skipped: 3 } });
  });

  it('a keypoint with no label leaves exactly one line with an invisible slot', async () => {
    const { sink } = await exportWith(
      [task(1, '/i.png', [rectKp('r1', ['classA']), kp('r1', [])])],
      kpConfig,
      'YOLO_OBB',
    );
    expect(sink.text('labels/d73e1615__i.txt')).toBe('0 0.25 0.4 0.3 0.4 0.0 0.0 0');
  });

  it('keypoints attach to their parent rectangle by id', async () => {
    const { sink } = await exportWith(
      [
        task(1, '/i.png', [
          rectKp('r1', ['classA']),
          rectKp('r2', ['unknown']),
          kp('r1', ['nose']),
          kp('r2', ['nose']),
        ]),
      ],
      kpConfig,
      'YOLO',
    );
    expect(sink.text('labels/d73e1615__i.txt')).toBe('0 0.25 0.4 0.3 0.4 0.5 0.6 2');
  });
});

describe('keypointLabelText', () => {
  const schema = parseLabelConfig(`<View><Image name="image" value="$image"/>
    <KeyPointLabels name="kp" toName="image"><Label value="b" model_index="1"/><Label value="a" model_index="0"/></KeyPointLabels>
    <RectangleLabels name="rect" toName="image"><Label value="person"/><Label value="car"/></RectangleLabels></View>`);
  const categories = yoloKeypointCategories(schema);
  const order = keypointOrder(schema);
  const r = (id: unknown, label: string, x: number): JsonObject =>
    ({ id, type: 'RectangleLabels', x, y: 0, width: 10, height: 20, rectanglelabels: [label] }) as JsonObject;
  const k = (parentID: unknown, label: string, x: number): JsonObject =>
    ({ id: 'k', parentID, type: 'KeyPointLabels', x, y: 50, keypointlabels: [label] }) as JsonObject;

  it('orders keypoints by model_index, keeps the last keypoint of a name and the first position of a repeated id', () => {
    const report = new Report();
    const text = keypointLabelText(
      [
        r('r1', 'car', 0),
        r('r2', 'person', 50),
        r('r1', 'person', 20),
        k('r1', 'b', 10),
        k('r1', 'b', 30),
        k('r2', 'a', 60),
        k('zz', 'a', 1),
      ],
      categories,
      order,
      report,
      { source: 't' },
    );
    expect(text).toBe('0 0.25 0.1 0.1 0.2 0.0 0.0 0 0.3 0.5 2\n0 0.55 0.1 0.1 0.2 0.6 0.5 2 0.0 0.0 0');
    expect(report.skippedCount).toBe(0);
  });

  it('reports rectangles and keypoints without coordinates', () => {
    const report = new Report();
    const bad = { id: 'r', type: 'RectangleLabels', rectanglelabels: ['car'] } as JsonObject;
    const kpBad = { parentID: 'r1', type: 'KeyPointLabels', keypointlabels: ['a'] } as JsonObject;
    expect(
      keypointLabelText([bad, r('r1', 'car', 0), kpBad], categories, order, report, { source: 't' }),
    ).toBe('1 0.05 0.1 0.1 0.2 0.0 0.0 0 0.0 0.0 0');
    expect(report.skipped.map((s) => s.reason)).toEqual([
      'a rectangle lacks numeric x/y/width/height; it is left out',
      'keypoint "a" lacks numeric x/y; it is left out',
    ]);
  });
});
