/** Which writer produces each export format. */
import type { FormatName } from '../config/formats.ts';
import { asrWriter } from './asr.ts';
import { brushWriter } from './brush.ts';
import { brushCocoWriter } from './brush-coco.ts';
import { cocoWriter } from './coco.ts';
import { conllWriter } from './conll.ts';
import { csvWriter } from './csv.ts';
import { jsonWriter } from './json.ts';
import { jsonMinWriter } from './json-min.ts';
import type { FormatWriterFactory } from './types.ts';
import { vocWriter } from './voc.ts';
import { yoloWriter } from './yolo.ts';

export const WRITERS: Partial<Record<FormatName, FormatWriterFactory>> = {
  JSON: jsonWriter,
  JSON_MIN: jsonMinWriter,
  CSV: (ctx) => csvWriter(ctx, ','),
  TSV: (ctx) => csvWriter(ctx, '\t'),
  CONLL2003: conllWriter,
  ASR_MANIFEST: asrWriter,
  BRUSH_TO_NUMPY: (ctx) => brushWriter(ctx, 'numpy'),
  BRUSH_TO_PNG: (ctx) => brushWriter(ctx, 'png'),
  BRUSH_TO_COCO: brushCocoWriter,
  COCO: (ctx) => cocoWriter(ctx, { withImages: false }),
  COCO_WITH_IMAGES: (ctx) => cocoWriter(ctx, { withImages: true }),
  VOC: vocWriter,
  YOLO: (ctx) => yoloWriter(ctx, { obb: false, withImages: false }),
  YOLO_WITH_IMAGES: (ctx) => yoloWriter(ctx, { obb: false, withImages: true }),
  YOLO_OBB: (ctx) => yoloWriter(ctx, { obb: true, withImages: false }),
  YOLO_OBB_WITH_IMAGES: (ctx) => yoloWriter(ctx, { obb: true, withImages: true }),
};

export function implementedFormats(): FormatName[] {
  return Object.keys(WRITERS) as FormatName[];
}
