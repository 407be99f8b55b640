/**
 * The export format catalogue (converter spec §1) and which formats a label config supports (§2.2).
 */
import { dataKeys } from './label-config.ts';
import type { LabelSchema } from './schema.ts';

export interface FormatInfo {
  readonly name: string;
  /** The reference's enum value. */
  readonly value: number;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  /** False only for CSV_OLD: the reference lists it but its `convert()` silently does nothing for it. */
  readonly convertible: boolean;
}

const IMAGE_TAGS = ['image segmentation', 'object detection', 'keypoints'] as const;
const OBB_TAGS = ['image segmentation', 'object detection'] as const;

/** In enum order. */
export const FORMATS = [
  {
    name: 'JSON',
    value: 1,
    title: 'JSON',
    description: 'The tasks with their data and full annotations, as Label Studio stores them.',
    tags: [],
    convertible: true,
  },
  {
    name: 'JSON_MIN',
    value: 2,
    title: 'JSON-MIN',
    description: 'One flat record per annotation: the task data plus a simplified value per control tag.',
    tags: [],
    convertible: true,
  },
  {
    name: 'CSV',
    value: 3,
    title: 'CSV',
    description: 'One comma-separated row per annotation, with a column per data key and control tag.',
    tags: [],
    convertible: true,
  },
  {
    name: 'TSV',
    value: 4,
    title: 'TSV',
    description: 'Like CSV, separated by tabs.',
    tags: [],
    convertible: true,
  },
  {
    name: 'CONLL2003',
    value: 5,
    title: 'CONLL2003',
    description: 'Tokens with BIO tags, one per line, for named entity recognition models.',
    tags: ['sequence labeling', 'text tagging', 'named entity recognition'],
    convertible: true,
  },
  {
    name: 'COCO',
    value: 6,
    title: 'COCO',
    description:
      'One COCO JSON file with images, categories and rectangle, polygon and keypoint annotations.',
    tags: IMAGE_TAGS,
    convertible: true,
  },
  {
    name: 'VOC',
    value: 7,
    title: 'Pascal VOC XML',
    description: 'One Pascal VOC XML file per image with its bounding boxes.',
    tags: OBB_TAGS,
    convertible: true,
  },
  {
    name: 'BRUSH_TO_NUMPY',
    value: 8,
    title: 'Brush labels to NumPy',
    description: 'Each brush region as a 2-D NumPy mask array.',
    tags: ['image segmentation'],
    convertible: true,
  },
  {
    name: 'BRUSH_TO_PNG',
    value: 9,
    title: 'Brush labels to PNG',
    description: 'Each brush region as a grayscale PNG mask.',
    tags: ['image segmentation'],
    convertible: true,
  },
  {
    name: 'ASR_MANIFEST',
    value: 10,
    title: 'ASR Manifest',
    description: 'Audio transcriptions as a JSON-lines manifest for speech recognition training.',
    tags: ['speech recognition'],
    convertible: true,
  },
  {
    name: 'YOLO',
    value: 11,
    title: 'YOLO',
    description: 'One text file per image with a normalised box or polygon per line, plus the class list.',
    tags: IMAGE_TAGS,
    convertible: true,
  },
  {
    name: 'YOLO_OBB',
    value: 12,
    title: 'YOLOv8 OBB',
    description: 'YOLO text files with oriented boxes given by their four normalised corners.',
    tags: OBB_TAGS,
    convertible: true,
  },
  {
    name: 'CSV_OLD',
    value: 13,
    title: 'CSV (old)',
    description: 'The legacy CSV layout; listed by the reference but not produced by its converter.',
    tags: [],
    convertible: false,
  },
  {
    name: 'YOLO_WITH_IMAGES',
    value: 14,
    title: 'YOLO with Images',
    description: 'YOLO labels together with the images they describe.',
    tags: IMAGE_TAGS,
    convertible: true,
  },
  {
    name: 'COCO_WITH_IMAGES',
    value: 15,
    title: 'COCO with Images',
    description: 'COCO annotations together with the images they describe.',
    tags: IMAGE_TAGS,
    convertible: true,
  },
  {
    name: 'YOLO_OBB_WITH_IMAGES',
    value: 16,
    title: 'YOLOv8 OBB with Images',
    description: 'YOLOv8 OBB labels together with the images they describe.',
    tags: OBB_TAGS,
    convertible: true,
  },
  {
    name: 'BRUSH_TO_COCO',
    value: 17,
    title: 'Brush labels to COCO',
    description: 'Brush masks traced into COCO polygons.',
    tags: ['image segmentation', 'brush annotations'],
    convertible: true,
  },
  {
    name: 'DOCLANG',
    value: 18,
    title: 'DocLang (.dclx)',
    description: 'DocLang document archives (document XML plus page images) for document model training.',
    tags: ['document', 'doclang'],
    convertible: true,
  },
] as const satisfies readonly FormatInfo[];

