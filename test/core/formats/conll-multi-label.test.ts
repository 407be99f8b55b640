import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportWith } from '../../helpers/export.ts';

const CASE = join(import.meta.dirname, '..', '..', 'fixtures', 'cases', 'br-09-conll-multi-label-span');
const read = (f: string) => readFileSync(join(CASE, f), 'utf8');

const CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text" choice="multiple"><Label value="PER"/><Label value="ORG"/><Label value="LOC"/></Labels>
  <Choices name="topic" toName="text"><Choice value="news"/></Choices>
</View>`;

const span = (start: number | null, end: number | null, labels: string[], id = 'x') => ({
  id,
  from_name: 'ner',
  to_name: 'text',
  type: 'labels',
  value: { start, end, text: '', labels },
});

const task = (result: unknown[]) => [
  { id: 7, data: { text: 'Ann Lee met Bob .' }, annotations: [{ id: 70, created_at: '2024', result }] },
];

describe('CONLL2003 spans with several labels (br-09)', () => {
  it('keeps the first label by default, byte for byte as Label Studio, and warns per span', async () => {
    const { sink, report } = await exportWith(read('tasks.json'), read('config.xml'), 'CONLL2003');
    expect(sink.text('result.conll')).toBe(
      [
        '-DOCSTART- -X- O',
        'I -X- _ B-Title1',
        '- -X- _ I-Title1',
        'GENERAL -X- _ I-Title1',
        'CORRESPONDENCE -X- _ I-Title1',
        '',
        '1 -X- _ B-DATE',
        '- -X- _ I-DATE',
        'Incoming -X- _ I-DATE',
        'mail -X- _ I-DATE',
        '( -X- _ I-DATE',
        '1946-1954 -X- _ I-DATE',
        ') -X- _ I-DATE',
        '',
        '',
      ].join('\n'),
    );
    const reasons = report.warnings.map((w) => [w.taskId, w.reason]);
    expect(reasons).toHaveLength(2);
    expect(reasons[0][0]).toBe(619);
    expect(reasons[0][1]).toContain('span 0–26 has 2 labels; CONLL2003 keeps the first, Title1');
    expect(reasons[0][1]).toContain('left out: unittitle');
    // Names the pipeline option; the CLI's report spells it as its flag (cli/cli-report.ts).
    expect(reasons[0][1]).toContain('set option conllMultiLabel to "columns" to keep them');
    expect(reasons[1][0]).toBe(620);
    expect(reasons[1][1]).toContain('span 0–29 has 3 labels; CONLL2003 keeps the first, DATE');
    expect(reasons[1][1]).toContain('left out: Title2, unittitle');
  });

  it('columns: one tag column per label position, as many as the config offers labels (4)', async () => {
    const { sink, report } = await exportWith(read('tasks.json'), read('config.xml'), 'CONLL2003', {
      conllMultiLabel: 'columns',
    });
    const lines = sink.text('result.conll').split('\n');
    expect(lines[0]).toBe('-DOCSTART- -X- O O O O O');
    expect(lines.slice(1, 5)).toEqual([
      'I -X- _ B-Title1 B-unittitle O O',
      '- -X- _ I-Title1 I-unittitle O O',
      'GENERAL -X- _ I-Title1 I-unittitle O O',
      'CORRESPONDENCE -X- _ I-Title1 I-unittitle O O',
    ]);
    expect(lines[6]).toBe('1 -X- _ B-DATE B-Title2 B-unittitle O');
    expect(lines[12]).toBe(') -X- _ I-DATE I-Title2 I-unittitle O');
    // Every non-blank line has the same number of columns (3 + 4).
    for (const l of lines.filter(Boolean)) expect(l.split(' ')).toHaveLength(7);
    expect(report.warningCount).toBe(0);
  });

  it('columns: the DOCSTART line is as wide as a token line, with or without --spacy', async () => {
    for (const spacy of [false, true]) {
      const { sink } = await exportWith(read('tasks.json'), read('config.xml'), 'CONLL2003', {
        conllMultiLabel: 'columns',
        spacy,
      });
      const first = sink.text('result.conll').split('\n')[0];
      expect(first).toBe('-DOCSTART- -X- O O O O O');
      // spaCy's converter finds documents by this substring.
      expect(first).toContain('-DOCSTART- -X- O O');
    }
  });

  it('columns: mixed spans — one label, several labels, each position its own BIO layer', async () => {
    const { sink } = await exportWith(
      task([span(0, 7, ['PER', 'ORG']), span(12, 15, ['PER'])]),
      CONFIG,
      'CONLL2003',
      { conllMultiLabel: 'columns' },
    );
    expect(sink.text('result.conll')).toBe(
      [
        '-DOCSTART- -X- O O O O',
        'Ann -X- _ B-PER B-ORG O',
        'Lee -X- _ I-PER I-ORG O',
        'met -X- _ O O O',
        'Bob -X- _ B-PER O O',
        '. -X- _ O O O',
        '',
        '',
      ].join('\n'),
    );
  });

  it('columns: labels beyond the config’s count are warned as left out', async () => {
    const { sink, report } = await exportWith(
      task([span(0, 3, ['PER', 'ORG', 'LOC', 'MISC'])]),
      CONFIG,
      'CONLL2003',
      { conllMultiLabel: 'columns' },
    );
    expect(sink.text('result.conll').split('\n')[1]).toBe('Ann -X- _ B-PER B-ORG B-LOC');
    expect(report.warnings.map((w) => w.reason)).toEqual([
      expect.stringContaining('span 0–3 has 4 labels; CONLL2003 keeps the first 3'),
    ]);
    expect(report.warnings[0].reason).toContain('left out: MISC');
  });

  it('a one-label span raises no warning', async () => {
    const { report } = await exportWith(task([span(0, 3, ['PER'])]), CONFIG, 'CONLL2003');
    expect(report.warningCount).toBe(0);
  });
});

describe('CONLL2003 results that do not reach the output are accounted for', () => {
  const entry = (e: { resultId?: unknown; fromName?: unknown; format?: unknown; reason: string }) => [
    e.resultId,
    e.fromName,
    e.format,
    e.reason,
  ];

  it('br-09: both spans counted as exported, each with its warning naming the result', async () => {
    const { report } = await exportWith(read('tasks.json'), read('config.xml'), 'CONLL2003');
    expect(report.toJSON().regions).toEqual({ CONLL2003: { exported: 2, skipped: 0 } });
    expect(report.warnings.map((w) => [w.annotationId, w.resultId, w.fromName, w.type])).toEqual([
      [96, 'a', 'label', 'labels'],
      [97, 'b', 'label', 'labels'],
    ]);
  });

  it('a span without offsets: itself and the spans it blanks (reference), only itself with the fix', async () => {
    const result = [span(0, 3, ['PER'], 's1'), span(null, null, ['ORG'], 's2')];
    const plain = await exportWith(task(result), CONFIG, 'CONLL2003');
    expect(plain.sink.text('result.conll')).toContain('Ann -X- _ O');
    expect(plain.report.skipped.map(entry)).toEqual([
      ['s2', 'ner', 'CONLL2003', 'the span has no start/end offsets'],
      ['s1', 'ner', 'CONLL2003', expect.stringContaining('another span of the document has no start/end')],
    ]);
    expect(plain.report.toJSON().regions).toEqual({ CONLL2003: { exported: 0, skipped: 2 } });

    const fixed = await exportWith(task(result), CONFIG, 'CONLL2003', { fixConllBrokenSpans: true });
    expect(fixed.sink.text('result.conll')).toContain('Ann -X- _ B-PER');
    expect(fixed.report.skipped.map(entry)).toEqual([
      ['s2', 'ner', 'CONLL2003', 'the span has no start/end offsets'],
    ]);
    expect(fixed.report.toJSON().regions).toEqual({ CONLL2003: { exported: 1, skipped: 1 } });
  });

  it('an overlapped span and a span outside the text are skipped, not silently lost', async () => {
    const { sink, report } = await exportWith(
      task([span(0, 7, ['PER'], 'a'), span(4, 7, ['ORG'], 'b'), span(100, 104, ['LOC'], 'c')]),
      CONFIG,
      'CONLL2003',
    );
    expect(sink.text('result.conll')).toContain('Lee -X- _ I-PER');
    expect(report.skipped.map(entry)).toEqual([
      ['b', 'ner', 'CONLL2003', expect.stringContaining('span 4–7 tags no token')],
      ['c', 'ner', 'CONLL2003', expect.stringContaining('span 100–104 tags no token')],
    ]);
    expect(report.toJSON().regions).toEqual({ CONLL2003: { exported: 1, skipped: 2 } });
  });

  it('a Choices result and a second Labels control (without the fix) are skipped with their reason', async () => {
    const config = CONFIG.replace(
      '</View>',
      '<Labels name="extra" toName="text"><Label value="MISC"/></Labels></View>',
    );
    const result = [
      span(0, 3, ['PER'], 'a'),
      { id: 'c', from_name: 'topic', to_name: 'text', type: 'choices', value: { choices: ['news'] } },
      {
        id: 'm',
        from_name: 'extra',
        to_name: 'text',
        type: 'labels',
        value: { start: 12, end: 15, labels: ['MISC'] },
      },
    ];
    const plain = await exportWith(task(result), config, 'CONLL2003');
    expect(plain.report.skipped.map(entry)).toEqual([
      [
        'c',
        'topic',
        'CONLL2003',
        'a Choices result has no place in CONLL2003 (only Labels spans become tags)',
      ],
      ['m', 'extra', 'CONLL2003', expect.stringContaining('fix conll-all-labels')],
    ]);
    const all = await exportWith(task(result), config, 'CONLL2003', { fixConllAllLabels: true });
    expect(all.sink.text('result.conll')).toContain('Bob -X- _ B-MISC');
    expect(all.report.toJSON().regions).toEqual({ CONLL2003: { exported: 2, skipped: 1 } });
  });

  it('a document that is not a string: every result of the item skipped', async () => {
    const { report } = await exportWith(
      [{ id: 1, data: { text: 5 }, annotations: [{ id: 2, result: [span(0, 1, ['PER'], 'z')] }] }],
      CONFIG,
      'CONLL2003',
    );
    expect(report.toJSON().regions).toEqual({ CONLL2003: { exported: 0, skipped: 1 } });
    expect(report.skipped.map((e) => e.resultId)).toContain('z');
  });
});
