/**
 * YOLO, YOLO_OBB and their *_WITH_IMAGES variants, plus YOLO keypoints (docs/label-studio-behaviour.md#yolo):
 * `labels/<stem>.txt` per image, written as tasks arrive, then `classes.txt` and `notes.json`.
 *
 * Reference behaviour kept by default (docs/label-studio-behaviour.md#known-quirks-and-fixes, quirk 22): hashed `<md5_8>__<name>` label names when images
 * are not included; one line per label of a multi-label region; rotation ignored outside OBB; OBB
 * drops rectangles without a `rotation` key; an item rewrites its label file, so with items newest
 * first the oldest annotation of a task survives; an empty file is created for an item without
 * regions only if none exists; in *_WITH_IMAGES an image that cannot be fetched keeps its raw name,
 * except cloud URIs, whose items get no label file.
 *
 * Beyond the reference: a region without `original_width`/`original_height` that needs them (OBB)
 * takes the size from the image header; bad regions are reported instead of crashing the export;
 * two tasks whose images share a name are reported. Fixes: config-category-ids (classes.txt line N
 * is class N), region-categories, rotated-bbox, newest-annotation-wins, copy-local-images,
 * obb-default-rotation, clip-coordinates. Options for Ultralytics (yolo-dataset.ts): `yoloSplit` lays
 * out `labels/<split>/` (and `images/<split>/`) by a hash of the task id; `yoloDataYaml` (implied by
 * the split) writes `data.yaml`.
 *
 * Label files and image copies go through a bounded write queue (images/write-queue.ts): writes to
 * one path keep their order, so "last write wins" holds as in the reference.
 */

import { type ItemLedger, RegionLedger, resultType } from '../accounting.ts';
import { dataKeys } from '../config/label-config.ts';
import {
  type CategoryTable,
  hasKeypointLabels,
  keypointOrder,
  labelCategories,
  yoloKeypointCategories,
} from '../images/categories.ts';
import {
  boxOutside,
  clipBoxPercent,
  obbCorners,
  trueRotatedBoxPercent,
  yoloBox,
} from '../images/geometry.ts';
import { ImageProbe } from '../images/image-info.ts';
import { labelStem } from '../images/naming.ts';
import { ImageResolver, type ResolvedImage, underDir } from '../images/resolve.ts';
import {
  clippedPolygon,
  notCarried,
  OUTSIDE,
  regionShape,
  SHORT_POLYGON,
  type Shape,
} from '../images/shapes.ts';
import { itemValues, nonEmptyList, numberAt, originalSize } from '../images/values.ts';
import { WriteQueue } from '../images/write-queue.ts';
import { type Item, itemsOfTask, type TaskRef } from '../items.ts';
import { pyFloatRepr } from '../json/py-number.ts';
import { stringify, UJSON_PRETTY_ASCII } from '../json/serialize.ts';
import { type JsonObject, type JsonValue, num, setKey } from '../json/value.ts';
import { companionPath, type NameLimits } from '../output-names.ts';
import type { ExportContext, FormatWriter } from './types.ts';
import { classNamesById, dataYamlText, parseSplit, type SplitName, splitOf } from './yolo-dataset.ts';
import { keypointLabelText } from './yolo-keypoints.ts';

export interface YoloMode {
  obb: boolean;
  withImages: boolean;
}

const LABEL_DIR = 'labels';

/**
 * `labels/<stem>.txt` (`labels/<split>/<stem>.txt` with a split) for a resolved image, made safe for
 * the output (core/output-names.ts `companionPath`: a mapped name has the image's own `~<hash>`).
 */
export const labelPathOf = (image: ResolvedImage, limits?: NameLimits, split?: SplitName): string =>
  companionPath(
    limits,
    split ? `${LABEL_DIR}/${split}` : LABEL_DIR,
    image.name,
    `${labelStem(image.name)}.txt`,
    '.txt',
  );

/** The image value of an item as the list of candidates the reference tries (last first). */
export function imageCandidates(value: JsonValue | undefined): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string'))
    return value as string[];
  return undefined;
}

