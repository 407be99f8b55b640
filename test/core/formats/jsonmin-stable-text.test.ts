import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportWith } from '../../helpers/export.ts';

const CASE = join(
  import.meta.dirname,
  '..',
  '..',
  'fixtures',
  'cases',
  'br-01-jsonmin-ocr-multiline-transcription',
);
const read = (f: string) => readFileSync(join(CASE, f), 'utf8');

/** CSV rows as header → cell, for a one-row result.csv (cells without embedded newlines). */
function csvRow(text: string): Record<string, string> {
  const [head, row] = text.split('\r\n');
  const split = (l: string) => l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, ''));
  const cells = split(row);
  return Object.fromEntries(
    split(head).map((h, i) => [
      h.slice(1, -1),
      cells[i].startsWith('"') ? cells[i].slice(1, -1).replaceAll('""', '"') : cells[i],
    ]),
  );
}

describe('JSON_MIN/CSV type-stable Choices/TextArea values (br-01)', () => {
  it('default: Label Studio’s mixed list (a string for r1, the region object for r2)', async () => {
    const { sink } = await exportWith(read('tasks.json'), read('config.xml'), 'JSON_MIN');
    const [record] = JSON.parse(sink.text('result.json'));
    expect(record.transcription[0]).toBe('transcribed text 1');
    expect(record.transcription[1]).toMatchObject({
      x: 3.5,
      y: 64.3,
      text: ['first line of field B', 'second line of field B'],
    });
  });

  it('fix jsonmin-stable-text: every element is its text list, so zip(bbox, transcription) pairs up', async () => {
    const { sink } = await exportWith(read('tasks.json'), read('config.xml'), 'JSON_MIN', {
      fixJsonminStableText: true,
    });
    const [record] = JSON.parse(sink.text('result.json'));
    expect(record.transcription).toEqual([
      ['transcribed text 1'],
      ['first line of field B', 'second line of field B'],
    ]);
    expect(record.bbox).toHaveLength(2);
    // The other controls are unchanged.
    expect(record.label.map((l: { labels: string[] }) => l.labels)).toEqual([['Field A'], ['Field B']]);
  });

  it('fix: Choices — one pick and two picks (choice="multiple") are both lists; a single TextArea too', async () => {
    const config = `<View><Text name="text" value="$text"/>
      <Choices name="tags" toName="text" choice="multiple"><Choice value="a"/><Choice value="b"/></Choices>
      <TextArea name="note" toName="text"/></View>`;
    const tasks = [
      {
        id: 1,
        data: { text: 'x' },
        annotations: [
          {
            id: 1,
            result: [
              { from_name: 'tags', to_name: 'text', type: 'choices', value: { choices: ['a'] } },
              { from_name: 'note', to_name: 'text', type: 'textarea', value: { text: ['one'] } },
            ],
          },
        ],
      },
      {
        id: 2,
        data: { text: 'y' },
        annotations: [
          {
            id: 2,
            result: [
              { from_name: 'tags', to_name: 'text', type: 'choices', value: { choices: ['a', 'b'] } },
              { from_name: 'note', to_name: 'text', type: 'textarea', value: { text: 'bare string' } },
            ],
          },
        ],
      },
    ];
    const plain = JSON.parse((await exportWith(tasks, config, 'JSON_MIN')).sink.text('result.json'));
    expect(plain.map((r: { tags: unknown }) => r.tags)).toEqual(['a', { choices: ['a', 'b'] }]);
    const fixed = JSON.parse(
      (await exportWith(tasks, config, 'JSON_MIN', { fixJsonminStableText: true })).sink.text('result.json'),
    );
    expect(fixed.map((r: { tags: unknown }) => r.tags)).toEqual([['a'], ['a', 'b']]);
    expect(fixed.map((r: { note: unknown }) => r.note)).toEqual([['one'], ['bare string']]);
  });

  it('fix in CSV: the transcription cell holds the list of lists as JSON', async () => {
    const plain = csvRow(
      (await exportWith(read('tasks.json'), read('config.xml'), 'CSV')).sink.text('result.csv'),
    );
    expect(JSON.parse(plain.transcription)[1]).toHaveProperty('original_width', 2480);
    const fixed = csvRow(
      (
        await exportWith(read('tasks.json'), read('config.xml'), 'CSV', { fixJsonminStableText: true })
      ).sink.text('result.csv'),
    );
    expect(JSON.parse(fixed.transcription)).toEqual([
      ['transcribed text 1'],
      ['first line of field B', 'second line of field B'],
    ]);
  });

  it('every result of the case is accounted as exported; r2 (two lines) warns that the shape changes', async () => {
    for (const format of ['JSON_MIN', 'CSV', 'TSV'] as const) {
      const { report } = await exportWith(read('tasks.json'), read('config.xml'), format);
      expect(report.toJSON().regions).toEqual({ [format]: { exported: 6, skipped: 0 } });
      expect(report.warnings).toEqual([
        expect.objectContaining({
          taskId: 22,
          annotationId: 31,
          resultId: 'r2',
          fromName: 'transcription',
          format,
          reason: expect.stringMatching(
            /^the element shape changes: .*--fix jsonmin-stable-text keeps lists$/,
          ),
        }),
      ]);
    }
  });

  it('fix jsonmin-stable-text: no shape warning', async () => {
    for (const format of ['JSON_MIN', 'CSV'] as const) {
      const { report } = await exportWith(read('tasks.json'), read('config.xml'), format, {
        fixJsonminStableText: true,
      });
      expect(report.warningCount).toBe(0);
    }
  });

  it('Choices: one warning for the two-pick result, none for the one-pick result', async () => {
    const config = `<View><Text name="text" value="$text"/>
      <Choices name="tags" toName="text" choice="multiple"><Choice value="a"/><Choice value="b"/></Choices></View>`;
    const tasks = [1, 2].map((id) => ({
      id,
      data: { text: 'x' },
      annotations: [
        {
          id,
          result: [
            {
              id: `c${id}`,
              from_name: 'tags',
              to_name: 'text',
              type: 'choices',
              value: { choices: id === 1 ? ['a'] : ['a', 'b'] },
            },
          ],
        },
      ],
    }));
    const { report } = await exportWith(tasks, config, 'JSON_MIN');
    expect(report.warnings.map((w) => [w.taskId, w.resultId])).toEqual([[2, 'c2']]);
  });
});

