/** VOC: one Pascal VOC XML file per image (plus the images). */
import { z } from 'zod';
import { defineFormat, type FormatOption, supportedIf } from '../plugin.ts';
import { allOf, singleDataKey } from '../support.ts';
import { vocWriter } from '../voc.ts';
import * as shared from './shared-options.ts';

export const VOC_FORMAT = defineFormat({
  name: 'VOC',
  value: 7,
  title: 'Pascal VOC XML',
  description: 'One Pascal VOC XML file per image with its bounding boxes.',
  tags: ['image segmentation', 'object detection'],
  outputs: ['Annotations/*.xml', 'images/'],
  needsMedia: true,
  convertible: true,
  supports: (c) =>
    allOf(
      singleDataKey(c),
      supportedIf(!c.multiImage, 'multi-image (valueList) objects are not supported'),
      supportedIf(
        c.inputs.has('Image') && (c.has('RectangleLabels') || (c.has('Rectangle') && c.has('Labels'))),
        'no rectangle labels on an image',
      ),
    ),
  options: {
    labelStudioUrl: shared.labelStudioUrl,
    imageDir: shared.imageDir,
    /** VOC: include the images under `images/`, as Label Studio's converter does by default. */
    vocImages: {
      schema: z.boolean().default(true),
      cli: {
        flag: 'no-voc-images',
        type: 'boolean',
        help: 'VOC: do not copy the images into images/',
        toOption: (raw) => !raw,
      },
    } satisfies FormatOption,
    fixRotatedBbox: shared.fixRotatedBbox,
    fixKeepNegativeImages: shared.fixKeepNegativeImages,
    fixNewestAnnotationWins: shared.fixNewestAnnotationWins,
    fixCopyLocalImages: shared.fixCopyLocalImages,
    fixClipCoordinates: shared.fixClipCoordinates,
  },
  writer: vocWriter,
});
