/**
 * BRUSH_TO_NUMPY and BRUSH_TO_PNG (docs/label-studio-behaviour.md#brush-masks): every brush region of every item becomes
 * one mask file, flat at the output root, named
 * `task-<task id>-annotation-<annotation id>-by-<annotator>-<layer>.npy|.png`:
 *  - layer = `<from_name>-<labels joined by "-">-<n>`, n counting earlier regions with the same
 *    name within the from_name, then `/` and `\` replaced by `-`;
 *  - annotator = the `completed_by` e-mail (or `str(completed_by)`), keeping only Unicode letters
 *    and digits, `@` and `.`;
 *  - pixels = the alpha channel of the decoded RGBA RLE (not binarised), H×W uint8.
 *
 * Regions are taken from values whose schema type is `BrushLabels` or `Labels` and that carry an
 * `rle`; everything else (plain `Brush`, bitmasks, polygons…) is ignored, as in the reference.
 *
 * Where the reference crashes the whole export (missing or non-integer sizes, malformed RLE, a size
 * that does not match the RLE, labels that are not strings), the region is reported and left out;
 * the next regions keep their numbers (a failed region still counts in `<n>`). Masks above
 * `brushMaxPixels` are refused before decoding, and so are masks past the aggregate budget of
 * decoded pixels per task (`brushMaxTaskPixels`) and per run (`brushMaxTotalPixels`, brush/budget.ts). Fix `brush-merge-per-label` writes one mask per
 * label instead of one per region.
 *
 * The reference writes into an existing folder and fails if it is missing; our sinks create it.
 */
import { type ItemLedger, RegionLedger, resultType } from '../accounting.ts';
import { PixelBudget, PixelBudgetError } from '../brush/budget.ts';
import { MaskIndex } from '../brush/mask-index.ts';
import { encodeNpyUint8 } from '../brush/npy.ts';
import { encodeGrayPng } from '../brush/png.ts';
import { alphaChannel, decodeRle } from '../brush/rle.ts';
import { dataKeys, findControl } from '../config/label-config.ts';
import { labelOnlyReferencePath, labelStem } from '../images/naming.ts';
import { type Item, itemsOfTask, pyStr, type TaskRef } from '../items.ts';
import { isJsonObject, type JsonObject, type JsonValue, NumLit } from '../json/value.ts';
import { outputPath } from '../output-names.ts';
import { reasonOf } from '../report.ts';
import type { ExportContext, FormatWriter } from './types.ts';

/** Why one brush region cannot be exported; the message is the report reason. */
export class BrushRegionError extends Error {
  override name = 'BrushRegionError';
}

export interface BrushMask {
  /** H×W row-major alpha values. */
  mask: Uint8Array;
  width: number;
  height: number;
}

function describe(v: JsonValue | undefined): string {
  if (v === undefined) return 'missing';
  if (v instanceof NumLit) return v.isFloat ? `${v.value} (a float)` : v.raw;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'a list' : 'an object';
}

/**
 * A mask dimension as numpy's reshape takes it: a JSON integer. A float literal such as `6.0` fails
 * there in the reference (TypeError), so it is refused here too; zero and negative sizes are refused
 * (numpy would infer a `-1` axis, and a zero-sized mask is no image).
 */
function dimension(value: JsonObject, key: 'original_width' | 'original_height'): number {
  const v = value[key];
  if (!Object.hasOwn(value, key)) {
    throw new BrushRegionError(`the region has no ${key}, needed to shape its mask`);
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new BrushRegionError(`${key} must be a positive integer, got ${describe(v)}`);
  }
  return v;
}

/** The RLE as bytes: a list of byte values, or (BRUSH_TO_COCO only) a string taken as UTF-8. */
function rleBytes(rle: JsonValue, allowString: boolean): ArrayLike<number> {
  if (Array.isArray(rle)) return rle as ArrayLike<number>;
  if (typeof rle === 'string' && allowString) return Buffer.from(rle, 'utf8');
  throw new BrushRegionError(`rle must be a list of byte values, got ${describe(rle)}`);
}

