/**
 * Export options. Defaults reproduce Label Studio's converter; each `fix*` option corrects one of
 * its documented quirks (README "Differences from Label Studio").
 */
import { z } from 'zod';

export const exportOptionsSchema = z.object({
  /** Data key of the object to export (image, text, audio). Default: the first one in the config. */
  dataKey: z.string().min(1).optional(),
  /** CSV/TSV field separator (Label Studio: `,` for CSV, TAB for TSV). */
  csvSeparator: z.string().length(1).optional(),
  /** CONLL2003: write `-DOCSTART- -X- O O`, the first line `spacy convert` expects. */
  spacy: z.boolean().default(false),
  /** CONLL2003: tag spans of every `Labels` control, not only the first one met. */
  fixConllAllLabels: z.boolean().default(false),
  /** CONLL2003: ignore spans without offsets instead of tagging the whole document `O`. */
  fixConllBrokenSpans: z.boolean().default(false),
  /** ASR_MANIFEST: write annotator e-mails (off by default: they are personal data). */
  annotatorEmails: z.boolean().default(false),
  /** ASR_MANIFEST: copy the audio files under `audio/` (Label Studio does). */
  copyAudio: z.boolean().default(true),
  /** BRUSH_TO_NUMPY/PNG/COCO: largest mask (width × height) decoded; bigger regions are reported and left out. */
  brushMaxPixels: z.number().int().positive().default(67_108_864),
  /**
   * BRUSH_TO_NUMPY/PNG/COCO: most decoded mask pixels of one task, summed over its regions (4 masks
   * at the brushMaxPixels limit); regions past it are reported and left out (core/brush/budget.ts).
   */
  brushMaxTaskPixels: z.number().int().positive().default(268_435_456),
  /**
   * BRUSH_TO_NUMPY/PNG/COCO: most decoded mask pixels of a whole export, per format (about 4 GB of
   * .npy, a few minutes of CPU); regions past it are reported and left out.
   */
  brushMaxTotalPixels: z.number().int().positive().default(4_294_967_296),
  /** BRUSH_TO_NUMPY/PNG: one mask per label per annotation (regions merged) instead of one per region. */
  fixBrushMergePerLabel: z.boolean().default(false),
  /**
   * Image formats: Label Studio's URL, as its converter reads `LABEL_STUDIO_URL`. Used only to name
   * upload, local-files, storage-proxy and cloud images as the converter does when it knows its
   * host (`<md5_8>__<name>`); without it those keep their plain basename (converter spec §5).
   */
  labelStudioUrl: z
    .string()
    .regex(/^https?:\/\//, 'must start with http:// or https://')
    .optional(),
  /** COCO: add `annotator` to each annotation, as `LABEL_STUDIO_FORCE_ANNOTATOR_EXPORT` does. */
  cocoAnnotator: z.boolean().default(false),
  /** VOC: include the images under `images/`, as Label Studio's converter does by default. */
  vocImages: z.boolean().default(true),
  /** COCO/YOLO: category ids in label-config order (explicit `category` kept); classes.txt line = id. */
  fixConfigCategoryIds: z.boolean().default(false),
  /** COCO/YOLO: categories only from region controls, not Choices/Taxonomy options. */
  fixRegionCategories: z.boolean().default(false),
  /** COCO/YOLO/VOC: bound rotated rectangles by their true pixel-space box. */
  fixRotatedBbox: z.boolean().default(false),
  /** COCO/VOC: keep images without regions (COCO image entry, VOC XML without objects). */
  fixKeepNegativeImages: z.boolean().default(false),
  /** YOLO/VOC: a task's label file holds its newest annotation, not its oldest. */
  fixNewestAnnotationWins: z.boolean().default(false),
  /** *_WITH_IMAGES, VOC: copy images given as existing local paths too. */
  fixCopyLocalImages: z.boolean().default(false),
  /** YOLO_OBB: export a rectangle without `rotation` unrotated instead of dropping it. */
  fixObbDefaultRotation: z.boolean().default(false),
  /** COCO/YOLO/VOC: clip regions to the image. */
  fixClipCoordinates: z.boolean().default(false),
  /** CSV/TSV: prefix `'` to text cells starting with `=`, `+`, `-`, `@`, TAB or CR (spreadsheet formulas). */
  fixCsvFormulaEscape: z.boolean().default(false),
});

export type ExportOptions = z.infer<typeof exportOptionsSchema>;
export type ExportOptionsInput = z.input<typeof exportOptionsSchema>;

export function parseExportOptions(input: ExportOptionsInput = {}): ExportOptions {
  return exportOptionsSchema.parse(input);
}

/** `--fix NAME` switches: each corrects one documented quirk of Label Studio's converter. */
export const FIXES = {
  'conll-all-labels': {
    option: 'fixConllAllLabels',
    description: 'CONLL2003: tag the spans of every Labels control, not only the first one in the results',
  },
  'conll-broken-spans': {
    option: 'fixConllBrokenSpans',
    description: 'CONLL2003: skip a span without start/end instead of tagging the whole document O',
  },
  'brush-merge-per-label': {
    option: 'fixBrushMergePerLabel',
    description:
      'BRUSH_TO_NUMPY/PNG: one file per label of each annotation (its regions merged, named …-<label>-0) instead of one file per region',
  },
  'config-category-ids': {
    option: 'fixConfigCategoryIds',
    description:
      'COCO/YOLO: category ids in label-config order (explicit category= kept), not code-point sorted; classes.txt line N = class N',
  },
  'region-categories': {
    option: 'fixRegionCategories',
    description:
      'COCO/YOLO: only Rectangle/Polygon/KeyPoint/Labels labels become categories, not Choices or Taxonomy options',
  },
  'rotated-bbox': {
    option: 'fixRotatedBbox',
    description:
      'COCO/YOLO/VOC: box a rotated rectangle by its true pixel-space extent (Label Studio: COCO rotates in percent space, YOLO/VOC ignore rotation)',
  },
  'keep-negative-images': {
    option: 'fixKeepNegativeImages',
    description:
      'COCO/VOC: keep images without regions (COCO image entry with its size, VOC XML without objects)',
  },
  'newest-annotation-wins': {
    option: 'fixNewestAnnotationWins',
    description: "YOLO/VOC: a task's label file holds its newest annotation (Label Studio leaves the oldest)",
  },
  'copy-local-images': {
    option: 'fixCopyLocalImages',
    description: '*_WITH_IMAGES/VOC: also copy images given as existing local paths into images/',
  },
  'obb-default-rotation': {
    option: 'fixObbDefaultRotation',
    description: 'YOLO_OBB: export a rectangle without a rotation key unrotated (Label Studio drops it)',
  },
  'clip-coordinates': {
    option: 'fixClipCoordinates',
    description: 'COCO/YOLO/VOC: clip regions to the image bounds (Label Studio writes them as drawn)',
  },
  'csv-formula-escape': {
    option: 'fixCsvFormulaEscape',
    description:
      "CSV/TSV: prefix ' to text cells (header included) starting with = + - @ TAB or CR, so spreadsheets show them as text instead of running them as formulas",
  },
} as const satisfies Record<string, { option: keyof ExportOptions; description: string }>;

export type FixName = keyof typeof FIXES;
