/**
 * COCO and COCO_WITH_IMAGES (docs/label-studio-behaviour.md#coco): `result.json` with `images`, `categories`,
 * `annotations`, `info`, in that key order, as ujson writes it (indent 2, `\/`, ASCII escapes).
 *
 * Streaming, with flat memory: image entries are written into result.json as items arrive;
 * annotations go to a spool (memory, then a temporary file past a few MB — see core/spool.ts),
 * because the categories between the two arrays are final only at the end (labels outside the
 * config add categories as they appear). `finish` writes the categories, copies the spooled
 * annotations in and closes the object. Memory holds one task, the category list and bounded
 * per-URL caches.
 *
 * Reference behaviour kept by default (docs/label-studio-behaviour.md#known-quirks-and-fixes, quirks 16–19): categories are every label of every control,
 * code-point sorted, explicit `category` ids first, the keypoint labels merged into one `default`
 * category; one image entry per annotation (duplicated file names), an item that adds no image entry
 * leaves its id to the next item; a rotated rectangle is boxed in percent space; only the first label
 * of a region counts; all keypoints of an annotation form one keypoint annotation.
 *
 * Beyond the reference: where it would write `null` sizes or drop a region for lack of
 * `original_width`/`original_height`, the size is read from the image header (when the image can be
 * reached); where it crashes (rotated rectangle of width 0, polygon without points, missing
 * `model_index`) the region is reported and left out. Fixes: config-category-ids, region-categories,
 * rotated-bbox, clip-coordinates, keep-negative-images (every item gets an image entry, so no id is
 * reused), copy-local-images, coco-image-per-task (one image entry per task, from its newest
 * annotation; `file_name` is `images/<name>` for a copied image, else the task's image value, so it
 * resolves from the output folder or is the URL to fetch). `cocoAnnotator` mirrors
 * LABEL_STUDIO_FORCE_ANNOTATOR_EXPORT, tagging
 * each rectangle/polygon annotation with its own annotator (the reference, after a keypoint, tags
 * the previous annotation instead — not mirrored).
 *
 * Floats: trigonometry is correctly rounded and polygon areas use NumPy's FMA summation
 * (images/libm.ts), so values match the reference to the last bit in nearly all cases.
 */

import { type ItemLedger, RegionLedger, resultType } from '../accounting.ts';
import { dataKeys } from '../config/label-config.ts';
import {
  type CategoryTable,
  hasKeypointLabels,
  keypointOrder,
  labelCategories,
  mergeKeypointCategories,
} from '../images/categories.ts';
import {
  boxOutside,
  clipBoxPercent,
  finiteRegion,
  keypointsBbox,
  type PixelRegion,
  pixelBox,
  pixelPolygon,
  referenceRotatedBox,
  trueRotatedBoxPercent,
} from '../images/geometry.ts';
import { ImageProbe } from '../images/image-info.ts';
import { ImageResolver } from '../images/resolve.ts';
import {
  clippedPolygon,
  notCarried,
  OUTSIDE,
  OVERFLOW,
  regionShape,
  SHORT_POLYGON,
} from '../images/shapes.ts';
import {
  hasKey,
  itemValues,
  nonEmptyList,
  numberAt,
  originalSize,
  originalSizeProblem,
} from '../images/values.ts';
import { annotatorOf, type Item, itemsOfTask, type TaskRef } from '../items.ts';
import { pyRound } from '../json/py-number.ts';
import { type JsonObject, type JsonValue, num, setKey } from '../json/value.ts';
import { displayUrl } from '../media.ts';
import { createSpool, type Spool } from '../spool.ts';
import {
  ANNOTATIONS_END,
  annotationEntry,
  categoriesAndAnnotationsStart,
  imageEntry,
  infoAndEnd,
  regionEntry,
} from './coco-layout.ts';
import type { ExportContext, FormatWriter } from './types.ts';

const OLDER_ANNOTATION = 'older annotation of the task; coco-image-per-task keeps the newest';

const CATEGORY_KEYS = ['rectanglelabels', 'polygonlabels', 'keypointlabels', 'labels'] as const;

/** The region's category name: the first label of the first non-empty label list. */
function categoryNameOf(v: JsonObject): JsonValue | undefined {
  for (const k of CATEGORY_KEYS) {
    const list = nonEmptyList(v, k);
    if (list) return list[0];
  }
  return undefined;
}

