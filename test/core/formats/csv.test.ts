import { describe, expect, it } from 'vitest';
import { csvCell } from '../../../functions/core/formats/csv.ts';
import { NumLit } from '../../../functions/core/json/value.ts';
import type { TaskSource } from '../../../functions/core/readers/source.ts';
import { exportWith, fixture, tasksSource } from '../../helpers/export.ts';

const CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/></Choices>
  <TextArea name="comment" toName="text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="LOC"/></Labels>
  <Rating name="rating" toName="text"/>
</View>`;

// The observed example of docs/label-studio-behaviour.md#csv, as a Label Studio export text (float literals included).
const TASKS = `[
 {"id": 1, "agreement": 50.0,
  "data": {"text": "Hello world/ü", "meta_info": {"a": [1, 2]}, "num": 5, "flt": 2.0, "flag": true, "nil": null},
  "annotations": [
   {"id": 10, "completed_by": 7, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:01Z", "lead_time": 1.5,
    "result": [
     {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}},
     {"from_name": "comment", "to_name": "text", "type": "textarea", "value": {"text": ["nice one"]}},
     {"from_name": "ner", "to_name": "text", "type": "labels", "value": {"start": 0, "end": 5, "text": "Hello", "labels": ["PER"]}},
     {"from_name": "ner", "to_name": "text", "type": "labels", "value": {"start": 6, "end": 11, "text": "world", "labels": ["LOC"]}},
     {"from_name": "rating", "to_name": "text", "type": "rating", "value": {"rating": 4}}]},
   {"id": 11, "completed_by": {"id": 3, "email": "b@x.com"}, "created_at": "2024-02-01T00:00:00Z", "lead_time": 2,
    "result": [
     {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Negative", "Neutral"]}},
     {"from_name": "comment", "to_name": "text", "type": "textarea", "value": {"text": ["l1", "l2"]}}]}]},
 {"id": 2, "data": {"text": "No annotations here"}, "annotations": []}
]`;

describe('CSV', () => {
  it('matches the observed reference output of docs/label-studio-behaviour.md#csv byte for byte', async () => {
    const { sink } = await exportWith(TASKS, CONFIG, 'CSV');
    const expected = [
      '"agreement","annotation_id","annotator","comment","created_at","flag","flt","id","lead_time","meta_info","ner","nil","num","rating","sentiment","text","updated_at"',
      '50.0,11,"b@x.com","{""text"":[""l1"",""l2""]}","2024-02-01T00:00:00Z",True,2.0,1,2,"{""a"":[1,2]}","","",5,"","{""choices"":[""Negative"",""Neutral""]}","Hello world/ü",""',
      '50.0,10,"7","nice one","2024-01-01T00:00:00Z",True,2.0,1,1.5,"{""a"":[1,2]}","[{""start"":0,""end"":5,""text"":""Hello"",""labels"":[""PER""]},{""start"":6,""end"":11,""text"":""world"",""labels"":[""LOC""]}]","",5,"[{""rating"":4}]","Positive","Hello world/ü","2024-01-01T00:00:01Z"',
      '"","","","","","","",2,"","","","","","","","No annotations here",""',
      '',
    ].join('\r\n');
    // "/" stays raw in plain string cells; only JSON-encoded cells escape it (ujson).
    expect(sink.text('result.csv')).toBe(expected);
  });

  it('writes a row spooled across many read-back pieces whole (a 1 MB multi-byte cell between two small rows)', async () => {
    // Each spooled row is read back in 32 KiB pieces; a cell of 1 MB spans ~40 of them, and its
    // 3-byte characters fall across piece boundaries.
    const big = 'ü€x'.repeat(200_000);
    const tasks = [
      { id: 1, data: { text: 'a' }, annotations: [] },
      { id: 2, data: { text: big }, annotations: [] },
      { id: 3, data: { text: 'c' }, annotations: [] },
    ];
    const { sink } = await exportWith(tasks, '<View><Text name="text" value="$text"/></View>', 'CSV');
    expect(sink.text('result.csv').split('\r\n')).toEqual([
      '"annotation_id","annotator","created_at","id","lead_time","text","updated_at"',
      '"","","",1,"","a",""',
      `"","","",2,"","${big}",""`,
      '"","","",3,"","c",""',
      '',
    ]);
  });

  it('TSV uses TAB and is still named result.csv', async () => {
    const { sink } = await exportWith(TASKS, CONFIG, 'TSV');
    expect(sink.text('result.csv').split('\r\n')[0]).toBe(
      '"agreement"\t"annotation_id"\t"annotator"\t"comment"\t"created_at"\t"flag"\t"flt"\t"id"\t"lead_time"\t"meta_info"\t"ner"\t"nil"\t"num"\t"rating"\t"sentiment"\t"text"\t"updated_at"',
    );
  });

  it('fixture csv_test2.json (TSV, empty schema) equals csv_test2_result.csv up to line endings', async () => {
    const { sink } = await exportWith(fixture('test_export_csv/csv_test2.json'), '', 'TSV');
    const expected = fixture('test_export_csv/csv_test2_result.csv');
    expect(sink.text('result.csv').replaceAll('\r\n', '\n')).toBe(expected.replaceAll('\r\n', '\n'));
  });

  it('fixture csv_test.json (CSV, empty schema): no empty cells', async () => {
    const { sink } = await exportWith(fixture('test_export_csv/csv_test.json'), '', 'CSV');
    const lines = sink.text('result.csv').trimEnd().split('\r\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line).not.toMatch(/(^|,)""(,|$)/);
  });

  it('fixture csv_test_history.json: a history column', async () => {
    const { sink } = await exportWith(fixture('test_export_csv/csv_test_history.json'), '', 'CSV');
    const header = sink.text('result.csv').split('\r\n')[0];
    expect(header.split(',')).toContain('"history"');
  });

  it('fixture colliding keys: the data value goes to _data_text, the choice to text', async () => {
    const config =
      '<View><Text name="text" value="$text"/><Choices name="text" toName="text"><Choice value="positive"/></Choices></View>';
    const { sink } = await exportWith(fixture('test_export_csv/csv_test_colliding_keys.json'), config, 'CSV');
    const [header, row] = sink.text('result.csv').split('\r\n');
    const cols = header.split(',').map((c) => JSON.parse(c));
    expect(cols).toContain('_data_text');
    expect(cols).toContain('text');
    expect(cols).not.toContain('text_input');
    expect(row).toContain('"positive"');
    const cells = row.split(',');
    expect(cells[cols.indexOf('text')]).toBe('"positive"');
  });

  it('fixture colliding keys, mixed: an unannotated row uses the global rename', async () => {
    const config =
      '<View><Text name="text" value="$text"/><Choices name="text" toName="text"><Choice value="positive"/></Choices></View>';
    const { sink } = await exportWith(
      fixture('test_export_csv/csv_test_colliding_keys_mixed.json'),
      config,
      'CSV',
    );
    const lines = sink.text('result.csv').trimEnd().split('\r\n');
    const cols = lines[0].split(',').map((c) => JSON.parse(c));
    expect(cols).toContain('_data_text');
    expect(lines.length).toBeGreaterThanOrEqual(3);
  });

  it('chat: a transcript column "role: content" per message', async () => {
    const schema = JSON.stringify({
      chat: {
        type: 'Chat',
        to_name: ['chat'],
        inputs: [{ type: 'Chat', value: 'chat' }],
        labels: [],
        labels_attrs: {},
      },
    });
    const { sink } = await exportWith(fixture('test_export_json_min/chat_data.json'), schema, 'CSV');
    const text = sink.text('result.csv');
    expect(text.split('\r\n')[0].split(',')).toContain('"chat_transcript"');
    expect(text).toContain(
      'user: hi\nassistant: Hello! How can I assist you today?\nuser: i dont want to be here anymore\nassistant: I',
    );
  });

  it('encodes cells like Python csv QUOTE_NONNUMERIC', () => {
    expect(csvCell(null)).toBe('""');
    expect(csvCell(undefined)).toBe('""');
    expect(csvCell(true)).toBe('True');
    expect(csvCell(1e-5)).toBe('1e-05');
    expect(csvCell(NumLit.float(100))).toBe('100.0');
    expect(csvCell('say "hi"\nnow')).toBe('"say ""hi""\nnow"');
  });
});

describe('CSV reads its input once', () => {
  it('iterates the source a single time and spools rows beyond memory without changing them', async () => {
    const config =
      '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/></Choices></View>';
    const long = 'x'.repeat(1500);
    const n = 7000; // ≈ 11 MB of rows: more than the spool keeps in memory
    const tasks = Array.from({ length: n }, (_, i) => ({
      id: i + 1,
      data: { text: `${long} ${i} "q"\n/`, n: i % 2 ? 2.5 : 3 },
      annotations: [
        {
          id: i + 1,
          result: [{ from_name: 'c', to_name: 'text', type: 'choices', value: { choices: ['A'] } }],
        },
      ],
    }));
    let passes = 0;
    const inner = tasksSource(tasks);
    const counting: TaskSource = {
      description: 'counting',
      tasks: (report) => {
        passes++;
        return inner.tasks(report);
      },
    };
    const { sink } = await exportWith(counting, config, 'CSV');
    expect(passes).toBe(1);
    const lines = sink.text('result.csv').split('\r\n');
    expect(lines[0]).toBe(
      '"annotation_id","annotator","c","created_at","id","lead_time","n","text","updated_at"',
    );
    expect(lines).toHaveLength(n + 2); // header, rows, and the empty string after the last CRLF
    expect(lines[n]).toBe(`${n},"","A","",${n},"",2.5,"${long} ${n - 1} ""q""\n/",""`);
  });
});
