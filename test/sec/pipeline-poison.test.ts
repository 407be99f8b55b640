/**
 * sec-03 in the pipeline, through the real ingest and render handlers on the mocked S3: an object
 * nested 20,000 levels deep is recorded in `_state/skipped.json` and acknowledged on the first try,
 * without failing its batch-mates; per-task faults in a render become manifest report entries.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../functions/handlers/ingest.ts';
import { createRenderHandler } from '../../functions/handlers/render.ts';
import { parseConfig } from '../../functions/pipeline/config.ts';
import { commitObservations } from '../../functions/pipeline/ingest.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import type { ObservedObject } from '../../functions/pipeline/observe.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { Shard } from '../../functions/pipeline/records.ts';
import { projectStore } from '../../functions/pipeline/state.ts';
import { FakeS3 } from '../handlers/fake-s3.ts';
import { mockRuntime, s3Message, sqsEvent } from '../handlers/helpers.ts';

const NER = `<View><Text name="text" value="$text"/><Labels name="ner" toName="text"><Label value="PER"/></Labels></View>`;

function taskObj(id: number, dataJson: string) {
  return `{"id":${id},"data":${dataJson},"annotations":[{"id":${id * 10},"completed_by":1,"result":[],"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:0${id % 10}Z"}],"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"}`;
}
const N = 20_000;
const DEEP = `{"text":"deep","d":${'['.repeat(N)}${']'.repeat(N)}}`;

const s3 = new FakeS3();
const config = parseConfig({
  version: 1,
  projects: [
    {
      id: 'p',
      source: { bucket: 'src', prefix: 'ls' },
      labelConfig: { inline: NER },
      formats: ['JSON', 'JSON_MIN', 'CSV'],
      export: { bucket: 'out', prefix: 'exports' },
    },
  ],
});
const rt = mockRuntime(s3, config);
const paths = projectPaths(config.projects[0]);
const ingest = createIngestHandler(() => rt);
const render = createRenderHandler(() => rt);
const manifest = () => JSON.parse(s3.text('out', paths.latestManifest) ?? 'null') as Manifest;
const skipped = () =>
  JSON.parse(s3.text('out', paths.skipped) ?? '{"entries":[]}').entries as Array<
    [string, { reason: string }]
  >;
const stateTaskIds = () =>
  s3.keys('out', paths.taskShards).flatMap((k) => Shard.parse(s3.text('out', k) ?? '').taskIds());
/** Task ids in the published JSON export, found through the manifest (the reader's entry point). */
const jsonIds = (m: Manifest) => {
  const file = m.formats.find((f) => f.format === 'JSON')?.files?.find((f) => f.path === 'result.json');
  if (!file) throw new Error(`no JSON result.json in the manifest: ${JSON.stringify(m.formats)}`);
  return (JSON.parse(s3.text('out', file.key) ?? '[]') as Array<{ id: number }>).map((t) => t.id);
};

afterAll(() => s3.restore());
beforeEach(() => s3.reset());

