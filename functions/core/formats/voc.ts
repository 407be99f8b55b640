/**
 * Pascal VOC XML (docs/label-studio-behaviour.md#voc): `Annotations/<stem>.xml` per image, written as tasks arrive,
 * laid out as Python's minidom `writexml(newl="\n")` prints it.
 *
 * Images: Label Studio's converter includes them by default (its `download_resources` is on for
 * VOC), so we copy them into `images/` like the *_WITH_IMAGES formats and name the XML after the
 * copy (`<md5_8>__<name>` for URLs, the basename for uploads, the raw name when the image cannot
 * be fetched); `vocImages: false` names them as a label-only export would.
 *
 * Reference behaviour kept by default (docs/label-studio-behaviour.md#known-quirks-and-fixes, quirk 21): the size comes from the first region only; the
 * depth is read from included images (3 otherwise, and for existing local paths); rotation is
 * ignored; coordinates are truncated one by one; an item rewrites its file, so the oldest annotation
 * of a task survives; no file for an image without regions. Text is escaped as Python ≤ 3.12 does
 * (`"` → `&quot;`).
 *
 * Beyond the reference: when the first region has no usable size, the image header gives it (when
 * the image can be reached); bad regions are reported instead of crashing the export. Fixes:
 * rotated-bbox, clip-coordinates, keep-negative-images (an XML without objects), newest-annotation-wins,
 * copy-local-images.
 */

import { type ItemLedger, RegionLedger, resultType } from '../accounting.ts';
import { dataKeys } from '../config/label-config.ts';
import { boxOutside, clipBoxPercent, trueRotatedBoxPercent } from '../images/geometry.ts';
import { ImageProbe } from '../images/image-info.ts';
import { pySplitext } from '../images/naming.ts';
import { IMAGE_DIR, ImageResolver } from '../images/resolve.ts';
import { notCarried, OUTSIDE, OVERFLOW, regionShape } from '../images/shapes.ts';
import { hasKey, itemValues, numberAt, originalSize, originalSizeProblem } from '../images/values.ts';
import { WriteQueue } from '../images/write-queue.ts';
import { annotatorOf, itemsOfTask, pyStr, type TaskRef } from '../items.ts';
import { type JsonObject, type JsonValue, num } from '../json/value.ts';
import { companionPath } from '../output-names.ts';
import type { ExportContext, FormatWriter } from './types.ts';

/** Characters minidom's text escaping replaces. */
const XML_SPECIAL = /[&<">]/;

/** minidom's text escaping (Python ≤ 3.12). */
export function xmlText(s: string): string {
  if (!XML_SPECIAL.test(s)) return s;
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/>/g, '&gt;');
}

const textOf = (v: JsonValue): string => (typeof v === 'string' ? v : pyStr(v));

