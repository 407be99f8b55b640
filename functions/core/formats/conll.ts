/**
 * CONLL2003 (converter spec §7.4): a `-DOCSTART-` line, then for every item one
 * `<token> -X- _ <tag>` line per Treebank token and a blank line.
 */
import { dataKeys } from '../config/label-config.ts';
import { type Item, itemsOfTask } from '../items.ts';
import { isJsonObject, type JsonObject, num } from '../json/value.ts';
import { reasonOf } from '../report.ts';
import { conllTags, spanTokenize } from '../text/treebank.ts';
import type { ExportContext, FormatWriter } from './types.ts';

type Span = { start?: unknown; end?: unknown; labels?: unknown };

/** The spans to tag: the first `Labels` list (or all of them with the fix). */
function spansOf(item: Item, allLabels: boolean): Span[] {
  const lists: JsonObject[][] = [];
  for (const values of item.output.values()) {
    const first = values[0];
    if (isJsonObject(first) && typeof first.type === 'string' && first.type.toLowerCase() === 'labels') {
      lists.push(values);
      if (!allLabels) break;
    }
  }
  return lists.flat();
}

const hasOffsets = (s: Span) => num(s.start) !== undefined && num(s.end) !== undefined;

export function conllWriter(ctx: ExportContext): FormatWriter {
  const out = ctx.sink.open('result.conll');
  const key = ctx.options.dataKey ?? dataKeys(ctx.schema)[0];
  let started = false;
  return {
    async addTask(task, ref) {
      let text = started ? '' : ctx.options.spacy ? '-DOCSTART- -X- O O\n' : '-DOCSTART- -X- O\n';
      started = true;
      for (const item of itemsOfTask(task, ctx.schema, ref, ctx.report)) {
        const doc = key === undefined ? undefined : item.input[key];
        if (typeof doc !== 'string') {
          ctx.report.skip({
            ...ref,
            reason: `data["${key}"] is ${doc === undefined ? 'missing' : 'not a string'}; the document is left out`,
          });
          continue;
        }
        let spans = spansOf(item, ctx.options.fixConllAllLabels).map((s) => ({
          start: num(s.start) ?? s.start,
          end: num(s.end) ?? s.end,
          labels: s.labels,
        }));
        if (ctx.options.fixConllBrokenSpans) spans = spans.filter(hasOffsets);
        try {
          const tokens = spanTokenize(doc);
          const tags = conllTags(tokens, spans);
          for (let i = 0; i < tokens.length; i++) text += `${tokens[i].text} -X- _ ${tags[i]}\n`;
          text += '\n';
        } catch (err) {
          ctx.report.skip({ ...ref, reason: `cannot tokenize the text: ${reasonOf(err)}` });
        }
      }
      await out.write(text);
    },
    async finish() {
      if (!started) await out.write(ctx.options.spacy ? '-DOCSTART- -X- O O\n' : '-DOCSTART- -X- O\n');
      await out.close();
    },
  };
}
