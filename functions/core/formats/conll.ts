/**
 * CONLL2003 (docs/label-studio-behaviour.md#conll2003): a `-DOCSTART-` line, then for every item one
 * `<token> -X- _ <tag>` line per Treebank token and a blank line.
 *
 * CoNLL-2003 has one tag per token, so a span with several labels (`Labels choice="multiple"`)
 * keeps its first, as in Label Studio; each such span is a report warning. Option
 * `conllMultiLabel: "columns"` keeps them all: K tag columns instead of one, column 3 + p holding
 * the BIO tags of every span's label at position p (its first label in column 4, as by default);
 * K is the largest number of labels a Labels control of the config offers, the same on every line
 * (the `-DOCSTART-` line too: `-DOCSTART- -X- O` and K more `O`, which also contains the
 * `-DOCSTART- -X- O O` that spaCy's converter looks for), so the file is a fixed-width column file.
 */
import { type ItemLedger, RegionLedger } from '../accounting.ts';
import { dataKeys } from '../config/label-config.ts';
import type { LabelSchema } from '../config/schema.ts';
import { type Item, itemsOfTask, pyStr, type TaskRef } from '../items.ts';
import { isJsonObject, type JsonObject, type JsonValue, num } from '../json/value.ts';
import { reasonOf } from '../report.ts';
import { type ConllSpan, conllTagging, spanTokenize } from '../text/treebank.ts';
import type { ExportContext, FormatWriter } from './types.ts';

/** A span with the result value it came from (for the region accounting). */
interface SourcedSpan extends ConllSpan {
  value: JsonObject;
}

/** What an item's results become: the spans to tag, and the results CONLL2003 leaves out. */
interface ItemSpans {
  spans: SourcedSpan[];
  left: Array<{ value: JsonObject; reason: string }>;
}

const isLabels = (v: JsonObject | undefined) =>
  isJsonObject(v) && typeof v.type === 'string' && v.type.toLowerCase() === 'labels';

/** The spans to tag: the first `Labels` list (or all of them with the fix); the rest left out. */
function spansOf(item: Item, allLabels: boolean): ItemSpans {
  const out: ItemSpans = { spans: [], left: [] };
  let taken = false;
  for (const [fromName, values] of item.output) {
    if (isLabels(values[0]) && (allLabels || !taken)) {
      taken = true;
      for (const v of values)
        out.spans.push({
          start: num(v.start) ?? v.start,
          end: num(v.end) ?? v.end,
          labels: v.labels,
          value: v,
        });
      continue;
    }
    for (const v of values) {
      const type = typeof v.type === 'string' ? v.type : 'unknown';
      out.left.push({
        value: v,
        reason: isLabels(values[0])
          ? `only the first Labels control is tagged; "${fromName}" is left out (fix conll-all-labels tags every one)`
          : `a ${type} result has no place in CONLL2003 (only Labels spans become tags)`,
      });
    }
  }
  return out;
}

const hasOffsets = (s: ConllSpan) => num(s.start) !== undefined && num(s.end) !== undefined;

/** The most labels a `Labels` control of the config offers (at least 1): the tag columns of `columns`. */
export function conllTagColumns(schema: LabelSchema): number {
  let k = 1;
  for (const c of schema.controls.values())
    if (c.type.toLowerCase() === 'labels') k = Math.max(k, c.labels.length);
  return k;
}

/** The span's labels at position `p` onward (a non-list keeps its reference meaning at p = 0 only). */
function labelsFrom(labels: unknown, p: number): unknown {
  if (p === 0) return labels;
  return Array.isArray(labels) ? labels.slice(p) : [];
}

/** `start–end` of a span for messages. */
const at = (s: ConllSpan) => `${pyStr(s.start as JsonValue)}–${pyStr(s.end as JsonValue)}`;

const labelCount = (labels: unknown) => (Array.isArray(labels) ? labels.length : 0);