export function yoloWriter(ctx: ExportContext, mode: YoloMode): FormatWriter {
  const { schema, sink, report, options } = ctx;
  const key = options.dataKey ?? dataKeys(schema)[0];
  const keypointMode = hasKeypointLabels(schema);
  const categories: CategoryTable = keypointMode
    ? yoloKeypointCategories(schema)
    : labelCategories(
        schema,
        { configOrder: options.fixConfigCategoryIds, regionOnly: options.fixRegionCategories },
        report,
      );
  const kpOrder = keypointMode ? keypointOrder(schema) : [];
  const probe = new ImageProbe(ctx.media);
  // Label files and image copies are written a few at a time (see images/write-queue.ts).
  const queue = new WriteQueue();
  const resolverOptions = {
    downloading: mode.withImages,
    hostname: options.labelStudioUrl,
    copyLocal: options.fixCopyLocalImages,
    shownDir: options.imageDir,
  };
  const resolver = new ImageResolver(ctx, probe, resolverOptions, queue);
  // --split: a resolver per split, copying into images/<split>/ (the schema validated the text).
  const split = options.yoloSplit === undefined ? undefined : parseSplit(options.yoloSplit);
  const splitResolvers = new Map(
    (split ?? []).map((s) => [
      s.name,
      new ImageResolver(
        ctx,
        probe,
        {
          ...resolverOptions,
          imageDir: `images/${s.name}`,
          shownDir: options.imageDir && underDir(options.imageDir, s.name),
        },
        queue,
      ),
    ]),
  );
  /** The split of a task: by its id, else (no usable id) by its source position, with a warning. */
  function taskSplit(ref: TaskRef): SplitName | undefined {
    if (!split) return undefined;
    const id = ref.taskId;
    if (id !== undefined && id !== '') return splitOf(id, split);
    report.warn({ ...ref, reason: `the task has no id; its split is chosen by its source ${ref.source}` });
    return splitOf(ref.source, split);
  }
  const ledger = new RegionLedger(
    ctx,
    `YOLO${mode.obb ? '_OBB' : ''}${mode.withImages ? '_WITH_IMAGES' : ''}`,
  );
  /** Whether a label file was written or is being written. */
  const known = (path: string) => sink.exists(path) || queue.pending(path);
  if (key === undefined)
    report.warn({
      source: 'label config',
      reason: 'the label config has no object tag with a data key; no label files are written',
    });

  /**
   * The image size for pixel maths when a region lacks its own (OBB, rotated-bbox). Without it the
   * region is left out (skip) or, when `rotationOnly`, exported unrotated (warning).
   */
  async function headerSize(
    raw: string,
    v: JsonObject,
    acc: ItemLedger,
    rotationOnly = false,
  ): Promise<{ width: number; height: number } | undefined> {
    const h = await probe.header(raw);
    if (h.ok) return h.value;
    const reason = `a region has no usable original_width/original_height and the size of ${raw} cannot be read (${h.reason}); `;
    if (rotationOnly) acc.warn(v, `${reason}its rotation is ignored`);
    else acc.skip(v, `${reason}it is left out`);
    return undefined;
  }

  /**
   * The lines of one item (regular and OBB modes). The shape is decided by the value's keys
   * (images/shapes.ts) and validated there; every value is accounted for in `acc`.
   */
  async function lines(item: Item, raw: string, ref: TaskRef, acc: ItemLedger): Promise<string> {
    let text = '';
    for (const v of itemValues(item)) {
      const names: JsonValue[] = [];
      for (const k of ['rectanglelabels', 'polygonlabels', 'labels'])
        names.push(...(nonEmptyList(v, k) ?? []));
      if (names.length === 0) continue; // not a region (Choices, TextArea, …): acc.close reports it
      const ids: number[] = [];
      for (const name of names) {
        if (typeof name !== 'string') {
          acc.skip(v, `label ${JSON.stringify(name)} is not a string; it is left out`);
          continue;
        }
        // The category exists even if the geometry turns out unusable, as in the reference.
        ids.push(categories.idFor(name, ref));
      }
      if (ids.length === 0) continue;
      const shape = regionShape(v);
      let coords: number[] | undefined;
      if (shape.kind === 'box') {
        coords = mode.obb ? await obbCoords(v, shape, raw, acc) : await boxCoords(v, shape, raw, acc);
      } else if (shape.kind === 'polygon') {
        coords = polygonCoords(v, shape, acc);
      } else if (shape.kind === 'invalid') {
        acc.skip(v, shape.reason);
      } else {
        acc.skip(v, notCarried(ledger.format, shape.kind === 'keypoint' ? 'a keypoint' : shape.what));
      }
      if (!coords) continue;
      acc.exported(v);
      const tail = coords.map(pyFloatRepr).join(' ');
      for (const id of ids) text += `${id} ${tail}\n`;
    }
    return text;
  }

  type BoxShape = Extract<Shape, { kind: 'box' }>;
  type PolygonShape = Extract<Shape, { kind: 'polygon' }>;

  async function boxCoords(v: JsonObject, s: BoxShape, raw: string, acc: ItemLedger): Promise<number[]> {
    let { x, y, w, h } = s;
    const r = numberAt(v, 'rotation') ?? 0;
    if (options.fixRotatedBbox && r !== 0) {
      const size = originalSize(v);
      const px = size
        ? { width: num(size.width)!, height: num(size.height)! }
        : await headerSize(raw, v, acc, true);
      if (px) [x, y, w, h] = trueRotatedBoxPercent(x, y, w, h, r, px.width, px.height);
    }
    if (options.fixClipCoordinates) [x, y, w, h] = clipBoxPercent(x, y, w, h);
    else if (boxOutside(x, y, w, h)) acc.warn(v, OUTSIDE);
    return yoloBox(x, y, w, h);
  }

  async function obbCoords(
    v: JsonObject,
    s: BoxShape,
    raw: string,
    acc: ItemLedger,
  ): Promise<number[] | undefined> {
    const { x, y, w, h } = s;
    let r = numberAt(v, 'rotation');
    if (r === undefined) {
      if (Object.hasOwn(v, 'rotation') && v.rotation !== null) {
        acc.skip(v, 'a rectangle has a non-numeric rotation; it is left out');
        return undefined;
      }
      if (!options.fixObbDefaultRotation) {
        acc.skip(
          v,
          'a rectangle has no rotation; YOLO OBB leaves it out as Label Studio does (--fix obb-default-rotation keeps it)',
        );
        return undefined;
      }
      r = 0;
    }
    const size = originalSize(v);
    const px = size ? { width: num(size.width)!, height: num(size.height)! } : await headerSize(raw, v, acc);
    if (!px) return undefined;
    if (boxOutside(x, y, w, h) && !options.fixClipCoordinates) acc.warn(v, OUTSIDE);
    const corners = obbCorners(x, y, w, h, r, px.width, px.height);
    const flat = corners.flat();
    return options.fixClipCoordinates ? flat.map((c) => Math.min(Math.max(c, 0), 1)) : flat;
  }

  function polygonCoords(v: JsonObject, s: PolygonShape, acc: ItemLedger): number[] {
    if (s.shortPolygon) acc.warn(v, SHORT_POLYGON);
    const { points, outside } = clippedPolygon(s.points, options.fixClipCoordinates);
    if (outside && !options.fixClipCoordinates) acc.warn(v, OUTSIDE);
    return points.flatMap(([px, py]) => [px / 100, py / 100]);
  }

  /** Leaves every result of an item out: one entry per result, or one for the task without any. */
  function leaveOut(acc: ItemLedger, item: Item, ref: TaskRef, reason: string): void {
    if (item.output.size === 0) report.skip({ ...ref, reason });
    else acc.skipAll(reason);
    acc.close();
  }

  /** Results the label lines had no place for. */
  const notWritten = (v: JsonObject) => notCarried(ledger.format, `a ${resultType(v)} result`);

  return {
    async addTask(task, ref) {
      if (key === undefined) return;
      /** Label files this task wrote: later (older) annotations of the task rewrite them. */
      const written = new Map<string, ItemLedger>();
      /**
       * What each label file gets once the task's items are all converted: the last item's lines,
       * as Label Studio leaves it after rewriting the file per annotation, written once (each
       * rewrite cost a create, a rename and a freed inode: 1,717 of 10,000 bench tasks).
       */
      const final = new Map<string, { text: string; acc?: ItemLedger }>();
      const splitName = taskSplit(ref);
      const taskResolver = splitName ? splitResolvers.get(splitName)! : resolver;
      for (const item of itemsOfTask(task, schema, ref, report, { keypointMode })) {
        const acc = ledger.item(item, ref);
        const candidates = imageCandidates(item.input[key]);
        if (!candidates) {
          leaveOut(acc, item, ref, `data["${key}"] is not an image URL or a list of them; no label file`);
          continue;
        }
        let image: ResolvedImage | undefined;
        let url = '';
        for (const candidate of [...candidates].reverse()) {
          const resolved = await taskResolver.resolve(candidate, item.id, ref);
          if (resolved.cloudFailed) continue;
          image = resolved;
          url = candidate;
          break;
        }
        if (!image) {
          leaveOut(
            acc,
            item,
            ref,
            'no image of the task could be fetched; no label file is written (as Label Studio)',
          );
          continue;
        }
        const path = labelPathOf(image, sink, splitName);
        if (written.has(path) && options.fixNewestAnnotationWins) {
          acc.skipAll(
            'an older annotation of the task; the newest one is exported (--fix newest-annotation-wins)',
          );
          acc.close();
          continue;
        }
        if (!written.has(path) && known(path)) {
          report.warn({
            ...ref,
            format: ledger.format,
            reason: `${path} was already written for another task (images share the name ${image.name}); ${item.output.size === 0 ? 'it is kept' : 'this task replaces it'}`,
          });
        }
        if (item.output.size === 0) {
          if (item.annotation === undefined)
            report.warn({
              ...ref,
              format: ledger.format,
              reason: 'no annotation: exported as an image without objects',
            });
          acc.close();
          // An annotation without regions writes an empty file only where none is (as Label
          // Studio): a newer annotation's lines stay, and so are its regions exported (QA,
          // 2026-12-01: they were reported as replaced).
          if (!written.has(path)) written.set(path, acc);
          if (!known(path) && !final.has(path)) final.set(path, { text: '' });
          continue;
        }
        // Label Studio rewrites the file per annotation: the newer annotation's lines are lost.
        written
          .get(path)
          ?.revoke(
            `replaced in ${path} by an older annotation of the task, as Label Studio does (--fix newest-annotation-wins keeps the newest)`,
          );
        written.set(path, acc);
        const text = keypointMode
          ? keypointLabelText(itemValues(item), categories, kpOrder, report, ref, acc, ledger.format)
          : await lines(item, url, ref, acc);
        acc.close(notWritten);
        final.set(path, { text, acc });
      }
      for (const [path, { text, acc }] of final)
        await queue.write(path, async () => {
          await sink.writeFile(path, text);
          // The sink reported a name it cannot hold (and left the file out): so are its lines.
          if (acc && !sink.exists(path))
            acc.revoke(`the output refused the label file name ${JSON.stringify(path)}`);
        });
    },

    async finish() {
      await queue.drain();
      let classes = '';
      const list = categories.list;
      if (options.fixConfigCategoryIds && !keypointMode) {
        const byId = categories.byId();
        const max = byId.length ? byId[byId.length - 1].id : -1;
        const names = new Map<number, string>();
        for (const c of byId) if (c.id >= 0 && !names.has(c.id)) names.set(c.id, c.name);
        for (let id = 0; id <= max; id++) {
          if (!names.has(id)) {
            report.warn({
              source: 'classes.txt',
              reason: `no category has id ${id}; line ${id} of classes.txt is "unused_${id}"`,
            });
          }
          classes += `${names.get(id) ?? `unused_${id}`}\n`;
        }
      } else {
        for (const c of list) classes += `${c.name}\n`;
      }
      await sink.writeFile('classes.txt', classes);
      const notes: JsonObject = {};
      setKey(
        notes,
        'categories',
        list.map((c) => {
          const o: JsonObject = { id: c.id, name: c.name };
          if (c.keypoints) setKey(o, 'keypoints', [...c.keypoints]);
          return o;
        }),
      );
      setKey(notes, 'info', { year: ctx.now().getFullYear(), version: '1.0', contributor: 'Label Studio' });
      await sink.writeFile('notes.json', stringify(notes, UJSON_PRETTY_ASCII));
      if (options.yoloDataYaml || split) {
        const names = classNamesById(list);
        const splits = split?.map((s) => s.name);
        await sink.writeFile(
          'data.yaml',
          dataYamlText(names, splits, keypointMode ? kpOrder.length : undefined, options.imageDir),
        );
      }
    },
  };
}