describe('sec-03: a deeply nested object in the pipeline', () => {
  it('a batch of the poison object and two good ones: all acknowledged, good ones in state, poison in skipped.json', async () => {
    s3.put('src', 'ls/5.json', taskObj(5, DEEP));
    s3.put('src', 'ls/6.json', taskObj(6, '{"text":"good six"}'));
    s3.put('src', 'ls/7.json', taskObj(7, '{"text":"good seven"}'));
    const r = await ingest(
      sqsEvent(s3Message('src', 'ls/5.json'), s3Message('src', 'ls/6.json'), s3Message('src', 'ls/7.json')),
    );
    expect(r.batchItemFailures).toEqual([]);
    expect(stateTaskIds()).toEqual(['6', '7']);
    expect(skipped()).toEqual([
      ['ls/5.json', { reason: 'nested deeper than 1000 levels', at: expect.any(String) }],
    ]);

    expect((await render(sqsEvent(s3Message('out', paths.dirty)))).batchItemFailures).toEqual([]);
    const m = manifest();
    expect(jsonIds(m)).toEqual([6, 7]);
    expect(m.counts.tasks).toBe(2);
    expect(m.report.sourceObjects).toEqual([
      { source: 'ls/5.json', reason: expect.stringMatching(/^nested deeper than 1000 levels \(seen /) },
    ]);

    // A later fix of the object clears it from skipped.json and exports it.
    s3.put('src', 'ls/5.json', taskObj(5, '{"text":"fixed"}'));
    expect((await ingest(sqsEvent(s3Message('src', 'ls/5.json')))).batchItemFailures).toEqual([]);
    expect(skipped()).toEqual([]);
    expect(stateTaskIds()).toEqual(['5', '6', '7']);
  });

  it('a task nested exactly 1,000 levels deep is ingested and rendered in every format', async () => {
    // task (1) → data (2) → d: 998 arrays (3 … 1000).
    const atLimit = `{"text":"edge","d":${'['.repeat(998)}${']'.repeat(998)}}`;
    s3.put('src', 'ls/4.json', taskObj(4, atLimit));
    expect((await ingest(sqsEvent(s3Message('src', 'ls/4.json')))).batchItemFailures).toEqual([]);
    expect(skipped()).toEqual([]);
    expect((await render(sqsEvent(s3Message('out', paths.dirty)))).batchItemFailures).toEqual([]);
    const m = manifest();
    expect(jsonIds(m)).toEqual([4]);
    expect(m.formats.map((f) => [f.format, f.status])).toEqual([
      ['JSON', 'completed'],
      ['JSON_MIN', 'completed'],
      ['CSV', 'completed'],
    ]);
    expect(m.report.skipped).toEqual([]);
  });

  it('an observation whose merge throws is reported in skipped.json; the other tasks are committed', async () => {
    // Defence in depth: a body no parser produced (the depth limit stops it at parse time), whose
    // state line overflows the serializer. Its task stays as it was, the batch-mate is committed.
    let deep: unknown = [];
    for (let i = 0; i < N; i++) deep = [deep];
    const obs = (id: number, data: unknown): ObservedObject => ({
      obs: {
        key: `ls/${id}.json`,
        seq: '',
        observedAt: '2026-01-01T00:00:00.000Z',
        force: true,
        live: {
          layout: 'task',
          taskId: String(id),
          updatedAt: '2025-01-01T00:00:00Z',
          body: { id, data, annotations: [] } as never,
        },
      },
      bytesRead: 1,
    });
    const { ctx } = rt;
    const stats = await commitObservations(ctx, projectStore(ctx, config.projects[0]), [
      obs(8, { text: 'eight', deep }),
      obs(9, { text: 'nine' }),
    ]);
    expect(stats.malformed).toBe(1);
    expect(stateTaskIds()).toEqual(['9']);
    expect(skipped()).toEqual([
      [
        'ls/8.json',
        {
          reason: "could not be merged into task 8's state record: Maximum call stack size exceeded",
          at: '2026-01-01T00:00:00.000Z',
        },
      ],
    ]);
  });

  it('a state line that cannot be read is a manifest report entry; the render publishes the rest', async () => {
    s3.put('src', 'ls/1.json', taskObj(1, '{"text":"one"}'));
    s3.put('src', 'ls/2.json', taskObj(2, '{"text":"two"}'));
    await ingest(sqsEvent(s3Message('src', 'ls/1.json'), s3Message('src', 'ls/2.json')));
    const [shardKey] = s3.keys('out', paths.taskShards);
    const lines = (s3.text('out', shardKey) ?? '').split('\n');
    s3.put('out', shardKey, `${lines[0]}\n{"broken\n${lines[1]}\n`); // a hand edit gone wrong
    expect((await render(sqsEvent(s3Message('out', paths.dirty)))).batchItemFailures).toEqual([]);
    const m = manifest();
    expect(jsonIds(m)).toEqual([1, 2]);
    expect(m.report.skipped).toEqual([
      { source: `${shardKey} line 2`, reason: 'unreadable state record: malformed state line' },
    ]);
  });
});
