/**
 * What format support rules look at in a label config (Label Studio's supported-formats rules),
 * computed once per config, and the conditions several formats share.
 */
import { dataKeys } from '../config/label-config.ts';
import type { LabelSchema } from '../config/schema.ts';
import { type FormatSupport, SUPPORTED, supportedIf } from './plugin.ts';

export interface ConfigFacts {
  readonly schema: LabelSchema;
  /** Control tag types (e.g. `RectangleLabels`). */
  readonly controls: ReadonlySet<string>;
  /** Object tag types the controls point at (`Text` with valueType=url left out, as the reference does). */
  readonly inputs: ReadonlySet<string>;
  /** More than one data key: the reference then offers only the tabular formats (and DOCLANG). */
  readonly multipleDataKeys: boolean;
  /** A multi-image (valueList) object: none of the image formats handle it. */
  readonly multiImage: boolean;
  has(controlType: string): boolean;
}

export function configFacts(schema: LabelSchema): ConfigFacts {
  const all = [...schema.controls.values()];
  const controls = new Set(all.map((c) => c.type));
  const inputs = new Set<string>();
  let multiImage = false;
  for (const input of all.flatMap((c) => c.inputs)) {
    if (input.valueList) multiImage = true;
    if (input.type === 'Text' && input.valueType === 'url') continue; // unsupported by the reference
    inputs.add(input.type);
  }
  return {
    schema,
    controls,
    inputs,
    multipleDataKeys: dataKeys(schema).length > 1,
    multiImage,
    has: (t) => controls.has(t),
  };
}

const MULTI_KEY = 'the config has more than one data key (only JSON, JSON_MIN, CSV, TSV apply)';

/** Formats that need one data key: unsupported for configs with several. */
export const singleDataKey = (c: ConfigFacts): FormatSupport => supportedIf(!c.multipleDataKeys, MULTI_KEY);

/** Several checks in order: the first unsupported one wins. */
export function allOf(...checks: FormatSupport[]): FormatSupport {
  return checks.find((s) => !s.supported) ?? SUPPORTED;
}

/**
 * COCO/YOLO/YOLO_OBB: an image with rectangle, polygon or keypoint labels — or, without an Image,
 * Rectangle/PolygonLabels/KeyPointLabels with Labels (the reference does not require an Image there).
 */
export function detection(c: ConfigFacts): FormatSupport {
  const image = c.inputs.has('Image');
  const ok =
    (image && (c.has('RectangleLabels') || c.has('PolygonLabels') || c.has('KeyPointLabels'))) ||
    (c.has('Rectangle') && c.has('Labels')) ||
    (c.has('PolygonLabels') && c.has('Labels')) ||
    (c.has('KeyPointLabels') && c.has('Labels'));
  return allOf(
    singleDataKey(c),
    supportedIf(!c.multiImage, 'multi-image (valueList) objects are not supported'),
    supportedIf(ok, 'no rectangle, polygon or keypoint labels on an image'),
  );
}

/**
 * COCO/YOLO (not YOLO_OBB): the reference drops them for KeyPointLabels without RectangleLabels
 * (a keypoint-only image config gets YOLO_OBB but not YOLO/COCO — kept as observed).
 */
export function notKeypointsOnly(c: ConfigFacts): FormatSupport {
  return supportedIf(
    !(c.has('KeyPointLabels') && !c.has('RectangleLabels')),
    'KeyPointLabels without RectangleLabels',
  );
}
