/**
 * The text layout of COCO's `result.json` as ujson writes it (indent 2, `\/`, ASCII escapes):
 * `images`, `categories`, `annotations`, `info`, in that order. Image and region entries are laid
 * out by hand (they are most of the file); the tests check the layout against the generic
 * serializer's. Each function returns the text to append; the writer keeps the counts.
 */
import type { PixelRegion } from '../images/geometry.ts';
import { indentJson, pyDateTimeStr } from '../images/values.ts';
import { ujsonFloat } from '../json/py-number.ts';
import { quoteString, stringify, UJSON_PRETTY_ASCII } from '../json/serialize.ts';
import { type JsonObject, type JsonValue, setKey } from '../json/value.ts';

/** A value as ujson pretty-prints it. */
export const cocoJson = (v: JsonValue): string => stringify(v, UJSON_PRETTY_ASCII);

/** An image size as written: a JSON number keeps its literal form (`640.0`), null stays null. */
const sizeText = (v: JsonValue): string => (v === null ? 'null' : cocoJson(v));

/** Floats one per line, each on a new line at `pad` (the caller closes the bracket). */
function floatList(values: number[], pad: string): string {
  let text = '';
  for (let i = 0; i < values.length; i++) text += `${i ? ',' : ''}\n${pad}${ujsonFloat(values[i])}`;
  return text;
}

/** One `images` entry, opening the file and the array before the first (`index` 0). */
export function imageEntry(
  index: number,
  width: JsonValue,
  height: JsonValue,
  id: number,
  fileName: string,
): string {
  const text =
    `{\n      "width": ${sizeText(width)},\n      "height": ${sizeText(height)},\n      "id": ${id},` +
    `\n      "file_name": ${quoteString(fileName, UJSON_PRETTY_ASCII)}\n    }`;
  return `${index === 0 ? '{\n  "images": [\n    ' : ',\n    '}${text}`;
}

/** One rectangle/polygon `annotations` entry with id `id` (a separator before all but the first). */
export function regionEntry(
  id: number,
  imageId: number,
  categoryId: number,
  region: PixelRegion,
  annotator?: JsonValue,
): string {
  let text = `{\n      "id": ${id},\n      "image_id": ${imageId},\n      "category_id": ${categoryId},`;
  if (region.segmentation) {
    text += `\n      "segmentation": [\n        [${floatList(region.segmentation, '          ')}\n        ]\n      ],`;
  } else {
    text += '\n      "segmentation": [],';
  }
  text += `\n      "bbox": [${floatList(region.bbox, '        ')}\n      ],\n      "ignore": 0,\n      "iscrowd": 0,`;
  text += `\n      "area": ${ujsonFloat(region.area)}`;
  if (annotator !== undefined) text += `,\n      "annotator": ${indentJson(cocoJson(annotator), '      ')}`;
  return `${id === 0 ? '' : ',\n    '}${text}\n    }`;
}

/** Any other `annotations` entry (keypoints), given its id (a separator before all but the first). */
export function annotationEntry(id: number, entry: JsonObject): string {
  return `${id === 0 ? '' : ',\n    '}${indentJson(cocoJson(entry), '    ')}`;
}

/** Closes `images` (or writes it empty), writes `categories` and opens `annotations`. */
export function categoriesAndAnnotationsStart(
  images: number,
  categories: JsonValue[],
  annotations: number,
): string {
  let text = images === 0 ? '{\n  "images": [],\n' : '\n  ],\n';
  text += `  "categories": ${indentJson(cocoJson(categories), '  ')},\n  "annotations": `;
  return annotations === 0 ? `${text}[]` : `${text}[\n    `;
}

/** Closes a non-empty `annotations` array. */
export const ANNOTATIONS_END = '\n  ]';

/** The `info` object, dated `now`, and the file's closing brace. */
export function infoAndEnd(now: Date): string {
  const info: JsonObject = {};
  setKey(info, 'year', now.getFullYear());
  setKey(info, 'version', '1.0');
  setKey(info, 'description', '');
  setKey(info, 'contributor', 'Label Studio');
  setKey(info, 'url', '');
  setKey(info, 'date_created', pyDateTimeStr(now));
  return `,\n  "info": ${indentJson(cocoJson(info), '  ')}\n}`;
}
