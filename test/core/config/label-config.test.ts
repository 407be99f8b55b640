import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  dataKeys,
  findControl,
  LabelConfigError,
  parseLabelConfig,
} from '../../../functions/core/config/label-config.ts';
import type { LabelSchema } from '../../../functions/core/config/schema.ts';

const FIXTURES = new URL('../../fixtures/label-studio/', import.meta.url);
const fixture = (path: string) => readFileSync(new URL(path, FIXTURES), 'utf8');

const names = (schema: LabelSchema) => [...schema.controls.keys()];
const control = (schema: LabelSchema, name: string) => {
  const c = schema.controls.get(name);
  if (!c) throw new Error(`no control ${name}`);
  return c;
};
const xml = (body: string) => parseLabelConfig(`<View>${body}</View>`);

describe('parseLabelConfig — reference fixtures', () => {
  it('test_export_coco: rectangle, polygon and keypoint controls on one image', () => {
    const schema = parseLabelConfig(fixture('test_export_coco/label_config.xml'));
    expect(names(schema)).toEqual(['rectangle_label', 'polygon_label', 'keypoint_label']);
    expect(control(schema, 'rectangle_label')).toEqual({
      name: 'rectangle_label',
      type: 'RectangleLabels',
      toName: ['image'],
      inputs: [{ type: 'Image', value: 'image' }],
      labels: ['rectangle_label'],
      labelsAttrs: { rectangle_label: { value: 'rectangle_label' } },
    });
    expect(control(schema, 'polygon_label').type).toBe('PolygonLabels');
    const kp = control(schema, 'keypoint_label');
    expect(kp.type).toBe('KeyPointLabels');
    expect(kp.labels).toEqual(['keypoint_label1', 'keypoint_label2']);
    expect(kp.labelsAttrs.keypoint_label2).toEqual({ value: 'keypoint_label2', model_index: '1' });
    expect(dataKeys(schema)).toEqual(['image']);
  });

  it('test_export_json_min: an unnamed Header is no input; label attributes keep document order', () => {
    const schema = parseLabelConfig(fixture('test_export_json_min/label_config.xml'));
    expect(names(schema)).toEqual(['label']);
    const label = control(schema, 'label');
    expect(label.type).toBe('PolygonLabels');
    expect(label.inputs).toEqual([{ type: 'Image', value: 'image' }]);
    expect(label.labels).toEqual(['Airplane', 'Car']);
    expect(Object.entries(label.labelsAttrs.Airplane)).toEqual([
      ['value', 'Airplane'],
      ['background', 'red'],
    ]);
    expect(label.labelsAttrs.Car.background).toBe('blue');
    expect(label.conditionals).toBeUndefined();
    expect(label.regex).toBeUndefined();
  });

  it('test_export_yolo: RectangleLabels with rgba backgrounds', () => {
    const schema = parseLabelConfig(fixture('test_export_yolo/label_config.xml'));
    const label = control(schema, 'label');
    expect(label.type).toBe('RectangleLabels');
    expect(label.toName).toEqual(['image']);
    expect(label.labels).toEqual(['parasites', 'white']);
    expect(label.labelsAttrs.parasites.background).toBe('rgba(218, 1, 238, 1)');
  });

  it('test_export_yolo keypoints: 17 keypoints with model_index, then the bbox control', () => {
    const schema = parseLabelConfig(fixture('test_export_yolo/label_config_keypoints.xml'));
    expect(names(schema)).toEqual(['keypoints', 'bbox']);
    const kp = control(schema, 'keypoints');
    expect(kp.labels).toHaveLength(17);
    expect(kp.labels.slice(0, 3)).toEqual(['nose', 'left_eye', 'right_eye']);
    expect(kp.labels[16]).toBe('right_ankle');
    expect(kp.labels.map((l) => kp.labelsAttrs[l].model_index)).toEqual(kp.labels.map((_, i) => String(i)));
    expect(control(schema, 'bbox')).toMatchObject({ type: 'RectangleLabels', labels: ['person'] });
  });

  it('test_export_yolo obb and polygons', () => {
    const obb = parseLabelConfig(fixture('test_export_yolo/label_config_obb.xml'));
    expect(control(obb, 'label').labelsAttrs).toEqual({
      butterfly: { value: 'butterfly', background: 'green' },
    });
    const polygons = parseLabelConfig(fixture('test_export_yolo/label_config_polygons.xml'));
    expect(control(polygons, 'label')).toMatchObject({ type: 'PolygonLabels', labels: ['Airplane', 'Car'] });
  });

  it('every XML fixture parses, each control reading the image', () => {
    const files = readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.xml'),
    );
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const file of files) {
      const schema = parseLabelConfig(fixture(file));
      expect(schema.controls.size, file).toBeGreaterThan(0);
      for (const c of schema.controls.values())
        expect(c.inputs, file).toEqual([{ type: 'Image', value: 'image' }]);
    }
  });
});

