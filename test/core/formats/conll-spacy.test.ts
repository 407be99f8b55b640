/**
 * CONLL2003 with --spacy, read as `python -m spacy convert FILE OUT -c ner` reads it (spaCy's
 * conll_ner_to_docs, spacy/training/converters/conll_ner_to_docs.py): the text is split into
 * documents on the delimiter line `-DOCSTART- -X- O O`, each document into sentences on blank
 * lines, each line into whitespace-separated columns — the first is the word, the last the IOB
 * tag; fewer than 2 columns is an error ("The token-per-line NER file is not formatted
 * correctly"). We also require the CoNLL-2003 four columns and IOB2 validity (no I-X unless the
 * previous token is B-X or I-X), stricter than spaCy, which reads I- openings as IOB1.
 */
import { describe, expect, it } from 'vitest';
import { exportWith } from '../../helpers/export.ts';

const CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="LOC"/><Label value="ORG"/></Labels>
</View>`;

const span = (text: string, part: string, label: string, from = 0) => {
  const start = text.indexOf(part, from);
  return {
    from_name: 'ner',
    to_name: 'text',
    type: 'labels',
    value: { start, end: start + part.length, text: part, labels: [label] },
  };
};

const T1 = 'Jane Doe lives in New York City.';
const T2 = 'Acme Corp. hired Bob and Bob Smith.';
const TASKS = [
  {
    id: 1,
    data: { text: T1 },
    annotations: [{ id: 1, result: [span(T1, 'Jane Doe', 'PER'), span(T1, 'New York City', 'LOC')] }],
  },
  {
    id: 2,
    data: { text: T2 },
    // Two entities of one type in one sentence: each opens with B-.
    annotations: [
      {
        id: 2,
        result: [span(T2, 'Acme Corp.', 'ORG'), span(T2, 'Bob', 'PER'), span(T2, 'Bob Smith', 'PER', 20)],
      },
    ],
  },
  { id: 3, data: { text: 'Nothing here.' }, annotations: [] },
];

interface Token {
  word: string;
  tag: string;
  cols: string[];
}

/** Documents → sentences → tokens, as conll_ner_to_docs splits them. */
function readSpacyNer(input: string): Token[][][] {
  const delimiter = '-DOCSTART- -X- O O';
  expect(input.includes(delimiter), 'spaCy finds its document delimiter').toBe(true);
  const docs: Token[][][] = [];
  for (const rawDoc of input.trim().split(delimiter)) {
    const doc = rawDoc.trim();
    if (!doc) continue;
    const sentences: Token[][] = [];
    for (const sent of doc.split('\n\n')) {
      const lines = sent.trim().split('\n');
      if (lines[0] === '') continue;
      sentences.push(
        lines.map((line) => {
          const cols = line.split(/\s+/);
          expect(cols.length, `"${line}": spaCy needs at least 2 columns`).toBeGreaterThanOrEqual(2);
          return { word: cols[0], tag: cols[cols.length - 1], cols };
        }),
      );
    }
    docs.push(sentences);
  }
  return docs;
}

/** IOB2 entities of a sentence as [label, text]; fails on an I- that continues nothing. */
function entities(sentence: Token[]): Array<[string, string]> {
  const out: Array<[string, string[]]> = [];
  let open: [string, string[]] | undefined;
  for (const { word, tag } of sentence) {
    expect(tag, word).toMatch(/^(O|[BI]-\S+)$/);
    if (tag.startsWith('I-')) {
      expect(open?.[0], `I- tag of "${word}" continues an entity of its type`).toBe(tag.slice(2));
      open![1].push(word);
    } else if (tag.startsWith('B-')) {
      open = [tag.slice(2), [word]];
      out.push(open);
    } else open = undefined;
  }
  return out.map(([label, words]) => [label, words.join(' ')]);
}

describe('CONLL2003 --spacy as spacy convert -c ner reads it', () => {
  it('one document, one sentence per task, 4 columns, valid IOB2 entities equal to the spans', async () => {
    const { sink } = await exportWith(TASKS, CONFIG, 'CONLL2003', { spacy: true });
    const text = sink.text('result.conll');
    expect(text.split('\n')[0]).toBe('-DOCSTART- -X- O O');
    const docs = readSpacyNer(text);
    expect(docs).toHaveLength(1);
    const [doc] = docs;
    expect(doc).toHaveLength(3);
    for (const sentence of doc) for (const t of sentence) expect(t.cols, t.word).toHaveLength(4);
    expect(doc.map((s) => s.map((t) => t.word).join(' '))).toEqual([
      'Jane Doe lives in New York City .',
      'Acme Corp. hired Bob and Bob Smith .',
      'Nothing here .',
    ]);
    expect(doc.map(entities)).toEqual([
      [
        ['PER', 'Jane Doe'],
        ['LOC', 'New York City'],
      ],
      [
        ['ORG', 'Acme Corp.'],
        ['PER', 'Bob'],
        ['PER', 'Bob Smith'],
      ],
      [],
    ]);
  });

  it('without --spacy the delimiter spaCy looks for is absent (the reference writes -DOCSTART- -X- O)', async () => {
    const { sink } = await exportWith(TASKS, CONFIG, 'CONLL2003', {});
    expect(() => readSpacyNer(sink.text('result.conll'))).toThrow(/document delimiter/);
  });
});