describe('JSON_MIN/CSV key collisions are reported', () => {
  const config = `<View><Text name="text" value="$text"/>
    <Choices name="text_choice" toName="text"><Choice value="a"/></Choices>
    <TextArea name="caption" toName="text"/><TextArea name="annotator" toName="text"/></View>`;
  const tasks = [1, 2].map((id) => ({
    id,
    data: { text: 't', caption: 'from data', created_at: 'data date' },
    annotations: [
      {
        id: id * 10,
        result: [
          { id: 'c', from_name: 'caption', to_name: 'text', type: 'textarea', value: { text: ['mine'] } },
          { id: 'a', from_name: 'annotator', to_name: 'text', type: 'textarea', value: { text: ['lost'] } },
        ],
      },
    ],
  }));

  it('JSON_MIN: a control named like a data key overwrites it — one warning per name, not per task', async () => {
    const { sink, report } = await exportWith(tasks, config, 'JSON_MIN');
    const records = JSON.parse(sink.text('result.json'));
    expect(records[0].caption).toBe('mine');
    expect(report.warnings.map((w) => w.reason)).toEqual([
      'control "caption" has the name of a data key: its value overwrites data["caption"] in JSON_MIN records (as in Label Studio)',
      'data key "created_at" is overwritten by JSON_MIN\'s "created_at" column (as in Label Studio)',
    ]);
    // The control named "annotator" loses its value to the metadata: a skipped result per task.
    expect(report.skipped.map((e) => [e.taskId, e.resultId, e.fromName])).toEqual([
      [1, 'a', 'annotator'],
      [2, 'a', 'annotator'],
    ]);
    expect(report.toJSON().regions).toEqual({ JSON_MIN: { exported: 2, skipped: 2 } });
  });

  it('CSV renames the colliding data key (_data_caption): no warning for it; metadata collisions still reported', async () => {
    const { sink, report } = await exportWith(tasks, config, 'CSV');
    expect(sink.text('result.csv').split('\r\n')[0]).toContain('"_data_caption"');
    expect(report.warnings.map((w) => w.reason)).toEqual([
      'data key "created_at" is overwritten by CSV\'s "created_at" column (as in Label Studio)',
    ]);
    expect(report.toJSON().regions).toEqual({ CSV: { exported: 2, skipped: 2 } });
  });
});
