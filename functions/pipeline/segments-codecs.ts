/**
 * How an aggregate file (one that holds every task: JSON's `result.json`, `result.csv`, COCO's
 * `result.json`, `result.conll`, ASR's `manifest.json`, YOLO's `classes.txt`/`notes.json`) is cut
 * into per-segment bodies and put back together, byte for byte as one writer run over every task
 * would write it. Pure functions over the bytes the existing writers produce for one segment's
 * tasks (core/formats/*), so the writers stay as they are:
 *
 *  - `seq` (JSON, JSON_MIN): `[\n` + bodies joined by `,\n` + `\n]` (`[\n\n]` when empty);
 *  - `concat` (CONLL2003, ASR_MANIFEST): the empty run's bytes (the `-DOCSTART-` line) + bodies;
 *  - `csv` (CSV, TSV): the header of the union of the segments' columns, then each segment's rows
 *    re-laid onto that column list (a column a segment lacks is `""` in its rows, as the writer
 *    writes it for a row without that column);
 *  - `coco` (COCO, COCO_WITH_IMAGES): two streams, image entries and annotation entries, with ids shifted by the
 *    counts of the segments before (`"id"` / `"image_id"` at an entry's own indent); the
 *    categories come from the empty run and must equal every segment's;
 *  - `brushcoco` (BRUSH_TO_COCO `result_coco.json`): the same two streams in Python's `json`
 *    layout; image ids are item indices (shifted by the items of the segments before, counted
 *    while the segment renders), annotation ids by the annotations before, and categories, numbered
 *    in first-seen order over the whole run, are merged in segment order (`"category_id"` mapped);
 *  - `global` (YOLO `classes.txt`, `notes.json`): one file that must equal the empty run's.
 *
 * A body never carries the separator before it; the file layout records it as the chunk's `lead`.
 */
import { createHash } from 'node:crypto';
import type { FormatName } from '../core/config/formats.ts';
import { csvCell } from '../core/formats/csv.ts';

export type CodecKind = 'seq' | 'concat' | 'csv' | 'coco' | 'brushcoco' | 'global';

/** The codec of a format's aggregate file, by format and path. */
export function codecOf(format: FormatName, path: string): CodecKind {
  if ((format === 'JSON' || format === 'JSON_MIN') && path === 'result.json') return 'seq';
  if (format === 'CONLL2003' && path === 'result.conll') return 'concat';
  if (format === 'ASR_MANIFEST' && path === 'manifest.json') return 'concat';
  if ((format === 'CSV' || format === 'TSV') && path === 'result.csv') return 'csv';
  if ((format === 'COCO' || format === 'COCO_WITH_IMAGES') && path === 'result.json') return 'coco';
  if (format === 'BRUSH_TO_COCO' && path === 'result_coco.json') return 'brushcoco';
  return 'global';
}

/**
 * Formats whose files can be produced segment by segment (others need one run over every task).
 * The *_WITH_IMAGES formats and VOC copy images: a copy's name depends on its URL only
 * (images/resolve.ts, output-names.ts), so a segment writes its tasks' copies alone; an image
 * copied by two segments is one path written by both, and the format falls back.
 */
export const SEGMENT_FORMATS: ReadonlySet<FormatName> = new Set<FormatName>([
  'JSON',
  'JSON_MIN',
  'CSV',
  'TSV',
  'CONLL2003',
  'ASR_MANIFEST',
  'COCO',
  'COCO_WITH_IMAGES',
  'YOLO',
  'YOLO_OBB',
  'YOLO_WITH_IMAGES',
  'YOLO_OBB_WITH_IMAGES',
  'VOC',
  'BRUSH_TO_NUMPY',
  'BRUSH_TO_PNG',
  'BRUSH_TO_COCO',
]);

/** Thrown when a segment's writer output does not have the shape a codec expects (the format is rendered whole). */
export class CodecShapeError extends Error {
  constructor(what: string) {
    super(`segment output does not have the expected shape: ${what}`);
    this.name = 'CodecShapeError';
  }
}

export const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

// ---- seq / concat --------------------------------------------------------------------------------

const SEQ_OPEN = '[\n';
const SEQ_CLOSE = '\n]';
export const SEQ_SEP = ',\n';

/** A JSON array file's inner bytes (`''` for `[\n\n]`). */
export function seqBody(file: string): string {
  if (file === '[\n\n]') return '';
  if (!file.startsWith(SEQ_OPEN) || !file.endsWith(SEQ_CLOSE)) throw new CodecShapeError('JSON array');
  return file.slice(SEQ_OPEN.length, file.length - SEQ_CLOSE.length);
}

