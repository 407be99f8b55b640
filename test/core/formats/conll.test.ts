import { describe, expect, it } from 'vitest';
import { exportWith } from '../../helpers/export.ts';

const CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="LOC"/><Label value="ORG"/></Labels>
  <Labels name="extra" toName="text"><Label value="MISC"/></Labels>
</View>`;

const span = (fromName: string, start: number | null, end: number | null, label: string) => ({
  from_name: fromName,
  to_name: 'text',
  type: 'labels',
  value: { start, end, text: '', labels: [label] },
});

describe('CONLL2003', () => {
  it('writes DOCSTART, one token line per Treebank token, a blank line per item (docs/label-studio-behaviour.md#conll2003)', async () => {
    const tasks = [
      {
        id: 1,
        data: { text: 'We gave Jane Smith the ball.' },
        annotations: [{ id: 1, created_at: '2024-01-01', result: [span('ner', 7, 18, 'PER')] }],
      },
      { id: 2, data: { text: 'No spans here' }, annotations: [] },
    ];
    const { sink } = await exportWith(tasks, CONFIG, 'CONLL2003');
    expect(sink.text('result.conll')).toBe(
      [
        '-DOCSTART- -X- O',
        'We -X- _ O',
        'gave -X- _ O',
        'Jane -X- _ B-PER',
        'Smith -X- _ I-PER',
        'the -X- _ O',
        'ball -X- _ O',
        '. -X- _ O',
        '',
        'No -X- _ O',
        'spans -X- _ O',
        'here -X- _ O',
        '',
        '',
      ].join('\n'),
    );
  });

  it('--spacy writes the four-column DOCSTART line spacy convert expects', async () => {
    const { sink } = await exportWith(
      [{ id: 1, data: { text: 'Hi' }, annotations: [] }],
      CONFIG,
      'CONLL2003',
      { spacy: true },
    );
    expect(sink.text('result.conll')).toBe('-DOCSTART- -X- O O\nHi -X- _ O\n\n');
  });

  it('uses only the first Labels control by default, all of them with --fix conll-all-labels', async () => {
    const tasks = [
      {
        id: 1,
        data: { text: 'Jane met Acme' },
        annotations: [{ id: 1, result: [span('ner', 0, 4, 'PER'), span('extra', 9, 13, 'MISC')] }],
      },
    ];
    const plain = await exportWith(tasks, CONFIG, 'CONLL2003');
    expect(plain.sink.text('result.conll')).toContain('Jane -X- _ B-PER\nmet -X- _ O\nAcme -X- _ O\n');
    const fixed = await exportWith(tasks, CONFIG, 'CONLL2003', { fixConllAllLabels: true });
    expect(fixed.sink.text('result.conll')).toContain('Jane -X- _ B-PER\nmet -X- _ O\nAcme -X- _ B-MISC\n');
  });

  it('a span without offsets blanks the document to O (reference), or is ignored with --fix conll-broken-spans', async () => {
    const tasks = [
      {
        id: 1,
        data: { text: 'Jane met Bob' },
        annotations: [{ id: 1, result: [span('ner', 0, 4, 'PER'), span('ner', null, null, 'PER')] }],
      },
    ];
    const plain = await exportWith(tasks, CONFIG, 'CONLL2003');
    expect(plain.sink.text('result.conll')).toContain('Jane -X- _ O\n');
    const fixed = await exportWith(tasks, CONFIG, 'CONLL2003', { fixConllBrokenSpans: true });
    expect(fixed.sink.text('result.conll')).toContain('Jane -X- _ B-PER\n');
  });

  it('one document per annotation, newest first; a task with a non-string text is reported and skipped', async () => {
    const tasks = [
      {
        id: 1,
        data: { text: 'Jane' },
        annotations: [
          { id: 1, created_at: '2024-01-01', result: [] },
          { id: 2, created_at: '2024-02-01', result: [span('ner', 0, 4, 'PER')] },
        ],
      },
      { id: 2, data: { text: 42 }, annotations: [] },
      { id: 3, data: { text: 'ok' }, annotations: [] },
    ];
    const { sink, report } = await exportWith(tasks, CONFIG, 'CONLL2003');
    expect(sink.text('result.conll')).toBe(
      '-DOCSTART- -X- O\nJane -X- _ B-PER\n\nJane -X- _ O\n\nok -X- _ O\n\n',
    );
    expect(report.skipped).toEqual([
      {
        source: 'input.json[1]',
        taskId: 2,
        reason: 'data["text"] is not a string; the document is left out',
      },
    ]);
  });

  it('counts offsets in code points, as Python does (an emoji is one)', async () => {
    const tasks = [
      { id: 1, data: { text: '😀 Jane' }, annotations: [{ id: 1, result: [span('ner', 2, 6, 'PER')] }] },
    ];
    const { sink } = await exportWith(tasks, CONFIG, 'CONLL2003');
    expect(sink.text('result.conll')).toBe('-DOCSTART- -X- O\n😀 -X- _ O\nJane -X- _ B-PER\n\n');
  });
});