describe('parseLabelConfig — XML rules', () => {
  it('empty string is an empty schema; whitespace alone is malformed, as in the reference', () => {
    expect(parseLabelConfig('').controls.size).toBe(0);
    expect(parseLabelConfig('<View></View>').controls.size).toBe(0);
    expect(() => parseLabelConfig('  \n')).toThrow(LabelConfigError);
  });

  it('attaches a Label/Choice to the nearest registered control ancestor, however deep', () => {
    const schema = xml(`
      <Choices name="sentiment" toName="text">
        <View><View style="x"><Choice value="deep"/></View></View>
      </Choices>
      <Labels name="ner" toName="text">
        <View name="group"><Label value="PER"/></View>
      </Labels>
      <Label value="orphan"/>
      <Text name="text" value="$text"/>`);
    expect(control(schema, 'sentiment').labels).toEqual(['deep']);
    expect(control(schema, 'ner').labels).toEqual(['PER']);
    // The object tag comes after its controls and is still found.
    expect(control(schema, 'sentiment').inputs).toEqual([{ type: 'Text', value: 'text' }]);
  });

  it('label key is alias, else value; a label with neither is ignored', () => {
    const schema = xml(`
      <Text name="t" value="$t"/>
      <Choices name="c" toName="t">
        <Choice value="Positive" alias="pos"/>
        <Choice value="Negative" alias=""/>
        <Choice background="red"/>
      </Choices>`);
    const c = control(schema, 'c');
    expect(c.labels).toEqual(['pos', 'Negative']);
    expect(c.labelsAttrs.pos).toEqual({ value: 'Positive', alias: 'pos' });
    expect(c.labelsAttrs.Negative).toEqual({ value: 'Negative', alias: '' });
  });

  it('a repeated label keeps its first position and takes the later attributes', () => {
    const schema = xml(`
      <Image name="img" value="$img"/>
      <RectangleLabels name="r" toName="img">
        <Label value="A" background="red"/><Label value="B"/><Label value="A" background="blue" category="7"/>
      </RectangleLabels>`);
    const r = control(schema, 'r');
    expect(r.labels).toEqual(['A', 'B']);
    expect(r.labelsAttrs.A).toEqual({ value: 'A', background: 'blue', category: '7' });
  });

  it('a later control with the same name overwrites it in place; labels of both accumulate', () => {
    const schema = xml(`
      <Text name="t" value="$t"/>
      <Choices name="x" toName="t"><Choice value="one"/></Choices>
      <TextArea name="y" toName="t"/>
      <Labels name="x" toName="t"><Label value="two"/></Labels>`);
    expect(names(schema)).toEqual(['x', 'y']);
    expect(control(schema, 'x')).toMatchObject({ type: 'Labels', labels: ['one', 'two'] });
  });

  it('any tag with name + value is an object tag, e.g. a Header', () => {
    const schema = xml('<Header name="h" value="$$title"/><TextArea name="answer" toName="h"/>');
    expect(control(schema, 'answer').inputs).toEqual([{ type: 'Header', value: 'title' }]);
    expect(dataKeys(schema)).toEqual(['title']);
  });

  it('a valueList-only Image is not an input', () => {
    const schema = xml(
      '<Image name="pages" valueList="$pages"/><RectangleLabels name="r" toName="pages"><Label value="A"/></RectangleLabels>',
    );
    expect(control(schema, 'r').inputs).toEqual([]);
    expect(dataKeys(schema)).toEqual([]);
  });

  it('toName is split on commas without trimming; unknown names give no input', () => {
    const schema = xml(
      '<Text name="a" value="$a"/><Text name="b" value="$b"/><Choices name="c" toName="a,b, a,zz"/>',
    );
    const c = control(schema, 'c');
    expect(c.toName).toEqual(['a', 'b', ' a', 'zz']);
    expect(c.inputs).toEqual([
      { type: 'Text', value: 'a' },
      { type: 'Text', value: 'b' },
    ]);
    expect(dataKeys(schema)).toEqual(['a', 'b']);
  });

  it('Filter is never a control; name and toName must be non-empty', () => {
    const schema = xml(
      '<Text name="t" value="$t"/><Filter name="f" toName="l"/><Labels name="" toName="t"/><Labels name="l" toName="t"/>',
    );
    expect(names(schema)).toEqual(['l']);
  });

  it('perRegion conditionals', () => {
    const schema = xml(`
      <Text name="t" value="$t"/>
      <Labels name="l" toName="t"/>
      <Choices name="a" toName="t" perRegion="true" whenTagName="l" whenLabelValue="x"/>
      <Choices name="b" toName="t" perRegion="true" whenLabelValue="PER"/>
      <Choices name="c" toName="t" perRegion="true" whenChoiceValue="yes"/>
      <Choices name="d" toName="t" perRegion="false" whenTagName="l"/>`);
    expect(control(schema, 'a').conditionals).toEqual({ type: 'tag', name: 'l' });
    expect(control(schema, 'b').conditionals).toEqual({ type: 'label', name: 'PER' });
    expect(control(schema, 'c').conditionals).toEqual({ type: 'choice', name: 'yes' });
    expect(control(schema, 'd').conditionals).toBeUndefined();
  });

  it('decodes predefined entities and character references; normalises attribute whitespace', () => {
    const schema = xml(
      '<Text name="t" value="$t"/><Labels name="l" toName="t"><Label value="R&amp;D &#x41;&#66;&lt;"/><Label value="a\tb\nc"/></Labels>',
    );
    expect(control(schema, 'l').labels).toEqual(['R&D AB<', 'a b c']);
  });

  it('skips the XML declaration, comments, processing instructions and CDATA', () => {
    const schema = parseLabelConfig(
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><View><?pi x?><![CDATA[a & b]]><!-- <Labels name="no" toName="t"/> -->' +
        '<Text name="t" value="$t"/><Labels name="l" toName="t"/></View>\n<!-- end -->\n',
    );
    expect(names(schema)).toEqual(['l']);
  });

  it('attribute names that are JS object keys are plain attributes', () => {
    const schema = xml(
      '<Text name="t" value="$t"/><Labels name="l" toName="t"><Label value="x" constructor="c" toString="s"/></Labels>',
    );
    expect(control(schema, 'l').labelsAttrs.x).toEqual({ value: 'x', constructor: 'c', toString: 's' });
  });

  it.each([
    ['an unclosed tag', '<View><Image name="i" value="$i"></View>'],
    ['a mismatched closing tag', '<View></view>'],
    ['two root elements', '<View/><View/>'],
    ['text before the root', 'hello<View/>'],
    ['text after the root', '<View/>hello'],
    ['a bare ampersand', '<View><Label value="a & b"/></View>'],
    ['an undefined entity', '<View><Label value="&nbsp;"/></View>'],
    ['a "<" in an attribute', '<View><Label value="a<b"/></View>'],
    ['a repeated attribute', '<View a="1" a="2"/>'],
    ['an attribute without value', '<View><Label checked/></View>'],
    ['a DOCTYPE', '<!DOCTYPE View [<!ENTITY x "boom">]><View><Label value="&x;"/></View>'],
    ['a control character', '<View>\u0001</View>'],
    ['a bad character reference', '<View><Label value="&#0;"/></View>'],
    ['a bare ampersand in text', '<View>fish & chips</View>'],
  ])('malformed XML (%s) → LabelConfigError', (_, text) => {
    expect(() => parseLabelConfig(text)).toThrow(LabelConfigError);
    expect(() => parseLabelConfig(text)).toThrow(/^the label config is not well-formed XML: /);
  });

  it('the error message says where', () => {
    expect(() => parseLabelConfig('<View>\n  <Image name="i" value="$i">\n</View>')).toThrow(
      /line \d+, column \d+/,
    );
  });
});

