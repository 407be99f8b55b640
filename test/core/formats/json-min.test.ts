import { describe, expect, it } from 'vitest';
import { exportWith, fixture } from '../../helpers/export.ts';

const TEXT_CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/></Choices>
  <TextArea name="comment" toName="text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="LOC"/></Labels>
  <Rating name="rating" toName="text"/>
</View>`;

const tasks = [
  {
    id: 1,
    data: { text: 'Hello world/ü', meta_info: { a: [1, 2] }, num: 5 },
    agreement: 50,
    annotations: [
      {
        id: 10,
        completed_by: 7,
        created_at: '2024-01-01T00:00:00Z',
        updated_at: '2024-01-01T00:00:01Z',
        lead_time: 1.5,
        result: [
          { from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Positive'] } },
          { from_name: 'comment', to_name: 'text', type: 'textarea', value: { text: ['nice one'] } },
          {
            from_name: 'ner',
            to_name: 'text',
            type: 'labels',
            value: { start: 0, end: 5, text: 'Hello', labels: ['PER'] },
          },
          { from_name: 'rating', to_name: 'text', type: 'rating', value: { rating: 4 } },
          { from_name: 'unknown_tag', to_name: 'text', type: 'choices', value: { choices: ['x'] } },
        ],
      },
      {
        id: 11,
        completed_by: { id: 3, email: 'b@x.com' },
        created_at: '2024-02-01T00:00:00Z',
        lead_time: 2,
        result: [
          {
            from_name: 'sentiment',
            to_name: 'text',
            type: 'choices',
            value: { choices: ['Negative', 'Neutral'] },
          },
          { from_name: 'comment', to_name: 'text', type: 'textarea', value: { text: ['l1', 'l2'] } },
        ],
      },
      { id: 12, was_cancelled: true, created_at: '2025-01-01T00:00:00Z', result: [] },
    ],
  },
  { id: 2, data: { text: 'No annotations here' }, annotations: [] },
  { id: 3, data: { text: 'only cancelled' }, annotations: [{ id: 13, was_cancelled: true, result: [] }] },
  { id: 4, data: { text: 'no key' } },
];

describe('JSON_MIN', () => {
  it('writes one record per non-cancelled annotation, newest first, prettified (docs/label-studio-behaviour.md#json_min, docs/label-studio-behaviour.md#prettified-values)', async () => {
    const { sink, report } = await exportWith(tasks, TEXT_CONFIG, 'JSON_MIN');
    const out = sink.text('result.json');
    const records = JSON.parse(out);
    expect(records.map((r: { annotation_id: number | null }) => r.annotation_id)).toEqual([11, 10, null]);
    expect(records[0]).toEqual({
      text: 'Hello world/ü',
      meta_info: { a: [1, 2] },
      num: 5,
      id: 1,
      sentiment: { choices: ['Negative', 'Neutral'] },
      comment: { text: ['l1', 'l2'] },
      annotator: 'b@x.com',
      annotation_id: 11,
      created_at: '2024-02-01T00:00:00Z',
      updated_at: null,
      lead_time: 2,
      agreement: 50,
    });
    expect(records[1].sentiment).toBe('Positive');
    expect(records[1].comment).toBe('nice one');
    expect(records[1].ner).toEqual([{ start: 0, end: 5, text: 'Hello', labels: ['PER'] }]);
    expect(records[1].rating).toEqual([{ rating: 4 }]);
    expect(records[1].annotator).toBe(7);
    expect(records[1]).not.toHaveProperty('unknown_tag');
    expect(records[2]).toEqual({
      text: 'No annotations here',
      id: 2,
      annotator: null,
      annotation_id: null,
      created_at: null,
      updated_at: null,
      lead_time: null,
    });
    // Annotation 11's two-entry values are whole objects where one-entry ones are strings: a shape
    // warning each (br-01); a task without an annotations key vanishes with a warning, as in the reference.
    expect(report.warnings.map((w) => [w.taskId, w.fromName])).toEqual([
      [1, 'sentiment'],
      [1, 'comment'],
      [4, undefined],
    ]);
  });

  it('uses the reference byte layout: records at column 0, ujson indent 2, "/" escaped', async () => {
    const { sink } = await exportWith([tasks[1]], TEXT_CONFIG, 'JSON_MIN');
    expect(sink.text('result.json')).toBe(
      '[\n{\n  "text": "No annotations here",\n  "id": 2,\n  "annotator": null,\n  "annotation_id": null,\n  "created_at": null,\n  "updated_at": null,\n  "lead_time": null\n}\n]',
    );
    const slash = await exportWith(
      [{ id: 5, data: { text: 'a/b', f: 2.0 }, annotations: [] }],
      TEXT_CONFIG,
      'JSON_MIN',
    );
    expect(slash.sink.text('result.json')).toContain('"text": "a\\/b"');
  });

  it('keeps float literals from the input (2.0 stays 2.0)', async () => {
    const { sink } = await exportWith(
      '[{"id": 5, "data": {"text": "t", "f": 2.0}, "annotations": []}]',
      TEXT_CONFIG,
      'JSON_MIN',
    );
    expect(sink.text('result.json')).toContain('"f": 2.0,');
  });

  it('writes [\\n\\n] when there are no items', async () => {
    const { sink } = await exportWith([], TEXT_CONFIG, 'JSON_MIN');
    expect(sink.text('result.json')).toBe('[\n\n]');
  });

  it('fixture test_export_json_min/data.json: one record with the polygon under "label"', async () => {
    const { sink } = await exportWith(
      fixture('test_export_json_min/data.json'),
      fixture('test_export_json_min/label_config.xml'),
      'JSON_MIN',
    );
    const records = JSON.parse(sink.text('result.json'));
    expect(records).toHaveLength(1);
    expect(records[0].image).toBe('/data/upload/29/example.png');
    expect(records[0].id).toBe(87);
    expect(records[0].label[0].polygonlabels).toEqual(['Airplane']);
    expect(records[0].label[0].original_width).toBe(128);
    expect(records[0].label[0]).not.toHaveProperty('type');
    expect(records[0]).toMatchObject({ annotator: 1, annotation_id: 22, lead_time: 8.65 });
    expect(sink.text('result.json')).toContain('"image": "\\/data\\/upload\\/29\\/example.png"');
  });

  it('fixture repeater: concrete names labels_0 and categories_0', async () => {
    const { sink } = await exportWith(
      fixture('test_export_json_min/data_repeater.json'),
      fixture('test_export_json_min/label_config_repeater.json'),
      'JSON_MIN',
    );
    const records = JSON.parse(sink.text('result.json'));
    expect(records).toHaveLength(1);
    expect(records[0]).toHaveProperty('labels_0');
    expect(records[0]).toHaveProperty('categories_0');
  });

  it('fixture chat: four messages, tool_calls kept as null', async () => {
    const schema = JSON.stringify({
      chat: { type: 'chatmessage', to_name: ['chat'], inputs: [], labels: [], labels_attrs: {} },
    });
    const { sink } = await exportWith(fixture('test_export_json_min/chat_data.json'), schema, 'JSON_MIN');
    const records = JSON.parse(sink.text('result.json'));
    expect(records[0].chat).toHaveLength(4);
    expect(records[0].chat[0].role).toBe('user');
    expect(records[0].chat[1].content.startsWith('Hello! How can I assist you today?')).toBe(true);
    expect(records[0].chat[1]).toHaveProperty('tool_calls', null);
  });
});

describe('results the reference would crash on', () => {
  it('a result without a value is left out and accounted; the rest of the annotation is exported', async () => {
    const config =
      '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/></Choices><TextArea name="t" toName="text"/></View>';
    const tasks = [
      {
        id: 1,
        data: { text: 'x' },
        annotations: [
          {
            id: 2,
            result: [
              { from_name: 'c', to_name: 'text', type: 'choices' },
              { from_name: 't', type: 'textarea', value: { text: ['ok'] } },
            ],
          },
        ],
      },
    ];
    const { sink, report } = await exportWith(tasks, config, 'JSON_MIN');
    const [record] = JSON.parse(sink.text('result.json'));
    expect(record).not.toHaveProperty('c');
    expect(record.t).toBe('ok');
    expect(report.skipped).toEqual([
      {
        source: 'input.json[0]',
        taskId: 1,
        annotationId: 2,
        fromName: 'c',
        type: 'choices',
        format: 'JSON_MIN',
        reason: 'a "c" result has no value object; it is left out',
      },
    ]);
    expect(report.toJSON().regions).toEqual({ JSON_MIN: { exported: 1, skipped: 1 } });
  });
});
