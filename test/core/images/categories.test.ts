import { describe, expect, it } from 'vitest';
import { parseLabelConfig } from '../../../functions/core/config/label-config.ts';
import {
  compareCodePoints,
  keypointOrder,
  labelCategories,
  mergeKeypointCategories,
  pyInt,
  yoloKeypointCategories,
} from '../../../functions/core/images/categories.ts';
import { Report } from '../../../functions/core/report.ts';

const SPEC_CONFIG = `<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="rect" toName="image">
    <Label value="Zebra"/><Label value="Cat"/><Label value="apple" category="5"/>
  </RectangleLabels>
  <PolygonLabels name="poly" toName="image"><Label value="Dog"/><Label value="Cat"/></PolygonLabels>
  <Choices name="time" toName="image"><Choice value="day"/><Choice value="night"/></Choices>
</View>`;

const where = { source: 't' };

describe('categories (docs/label-studio-behaviour.md#coco-categories)', () => {
  it('reproduces the spec example: explicit first, then code-point sorted, unknown labels appended with len()', () => {
    const report = new Report();
    const table = labelCategories(parseLabelConfig(SPEC_CONFIG), {}, report);
    expect(table.idFor('NotInConfig', where)).toBe(6);
    expect(table.list).toEqual([
      { id: 5, name: 'apple' },
      { id: 0, name: 'Cat' },
      { id: 1, name: 'Dog' },
      { id: 2, name: 'Zebra' },
      { id: 3, name: 'day' },
      { id: 4, name: 'night' },
      { id: 6, name: 'NotInConfig' },
    ]);
    expect(report.warnings.map((w) => w.reason)).toEqual([
      expect.stringContaining('"NotInConfig" is not in the label config'),
    ]);
  });

  it('reports an unknown label whose len() id collides with an explicit id', () => {
    const report = new Report();
    const config = `<View><Image name="i" value="$i"/><RectangleLabels name="r" toName="i">
      <Label value="a"/><Label value="b" category="2"/></RectangleLabels></View>`;
    const table = labelCategories(parseLabelConfig(config), {}, report);
    expect(table.list).toEqual([
      { id: 2, name: 'b' },
      { id: 0, name: 'a' },
    ]);
    expect(table.idFor('new', where)).toBe(2);
    expect(report.warnings[0].reason).toMatch(/category 2, the id of "b" too/);
  });

  it('keeps explicit category ids (car 10, person 2, truck 7)', () => {
    const config = `<View><Image name="i" value="$i"/><RectangleLabels name="r" toName="i">
      <Label value="car" category="10"/><Label value="person" category="2"/><Label value="truck" category="7"/></RectangleLabels></View>`;
    const table = labelCategories(parseLabelConfig(config));
    expect(table.list).toEqual([
      { id: 10, name: 'car' },
      { id: 2, name: 'person' },
      { id: 7, name: 'truck' },
    ]);
  });

  it('warns about a category attribute that is not an integer and numbers the label automatically', () => {
    const report = new Report();
    const config = `<View><Image name="i" value="$i"/><RectangleLabels name="r" toName="i">
      <Label value="x" category="1.5"/><Label value="y" category=" +3 "/></RectangleLabels></View>`;
    const table = labelCategories(parseLabelConfig(config), {}, report);
    expect(table.list).toEqual([
      { id: 3, name: 'y' },
      { id: 0, name: 'x' },
    ]);
    expect(report.warnings[0].reason).toMatch(/category="1.5", not an integer/);
  });

  it('fix config-category-ids: config order, explicit ids kept, new labels get max + 1', () => {
    const table = labelCategories(parseLabelConfig(SPEC_CONFIG), { configOrder: true });
    expect(table.list.map((c) => [c.id, c.name])).toEqual([
      [0, 'Zebra'],
      [1, 'Cat'],
      [2, 'Dog'],
      [3, 'day'],
      [4, 'night'],
      [5, 'apple'],
    ]);
    expect(table.idFor('new', where)).toBe(6);
  });

  it('fix region-categories: Choices options are not categories', () => {
    const table = labelCategories(parseLabelConfig(SPEC_CONFIG), { regionOnly: true });
    expect(table.list.map((c) => c.name)).toEqual(['apple', 'Cat', 'Dog', 'Zebra']);
  });

  it('merges keypoint labels into one "default" category, the others keeping their ids (COCO)', () => {
    const schema = parseLabelConfig(`<View><Image name="image" value="$image"/>
      <RectangleLabels name="r" toName="image"><Label value="rectangle_label"/></RectangleLabels>
      <PolygonLabels name="p" toName="image"><Label value="polygon_label"/></PolygonLabels>
      <KeyPointLabels name="k" toName="image"><Label value="keypoint_label1" model_index="0"/><Label value="keypoint_label2" model_index="1"/></KeyPointLabels>
    </View>`);
    const merged = mergeKeypointCategories(labelCategories(schema), schema);
    expect(merged.list).toEqual([
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
    expect(merged.get('keypoint_label2')).toBe(4);
    expect(keypointOrder(schema)).toEqual(['keypoint_label1', 'keypoint_label2']);
  });

  it('orders keypoints by model_index, skipping missing and reused indexes', () => {
    const schema = parseLabelConfig(`<View><Image name="image" value="$image"/>
      <KeyPointLabels name="k" toName="image"><Label value="b" model_index="1"/><Label value="a" model_index="0"/>
        <Label value="c"/><Label value="d" model_index="1"/><Label value="e" model_index="x"/></KeyPointLabels>
      <RectangleLabels name="r" toName="image"><Label value="person"/><Label value="car"/></RectangleLabels>
    </View>`);
    expect(keypointOrder(schema)).toEqual(['a', 'b']);
    const yolo = yoloKeypointCategories(schema);
    expect(yolo.list.map((c) => [c.id, c.name, c.keypoints?.length])).toEqual([
      [0, 'person', 5],
      [1, 'car', 5],
    ]);
  });

  it('Python int() and code-point order', () => {
    expect(pyInt(' 1_000 ')).toBe(1000);
    expect(pyInt('-4')).toBe(-4);
    expect(pyInt('1__0')).toBeUndefined();
    expect(pyInt('0x10')).toBeUndefined();
    expect(pyInt(5.7)).toBe(5);
    const names = ['b', 'B', 'a', '\u{1F600}', '\uFF01'];
    expect(names.sort(compareCodePoints)).toEqual(['B', 'a', 'b', '\uFF01', '\u{1F600}']);
  });
});
