/** The Distributed Map contract: rebuild-batch over ItemReader/ItemBatcher items, then rebuild-merge. */
import { afterAll, describe, expect, it } from 'vitest';
import { createRebuildBatchHandler } from '../../functions/handlers/rebuild-batch.ts';
import { createRebuildMergeHandler } from '../../functions/handlers/rebuild-merge.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { Shard } from '../../functions/pipeline/records.ts';
import { annotatedTask, makeConfig, OUT, objectsOf, SRC } from '../pipeline/helpers.ts';
import { FakeS3 } from './fake-s3.ts';
import { mockRuntime } from './helpers.ts';

const s3 = new FakeS3();
const config = makeConfig({ settings: { shardTasks: 100, keyShards: 2 } });
const rt = mockRuntime(s3, config);
afterAll(() => s3.restore());

describe('rebuild handlers', () => {
  it('process listed batches, merge them, and mark the project dirty', async () => {
    const objs = [1, 2, 3, 4].flatMap((i) => objectsOf(annotatedTask(i), 'annotation'));
    for (const o of objs) s3.put(SRC, o.key, o.body);
    s3.put(SRC, 'annotations/junk', 'junk');
    const items = [...objs.map((o) => o.key), 'annotations/junk'].map((Key) => ({
      Key,
      Size: 10,
      Etag: '"x"',
      LastModified: '2026-01-01T00:00:00Z',
    }));
    const batch = createRebuildBatchHandler(() => rt);
    const first = await batch({
      Items: items.slice(0, 3),
      BatchInput: { projectId: 'proj', runId: 'exec-1' },
    });
    const second = await batch({ Items: items.slice(3), BatchInput: { projectId: 'proj', runId: 'exec-1' } });
    expect(first).toMatchObject({ runId: 'exec-1', objects: 3, malformed: 0 });
    expect(second).toMatchObject({ objects: items.length - 3, malformed: 1 });
    const merged = await createRebuildMergeHandler(() => rt)({
      projectId: 'proj',
      runId: 'exec-1',
      mapResult: { ResultWriterDetails: {} },
    });
    expect(merged).toMatchObject({ batches: 2, tasks: 4, malformed: 1, version: 1 });
    const paths = projectPaths(config.projects[0]);
    expect(Shard.parse(s3.text(OUT, paths.taskShard('n0000000000'))!).taskIds()).toEqual([
      '1',
      '2',
      '3',
      '4',
    ]);
    expect(s3.text(OUT, paths.dirty)).toBeDefined();
    expect(s3.keys(OUT, `${paths.state}rebuild/`)).toEqual([]);
  });

  it('rejects malformed events and unknown projects', async () => {
    const batch = createRebuildBatchHandler(() => rt);
    await expect(batch({ Items: 'nope', BatchInput: { projectId: 'proj' } })).rejects.toThrow();
    await expect(batch({ Items: [], BatchInput: { projectId: 'missing' } })).rejects.toThrow(
      /no configured project/,
    );
    await expect(createRebuildMergeHandler(() => rt)({ runId: 'x' })).rejects.toThrow();
  });
});