describe('parseLabelConfig — JSON dict schemas', () => {
  const repeater = () => parseLabelConfig(fixture('test_export_json_min/label_config_repeater.json'));

  it('reads the Repeater schema of the reference tests', () => {
    const schema = repeater();
    expect(names(schema)).toEqual(['labels_{{idx}}', 'categories_{{idx}}']);
    const labels = control(schema, 'labels_{{idx}}');
    expect(labels).toEqual({
      name: 'labels_{{idx}}',
      type: 'RectangleLabels',
      toName: ['page_{{idx}}'],
      inputs: [{ type: 'Image', value: 'images[{{idx}}].url' }],
      labels: ['Document Title', 'Document Date'],
      labelsAttrs: {
        'Document Date': { value: 'Document Date' },
        'Document Title': { value: 'Document Title' },
      },
      regex: { '{{idx}}': '.*' },
    });
    const categories = control(schema, 'categories_{{idx}}');
    expect(categories.type).toBe('Taxonomy');
    expect(categories.labels).toEqual([
      'Archaea',
      'Bacteria',
      'Eukarya',
      'Human',
      'Oppossum',
      'Extraterrestrial',
    ]);
    expect(dataKeys(schema)).toEqual(['images[{{idx}}].url']);
  });

  it('accepts what the Label Studio backend stores; keeps control order, even for integer-like names', () => {
    const schema = parseLabelConfig(
      '{"b": {"type": "Choices", "to_name": ["t"], "inputs": [{"type": "Text", "value": "t", "valueType": null}], "dynamic_labels": true},' +
        ' "1": {"type": "TextArea", "inputs": [{"type": "Text", "value": "u", "valueType": "url", "valueList": "pages"}],' +
        ' "labels": ["x"], "labels_attrs": {"x": {"category": 3}}}}',
    );
    expect(names(schema)).toEqual(['b', '1']);
    expect(control(schema, 'b')).toEqual({
      name: 'b',
      type: 'Choices',
      toName: ['t'],
      inputs: [{ type: 'Text', value: 't' }],
      labels: [],
      labelsAttrs: {},
    });
    expect(control(schema, '1').inputs).toEqual([
      { type: 'Text', value: 'u', valueType: 'url', valueList: 'pages' },
    ]);
    expect(control(schema, '1').labelsAttrs).toEqual({ x: { category: '3' } });
    expect(dataKeys(schema)).toEqual(['t', 'u', 'pages']);
    expect(dataKeys(schema, ['1'])).toEqual(['u', 'pages']);
  });

  it('the chat schema of the reference tests', () => {
    const schema = parseLabelConfig(
      '{"chat": {"type": "Chat", "to_name": ["chat"], "inputs": [{"type": "Chat", "value": "chat"}], "labels": [], "labels_attrs": {}}}',
    );
    expect(dataKeys(schema)).toEqual(['chat']);
  });

  it.each([
    ['invalid JSON', '{"a": ', /not valid JSON/],
    ['an entry without inputs', '{"a": {"type": "Choices"}}', /control "a" .*inputs/],
    ['a non-string type', '{"a": {"type": 1, "inputs": []}}', /control "a" .*type/],
    [
      'an invalid Repeater pattern',
      '{"a_{{i}}": {"type": "Labels", "inputs": [], "regex": {"{{i}}": "("}}}',
      /Repeater pattern "a_\("/,
    ],
  ])('rejects %s', (_, text, message) => {
    expect(() => parseLabelConfig(text)).toThrow(LabelConfigError);
    expect(() => parseLabelConfig(text)).toThrow(message);
  });
});

