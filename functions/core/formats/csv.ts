/**
 * CSV and TSV (docs/label-studio-behaviour.md#csv): the header is the sorted set of every column of every row (data
 * keys that collide with control names renamed `_data_<key>`), so it is known only at the end. The
 * reference reads its input twice; we read it once, spooling each row's cells (a compact JSON line,
 * in memory up to a few MB, then a temporary file), and write header and rows at the end with
 * Python's csv QUOTE_NONNUMERIC rules and CRLF line ends.
 */
import { RegionLedger } from '../accounting.ts';
import { annotatorOf, type Item, itemsOfTask } from '../items.ts';
import { MAX_JSON_DEPTH } from '../json/limits.ts';
import { parseJson } from '../json/parse.ts';
import { pyFloatRepr } from '../json/py-number.ts';
import { stringify, UJSON_COMPACT } from '../json/serialize.ts';
import {
  isJsonObject,
  type JsonObject,
  type JsonValue,
  keysOf,
  NumLit,
  setKey,
  truthy,
} from '../json/value.ts';
import { createSpool } from '../spool.ts';
import { reportFlatCollisions, warnUnstableShapes } from './json-min.ts';
import { prettifyResult } from './prettify.ts';
import type { ExportContext, FormatWriter } from './types.ts';

/** Depth of a spooled row: [head, data, tail] holds task fields at most one level deeper. */
const ROW_DEPTH = MAX_JSON_DEPTH + 1;

/**
 * Bytes of spooled rows read back at a time. Small enough that the decoded text and the CSV lines
 * made from it stay below V8's large-object size (128 KiB): large strings are freed only by a full
 * collection, so 1 MiB pieces made peak RSS grow with the number of rows.
 */
const DRAIN_BYTES = 32 * 1024;

const METADATA = ['annotator', 'annotation_id', 'created_at', 'updated_at', 'lead_time'];

/** Text a spreadsheet would run as a formula (OWASP "CSV injection"): `= + - @`, TAB, CR first. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** `s` with a leading `'` when a spreadsheet would run it as a formula (fix csv-formula-escape). */
export function escapeFormula(s: string): string {
  return FORMULA_START.test(s) ? `'${s}` : s;
}

/**
 * Python csv QUOTE_NONNUMERIC: numbers and booleans bare, everything else quoted. With
 * `escapeFormulas` (fix csv-formula-escape) a text cell that a spreadsheet would evaluate gets a
 * leading `'`; numbers stay numbers (a negative number is not a formula).
 */
export function csvCell(v: JsonValue | undefined, escapeFormulas = false): string {
  if (v === undefined || v === null) return '""';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if (v instanceof NumLit) return v.isFloat ? pyFloatRepr(v.value) : v.raw;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  let s = typeof v === 'string' ? v : stringify(v, UJSON_COMPACT);
  if (escapeFormulas) s = escapeFormula(s);
  return `"${s.replaceAll('"', '""')}"`;
}

const hasChat = (values: JsonValue[]) =>
  values.some((v) => isJsonObject(v) && (v.type === 'Chat' || v.type === 'chatmessage'));

function transcript(pretty: JsonValue): string {
  if (!Array.isArray(pretty)) return '';
  const lines: string[] = [];
  for (const m of pretty) {
    if (!isJsonObject(m)) continue;
    const role = m.role === undefined || m.role === null ? '' : cellText(m.role);
    const content = m.content === undefined || m.content === null ? '' : cellText(m.content);
    lines.push(role ? (content ? `${role}: ${content}` : `${role}:`) : content);
  }
  return lines.join('\n');
}

const cellText = (v: JsonValue): string => (typeof v === 'string' ? v : stringify(v, UJSON_COMPACT));