export interface VocObject {
  name: string;
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

export interface VocDocument {
  folder: string;
  filename: string;
  annotator: string;
  width: string;
  height: string;
  depth: number;
  objects: VocObject[];
}

/**
 * The VOC file of one image as minidom's `writexml(indent="", newl="\n")` prints it: a text element
 * on one line (`<tag></tag>` when empty), a container's children one per line. Written out as one
 * string, not rendered from a node tree (a few arrays and strings per element, per image).
 */
export function vocXml(doc: VocDocument): string {
  let xml =
    '<?xml version="1.0" encoding="utf-8"?>\n<annotation>\n' +
    `<folder>${xmlText(doc.folder)}</folder>\n<filename>${xmlText(doc.filename)}</filename>\n` +
    '<source>\n<database>MyDatabase</database>\n<annotation>COCO2017</annotation>\n' +
    `<image>flickr</image>\n<flickrid>NULL</flickrid>\n<annotator>${xmlText(doc.annotator)}</annotator>\n</source>\n` +
    '<owner>\n<flickrid>NULL</flickrid>\n<name>Label Studio</name>\n</owner>\n' +
    `<size>\n<width>${xmlText(doc.width)}</width>\n<height>${xmlText(doc.height)}</height>\n<depth>${doc.depth}</depth>\n</size>\n` +
    '<segmented>0</segmented>\n';
  for (const o of doc.objects)
    xml +=
      `<object>\n<name>${xmlText(o.name)}</name>\n<pose>Unspecified</pose>\n<truncated>0</truncated>\n<difficult>0</difficult>\n` +
      `<bndbox>\n<xmin>${o.xmin}</xmin>\n<ymin>${o.ymin}</ymin>\n<xmax>${o.xmax}</xmax>\n<ymax>${o.ymax}</ymax>\n</bndbox>\n</object>\n`;
  return `${xml}</annotation>\n`;
}

export function vocWriter(ctx: ExportContext): FormatWriter {
  const { schema, sink, report, options } = ctx;
  const key = options.dataKey ?? dataKeys(schema)[0];
  const probe = new ImageProbe(ctx.media);
  // XML files and image copies are written a few at a time (see images/write-queue.ts).
  const queue = new WriteQueue();
  const resolver = new ImageResolver(
    ctx,
    probe,
    {
      downloading: options.vocImages,
      hostname: options.labelStudioUrl,
      copyLocal: options.fixCopyLocalImages,
      shownDir: options.imageDir,
    },
    queue,
  );
  if (key === undefined)
    report.warn({
      source: 'label config',
      reason: 'the label config has no object tag with a data key; no files are written',
    });

  const ledger = new RegionLedger(ctx, 'VOC');
  const notWritten = (v: JsonObject) => notCarried('VOC', `a ${resultType(v)} result`);

  /** The objects of an item's rectangles; every value is accounted for in `acc`. */
  function objectsOf(values: JsonObject[], width: number, height: number, acc: ItemLedger): VocObject[] {
    const objects: VocObject[] = [];
    for (const v of values) {
      const labelKey = hasKey(v, 'rectanglelabels')
        ? 'rectanglelabels'
        : hasKey(v, 'labels')
          ? 'labels'
          : undefined;
      const labels = labelKey ? v[labelKey] : undefined;
      if (!Array.isArray(labels) || labels.length === 0) continue; // acc.close reports it
      // The shape follows the value's keys: a `labels` result with points is a polygon.
      const shape = regionShape(v);
      if (shape.kind === 'invalid') {
        acc.skip(v, shape.reason);
        continue;
      }
      if (shape.kind !== 'box') {
        const what = shape.kind === 'other' ? shape.what : `a ${shape.kind} (VOC has rectangles only)`;
        acc.skip(v, notCarried('VOC', what));
        continue;
      }
      let { x, y, w, h } = shape;
      const r = numberAt(v, 'rotation') ?? 0;
      if (options.fixRotatedBbox && r !== 0)
        [x, y, w, h] = trueRotatedBoxPercent(x, y, w, h, r, width, height);
      if (options.fixClipCoordinates) [x, y, w, h] = clipBoxPercent(x, y, w, h);
      const px = Math.trunc((x / 100) * width);
      const py = Math.trunc((y / 100) * height);
      const pw = Math.trunc((w / 100) * width);
      const ph = Math.trunc((h / 100) * height);
      if (![px, py, px + pw, py + ph].every(Number.isFinite)) {
        acc.skip(v, OVERFLOW); // finite percentages can overflow once scaled: no Infinity in the XML
        continue;
      }
      if (!options.fixClipCoordinates && boxOutside(x, y, w, h)) acc.warn(v, OUTSIDE);
      objects.push({ name: textOf(labels[0]), xmin: px, ymin: py, xmax: px + pw, ymax: py + ph });
      if (labels.length > 1)
        acc.warn(v, `a region has ${labels.length} labels; VOC keeps the first ("${textOf(labels[0])}")`);
      acc.exported(v);
    }
    return objects;
  }

  /** Width and height as the XML prints them, and as numbers. */
  async function sizeOf(
    values: JsonObject[],
    raw: string,
    ref: TaskRef,
  ): Promise<{ text: [string, string]; px: [number, number] } | undefined> {
    const first = values[0];
    const own = first ? originalSize(first) : undefined;
    if (own)
      return { text: [textOf(own.width), textOf(own.height)], px: [num(own.width)!, num(own.height)!] };
    const h = await probe.header(raw);
    if (h.ok)
      return { text: [String(h.value.width), String(h.value.height)], px: [h.value.width, h.value.height] };
    const why = first ? `its first region ${originalSizeProblem(first)}` : 'it has no regions';
    report.skip({
      ...ref,
      reason: `no VOC file for task image ${raw}: ${why} and the image size cannot be read (${h.reason})`,
    });
    return undefined;
  }

  return {
    async addTask(task, ref) {
      if (key === undefined) return;
      const written = new Map<string, ItemLedger>();
      /** Each VOC file's last item's XML, written once the task's items are converted (yolo.ts). */
      const final = new Map<string, { xml: string; acc: ItemLedger }>();
      for (const item of itemsOfTask(task, schema, ref, report)) {
        const acc = ledger.item(item, ref);
        /** Leaves every result of the item out: one entry per result, or one for the task without any. */
        const leaveOut = (reason: string) => {
          if (item.output.size === 0) report.skip({ ...ref, reason });
          else acc.skipAll(reason);
          acc.close();
        };
        const raw = item.input[key];
        if (typeof raw !== 'string') {
          leaveOut(`data["${key}"] is not an image URL; no VOC file`);
          continue;
        }
        const image = await resolver.resolve(raw, item.id, ref);
        let depth = 3;
        if (image.kind === 'copied' || image.kind === 'source') {
          const h = await probe.header(raw);
          if (h.ok && h.value.channels !== undefined) depth = h.value.channels;
        }
        const values = itemValues(item);
        if (item.annotation === undefined)
          report.warn({
            ...ref,
            format: ledger.format,
            reason: options.fixKeepNegativeImages
              ? 'no annotation: exported as an image without objects'
              : 'no annotation: no VOC file is written (as Label Studio; --fix keep-negative-images writes one)',
          });
        if (values.length === 0 && !options.fixKeepNegativeImages) {
          acc.close();
          continue;
        }
        const path = companionPath(
          sink,
          'Annotations',
          image.name,
          `${pySplitext(image.name)[0]}.xml`,
          '.xml',
        );
        if (written.has(path) && options.fixNewestAnnotationWins) {
          acc.skipAll(
            'an older annotation of the task; the newest one is exported (--fix newest-annotation-wins)',
          );
          acc.close();
          continue;
        }
        const size = await sizeOf(values, raw, ref);
        if (!size) {
          acc.skipAll('the image size is unknown; no VOC file');
          acc.close();
          continue;
        }
        // With regions but no rectangle, the reference still writes the file, without objects.
        const objects = objectsOf(values, size.px[0], size.px[1], acc);
        acc.close(notWritten);
        if (!written.has(path) && (sink.exists(path) || queue.pending(path))) {
          report.warn({
            ...ref,
            format: ledger.format,
            reason: `${path} was already written for another task (images share the name ${image.name}); this task replaces it`,
          });
        }
        // Label Studio rewrites the file per annotation: the newer annotation's objects are lost.
        written
          .get(path)
          ?.revoke(
            `replaced in ${path} by an older annotation of the task, as Label Studio does (--fix newest-annotation-wins keeps the newest)`,
          );
        written.set(path, acc);
        const annotator = annotatorOf(item.completedBy, '', false);
        const xml = vocXml({
          folder: options.imageDir ?? IMAGE_DIR,
          filename: image.name,
          annotator: textOf(annotator),
          width: size.text[0],
          height: size.text[1],
          depth,
          objects,
        });
        final.set(path, { xml, acc });
      }
      for (const [path, { xml, acc }] of final)
        await queue.write(path, async () => {
          await sink.writeFile(path, xml);
          // The sink reported a name it cannot hold (and left the file out): so are its objects.
          if (!sink.exists(path)) acc.revoke(`the output refused the VOC file name ${JSON.stringify(path)}`);
        });
    },
    async finish() {
      await queue.drain();
    },
  };
}
