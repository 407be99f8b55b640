/**
 * Options several format plugins share. A plugin lists the same object, so the merged option
 * schema (options.ts) holds each option once and `--fix`/flags are offered once.
 */
import { z } from 'zod';
import type { FormatOption } from '../plugin.ts';

/** A boolean option off by default, switched on by `--fix NAME`. */
export const fix = (name: string, description: string) =>
  ({ schema: z.boolean().default(false), fix: { name, description } }) satisfies FormatOption;

/**
 * Image formats: Label Studio's URL, as its converter reads `LABEL_STUDIO_URL`. Used only to name
 * upload, local-files, storage-proxy and cloud images as the converter does when it knows its
 * host (`<md5_8>__<name>`); without it those keep their plain basename (docs/label-studio-behaviour.md#image-naming).
 */
export const labelStudioUrl = {
  schema: z
    .string()
    .regex(/^https?:\/\//, 'must start with http:// or https://')
    .optional(),
  cli: {
    flag: 'label-studio-url',
    type: 'string',
    arg: 'URL',
    help: 'name images as the converter does when it knows its host (<md5_8>__name)',
  },
} satisfies FormatOption;

/** COCO/YOLO: category ids in label-config order (explicit `category` kept); classes.txt line = id. */
export const fixConfigCategoryIds = fix(
  'config-category-ids',
  'COCO/YOLO: category ids in label-config order (explicit category= kept), not code-point sorted; classes.txt line N = class N',
);
/** COCO/YOLO: categories only from region controls, not Choices/Taxonomy options. */
export const fixRegionCategories = fix(
  'region-categories',
  'COCO/YOLO: only Rectangle/Polygon/KeyPoint/Labels labels become categories, not Choices or Taxonomy options',
);
/** COCO/YOLO/VOC: bound rotated rectangles by their true pixel-space box. */
export const fixRotatedBbox = fix(
  'rotated-bbox',
  'COCO/YOLO/VOC: box a rotated rectangle by its true pixel-space extent (Label Studio: COCO rotates in percent space, YOLO/VOC ignore rotation)',
);
/** COCO/VOC: keep images without regions (COCO image entry, VOC XML without objects). */
export const fixKeepNegativeImages = fix(
  'keep-negative-images',
  'COCO/VOC: keep images without regions (COCO image entry with its size, VOC XML without objects)',
);
/** YOLO/VOC: a task's label file holds its newest annotation, not its oldest. */
export const fixNewestAnnotationWins = fix(
  'newest-annotation-wins',
  "YOLO/VOC: a task's label file holds its newest annotation (Label Studio leaves the oldest)",
);
/** *_WITH_IMAGES, VOC: copy images given as existing local paths too. */
export const fixCopyLocalImages = fix(
  'copy-local-images',
  '*_WITH_IMAGES/VOC: also copy images given as existing local paths into images/',
);
/**
 * COCO/YOLO/VOC: the folder image files are named under in the output's own files (COCO
 * `file_name`, VOC `<folder>`, YOLO `data.yaml`), relative to the output folder with `/`
 * separators (`.` = the output folder itself). Default `images`. The CLI sets it from
 * `--image-dir` (the copies go there; see cli/output-sink.ts); the copies' sink paths stay
 * `images/...`.
 */
export const imageDir = {
  schema: z.string().min(1).optional(),
} satisfies FormatOption;
/** COCO/YOLO/VOC: clip regions to the image. */
export const fixClipCoordinates = fix(
  'clip-coordinates',
  'COCO/YOLO/VOC: clip regions to the image bounds (Label Studio writes them as drawn)',
);

/** BRUSH_TO_NUMPY/PNG/COCO: largest mask (width × height) decoded; bigger regions are reported and left out. */
export const brushMaxPixels = {
  schema: z.number().int().positive().default(67_108_864),
  cli: {
    flag: 'brush-max-pixels',
    type: 'string',
    arg: 'N',
    toOption: Number,
    help: 'brush formats: skip (and report) masks larger than N pixels',
  },
} satisfies FormatOption;
/**
 * BRUSH_TO_NUMPY/PNG/COCO: most decoded mask pixels of one task, summed over its regions (4 masks
 * at the brushMaxPixels limit); regions past it are reported and left out (core/brush/budget.ts).
 */
export const brushMaxTaskPixels = {
  schema: z.number().int().positive().default(268_435_456),
  cli: {
    flag: 'brush-max-task-pixels',
    type: 'string',
    arg: 'N',
    toOption: Number,
    help: "brush formats: skip (and report) a task's masks past N decoded pixels\nin all (default 268,435,456)",
  },
} satisfies FormatOption;
/**
 * BRUSH_TO_NUMPY/PNG/COCO: most decoded mask pixels of a whole export, per format (about 4 GB of
 * .npy, a few minutes of CPU); regions past it are reported and left out.
 */
export const brushMaxTotalPixels = {
  schema: z.number().int().positive().default(4_294_967_296),
  cli: {
    flag: 'brush-max-total-pixels',
    type: 'string',
    arg: 'N',
    toOption: Number,
    help: 'brush formats: skip (and report) masks past N decoded pixels in the\nwhole export (default 4,294,967,296)',
  },
} satisfies FormatOption;

/** Options every format reads (not a format's own). */
export const COMMON_OPTIONS = {
  /** Data key of the object to export (image, text, audio). Default: the first one in the config. */
  dataKey: {
    schema: z.string().min(1).optional(),
    cli: {
      flag: 'data-key',
      type: 'string',
      arg: 'KEY',
      help: 'the data key of the object to export (default: first in the config)',
    },
  } satisfies FormatOption,
  /** Leave out tasks without a non-cancelled annotation; report.json counts them. */
  onlyAnnotated: {
    schema: z.boolean().default(false),
    cli: {
      flag: 'only-annotated',
      type: 'boolean',
      help: 'leave out tasks without a non-cancelled annotation (counted in report.json)',
    },
  } satisfies FormatOption,
};
