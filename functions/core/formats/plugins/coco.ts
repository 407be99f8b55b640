/** COCO and COCO_WITH_IMAGES: one COCO JSON file (plus the images). */
import { z } from 'zod';
import { cocoWriter } from '../coco.ts';
import { defineFormat, type FormatOption } from '../plugin.ts';
import { allOf, type ConfigFacts, detection, notKeypointsOnly } from '../support.ts';
import * as shared from './shared-options.ts';
import { fix } from './shared-options.ts';

const TAGS = ['image segmentation', 'object detection', 'keypoints'];
const supports = (c: ConfigFacts) => allOf(notKeypointsOnly(c), detection(c));

const options = {
  labelStudioUrl: shared.labelStudioUrl,
  imageDir: shared.imageDir,
  /** COCO: add `annotator` to each annotation, as `LABEL_STUDIO_FORCE_ANNOTATOR_EXPORT` does. */
  cocoAnnotator: {
    schema: z.boolean().default(false),
    cli: {
      flag: 'coco-annotator',
      type: 'boolean',
      help: 'COCO: add annotator to each annotation (LABEL_STUDIO_FORCE_ANNOTATOR_EXPORT)',
    },
  } satisfies FormatOption,
  fixConfigCategoryIds: shared.fixConfigCategoryIds,
  fixRegionCategories: shared.fixRegionCategories,
  fixRotatedBbox: shared.fixRotatedBbox,
  fixKeepNegativeImages: shared.fixKeepNegativeImages,
  fixClipCoordinates: shared.fixClipCoordinates,
  /** COCO: one image entry per task (its newest annotation); file_name usable from the output folder. */
  fixCocoImagePerTask: fix(
    'coco-image-per-task',
    "COCO: one image entry per task, from its newest annotation (Label Studio: one per annotation); file_name images/<name> when copied, else the task's image URL",
  ),
};

export const COCO_FORMAT = defineFormat({
  name: 'COCO',
  value: 6,
  title: 'COCO',
  description: 'One COCO JSON file with images, categories and rectangle, polygon and keypoint annotations.',
  tags: TAGS,
  outputs: ['result.json'],
  needsMedia: false,
  convertible: true,
  supports,
  options,
  writer: (ctx) => cocoWriter(ctx, { withImages: false }),
});

export const COCO_WITH_IMAGES_FORMAT = defineFormat({
  name: 'COCO_WITH_IMAGES',
  value: 15,
  title: 'COCO with Images',
  description: 'COCO annotations together with the images they describe.',
  tags: TAGS,
  outputs: ['result.json', 'images/'],
  needsMedia: true,
  convertible: true,
  supports,
  options: { ...options, fixCopyLocalImages: shared.fixCopyLocalImages },
  writer: (ctx) => cocoWriter(ctx, { withImages: true }),
});
