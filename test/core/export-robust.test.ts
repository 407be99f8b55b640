/**
 * runExport: one task never fails a run. A writer exception on one task (here the stack overflow a
 * 20,000-level value causes in the serializers, reachable through an in-process TaskSource that
 * skips the parser's depth limit) is reported for that task and format; the other tasks are
 * exported and every file stays valid. An output failure still fails the run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLabelConfig } from '../../functions/core/config/label-config.ts';
import { runExport } from '../../functions/core/export.ts';
import { parseExportOptions } from '../../functions/core/formats/options.ts';
import type { JsonObject, JsonValue } from '../../functions/core/json/value.ts';
import type { TaskSource } from '../../functions/core/readers/source.ts';
import { Report } from '../../functions/core/report.ts';
import { MemorySink } from '../helpers/export.ts';

const CONFIG = readFileSync(
  join(
    import.meta.dirname,
    '..',
    'fixtures',
    'cases',
    'sec-03-deep-nesting-aborts-and-poisons-batch',
    'config.xml',
  ),
  'utf8',
);

function deepValue(levels: number): JsonValue {
  let v: JsonValue = [];
  for (let i = 1; i < levels; i++) v = [v];
  return v;
}

const task = (id: number, data: JsonObject): JsonObject => ({
  id,
  data,
  annotations: [{ id: id * 10, completed_by: 1, result: [], created_at: '2025-01-01T00:00:00Z' }],
});

const source = (tasks: JsonObject[]): TaskSource => ({
  description: 'memory',
  async *tasks() {
    for (const t of tasks) yield { task: t, ref: { source: `memory[${t.id}]`, taskId: t.id as number } };
  },
});

describe('runExport with a task a writer cannot convert', () => {
  it('reports the task per format and exports the others into valid files', async () => {
    const sinks = { JSON: new MemorySink(), JSON_MIN: new MemorySink(), CSV: new MemorySink() };
    const report = new Report();
    const stats = await runExport({
      source: source([
        task(1, { text: 'one' }),
        task(2, { text: 'deep', deep: deepValue(20_000) }),
        task(3, { text: 'three' }),
      ]),
      schema: parseLabelConfig(CONFIG),
      targets: Object.entries(sinks).map(([format, sink]) => ({ format: format as 'JSON', sink })),
      options: parseExportOptions({}),
      report,
    });
    expect(stats.tasks).toBe(3);
    expect(JSON.parse(sinks.JSON.text('result.json')).map((t: { id: number }) => t.id)).toEqual([1, 3]);
    expect(JSON.parse(sinks.JSON_MIN.text('result.json')).map((t: { id: number }) => t.id)).toEqual([1, 3]);
    const csv = sinks.CSV.text('result.csv').split('\r\n');
    expect(csv[0]).not.toContain('deep'); // the failed task's columns are not in the header
    const idColumn = csv[0].split(',').indexOf('"id"');
    expect(csv.slice(1, -1).map((l) => l.split(',')[idColumn])).toEqual(['1', '3']);
    expect(report.skipped.map((s) => [s.source, s.taskId, s.reason.replace(/:.*/, '')])).toEqual([
      ['memory[2]', 2, 'JSON'],
      ['memory[2]', 2, 'JSON_MIN'],
      ['memory[2]', 2, 'CSV'],
    ]);
    expect(report.skipped[0].reason).toBe(
      'JSON: the task could not be converted and is left out: Maximum call stack size exceeded',
    );
  });

  it('BRUSH_TO_COCO: a task failing half-way leaves no entry, no gap in ids and valid JSON', async () => {
    const schema = parseLabelConfig(
      '<View><Image name="image" value="$image"/><RectangleLabels name="box" toName="image"><Label value="Car"/></RectangleLabels></View>',
    );
    const rect = {
      from_name: 'box',
      to_name: 'image',
      type: 'rectanglelabels',
      original_width: 100,
      original_height: 50,
      value: { x: 10, y: 10, width: 20, height: 20, rectanglelabels: ['Car'] },
    };
    const boxTask = (id: number, completedBy: JsonValue): JsonObject => ({
      id,
      data: { image: `/x/${id}.png` },
      annotations: [{ id, completed_by: completedBy, result: [rect], created_at: '2025-01-01T00:00:00Z' }],
    });
    const sink = new MemorySink();
    const report = new Report();
    // Task 1's annotator (an e-mail nested 20,000 levels deep) overflows the serializer mid-item.
    await runExport({
      source: source([boxTask(1, { email: deepValue(20_000) }), boxTask(2, { email: 'b@x' })]),
      schema,
      targets: [{ format: 'BRUSH_TO_COCO', sink }],
      options: parseExportOptions({}),
      report,
    });
    const coco = JSON.parse(sink.text('result_coco.json'));
    expect(coco.annotations.map((a: { id: number; image_id: number }) => [a.id, a.image_id])).toEqual([
      [0, 1],
    ]);
    expect(report.skipped.map((s) => s.reason)).toEqual([
      'BRUSH_TO_COCO: the task could not be converted and is left out: Maximum call stack size exceeded',
    ]);
  });

  it('an output failure still fails the run', async () => {
    const sink = new MemorySink();
    sink.open = () => ({
      write: () => Promise.reject(new Error('disk gone')),
      close: async () => {},
    });
    await expect(
      runExport({
        source: source([task(1, { text: 'one' })]),
        schema: parseLabelConfig(CONFIG),
        targets: [{ format: 'JSON', sink }],
        options: parseExportOptions({}),
      }),
    ).rejects.toThrow('disk gone');
  });
});