export function csvWriter(ctx: ExportContext, defaultSeparator: string): FormatWriter {
  const sep = ctx.options.csvSeparator ?? defaultSeparator;
  const escapeFormulas = ctx.options.fixCsvFormulaEscape;
  const stable = ctx.options.fixJsonminStableText;
  const ledger = new RegionLedger(ctx, defaultSeparator === '\t' ? 'TSV' : 'CSV');
  const warned = new Set<string>();
  const dataKeys = new Set<string>();
  const outputKeys = new Set<string>();
  const extra = new Set<string>(METADATA);
  let colliding: Set<string> = new Set();
  const out = ctx.sink.open('result.csv');
  const line = (cells: string[]) => `${cells.join(sep)}\r\n`;

  function scanItem(item: Item): void {
    for (const k of keysOf(item.input)) dataKeys.add(k);
    if (item.id !== null) extra.add('id');
    for (const [name, values] of item.output) {
      outputKeys.add(name);
      if (hasChat(values)) extra.add(`${name}_transcript`);
    }
    if (Object.hasOwn(item.task, 'agreement')) extra.add('agreement');
    if (truthy(item.history)) extra.add('history');
  }

  function header(): string[] {
    colliding = new Set([...dataKeys].filter((k) => outputKeys.has(k)));
    const all = new Set<string>(extra);
    for (const k of dataKeys) all.add(colliding.has(k) ? `_data_${k}` : k);
    for (const k of outputKeys) all.add(k);
    // Python sorts str by code point; JS compares UTF-16 units — equal outside astral characters.
    return [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * A row's cells in three groups, in the reference's assignment order: id and control values,
   * then task data (whose column names depend on collisions known only at the end), then metadata.
   */
  function rowParts(item: Item): [JsonObject, JsonObject, JsonObject] {
    const head: JsonObject = {};
    if (item.id !== null) setKey(head, 'id', item.id);
    for (const [name, values] of item.output) {
      const pretty = prettifyResult(values, stable);
      setKey(head, name, typeof pretty === 'string' ? pretty : stringify(pretty, UJSON_COMPACT));
      if (hasChat(values)) setKey(head, `${name}_transcript`, transcript(pretty));
    }
    const data: JsonObject = {};
    for (const k of keysOf(item.input)) {
      const v = item.input[k];
      setKey(data, k, Array.isArray(v) || isJsonObject(v) ? stringify(v, UJSON_COMPACT) : v);
    }
    const tail: JsonObject = {};
    setKey(tail, 'annotator', annotatorOf(item.completedBy, null, false));
    setKey(tail, 'annotation_id', item.annotationId);
    setKey(tail, 'created_at', item.createdAt);
    setKey(tail, 'updated_at', item.updatedAt);
    setKey(tail, 'lead_time', item.leadTime);
    if (Object.hasOwn(item.task, 'agreement')) setKey(tail, 'agreement', item.task.agreement);
    if (truthy(item.history)) setKey(tail, 'history', stringify(item.history, UJSON_COMPACT));
    return [head, data, tail];
  }

  /** The final cells of a spooled row: later groups overwrite earlier ones, as in the reference. */
  function rowLine(columns: string[], [head, data, tail]: [JsonObject, JsonObject, JsonObject]): string {
    const r = new Map<string, JsonValue>();
    for (const k of keysOf(head)) r.set(k, head[k]);
    for (const k of keysOf(data)) r.set(colliding.has(k) ? `_data_${k}` : k, data[k]);
    for (const k of keysOf(tail)) r.set(k, tail[k]);
    return line(columns.map((c) => csvCell(r.get(c), escapeFormulas)));
  }

  const rows = createSpool();

  return {
    async addTask(task, ref) {
      // Rows are built before the column set learns the task's columns: one that fails leaves no trace.
      const items = itemsOfTask(task, ctx.schema, ref, ctx.report);
      let text = '';
      for (const item of items) text += `${stringify(rowParts(item), UJSON_COMPACT)}\n`;
      for (const item of items) scanItem(item);
      for (const item of items) {
        const acc = ledger.item(item, ref);
        reportFlatCollisions(item, ref, ctx.report, acc, warned, ledger.format, true);
        warnUnstableShapes(item, acc, stable === true);
        acc.close();
      }
      if (text) await rows.write(text);
    },
    async finish() {
      try {
        const columns = header();
        // Column names come from task data keys and control names: escaped like any cell.
        await out.write(line(columns.map((c) => csvCell(c, escapeFormulas))));
        const decoder = new TextDecoder();
        /** Writes the rows of `lines`: whole spooled lines (the last may lack its `\n` at the end). */
        const writeLines = async (lines: string) => {
          let text = '';
          for (const json of lines.split('\n')) {
            // A spooled row nests task-level values (id, agreement) one level deeper than the task.
            if (json)
              text += rowLine(
                columns,
                parseJson(json, undefined, { maxDepth: ROW_DEPTH }) as [JsonObject, JsonObject, JsonObject],
              );
          }
          // As bytes: the sink passes a buffer on as it is, where it would join strings into one.
          if (text) await out.write(Buffer.from(text, 'utf8'));
        };
        // The text of an unfinished line, in pieces: only each new piece is searched for a line
        // end, so a row of many megabytes costs time linear in its length (searching and joining
        // the whole pending text at every piece was quadratic: a 20 MB cell took 13 s).
        const partial: string[] = [];
        for await (const chunk of rows.drain(DRAIN_BYTES)) {
          const piece = decoder.decode(chunk, { stream: true });
          const end = piece.lastIndexOf('\n');
          if (end < 0) {
            partial.push(piece);
            continue;
          }
          partial.push(piece.slice(0, end + 1));
          const lines = partial.join('');
          partial.length = 0;
          partial.push(piece.slice(end + 1));
          await writeLines(lines);
        }
        partial.push(decoder.decode());
        await writeLines(partial.join(''));
      } finally {
        await rows.dispose();
      }
      await out.close();
    },
  };
}
