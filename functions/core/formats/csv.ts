/**
 * CSV and TSV (converter spec §7.3): two passes — the first collects the column set (sorted, with
 * data keys that collide with control names renamed `_data_<key>`), the second writes one row per
 * item with Python's csv QUOTE_NONNUMERIC rules and CRLF line ends.
 */
import { annotatorOf, type Item, itemsOfTask } from '../items.ts';
import { pyFloatRepr } from '../json/py-number.ts';
import { stringify, UJSON_COMPACT } from '../json/serialize.ts';
import { isJsonObject, type JsonValue, keysOf, NumLit, truthy } from '../json/value.ts';
import { Report } from '../report.ts';
import { prettifyResult } from './prettify.ts';
import type { ExportContext, FormatWriter } from './types.ts';

const METADATA = ['annotator', 'annotation_id', 'created_at', 'updated_at', 'lead_time'];

/** Python csv QUOTE_NONNUMERIC: numbers and booleans bare, everything else quoted. */
export function csvCell(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return '""';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if (v instanceof NumLit) return v.isFloat ? pyFloatRepr(v.value) : v.raw;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  const s = typeof v === 'string' ? v : stringify(v, UJSON_COMPACT);
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
  const dataKeys = new Set<string>();
  const outputKeys = new Set<string>();
  const extra = new Set<string>(METADATA);
  let columns: string[] | undefined;
  let colliding: Set<string> = new Set();
  const out = ctx.sink.open('result.csv');

  const itemsOf = (
    task: Parameters<FormatWriter['addTask']>[0],
    ref: Parameters<FormatWriter['addTask']>[1],
  ) => itemsOfTask(task, ctx.schema, ref, ctx.report);

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

  function row(item: Item): Map<string, JsonValue> {
    const r = new Map<string, JsonValue>();
    if (item.id !== null) r.set('id', item.id);
    for (const [name, values] of item.output) {
      const pretty = prettifyResult(values);
      r.set(name, typeof pretty === 'string' ? pretty : stringify(pretty, UJSON_COMPACT));
      if (hasChat(values)) r.set(`${name}_transcript`, transcript(pretty));
    }
    for (const k of keysOf(item.input)) {
      const v = item.input[k];
      r.set(
        colliding.has(k) ? `_data_${k}` : k,
        Array.isArray(v) || isJsonObject(v) ? stringify(v, UJSON_COMPACT) : v,
      );
    }
    r.set('annotator', annotatorOf(item.completedBy, null, false));
    r.set('annotation_id', item.annotationId);
    r.set('created_at', item.createdAt);
    r.set('updated_at', item.updatedAt);
    r.set('lead_time', item.leadTime);
    if (Object.hasOwn(item.task, 'agreement')) r.set('agreement', item.task.agreement);
    if (truthy(item.history)) r.set('history', stringify(item.history, UJSON_COMPACT));
    return r;
  }

  const line = (cells: string[]) => `${cells.join(sep)}\r\n`;

  return {
    scan(task, ref) {
      // Warnings are reported by the writing pass; the scan only learns the columns.
      for (const item of itemsOfTask(task, ctx.schema, ref, new Report(0), { typesOnly: true }))
        scanItem(item);
    },
    async addTask(task, ref) {
      if (!columns) {
        columns = header();
        await out.write(line(columns.map((c) => csvCell(c))));
      }
      let text = '';
      for (const item of itemsOf(task, ref)) {
        const r = row(item);
        text += line(columns.map((c) => csvCell(r.get(c))));
      }
      if (text) await out.write(text);
    },
    async finish() {
      if (!columns) {
        columns = header();
        await out.write(line(columns.map((c) => csvCell(c))));
      }
      await out.close();
    },
  };
}
