/**
 * The mask index of BRUSH_TO_NUMPY/BRUSH_TO_PNG (option `brushIndex`, br-13): one row per mask file
 * written, joining it to its task, annotation, label and image, so masks can be matched to images
 * without a second (JSON) export. Written next to the masks as `masks.csv` (header
 * `file,task_id,annotation_id,label,image,width,height`, RFC 4180 quoting, CRLF) or `masks.json`
 * (an array of objects with those keys), streamed row by row.
 */

import { escapeFormula } from '../formats/csv.ts';
import type { FileWriter, OutputSink } from '../formats/types.ts';
import { type JsonStyle, PY_JSON_PRETTY, stringify } from '../json/serialize.ts';
import type { JsonObject, JsonValue } from '../json/value.ts';

export type MaskIndexFormat = 'csv' | 'json';

/** One mask file. */
export interface MaskIndexRow {
  /** Its path relative to the output root. */
  file: string;
  taskId: JsonValue;
  annotationId: JsonValue;
  /** The region's labels joined by `, ` (one label: the label). */
  label: string;
  /** The task's image value as given (URL or path); null when the task has none. */
  image: JsonValue;
  /** Mask size in pixels (the region's original_width/original_height). */
  width: number;
  height: number;
}

/** One line per object, UTF-8 as is, `/` unescaped (json.dumps(ensure_ascii=False) style). */
const ROW_STYLE: JsonStyle = { ...PY_JSON_PRETTY, indent: null };

export const MASK_INDEX_COLUMNS = ['file', 'task_id', 'annotation_id', 'label', 'image', 'width', 'height'];

/**
 * A CSV cell: numbers bare, text quoted when it holds `,`, `"`, CR or LF; null and missing empty.
 * `escapeFormulas` (fix csv-formula-escape): text a spreadsheet would run gets a leading `'`.
 */
function csvField(v: JsonValue, escapeFormulas: boolean): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  let s = typeof v === 'string' ? v : stringify(v, ROW_STYLE);
  if (escapeFormulas) s = escapeFormula(s);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export class MaskIndex {
  readonly path: string;
  readonly #file: FileWriter;
  #rows = 0;

  /**
   * Opens `masks.csv` or `masks.json` in the sink and writes its head. `escapeFormulas` (fix
   * csv-formula-escape) applies to masks.csv's text cells, as to CSV exports.
   */
  constructor(
    sink: OutputSink,
    readonly format: MaskIndexFormat,
    private readonly escapeFormulas = false,
  ) {
    this.path = format === 'csv' ? 'masks.csv' : 'masks.json';
    this.#file = sink.open(this.path);
    if (format === 'csv') void this.#file.write(`${MASK_INDEX_COLUMNS.join(',')}\r\n`);
  }

  /** Appends one row (await it for backpressure). */
  async add(row: MaskIndexRow): Promise<void> {
    const values: JsonValue[] = [
      row.file,
      row.taskId,
      row.annotationId,
      row.label,
      row.image,
      row.width,
      row.height,
    ];
    if (this.format === 'csv') {
      await this.#file.write(`${values.map((v) => csvField(v, this.escapeFormulas)).join(',')}\r\n`);
    } else {
      const o: JsonObject = {};
      MASK_INDEX_COLUMNS.forEach((k, i) => {
        o[k] = values[i] ?? null;
      });
      await this.#file.write(`${this.#rows === 0 ? '[\n' : ',\n'}${stringify(o, ROW_STYLE)}`);
    }
    this.#rows++;
  }

  /** Rows written so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Closes the file (`[]` for a JSON index without rows). */
  async finish(): Promise<void> {
    if (this.format === 'json') await this.#file.write(this.#rows === 0 ? '[]\n' : '\n]\n');
    await this.#file.close();
  }
}