export function conllWriter(ctx: ExportContext): FormatWriter {
  const out = ctx.sink.open('result.conll');
  const key = ctx.options.dataKey ?? dataKeys(ctx.schema)[0];
  const multi = ctx.options.conllMultiLabel === 'columns';
  const columns = multi ? conllTagColumns(ctx.schema) : 1;
  // `columns`: the DOCSTART line as wide as a token line (it then also holds spacy's `-DOCSTART- -X- O O`).
  const docStart = multi
    ? `-DOCSTART- -X- O${' O'.repeat(columns)}\n`
    : ctx.options.spacy
      ? '-DOCSTART- -X- O O\n'
      : '-DOCSTART- -X- O\n';
  const ledger = new RegionLedger(ctx, 'CONLL2003');
  let started = false;

  /** The item is left out: one skipped entry per result, or one for the item when it has none. */
  function leaveItemOut(acc: ItemLedger, ref: TaskRef, reason: string): void {
    if (acc.pending().length > 0) acc.skipAll(reason);
    else ctx.report.skip({ ...ref, reason });
  }

  /** The item's token lines, or undefined (reported) when its text cannot be tokenized. */
  function itemLines(doc: string, item: Item, ref: TaskRef, acc: ItemLedger): string | undefined {
    const { spans: all, left } = spansOf(item, ctx.options.fixConllAllLabels);
    for (const l of left) acc.skip(l.value, l.reason);
    let spans = all;
    const broken = all.filter((s) => !hasOffsets(s));
    if (broken.length > 0) {
      for (const s of broken) acc.skip(s.value, 'the span has no start/end offsets');
      if (ctx.options.fixConllBrokenSpans) spans = all.filter(hasOffsets);
      else {
        for (const s of all.filter(hasOffsets)) {
          acc.skip(
            s.value,
            'another span of the document has no start/end, so the whole document is tagged O as in Label Studio (fix conll-broken-spans keeps the others)',
          );
        }
      }
    }
    let tokens: ReturnType<typeof spanTokenize>;
    const layers: string[][] = [];
    try {
      tokens = spanTokenize(doc);
      const first = conllTagging(tokens, spans);
      layers.push(first.tags);
      if (broken.length === 0 || ctx.options.fixConllBrokenSpans) {
        first.tagged.forEach((ok, i) => {
          if (!ok)
            acc.skip(
              spans[i].value,
              `span ${at(spans[i])} tags no token (it overlaps an earlier span, lies outside the text or has no label)`,
            );
        });
      }
      for (let p = 1; p < columns; p++)
        layers.push(
          conllTagging(
            tokens,
            spans.map((s) => ({ ...s, labels: labelsFrom(s.labels, p) })),
          ).tags,
        );
    } catch (err) {
      leaveItemOut(acc, ref, `cannot tokenize the text: ${reasonOf(err)}; the document is left out`);
      return undefined;
    }
    for (const s of spans) {
      const n = labelCount(s.labels);
      if (n <= columns || !hasOffsets(s)) continue;
      const labels = s.labels as unknown[];
      const kept = labels.slice(0, columns).map((l) => pyStr(l as JsonValue));
      acc.warn(
        s.value,
        columns === 1
          ? `span ${at(s)} has ${n} labels; CONLL2003 keeps the first, ${kept[0]} (left out: ${labels
              .slice(1)
              .map((l) => pyStr(l as JsonValue))
              .join(', ')}; set option conllMultiLabel to "columns" to keep them)`
          : `span ${at(s)} has ${n} labels; CONLL2003 keeps the first ${columns} (the config's most), left out: ${labels
              .slice(columns)
              .map((l) => pyStr(l as JsonValue))
              .join(', ')}`,
      );
    }
    let text = '';
    if (layers.length === 1) {
      // One tag column: one piece per line (the sink joins far fewer pieces than with one per column).
      const tags = layers[0];
      for (let i = 0; i < tokens.length; i++) text += `${tokens[i].text} -X- _ ${tags[i]}\n`;
    } else {
      for (let i = 0; i < tokens.length; i++) {
        text += `${tokens[i].text} -X- _`;
        for (const layer of layers) text += ` ${layer[i]}`;
        text += '\n';
      }
    }
    return `${text}\n`;
  }

  return {
    async addTask(task, ref) {
      let text = started ? '' : docStart;
      started = true;
      for (const item of itemsOfTask(task, ctx.schema, ref, ctx.report)) {
        const acc = ledger.item(item, ref);
        const doc = key === undefined ? undefined : item.input[key];
        if (typeof doc !== 'string') {
          const reason = `data["${key}"] is ${doc === undefined ? 'missing' : 'not a string'}; the document is left out`;
          leaveItemOut(acc, ref, reason);
        } else text += itemLines(doc, item, ref, acc) ?? '';
        acc.close();
      }
      await out.write(text);
    },
    async finish() {
      if (!started) await out.write(docStart);
      await out.close();
    },
  };
}