export interface DecodeMaskOptions {
  /** Largest width × height accepted (memory guard). */
  maxPixels: number;
  /** Accept a string `rle` as its UTF-8 bytes (BRUSH_TO_COCO does; NUMPY/PNG crash on it). */
  allowStringRle?: boolean;
  /** Charged with width × height before the RLE is decoded; refusal leaves the region out. */
  budget?: PixelBudget;
}

/** The writer's budget from the export options. */
export function pixelBudget(options: {
  brushMaxTaskPixels: number;
  brushMaxTotalPixels: number;
}): PixelBudget {
  return new PixelBudget(options.brushMaxTaskPixels, options.brushMaxTotalPixels);
}

/**
 * Decodes one region's mask: checks `original_width`/`original_height` and the pixel limit, checks
 * that the RLE's value count (its first 32 bits) is exactly width·height·4 before allocating,
 * charges the budget (if any) from the RLE header before decoding, then decodes and keeps the alpha
 * channel. Throws BrushRegionError with a readable reason.
 */
export function decodeBrushMask(value: JsonObject, options: DecodeMaskOptions): BrushMask {
  const width = dimension(value, 'original_width');
  const height = dimension(value, 'original_height');
  const pixels = width * height;
  if (pixels > options.maxPixels) {
    throw new BrushRegionError(
      `the mask is ${width}×${height} = ${pixels} pixels, above the limit of ${options.maxPixels} (option brushMaxPixels)`,
    );
  }
  const bytes = rleBytes(value.rle, options.allowStringRle ?? false);
  const expected = pixels * 4;
  if (bytes.length >= 4) {
    const head = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if (head.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
      const num = head[0] * 2 ** 24 + head[1] * 2 ** 16 + head[2] * 2 ** 8 + head[3];
      if (num !== expected) {
        throw new BrushRegionError(
          `the RLE holds ${num} values but original_width×original_height×4 = ${width}×${height}×4 = ${expected}`,
        );
      }
    }
  }
  let decoded: Uint8Array;
  const budget = options.budget;
  try {
    decoded = decodeRle(bytes, {
      maxValues: expected,
      beforeDecode: budget ? (num) => budget.take(num / 4) : undefined,
    });
  } catch (err) {
    if (err instanceof PixelBudgetError) throw new BrushRegionError(err.message);
    throw new BrushRegionError(`malformed RLE: ${reasonOf(err)}`);
  }
  try {
    return { mask: alphaChannel(decoded, width, height), width, height };
  } catch (err) {
    throw new BrushRegionError(reasonOf(err));
  }
}

/**
 * `completed_by` as the reference puts it in file names: the e-mail of a user object (`""` without
 * one), else `str(completed_by)`; then only Unicode letters/digits (Python `isalnum`), `@` and `.`.
 * Returns undefined when the e-mail is not a string (the reference crashes on it).
 */
export function fileAnnotator(completedBy: JsonValue): string | undefined {
  let email: JsonValue;
  if (isJsonObject(completedBy)) email = Object.hasOwn(completedBy, 'email') ? completedBy.email : '';
  else email = pyStr(completedBy);
  if (typeof email !== 'string') return undefined;
  return email.replace(/[^\p{L}\p{N}@.]/gu, '');
}

/** The value's label list for the layer name; a string counts as its characters, as Python joins it. */
function layerLabels(value: JsonObject, key: string): string[] {
  if (!Object.hasOwn(value, key)) return ['no_label'];
  const labels = value[key];
  if (typeof labels === 'string') return Array.from(labels);
  if (Array.isArray(labels) && labels.every((l) => typeof l === 'string')) return labels as string[];
  throw new BrushRegionError(`"${key}" must be a list of strings, got ${describe(labels)}`);
}

/** `brushlabels` / `labels` by the value's schema type (lower-cased), as the reference picks it. */
function maskKey(value: JsonObject): 'brushlabels' | 'labels' | undefined {
  const type = typeof value.type === 'string' ? value.type.toLowerCase() : '';
  return type === 'brushlabels' || type === 'labels' ? type : undefined;
}

export type BrushFileFormat = 'numpy' | 'png';

