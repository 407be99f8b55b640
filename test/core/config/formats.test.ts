import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  FORMAT_NAMES,
  FORMATS,
  type FormatName,
  formatInfo,
  isFormatName,
  supportedFormats,
} from '../../../functions/core/config/formats.ts';
import { parseLabelConfig } from '../../../functions/core/config/label-config.ts';

const ENUM_ORDER = [
  'JSON',
  'JSON_MIN',
  'CSV',
  'TSV',
  'CONLL2003',
  'COCO',
  'VOC',
  'BRUSH_TO_NUMPY',
  'BRUSH_TO_PNG',
  'ASR_MANIFEST',
  'YOLO',
  'YOLO_OBB',
  'CSV_OLD',
  'YOLO_WITH_IMAGES',
  'COCO_WITH_IMAGES',
  'YOLO_OBB_WITH_IMAGES',
  'BRUSH_TO_COCO',
  'DOCLANG',
];

describe('FORMATS', () => {
  it('lists the 18 formats in enum order with their enum values', () => {
    expect(FORMATS.map((f) => f.name)).toEqual(ENUM_ORDER);
    expect(FORMAT_NAMES).toEqual(ENUM_ORDER);
    expect(FORMATS.map((f) => f.value)).toEqual(ENUM_ORDER.map((_, i) => i + 1));
    for (const f of FORMATS) {
      expect(f.title, f.name).not.toBe('');
      expect(f.description, f.name).not.toBe('');
    }
  });

  it('titles and tags', () => {
    expect(formatInfo('JSON_MIN').title).toBe('JSON-MIN');
    expect(formatInfo('VOC')).toMatchObject({
      title: 'Pascal VOC XML',
      tags: ['image segmentation', 'object detection'],
    });
    expect(formatInfo('YOLO_OBB').title).toBe('YOLOv8 OBB');
    expect(formatInfo('COCO_WITH_IMAGES').tags).toEqual([
      'image segmentation',
      'object detection',
      'keypoints',
    ]);
    expect(formatInfo('CONLL2003').tags).toEqual([
      'sequence labeling',
      'text tagging',
      'named entity recognition',
    ]);
    expect(formatInfo('ASR_MANIFEST').tags).toEqual(['speech recognition']);
    expect(formatInfo('BRUSH_TO_COCO').tags).toEqual(['image segmentation', 'brush annotations']);
    expect(formatInfo('DOCLANG')).toMatchObject({ title: 'DocLang (.dclx)', tags: ['document', 'doclang'] });
    expect(formatInfo('JSON').tags).toEqual([]);
  });

  it('CSV_OLD has our own title and is the only format convert() does not produce', () => {
    expect(formatInfo('CSV_OLD').title).toBe('CSV (old)');
    expect(FORMATS.filter((f) => !f.convertible).map((f) => f.name)).toEqual(['CSV_OLD']);
  });

  it('isFormatName is exact and case-sensitive', () => {
    expect(isFormatName('COCO')).toBe(true);
    expect(isFormatName('YOLO_OBB_WITH_IMAGES')).toBe(true);
    expect(isFormatName('coco')).toBe(false);
    expect(isFormatName('FUNSD')).toBe(false);
    expect(isFormatName('toString')).toBe(false);
  });
});

const supported = (config: string) => supportedFormats(parseLabelConfig(config));
const view = (body: string) => supported(`<View>${body}</View>`);

const IMAGE_DETECTION: FormatName[] = [
  'JSON',
  'JSON_MIN',
  'CSV',
  'TSV',
  'COCO',
  'VOC',
  'YOLO',
  'YOLO_OBB',
  'CSV_OLD',
  'YOLO_WITH_IMAGES',
  'COCO_WITH_IMAGES',
  'YOLO_OBB_WITH_IMAGES',
];