/** A rectangle or polygon annotation's geometry, in pixels (floats, as the reference computes them). */
type Region = PixelRegion;

export interface CocoWriterOptions {
  withImages: boolean;
  /** Where the annotation spool spills (tests). */
  spool?: () => Spool;
}

export function cocoWriter(ctx: ExportContext, opts: CocoWriterOptions): FormatWriter {
  const { schema, sink, report, options } = ctx;
  const key = options.dataKey ?? dataKeys(schema)[0];
  let categories: CategoryTable = labelCategories(
    schema,
    { configOrder: options.fixConfigCategoryIds, regionOnly: options.fixRegionCategories },
    report,
  );
  if (hasKeypointLabels(schema)) categories = mergeKeypointCategories(categories, schema);
  let kpOrder: string[] | undefined;
  const probe = new ImageProbe(ctx.media);
  const resolver = new ImageResolver(ctx, probe, {
    downloading: opts.withImages,
    hostname: options.labelStudioUrl,
    copyLocal: options.fixCopyLocalImages,
    shownDir: options.imageDir,
  });
  const out = sink.open('result.json');
  const spool = (opts.spool ?? createSpool)();
  let images = 0;
  let annotations = 0;
  const ledger = new RegionLedger(ctx, opts.withImages ? 'COCO_WITH_IMAGES' : 'COCO');
  const notWritten = (v: JsonObject) => notCarried(ledger.format, `a ${resultType(v)} result`);
  if (key === undefined)
    report.warn({
      source: 'label config',
      reason: 'the label config has no object tag with a data key; no images are exported',
    });

  // The file's text layout: coco-layout.ts.
  async function addImage(width: JsonValue, height: JsonValue, id: number, fileName: string): Promise<void> {
    await out.write(imageEntry(images, width, height, id, fileName));
    images++;
  }

  async function addRegion(
    imageId: number,
    categoryId: number,
    region: Region,
    annotator?: JsonValue,
  ): Promise<void> {
    await spool.write(regionEntry(annotations, imageId, categoryId, region, annotator));
    annotations++;
  }

  async function addAnnotation(entry: JsonObject): Promise<void> {
    setKey(entry, 'id', annotations);
    await spool.write(annotationEntry(annotations, entry));
    annotations++;
  }

  /** The header size of the item's image, read once per item (and cached per URL). */
  function headerReader(raw: string, ref: TaskRef) {
    let result: Promise<{ width: number; height: number } | undefined> | undefined;
    return (why: string) => {
      result ??= probe.header(raw).then((h) => {
        if (h.ok) return { width: h.value.width, height: h.value.height };
        report.warn({
          ...ref,
          reason: `${why}, and the size of ${displayUrl(raw)} cannot be read: ${h.reason}`,
        });
        return undefined;
      });
      return result;
    };
  }

  async function addItem(item: Item, ref: TaskRef): Promise<void> {
    const acc = ledger.item(item, ref);
    try {
      await addItemRegions(item, ref, acc);
    } finally {
      acc.close(notWritten);
    }
  }

  /** coco-image-per-task: an older annotation of the task; each of its results is one skipped entry. */
  function skipOlder(item: Item, ref: TaskRef): void {
    const acc = ledger.item(item, ref);
    acc.skipAll(OLDER_ANNOTATION);
    acc.close();
  }

  async function addItemRegions(item: Item, ref: TaskRef, acc: ItemLedger): Promise<void> {
    const raw = key === undefined ? undefined : item.input[key];
    if (typeof raw !== 'string') {
      const reason = `data["${key}"] is not an image URL; the annotation is left out`;
      if (item.output.size === 0) report.skip({ ...ref, reason });
      else acc.skipAll(reason);
      return;
    }
    const imageId = images;
    const image = await resolver.resolve(raw, item.id, ref);
    // coco-image-per-task: a path that exists in the output, or the image's own URL/path.
    const fileName = options.fixCocoImagePerTask && image.kind !== 'copied' ? raw : image.path;
    const readHeader = headerReader(raw, ref);
    let width: JsonValue | undefined;
    let height: JsonValue | undefined;
    let imageAdded = false;
    if (image.opened) {
      // The reference opens the image when it has it at hand and takes its size from the file.
      const h = await probe.header(raw);
      if (h.ok) {
        width = h.value.width;
        height = h.value.height;
        await addImage(width, height, imageId, fileName);
        imageAdded = true;
      }
    }
    const ensureImage = async (why: string) => {
      if (imageAdded) return;
      const size = await readHeader(why);
      await addImage(size?.width ?? null, size?.height ?? null, imageId, fileName);
      imageAdded = true;
    };
    if (item.output.size === 0) {
      if (item.annotation === undefined)
        report.warn({ ...ref, reason: 'no annotation: exported as an image without objects' });
      await ensureImage('the task has no regions');
      return;
    }

    const keypoints: JsonObject[] = [];
    for (const v of itemValues(item)) {
      const name = categoryNameOf(v);
      if (name === undefined) continue; // not a region (Choices, TextArea, …): acc.close reports it
      if (typeof name !== 'string') {
        acc.skip(v, `label ${JSON.stringify(name)} is not a string; the region is left out`);
        continue;
      }
      if (width === undefined || height === undefined) {
        const own = originalSize(v);
        if (own) {
          width = own.width;
          height = own.height;
        } else {
          const size = await readHeader(`a region ${originalSizeProblem(v)}`);
          if (!size) {
            acc.skip(v, `region "${name}" is left out: its image size is unknown`);
            continue;
          }
          width = size.width;
          height = size.height;
        }
        await addImage(width, height, imageId, fileName);
        imageAdded = true;
      }
      const categoryId = categories.idFor(name, ref);
      const W = num(width)!;
      const H = num(height)!;
      // The shape follows the value's keys (a `labels` result with points is a polygon).
      const shape = regionShape(v);
      let entry: Region | undefined;
      if (shape.kind === 'invalid') {
        acc.skip(v, shape.reason);
      } else if (shape.kind === 'other') {
        acc.skip(v, notCarried(ledger.format, shape.what));
      } else if (shape.kind === 'keypoint') {
        keypoints.push(v);
        continue;
      } else if (shape.kind === 'box') {
        entry = rectangle(v, W, H, acc);
      } else {
        if (shape.shortPolygon) acc.warn(v, SHORT_POLYGON);
        entry = polygon(v, shape.points, W, H, acc);
      }
      if (!entry) continue;
      acc.exported(v);
      await addRegion(
        imageId,
        categoryId,
        entry,
        options.cocoAnnotator ? annotatorOf(item.completedBy, null, false) : undefined,
      );
    }
    if (keypoints.length > 0)
      await keypointAnnotation(keypoints, imageId, num(width)!, num(height)!, ref, acc);
    if (options.fixKeepNegativeImages) await ensureImage('the task has no usable regions');
  }

  /** A rectangle's bbox: percent box (rotated as the reference does), scaled by its own image size. */
  function rectangle(v: JsonObject, W: number, H: number, acc: ItemLedger): Region | undefined {
    if (!(hasKey(v, 'x') && hasKey(v, 'y') && hasKey(v, 'width') && hasKey(v, 'height'))) {
      acc.skip(v, 'a rectangle lacks x/y/width/height; it is left out');
      return undefined;
    }
    let x = numberAt(v, 'x');
    let y = numberAt(v, 'y');
    let w = numberAt(v, 'width');
    let h = numberAt(v, 'height');
    const r = hasKey(v, 'rotation') ? numberAt(v, 'rotation') : 0;
    if (x === undefined || y === undefined || w === undefined || h === undefined || r === undefined) {
      acc.skip(v, 'a rectangle has non-numeric x/y/width/height/rotation; it is left out');
      return undefined;
    }
    // The reference scales by the region's own size (and crashes without it); we fall back to the image's.
    const own = originalSize(v);
    if (!own && (hasKey(v, 'original_width') || hasKey(v, 'original_height'))) {
      acc.warn(v, `a rectangle ${originalSizeProblem(v)}; it is scaled by the image size ${W}×${H}`);
    }
    const ow = own ? num(own.width)! : W;
    const oh = own ? num(own.height)! : H;
    if (options.fixRotatedBbox) {
      [x, y, w, h] = trueRotatedBoxPercent(x, y, w, h, r, ow, oh);
    } else {
      const box = referenceRotatedBox(x, y, w, h, r);
      if (!box) {
        acc.skip(v, 'a rotated rectangle has width 0 (Label Studio crashes on it); it is left out');
        return undefined;
      }
      [x, y, w, h] = box;
    }
    if (options.fixClipCoordinates) [x, y, w, h] = clipBoxPercent(x, y, w, h);
    const region = pixelBox([x, y, w, h], ow, oh);
    // Finite percentages can overflow once scaled (1e308 % of 640 px): Inf is not JSON.
    if (!finiteRegion(region)) {
      acc.skip(v, OVERFLOW);
      return undefined;
    }
    if (!options.fixClipCoordinates && boxOutside(x, y, w, h)) acc.warn(v, OUTSIDE);
    return region;
  }

  /** A validated polygon (images/shapes.ts) in pixels. */
  function polygon(
    v: JsonObject,
    raw: ReadonlyArray<[number, number]>,
    W: number,
    H: number,
    acc: ItemLedger,
  ): Region | undefined {
    const { points, outside } = clippedPolygon(raw, options.fixClipCoordinates);
    const region = pixelPolygon(points, W, H);
    if (!finiteRegion(region)) {
      acc.skip(v, OVERFLOW);
      return undefined;
    }
    if (outside && !options.fixClipCoordinates) acc.warn(v, OUTSIDE);
    return region;
  }

  async function keypointAnnotation(
    kps: JsonObject[],
    imageId: number,
    W: number,
    H: number,
    ref: TaskRef,
    acc: ItemLedger,
  ) {
    kpOrder ??= keypointOrder(schema);
    if (kpOrder.length === 0) {
      const reason =
        'keypoints are left out: no KeyPointLabels label has a model_index attribute to order them';
      report.skip({ ...ref, reason });
      for (const kp of kps) acc.skip(kp, reason);
      return;
    }
    const slots: number[] = new Array(kpOrder.length * 3).fill(0);
    for (const kp of kps) {
      const own = originalSize(kp);
      const ow = own ? num(own.width)! : W;
      const oh = own ? num(own.height)! : H;
      const kx = numberAt(kp, 'x');
      const ky = numberAt(kp, 'y');
      if (kx === undefined || ky === undefined) {
        acc.skip(kp, 'a keypoint lacks numeric x/y; it is left out');
        continue;
      }
      const x = (kx / 100) * ow;
      const y = (ky / 100) * oh;
      const labels = nonEmptyList(kp, 'keypointlabels') ?? [];
      const visibility = labels.length > 0 ? 2 : 0;
      for (const label of labels) {
        const idx = typeof label === 'string' ? kpOrder.indexOf(label) : -1;
        if (idx < 0) continue;
        slots[3 * idx] = pyRound(x);
        slots[3 * idx + 1] = pyRound(y);
        slots[3 * idx + 2] = visibility;
        acc.exported(kp);
      }
      acc.skip(kp, 'a keypoint has no label with a model_index place; it is left out');
    }
    const { bbox, visible } = keypointsBbox(slots);
    const annotation: JsonObject = {};
    setKey(annotation, 'id', 0);
    setKey(annotation, 'image_id', imageId);
    setKey(annotation, 'category_id', categories.get(kpOrder[0]) ?? 0);
    setKey(annotation, 'keypoints', slots);
    setKey(annotation, 'num_keypoints', visible.length);
    setKey(annotation, 'bbox', bbox);
    setKey(annotation, 'iscrowd', 0);
    await addAnnotation(annotation);
  }

  return {
    async addTask(task, ref) {
      if (key === undefined) return;
      const items = itemsOfTask(task, schema, ref, report);
      // coco-image-per-task: items come newest first; the newest annotation stands for the task,
      // the older ones are accounted as skipped.
      const kept = options.fixCocoImagePerTask ? items.slice(0, 1) : items;
      for (const item of kept) await addItem(item, ref);
      for (const item of items.slice(kept.length)) skipOlder(item, ref);
    },

    async finish() {
      try {
        await resolver.drain();
        const list: JsonValue[] = categories.list.map((c) => {
          const o: JsonObject = {};
          setKey(o, 'id', c.id);
          setKey(o, 'name', c.name);
          if (c.supercategory !== undefined) setKey(o, 'supercategory', c.supercategory);
          if (c.keypoints) setKey(o, 'keypoints', [...c.keypoints]);
          if (c.skeleton) setKey(o, 'skeleton', [...(c.skeleton as JsonValue[])]);
          return o;
        });
        await out.write(categoriesAndAnnotationsStart(images, list, annotations));
        if (annotations > 0) {
          for await (const chunk of spool.drain()) await out.write(chunk);
          await out.write(ANNOTATIONS_END);
        }
        await out.write(infoAndEnd(ctx.now()));
        await out.close();
      } finally {
        await spool.dispose();
      }
    },
  };
}