/** The data key of the image a brush control paints on: the option, its object's key, the config's first. */
function imageKey(ctx: ExportContext, fromName: string): string | undefined {
  if (ctx.options.dataKey) return ctx.options.dataKey;
  const control = findControl(ctx.schema, fromName);
  return control?.inputs[0]?.value ?? dataKeys(ctx.schema)[0];
}

/**
 * `brushNames: "image"`: the image's stem as YOLO names its label file (`labels/<stem>.txt`, the
 * reference's name for the image without its extension), so masks pair with the project's image
 * exports. Undefined when the task has no image text.
 */
export function imageStem(
  image: JsonValue | undefined,
  labelStudioUrl?: string,
  taskId?: JsonValue,
): string | undefined {
  if (typeof image !== 'string' || image === '') return undefined;
  const stem = labelStem(labelOnlyReferencePath(image, { hostname: labelStudioUrl, taskId }).name);
  return stem === '' ? undefined : stem;
}

/** One mask to write: its layer name and the results it holds (several when merged). */
interface Layer {
  /** `<from_name>-<labels>` (task naming) or `<labels>` (image naming), before `-<n>`. */
  name: string;
  labels: string[];
  mask: BrushMask;
  values: JsonObject[];
}

export function brushWriter(ctx: ExportContext, format: BrushFileFormat): FormatWriter {
  const { brushMaxPixels: maxPixels, fixBrushMergePerLabel: merge } = ctx.options;
  const byImage = ctx.options.brushNames === 'image';
  const budget = pixelBudget(ctx.options);
  const ledger = new RegionLedger(ctx, format === 'png' ? 'BRUSH_TO_PNG' : 'BRUSH_TO_NUMPY');
  const index = ctx.options.brushIndex
    ? new MaskIndex(ctx.sink, ctx.options.brushIndex, ctx.options.fixCsvFormulaEscape)
    : undefined;
  /** Image naming: masks so far per `<stem>-<labels>`, numbering them across the export. */
  const imageCounters = new Map<string, number>();
  const ext = format === 'png' ? 'png' : 'npy';
  const ignoredReason = (fromName: string, type: string) =>
    `"${fromName}" is a ${type} control: only BrushLabels/Labels regions are exported as masks (as in Label Studio)`;

  async function writeLayer(
    ref: TaskRef,
    item: Item,
    acc: ItemLedger,
    base: string,
    layer: Layer,
    image: JsonValue | undefined,
  ): Promise<void> {
    // np.save would not append `.npy` to a name already ending in it, but layers end in `-<n>`.
    const path = outputPath(ctx.sink, '', `${base.replace(/[/\\]/g, '-')}.${ext}`);
    const m = layer.mask;
    let bytes: Uint8Array;
    try {
      bytes =
        format === 'png'
          ? encodeGrayPng(m.mask, m.width, m.height)
          : encodeNpyUint8(m.mask, [m.height, m.width]);
    } catch (err) {
      for (const v of layer.values) acc.skip(v, `brush mask ${path} not written: ${reasonOf(err)}`);
      return;
    }
    if (ctx.sink.exists(path)) {
      ctx.report.warn({
        ...ref,
        reason: `${path} is written twice; the later mask replaces the earlier (as in Label Studio)`,
      });
    }
    await ctx.sink.writeFile(path, bytes);
    if (!ctx.sink.exists(path)) {
      for (const v of layer.values)
        acc.skip(v, `the output refused the mask file name ${JSON.stringify(path)}`);
      return;
    }
    for (const v of layer.values) acc.exported(v);
    await index?.add({
      file: path,
      taskId: item.id,
      annotationId: item.annotationId,
      label: layer.labels.join(', '),
      image: image ?? null,
      width: m.width,
      height: m.height,
    });
  }

  /** The file base name of a layer (without extension): task naming, or image naming (`brushNames`). */
  function baseName(prefix: string, stem: string | undefined, layer: Layer, n: number): string {
    if (stem === undefined) return `${prefix}${layer.name}-${n}`;
    const key = `${stem}-${layer.name}`;
    const k = imageCounters.get(key) ?? 0;
    imageCounters.set(key, k + 1);
    return `${key}-${k}`;
  }

  async function writeItem(item: Item, ref: TaskRef, acc: ItemLedger): Promise<void> {
    let annotator = fileAnnotator(item.completedBy);
    if (annotator === undefined) {
      ctx.report.warn({
        ...ref,
        reason: `annotation ${pyStr(item.annotationId)}: completed_by.email is not a string; its mask files are named with an empty annotator (Label Studio's converter crashes)`,
      });
      annotator = '';
    }
    const prefix = `task-${pyStr(item.id)}-annotation-${pyStr(item.annotationId)}-by-${annotator}-`;
    if (!byImage && /[/\\\0]/.test(prefix)) {
      const reason = `the task or annotation id puts a path separator in the mask file names (${JSON.stringify(prefix)}); its masks are left out`;
      if (acc.pending().length > 0) acc.skipAll(reason);
      else ctx.report.skip({ ...ref, reason });
      return;
    }
    for (const [fromName, values] of item.output) {
      const key0 = imageKey(ctx, fromName);
      const image = key0 === undefined ? undefined : item.input[key0];
      let stem: string | undefined;
      if (byImage) {
        stem = imageStem(image, ctx.options.labelStudioUrl, item.id);
        if (stem === undefined && values.some((v) => maskKey(v) && Object.hasOwn(v, 'rle'))) {
          ctx.report.warn({
            ...ref,
            reason: `data["${key0}"] is not an image path or URL; "${fromName}" masks are named after the task (task-…) instead of the image`,
          });
        }
      }
      const counters = new Map<string, number>();
      // Fix brush-merge-per-label: layer name → the union of its regions, in first-seen order.
      const merged = merge ? new Map<string, Layer>() : undefined;
      for (let i = 0; i < values.length; i++) {
        const value = values[i];
        const key = maskKey(value);
        if (key === undefined) {
          if (Object.hasOwn(value, 'rle')) acc.skip(value, ignoredReason(fromName, String(value.type)));
          continue;
        }
        if (!Object.hasOwn(value, 'rle')) continue;
        const where = `annotation ${pyStr(item.annotationId)}, "${fromName}" region ${i + 1}`;
        let labels: string[];
        let mask: BrushMask;
        try {
          labels = layerLabels(value, key);
        } catch (err) {
          acc.skip(value, `${where} left out: ${reasonOf(err)}`);
          continue;
        }
        const name = stem === undefined ? `${fromName}-${labels.join('-')}` : labels.join('-');
        const n = counters.get(name) ?? 0;
        counters.set(name, n + 1);
        try {
          mask = decodeBrushMask(value, { maxPixels, budget });
        } catch (err) {
          acc.skip(value, `${where} (${name}-${n}) left out: ${reasonOf(err)}`);
          continue;
        }
        const layer: Layer = { name, labels, mask, values: [value] };
        if (!merged) {
          await writeLayer(ref, item, acc, baseName(prefix, stem, layer, n), layer, image);
          continue;
        }
        const into = merged.get(name);
        if (!into) merged.set(name, layer);
        else if (into.mask.width !== mask.width || into.mask.height !== mask.height) {
          acc.skip(
            value,
            `${where} (${name}) left out of the merged mask: it is ${mask.width}×${mask.height}, the label's first region ${into.mask.width}×${into.mask.height}`,
          );
        } else {
          const a = into.mask.mask;
          const b = mask.mask;
          for (let p = 0; p < a.length; p++) if (b[p] > a[p]) a[p] = b[p];
          into.values.push(value);
        }
      }
      if (merged)
        for (const layer of merged.values())
          await writeLayer(ref, item, acc, baseName(prefix, stem, layer, 0), layer, image);
    }
  }

  return {
    async addTask(task, ref) {
      budget.startTask();
      for (const item of itemsOfTask(task, ctx.schema, ref, ctx.report)) {
        const acc = ledger.item(item, ref);
        await writeItem(item, ref, acc);
        // Results not marked by now were not written: not brush regions (no rle).
        acc.close((v) => `a ${resultType(v)} result is not a brush mask; ${ledger.format} writes masks only`);
      }
    },
    async finish() {
      await index?.finish();
    },
  };
}
