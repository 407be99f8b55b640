/** YOLO, YOLO_OBB and their *_WITH_IMAGES variants: one label file per image, plus the class list. */
import { z } from 'zod';
import { defineFormat, type FormatOption, type FormatSupport, supportedIf } from '../plugin.ts';
import { allOf, type ConfigFacts, detection, notKeypointsOnly } from '../support.ts';
import { yoloWriter } from '../yolo.ts';
import { parseSplit } from '../yolo-dataset.ts';
import * as shared from './shared-options.ts';
import { fix } from './shared-options.ts';

const TAGS = ['image segmentation', 'object detection', 'keypoints'];
const OBB_TAGS = ['image segmentation', 'object detection'];

const yoloSupports = (c: ConfigFacts) => allOf(notKeypointsOnly(c), detection(c));
/**
 * YOLO_OBB is offered for a keypoint-only config, as Label Studio offers it, but can only write
 * empty label files there: `emptyOutputWarning` says so (`formats` marks it, `convert` warns,
 * `--strict` refuses).
 */
const obbSupports = (c: ConfigFacts): FormatSupport => {
  const s = allOf(
    detection(c),
    supportedIf(!(c.inputs.has('Video') && c.has('TimelineLabels')), 'Video with TimelineLabels'),
  );
  const regions = ['RectangleLabels', 'PolygonLabels', 'Rectangle', 'Polygon'].some((t) => c.has(t));
  if (!s.supported || regions || !c.has('KeyPointLabels')) return s;
  return {
    ...s,
    emptyOutputWarning:
      'the label config has KeyPointLabels but no RectangleLabels or PolygonLabels: YOLO OBB carries no keypoints, so every label file will be empty',
  };
};

/** YOLO: write Ultralytics' `data.yaml` (a new file; Label Studio's files are unchanged). */
const yoloDataYaml = {
  schema: z.boolean().default(false),
  cli: {
    flag: 'yolo-data-yaml',
    type: 'boolean',
    help: "YOLO: also write Ultralytics' data.yaml (train/val, names by class id)",
  },
} satisfies FormatOption;

/** YOLO: `train=0.8,val=0.2[,test=…]` — labels/<split>/, images/<split>/ by a hash of the task id. */
const yoloSplit = {
  schema: z
    .string()
    .optional()
    .superRefine((text, ctx) => {
      if (text === undefined) return;
      try {
        parseSplit(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
  cli: {
    flag: 'split',
    type: 'string',
    arg: 'SPEC',
    help: 'YOLO: split tasks by a hash of their id, e.g. train=0.8,val=0.2[,test=0.1]:\nlabels/<split>/, images/<split>/ and data.yaml, as Ultralytics reads them',
  },
} satisfies FormatOption;

const options = {
  labelStudioUrl: shared.labelStudioUrl,
  imageDir: shared.imageDir,
  fixConfigCategoryIds: shared.fixConfigCategoryIds,
  fixRegionCategories: shared.fixRegionCategories,
  fixRotatedBbox: shared.fixRotatedBbox,
  fixNewestAnnotationWins: shared.fixNewestAnnotationWins,
  fixClipCoordinates: shared.fixClipCoordinates,
  yoloDataYaml,
  yoloSplit,
};
const withImages = { ...options, fixCopyLocalImages: shared.fixCopyLocalImages };
/** YOLO_OBB: export a rectangle without `rotation` unrotated instead of dropping it. */
const fixObbDefaultRotation = fix(
  'obb-default-rotation',
  'YOLO_OBB: export a rectangle without a rotation key unrotated (Label Studio drops it)',
);

export const YOLO_FORMAT = defineFormat({
  name: 'YOLO',
  value: 11,
  title: 'YOLO',
  description: 'One text file per image with a normalised box or polygon per line, plus the class list.',
  tags: TAGS,
  outputs: ['labels/*.txt', 'classes.txt', 'notes.json'],
  needsMedia: false,
  convertible: true,
  supports: yoloSupports,
  options,
  writer: (ctx) => yoloWriter(ctx, { obb: false, withImages: false }),
});

export const YOLO_OBB_FORMAT = defineFormat({
  name: 'YOLO_OBB',
  value: 12,
  title: 'YOLOv8 OBB',
  description: 'YOLO text files with oriented boxes given by their four normalised corners.',
  tags: OBB_TAGS,
  outputs: ['labels/*.txt', 'classes.txt', 'notes.json'],
  needsMedia: false,
  convertible: true,
  supports: obbSupports,
  options: { ...options, fixObbDefaultRotation },
  writer: (ctx) => yoloWriter(ctx, { obb: true, withImages: false }),
});

export const YOLO_WITH_IMAGES_FORMAT = defineFormat({
  name: 'YOLO_WITH_IMAGES',
  value: 14,
  title: 'YOLO with Images',
  description: 'YOLO labels together with the images they describe.',
  tags: TAGS,
  outputs: ['labels/*.txt', 'classes.txt', 'notes.json', 'images/'],
  needsMedia: true,
  convertible: true,
  supports: yoloSupports,
  options: withImages,
  writer: (ctx) => yoloWriter(ctx, { obb: false, withImages: true }),
});

export const YOLO_OBB_WITH_IMAGES_FORMAT = defineFormat({
  name: 'YOLO_OBB_WITH_IMAGES',
  value: 16,
  title: 'YOLOv8 OBB with Images',
  description: 'YOLOv8 OBB labels together with the images they describe.',
  tags: OBB_TAGS,
  outputs: ['labels/*.txt', 'classes.txt', 'notes.json', 'images/'],
  needsMedia: true,
  convertible: true,
  supports: obbSupports,
  options: { ...withImages, fixObbDefaultRotation },
  writer: (ctx) => yoloWriter(ctx, { obb: true, withImages: true }),
});