/** The bytes after the empty run's (CONLL's `-DOCSTART-` line; nothing for ASR). */
export function concatBody(file: string, empty: string): string {
  if (!file.startsWith(empty)) throw new CodecShapeError('concatenation after the empty output');
  return file.slice(empty.length);
}

// ---- csv -----------------------------------------------------------------------------------------

/** What one segment contributes to the CSV column list (the writer's header() inputs). */
export interface CsvColumns {
  dataKeys: string[];
  outputKeys: string[];
  extra: string[];
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The writer's column list for these key sets (csv.ts header()): sorted, colliding data keys renamed. */
export function csvHeaderColumns(c: CsvColumns): string[] {
  const outputs = new Set(c.outputKeys);
  const all = new Set<string>(c.extra);
  for (const k of c.dataKeys) all.add(outputs.has(k) ? `_data_${k}` : k);
  for (const k of c.outputKeys) all.add(k);
  return [...all].sort(byCodePoint);
}

/** The union of segments' key sets. */
export function mergeCsvColumns(list: CsvColumns[]): CsvColumns {
  const d = new Set<string>();
  const o = new Set<string>();
  const e = new Set<string>();
  for (const c of list) {
    for (const k of c.dataKeys) d.add(k);
    for (const k of c.outputKeys) o.add(k);
    for (const k of c.extra) e.add(k);
  }
  const s = (x: Set<string>) => [...x].sort(byCodePoint);
  return { dataKeys: s(d), outputKeys: s(o), extra: s(e) };
}

/**
 * Whether a segment's rows can be re-laid onto the merged columns: every data key of the segment
 * is renamed (`_data_<key>`) in the merged list exactly when it was in the segment's own list.
 */
export function csvRelayable(seg: CsvColumns, merged: CsvColumns): boolean {
  const own = new Set(seg.outputKeys);
  const all = new Set(merged.outputKeys);
  return seg.dataKeys.every((k) => own.has(k) === all.has(k));
}

/** The header line of a column list, as the writer writes it. */
export function csvHeaderLine(columns: string[], sep: string, escapeFormulas: boolean): string {
  return `${columns.map((c) => csvCell(c, escapeFormulas)).join(sep)}\r\n`;
}

/**
 * Splits CSV rows (the writer's QUOTE_NONNUMERIC cells, CRLF line ends) into cells of `width`
 * each. Throws CodecShapeError on anything else.
 */
export function parseCsvRows(text: string, sep: string, width: number): string[][] {
  const rows: string[][] = [];
  let i = 0;
  while (i < text.length) {
    const row: string[] = [];
    for (let c = 0; c < width; c++) {
      const start = i;
      if (text[i] === '"') {
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) throw new CodecShapeError('unterminated CSV cell');
          if (text[q + 1] === '"') i = q + 2;
          else {
            i = q + 1;
            break;
          }
        }
      } else {
        while (i < text.length && !text.startsWith(sep, i) && !text.startsWith('\r\n', i)) i++;
      }
      row.push(text.slice(start, i));
      const last = c === width - 1;
      if (last ? !text.startsWith('\r\n', i) : !text.startsWith(sep, i))
        throw new CodecShapeError(`CSV row ${rows.length + 1} does not have ${width} cells`);
      i += last ? 2 : sep.length;
    }
    rows.push(row);
  }
  return rows;
}

/** Rows laid out under `from` re-laid under `to` (cells of columns `from` lacks are `""`). */
export function relayCsv(text: string, sep: string, from: string[], to: string[]): string {
  if (text === '') return '';
  if (from.length === to.length && from.every((c, i) => c === to[i])) return text;
  const at = new Map(from.map((c, i) => [c, i]));
  const pick = to.map((c) => at.get(c));
  let out = '';
  for (const row of parseCsvRows(text, sep, from.length))
    out += `${pick.map((i) => (i === undefined ? '""' : row[i])).join(sep)}\r\n`;
  return out;
}

// ---- coco ----------------------------------------------------------------------------------------

const COCO_IMAGES_EMPTY = '{\n  "images": [],\n';
const COCO_IMAGES_OPEN = '{\n  "images": [\n    ';
const COCO_IMAGES_CLOSE = '\n  ],\n';
const COCO_ANN_KEY = '"annotations": ';
export const COCO_SEP = ',\n    ';

/** The parts of a COCO file: image entries, `  "categories": …,\n  "annotations": `, annotation entries, the tail. */
export interface CocoParts {
  images: string;
  middle: string;
  annotations: string;
  tail: string;
}