describe('supportedFormats — observed results of the reference (docs/label-studio-behaviour.md#supported-formats)', () => {
  it('empty', () => {
    const basic = ['JSON', 'JSON_MIN', 'CSV', 'TSV', 'CSV_OLD'];
    expect(supported('')).toEqual(basic);
    expect(view('')).toEqual(basic);
  });

  it('Image + RectangleLabels (+ Choices)', () => {
    const rect =
      '<Image name="image" value="$image"/><RectangleLabels name="box" toName="image"><Label value="Car"/></RectangleLabels>';
    expect(view(rect)).toEqual(IMAGE_DETECTION);
    expect(view(`${rect}<Choices name="quality" toName="image"><Choice value="good"/></Choices>`)).toEqual(
      IMAGE_DETECTION,
    );
  });

  it('Image + PolygonLabels: same minus VOC', () => {
    expect(view('<Image name="image" value="$image"/><PolygonLabels name="poly" toName="image"/>')).toEqual(
      IMAGE_DETECTION.filter((f) => f !== 'VOC'),
    );
  });

  it('Image + KeyPointLabels only: YOLO_OBB but neither YOLO nor COCO', () => {
    expect(view('<Image name="image" value="$image"/><KeyPointLabels name="kp" toName="image"/>')).toEqual([
      'JSON',
      'JSON_MIN',
      'CSV',
      'TSV',
      'YOLO_OBB',
      'CSV_OLD',
      'YOLO_OBB_WITH_IMAGES',
    ]);
  });

  it('Image + BrushLabels', () => {
    expect(view('<Image name="image" value="$image"/><BrushLabels name="brush" toName="image"/>')).toEqual([
      'JSON',
      'JSON_MIN',
      'CSV',
      'TSV',
      'BRUSH_TO_NUMPY',
      'BRUSH_TO_PNG',
      'CSV_OLD',
      'BRUSH_TO_COCO',
    ]);
  });

  it('Text + Labels', () => {
    expect(view('<Text name="text" value="$text"/><Labels name="ner" toName="text"/>')).toEqual([
      'JSON',
      'JSON_MIN',
      'CSV',
      'TSV',
      'CONLL2003',
      'CSV_OLD',
    ]);
  });

  it('HyperText + Labels', () => {
    expect(view('<HyperText name="html" value="$html"/><Labels name="ner" toName="html"/>')).toEqual([
      'JSON',
      'JSON_MIN',
      'CSV',
      'TSV',
      'CSV_OLD',
    ]);
  });

  it('Audio + TextArea', () => {
    expect(view('<Audio name="audio" value="$audio"/><TextArea name="transcript" toName="audio"/>')).toEqual([
      'JSON',
      'JSON_MIN',
      'CSV',
      'TSV',
      'ASR_MANIFEST',
      'CSV_OLD',
      'DOCLANG',
    ]);
  });

  it('Image + Text, each with a control (2 data keys): early return without CSV_OLD', () => {
    expect(
      view(
        '<Image name="image" value="$image"/><RectangleLabels name="box" toName="image"/>' +
          '<Text name="text" value="$text"/><Labels name="ner" toName="text"/>',
      ),
    ).toEqual(['JSON', 'JSON_MIN', 'CSV', 'TSV']);
  });

  it('ReactCode only', () => {
    expect(view('<ReactCode name="code" toName="code" data="$item"/>')).toEqual([
      'JSON',
      'JSON_MIN',
      'CSV',
      'TSV',
      'CSV_OLD',
      'DOCLANG',
    ]);
  });

  it('Text + KeyPointLabels does not throw (the reference raises ValueError here)', () => {
    expect(view('<Text name="text" value="$text"/><KeyPointLabels name="kp" toName="text"/>')).toEqual([
      'JSON',
      'JSON_MIN',
      'CSV',
      'TSV',
      'CSV_OLD',
    ]);
  });
});

describe('supportedFormats — other branches', () => {
  const fixture = (path: string) =>
    readFileSync(new URL(`../../fixtures/label-studio/${path}`, import.meta.url), 'utf8');

  it('reference fixtures', () => {
    expect(supported(fixture('test_export_coco/label_config.xml'))).toEqual(IMAGE_DETECTION);
    expect(supported(fixture('test_export_yolo/label_config_keypoints.xml'))).toEqual(IMAGE_DETECTION);
    expect(supported(fixture('test_export_yolo/label_config_polygons.xml'))).toEqual(
      IMAGE_DETECTION.filter((f) => f !== 'VOC'),
    );
  });

  it('2 data keys + a DocLang control: the early return keeps DOCLANG', () => {
    expect(
      view('<Text name="a" value="$a"/><Text name="b" value="$b"/><TextArea name="t" toName="a,b"/>'),
    ).toEqual(['JSON', 'JSON_MIN', 'CSV', 'TSV', 'DOCLANG']);
  });

  it('Rectangle + Labels on a non-image object still offers COCO/YOLO (no Image required), not VOC', () => {
    const formats = view(
      '<Text name="t" value="$t"/><Rectangle name="r" toName="t"/><Labels name="l" toName="t"/>',
    );
    expect(formats).toEqual([
      'JSON',
      'JSON_MIN',
      'CSV',
      'TSV',
      'CONLL2003',
      'COCO',
      'YOLO',
      'YOLO_OBB',
      'CSV_OLD',
      'YOLO_WITH_IMAGES',
      'COCO_WITH_IMAGES',
      'YOLO_OBB_WITH_IMAGES',
    ]);
  });

  it('Image + Rectangle + Labels offers VOC; Image + Brush + Labels offers the brush formats', () => {
    expect(
      view('<Image name="i" value="$i"/><Rectangle name="r" toName="i"/><Labels name="l" toName="i"/>'),
    ).toContain('VOC');
    expect(
      view('<Image name="i" value="$i"/><Brush name="b" toName="i"/><Labels name="l" toName="i"/>'),
    ).toContain('BRUSH_TO_PNG');
  });

  it('AudioPlus counts as audio', () => {
    expect(view('<AudioPlus name="a" value="$a"/><TextArea name="t" toName="a"/>')).toContain('ASR_MANIFEST');
  });

  it('multi-image (valueList) inputs exclude VOC, COCO and the YOLO family', () => {
    const schema = parseLabelConfig(
      JSON.stringify({
        box: {
          type: 'RectangleLabels',
          to_name: ['pages'],
          inputs: [{ type: 'Image', value: 'pages', valueList: 'pages' }],
        },
      }),
    );
    expect(supportedFormats(schema)).toEqual(['JSON', 'JSON_MIN', 'CSV', 'TSV', 'CSV_OLD']);
  });

  it('Text inputs with valueType="url" are not counted', () => {
    const schema = parseLabelConfig(
      JSON.stringify({
        ner: { type: 'Labels', inputs: [{ type: 'Text', value: 'text', valueType: 'url' }] },
      }),
    );
    expect(supportedFormats(schema)).not.toContain('CONLL2003');
  });

  it('Video + TimelineLabels drops only the OBB formats', () => {
    const formats = view(
      '<Image name="i" value="$media"/><RectangleLabels name="r" toName="i"/>' +
        '<Video name="v" value="$media"/><TimelineLabels name="tl" toName="v"/>',
    );
    expect(formats).toContain('YOLO');
    expect(formats).not.toContain('YOLO_OBB');
    expect(formats).not.toContain('YOLO_OBB_WITH_IMAGES');
  });
});