export type FormatName = (typeof FORMATS)[number]['name'];

export const FORMAT_NAMES: readonly FormatName[] = FORMATS.map((f) => f.name);

const BY_NAME = new Map<string, FormatInfo>(FORMATS.map((f) => [f.name, f]));

/** Exact, case-sensitive name lookup, like the reference's `Format.from_string`. */
export function isFormatName(s: string): s is FormatName {
  return BY_NAME.has(s);
}

export function formatInfo(name: FormatName): FormatInfo {
  return BY_NAME.get(name)!;
}

const DOCLANG_CONTROLS = new Set(['TextArea', 'ReactCode', 'CustomInterface']);

/**
 * The formats the reference offers for a config, in enum order — including its oddities: CSV_OLD is
 * offered, a KeyPointLabels-only image config gets YOLO_OBB but not YOLO/COCO, and a config with
 * more than one data key only gets the tabular formats. Only its crash is not reproduced (below).
 */
export function supportedFormats(schema: LabelSchema): FormatName[] {
  const controls = [...schema.controls.values()];
  const supportsDoclang = controls.some((c) => DOCLANG_CONTROLS.has(c.type));
  if (dataKeys(schema).length > 1) {
    const tabular: FormatName[] = ['JSON', 'JSON_MIN', 'CSV', 'TSV'];
    return supportsDoclang ? [...tabular, 'DOCLANG'] : tabular;
  }

  const outputs = new Set(controls.map((c) => c.type));
  const inputs = new Set<string>();
  let isMig = false; // multi-image (valueList) configs: none of the image formats handle them
  for (const input of controls.flatMap((c) => c.inputs)) {
    if (input.valueList) isMig = true;
    if (input.type === 'Text' && input.valueType === 'url') continue; // unsupported by the reference
    inputs.add(input.type);
  }
  const has = (t: string) => outputs.has(t);
  const image = inputs.has('Image');

  // The reference removes from a list, so removing COCO twice (KeyPointLabels on a non-image object,
  // e.g. Text + KeyPointLabels) raises ValueError there. A set removes it once and goes on.
  const keep = new Set<FormatName>(FORMAT_NAMES);
  const drop = (...names: FormatName[]) => {
    for (const n of names) keep.delete(n);
  };

  if (!supportsDoclang) drop('DOCLANG');
  if (has('KeyPointLabels') && !has('RectangleLabels'))
    drop('COCO', 'COCO_WITH_IMAGES', 'YOLO', 'YOLO_WITH_IMAGES');
  if (!(inputs.has('Text') && has('Labels'))) drop('CONLL2003');
  if (isMig || !(image && (has('RectangleLabels') || (has('Rectangle') && has('Labels'))))) drop('VOC');
  const detection =
    (image && (has('RectangleLabels') || has('PolygonLabels') || has('KeyPointLabels'))) ||
    // These three do not require an Image input in the reference.
    (has('Rectangle') && has('Labels')) ||
    (has('PolygonLabels') && has('Labels')) ||
    (has('KeyPointLabels') && has('Labels'));
  if (isMig || !detection) {
    drop('COCO', 'COCO_WITH_IMAGES', 'YOLO', 'YOLO_WITH_IMAGES', 'YOLO_OBB', 'YOLO_OBB_WITH_IMAGES');
  }
  if (!(image && (has('BrushLabels') || has('brushlabels') || (has('Brush') && has('Labels'))))) {
    drop('BRUSH_TO_NUMPY', 'BRUSH_TO_PNG', 'BRUSH_TO_COCO');
  }
  if (!((inputs.has('Audio') || inputs.has('AudioPlus')) && has('TextArea'))) drop('ASR_MANIFEST');
  if (isMig || (inputs.has('Video') && has('TimelineLabels'))) drop('YOLO_OBB', 'YOLO_OBB_WITH_IMAGES');

  return FORMAT_NAMES.filter((n) => keep.has(n));
}
