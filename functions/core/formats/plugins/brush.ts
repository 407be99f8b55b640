/** BRUSH_TO_NUMPY, BRUSH_TO_PNG and BRUSH_TO_COCO: brush masks as arrays, images or COCO polygons. */

import { z } from 'zod';
import { brushWriter } from '../brush.ts';
import { brushCocoWriter } from '../brush-coco.ts';
import { defineFormat, type FormatOption, supportedIf } from '../plugin.ts';
import { allOf, type ConfigFacts, singleDataKey } from '../support.ts';
import * as shared from './shared-options.ts';
import { fix } from './shared-options.ts';

const supports = (c: ConfigFacts) =>
  allOf(
    singleDataKey(c),
    supportedIf(
      c.inputs.has('Image') &&
        (c.has('BrushLabels') || c.has('brushlabels') || (c.has('Brush') && c.has('Labels'))),
      'no brush labels on an image',
    ),
  );

const budget = {
  brushMaxPixels: shared.brushMaxPixels,
  brushMaxTaskPixels: shared.brushMaxTaskPixels,
  brushMaxTotalPixels: shared.brushMaxTotalPixels,
};
const maskOptions = {
  ...budget,
  labelStudioUrl: shared.labelStudioUrl,
  /** BRUSH_TO_NUMPY/PNG: an index of the mask files (masks.csv or masks.json); none by default, as Label Studio. */
  brushIndex: {
    schema: z.enum(['csv', 'json']).optional(),
    cli: {
      flag: 'brush-index',
      type: 'string',
      arg: 'csv|json',
      help: 'BRUSH_TO_NUMPY/PNG: also write masks.csv or masks.json: file, task id,\nannotation id, label, image, width, height of every mask',
    },
  } satisfies FormatOption,
  /** BRUSH_TO_NUMPY/PNG: mask file names after the task (Label Studio's) or after the image. */
  brushNames: {
    schema: z.enum(['task', 'image']).default('task'),
    cli: {
      flag: 'brush-names',
      type: 'string',
      arg: 'task|image',
      help: 'BRUSH_TO_NUMPY/PNG: name masks task-<id>-annotation-<id>-by-<user>-<layer>\n(task, default) or <image stem>-<label>-<n> (image)',
    },
  } satisfies FormatOption,
  /** BRUSH_TO_NUMPY/PNG: one mask per label per annotation (regions merged) instead of one per region. */
  fixBrushMergePerLabel: fix(
    'brush-merge-per-label',
    'BRUSH_TO_NUMPY/PNG: one file per label of each annotation (its regions merged, named …-<label>-0) instead of one file per region',
  ),
};

export const BRUSH_TO_NUMPY_FORMAT = defineFormat({
  name: 'BRUSH_TO_NUMPY',
  value: 8,
  title: 'Brush labels to NumPy',
  description: 'Each brush region as a 2-D NumPy mask array.',
  tags: ['image segmentation'],
  outputs: ['*.npy'],
  needsMedia: false,
  convertible: true,
  supports,
  options: maskOptions,
  writer: (ctx) => brushWriter(ctx, 'numpy'),
});

export const BRUSH_TO_PNG_FORMAT = defineFormat({
  name: 'BRUSH_TO_PNG',
  value: 9,
  title: 'Brush labels to PNG',
  description: 'Each brush region as a grayscale PNG mask.',
  tags: ['image segmentation'],
  outputs: ['*.png'],
  needsMedia: false,
  convertible: true,
  supports,
  options: maskOptions,
  writer: (ctx) => brushWriter(ctx, 'png'),
});

export const BRUSH_TO_COCO_FORMAT = defineFormat({
  name: 'BRUSH_TO_COCO',
  value: 17,
  title: 'Brush labels to COCO',
  description: 'Brush masks traced into COCO polygons.',
  tags: ['image segmentation', 'brush annotations'],
  outputs: ['result_coco.json'],
  needsMedia: false,
  convertible: true,
  supports,
  options: budget,
  writer: brushCocoWriter,
});