export function splitCoco(file: string): CocoParts {
  let rest: string;
  let images = '';
  if (file.startsWith(COCO_IMAGES_EMPTY)) rest = file.slice(COCO_IMAGES_EMPTY.length);
  else if (file.startsWith(COCO_IMAGES_OPEN)) {
    const end = file.indexOf(`${COCO_IMAGES_CLOSE}  "categories": `);
    if (end < 0) throw new CodecShapeError('COCO images');
    images = file.slice(COCO_IMAGES_OPEN.length, end);
    rest = file.slice(end + COCO_IMAGES_CLOSE.length);
  } else throw new CodecShapeError('COCO start');
  const a = rest.indexOf(`,\n  ${COCO_ANN_KEY}`);
  if (!rest.startsWith('  "categories": ') || a < 0) throw new CodecShapeError('COCO categories');
  const middle = rest.slice(0, a + 4 + COCO_ANN_KEY.length);
  rest = rest.slice(middle.length);
  let annotations = '';
  if (rest.startsWith('[]')) rest = rest.slice(2);
  else if (rest.startsWith('[\n    ')) {
    const end = rest.lastIndexOf('\n  ],\n  "info": ');
    if (end < 0) throw new CodecShapeError('COCO annotations');
    annotations = rest.slice(6, end);
    rest = rest.slice(end + 4);
  } else throw new CodecShapeError('COCO annotations');
  if (!rest.startsWith(',\n  "info": ')) throw new CodecShapeError('COCO info');
  return { images, middle, annotations, tail: rest };
}

/** The frame of a COCO file: before images, between the streams, after annotations. */
export function cocoFrame(empty: CocoParts, imagesNonEmpty: boolean, annotationsNonEmpty: boolean): string[] {
  return [
    imagesNonEmpty ? COCO_IMAGES_OPEN : COCO_IMAGES_EMPTY,
    (imagesNonEmpty ? COCO_IMAGES_CLOSE : '') + empty.middle + (annotationsNonEmpty ? '[\n    ' : '[]'),
    (annotationsNonEmpty ? '\n  ]' : '') + empty.tail,
  ];
}

/** An entry's own `"id"` / `"image_id"` lines (6 spaces: nested values are indented deeper). */
const ID_LINE = /\n {6}"(id|image_id)": (\d+)/g;

/** Entries counted by their `"id"` lines. */
export function countEntries(stream: string): number {
  if (stream === '') return 0;
  // The first entry starts the stream with `{`, so its id line is found like the others.
  let n = 0;
  for (const m of stream.matchAll(ID_LINE)) if (m[1] === 'id') n++;
  return n;
}

/** Shifts ids: `"id"` by `idDelta`, `"image_id"` by `imageDelta`. */
export function shiftIds(stream: string, idDelta: number, imageDelta: number): string {
  if (idDelta === 0 && imageDelta === 0) return stream;
  return stream.replace(ID_LINE, (_m, key: string, n: string) => {
    const v = Number(n) + (key === 'id' ? idDelta : imageDelta);
    return `\n      "${key}": ${v}`;
  });
}

// ---- brushcoco -----------------------------------------------------------------------------------

const BRUSH_OPEN = '{\n  "images": [';
const BRUSH_IMAGES_CLOSE = '\n  ],\n  "annotations": [';
const BRUSH_IMAGES_NONE = '],\n  "annotations": [';
const BRUSH_CATEGORIES = ',\n  "categories": ';
const BRUSH_INFO = ',\n  "info": ';
/** An entry's first line after the separator (entries sit 4 spaces deep, their keys 6). */
const ENTRY_LEAD = '\n    ';

/** The parts of a BRUSH_TO_COCO file: image entries, annotation entries, category entries, the `info` tail. */
export interface BrushCocoParts {
  images: string;
  annotations: string;
  /** Category entries in id order (ids 1…n), each `{\n      "id": …\n    }`. */
  categories: string[];
  /** `,\n  "info": …\n}`. */
  tail: string;
}

