/**
 * runExport tells the reader which task keys no format of the run reads (predictions, drafts) so
 * the JSON export splitter can skip them; a run with the JSON format (tasks written whole) or a
 * writer from another registry gets every key. The exported bytes do not change.
 */
import { describe, expect, it } from 'vitest';
import { CONFIGS } from '../../../bench/generate.ts';
import type { FormatName } from '../../../functions/core/config/formats.ts';
import { parseLabelConfig } from '../../../functions/core/config/label-config.ts';
import { runExport } from '../../../functions/core/export.ts';
import { parseExportOptions } from '../../../functions/core/formats/options.ts';
import type { ObjectStore } from '../../../functions/core/object-store.ts';
import { SingleFileSource } from '../../../functions/core/readers/single-file.ts';
import type { TaskReadOptions, TaskSource } from '../../../functions/core/readers/source.ts';
import { Report } from '../../../functions/core/report.ts';
import { MemorySink } from '../../helpers/export.ts';

const TASKS = [
  {
    id: 1,
    data: { text: 'Alice went to Paris' },
    annotations: [
      {
        id: 10,
        completed_by: 1,
        created_at: '2025-01-01T00:00:00Z',
        result: [
          {
            id: 'r1',
            from_name: 'label',
            to_name: 'text',
            type: 'labels',
            value: { start: 0, end: 5, text: 'Alice', labels: ['PER'] },
          },
        ],
      },
    ],
    predictions: [{ result: [{ v: 2.0 }], score: 0.5 }],
    drafts: [],
  },
];
const TEXT = JSON.stringify(TASKS);

/** A one-file store holding `tasks.json`. */
const store = (): ObjectStore =>
  ({
    description: 'memory',
    async get() {
      return {
        body: (async function* () {
          yield Buffer.from(TEXT);
        })(),
      };
    },
  }) as unknown as ObjectStore;

async function run(format: FormatName, source: TaskSource) {
  const sink = new MemorySink();
  await runExport({
    source,
    schema: parseLabelConfig(CONFIGS['text-ner']),
    targets: [{ format, sink }],
    options: parseExportOptions({}),
    report: new Report(),
  });
  return sink;
}

/** The file source, recording the options runExport passed and the predictions it yielded. */
function recording() {
  const file = new SingleFileSource(store(), 'tasks.json');
  const seen: { options?: TaskReadOptions; predictions?: unknown } = {};
  const source: TaskSource = {
    description: file.description,
    async *tasks(report, options) {
      seen.options = options;
      for await (const t of file.tasks(report, options)) {
        seen.predictions = t.task.predictions;
        yield t;
      }
    },
  };
  return { source, seen };
}

describe('runExport and unread task keys', () => {
  it('lets the splitter skip predictions and drafts for formats that never read them', async () => {
    const { source, seen } = recording();
    const sink = await run('JSON_MIN', source);
    expect([...(seen.options?.unreadKeys ?? [])].sort()).toEqual(['drafts', 'predictions']);
    expect(seen.predictions).toEqual([]);
    const full = await run('JSON_MIN', new SingleFileSource(store(), 'tasks.json'));
    expect(sink.text('result.json')).toBe(full.text('result.json'));
  });

  it('reads tasks whole when the JSON format writes them', async () => {
    const { source, seen } = recording();
    await run('JSON', source);
    expect(seen.options?.unreadKeys).toBeUndefined();
    expect(seen.predictions).toEqual(TASKS[0].predictions);
  });
});