describe('findControl', () => {
  const dict = (entries: Record<string, Record<string, string>>) =>
    parseLabelConfig(
      JSON.stringify(
        Object.fromEntries(
          Object.entries(entries).map(([n, regex]) => [n, { type: 'Labels', inputs: [], regex }]),
        ),
      ),
    );

  it('matches Repeater names of the reference schema', () => {
    const schema = parseLabelConfig(fixture('test_export_json_min/label_config_repeater.json'));
    expect(findControl(schema, 'labels_0')?.name).toBe('labels_{{idx}}');
    expect(findControl(schema, 'categories_12')?.name).toBe('categories_{{idx}}');
    expect(findControl(schema, 'labels_')?.name).toBe('labels_{{idx}}'); // `.*` matches nothing too
    expect(findControl(schema, 'xlabels_0')).toBeUndefined(); // anchored at the start
    expect(findControl(schema, 'other')).toBeUndefined();
  });

  it('an exact name wins over any pattern', () => {
    const schema = parseLabelConfig(
      JSON.stringify({
        'labels_{{idx}}': { type: 'Labels', inputs: [], regex: { '{{idx}}': '.*' } },
        labels_0: { type: 'Choices', inputs: [] },
      }),
    );
    expect(findControl(schema, 'labels_0')?.type).toBe('Choices');
    expect(findControl(schema, 'labels_1')?.type).toBe('Labels');
  });

  it('is a prefix match; the longest pattern wins, ties go to the first', () => {
    const schema = dict({
      'a_{{i}}': { '{{i}}': '\\d' }, // a_\d
      'a_{{i}}_b': { '{{i}}': '\\d' }, // a_\d_b
      'b_{{i}}': { '{{i}}': 'x' }, // b_x
      'b{{i}}': { '{{i}}': '_.' }, // b_. — same length, later
    });
    expect(findControl(schema, 'a_1_b')?.name).toBe('a_{{i}}_b');
    expect(findControl(schema, 'a_1_c')?.name).toBe('a_{{i}}');
    expect(findControl(schema, 'a_1extra')?.name).toBe('a_{{i}}');
    expect(findControl(schema, 'b_x')?.name).toBe('b_{{i}}');
    expect(findControl(schema, 'b_y')?.name).toBe('b{{i}}');
  });

  it('other characters of the name stay regex syntax, and every placeholder occurrence is replaced', () => {
    const schema = dict({ 'a.b_{{i}}_{{i}}': { '{{i}}': '\\d+' } });
    expect(findControl(schema, 'aXb_3_45')?.name).toBe('a.b_{{i}}_{{i}}');
    expect(findControl(schema, 'aXb_3_')).toBeUndefined();
  });

  it('replacement text is literal ($ is not special)', () => {
    const schema = dict({ 'p_{{i}}': { '{{i}}': '\\$&' } });
    expect(findControl(schema, 'p_$&')?.name).toBe('p_{{i}}');
  });

  it('XML schemas carry no patterns: exact names only', () => {
    const schema = xml('<Text name="t" value="$t"/><Labels name="l_{{idx}}" toName="t"/>');
    expect(findControl(schema, 'l_{{idx}}')?.name).toBe('l_{{idx}}');
    expect(findControl(schema, 'l_0')).toBeUndefined();
  });
});