export function splitBrushCoco(file: string): BrushCocoParts {
  if (!file.startsWith(BRUSH_OPEN)) throw new CodecShapeError('BRUSH_TO_COCO start');
  let rest = file.slice(BRUSH_OPEN.length);
  let images = '';
  if (rest.startsWith(BRUSH_IMAGES_NONE)) rest = rest.slice(BRUSH_IMAGES_NONE.length);
  else if (rest.startsWith(ENTRY_LEAD)) {
    const end = rest.indexOf(BRUSH_IMAGES_CLOSE);
    if (end < 0) throw new CodecShapeError('BRUSH_TO_COCO images');
    images = rest.slice(ENTRY_LEAD.length, end);
    rest = rest.slice(end + BRUSH_IMAGES_CLOSE.length);
  } else throw new CodecShapeError('BRUSH_TO_COCO images');
  let annotations = '';
  if (rest.startsWith(`]${BRUSH_CATEGORIES}`)) rest = rest.slice(1);
  else if (rest.startsWith(ENTRY_LEAD)) {
    const end = rest.indexOf(`\n  ]${BRUSH_CATEGORIES}`);
    if (end < 0) throw new CodecShapeError('BRUSH_TO_COCO annotations');
    annotations = rest.slice(ENTRY_LEAD.length, end);
    rest = rest.slice(end + 4);
  } else throw new CodecShapeError('BRUSH_TO_COCO annotations');
  rest = rest.slice(BRUSH_CATEGORIES.length);
  // Names are JSON strings (no raw newline), so the first `info` key line ends the categories.
  const info = rest.indexOf(BRUSH_INFO);
  if (info < 0) throw new CodecShapeError('BRUSH_TO_COCO info');
  const cats = rest.slice(0, info);
  let categories: string[] = [];
  if (cats !== '[]') {
    if (!cats.startsWith(`[${ENTRY_LEAD}{`) || !cats.endsWith('\n  ]'))
      throw new CodecShapeError('BRUSH_TO_COCO categories');
    categories = cats
      .slice(1 + ENTRY_LEAD.length, -4)
      .split(`,${ENTRY_LEAD}{`)
      .map((e, i) => (i === 0 ? e : `{${e}`));
  }
  categories.forEach((c, i) => {
    if (categoryEntryId(c) !== i + 1) throw new CodecShapeError(`BRUSH_TO_COCO category ${i + 1}`);
  });
  return { images, annotations, categories, tail: rest.slice(info) };
}

const CATEGORY_ID = /^\{\n {6}"id": (\d+),\n/;
const CATEGORY_NAME = /\n {6}"name": (.*),\n/;

function categoryEntryId(entry: string): number | undefined {
  const m = CATEGORY_ID.exec(entry);
  return m ? Number(m[1]) : undefined;
}

/**
 * The name of a category entry as its JSON text: the key categories are merged by. Only string
 * names (the writer merges `1`, `1.0` and `true` into one category; their texts differ).
 */
export function categoryName(entry: string): string {
  const name = CATEGORY_NAME.exec(entry)?.[1];
  if (name === undefined || !name.startsWith('"'))
    throw new CodecShapeError('BRUSH_TO_COCO category name (not a string)');
  return name;
}

/** A category entry with another id. */
export function withCategoryId(entry: string, id: number): string {
  if (categoryEntryId(entry) === undefined) throw new CodecShapeError('BRUSH_TO_COCO category id');
  return entry.replace(CATEGORY_ID, `{\n      "id": ${id},\n`);
}

/** The categories value of merged entries (`[]` when there are none). */
export function brushCategoriesText(entries: string[]): string {
  return entries.length === 0 ? '[]' : `[${ENTRY_LEAD}${entries.join(`,${ENTRY_LEAD}`)}\n  ]`;
}

/** The frame of a BRUSH_TO_COCO file: before images, between the streams, after annotations. */
export function brushCocoFrame(
  categories: string,
  tail: string,
  imagesNonEmpty: boolean,
  annotationsNonEmpty: boolean,
): string[] {
  return [
    BRUSH_OPEN + (imagesNonEmpty ? ENTRY_LEAD : ''),
    (imagesNonEmpty ? BRUSH_IMAGES_CLOSE : BRUSH_IMAGES_NONE) + (annotationsNonEmpty ? ENTRY_LEAD : ''),
    `${annotationsNonEmpty ? '\n  ]' : ']'}${BRUSH_CATEGORIES}${categories}${tail}`,
  ];
}

const CATEGORY_ID_LINE = /\n {6}"category_id": (\d+)/g;

/** Maps annotations' `"category_id"` values (`map[old]`; an id outside the map is a shape error). */
export function mapCategoryIds(stream: string, map: ReadonlyMap<number, number>): string {
  let same = true;
  for (const [a, b] of map) if (a !== b) same = false;
  if (same) return stream;
  return stream.replace(CATEGORY_ID_LINE, (_m, n: string) => {
    const v = map.get(Number(n));
    if (v === undefined) throw new CodecShapeError(`BRUSH_TO_COCO category_id ${n}`);
    return `\n      "category_id": ${v}`;
  });
}
