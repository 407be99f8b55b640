/**
 * The snapshot handler on the local S3 server renders snapshots by segments: a nightly snapshot of
 * a project with several segments (60 tasks, 2 per shard, 10 shards per segment) equals, file by
 * file, the one-pass snapshot of the same state (snapshot.ts renderSnapshotOnePass); the record's
 * md5 is snapshot.json's. A create request queued again for the completed export (a retried
 * message, after the state changed) leaves every object of the snapshot as it was.
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '../../functions/core/object-store.ts';
import { createSnapshotHandler } from '../../functions/handlers/snapshot.ts';
import { type PipelineConfig, parseConfig } from '../../functions/pipeline/config.ts';
import { getRecord, queueRequest, updateRecord } from '../../functions/pipeline/exports-records.ts';
import { notificationRoutes } from '../../functions/pipeline/notifications.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderSnapshotOnePass } from '../../functions/pipeline/snapshot.ts';
import { syncProject } from '../../functions/pipeline/sync.ts';
import {
  bucketNames,
  createBuckets,
  type LocalRuntime,
  localRuntime,
  s3Client,
} from '../integration/helpers.ts';
import { lsTask, objectsOf, projectInput } from '../pipeline/helpers.ts';

/** YOLO: not supported by this label config (failed in the record, as before). */
const FORMATS = ['JSON_MIN', 'CSV', 'TSV', 'CONLL2003', 'YOLO'];

let client: S3Client;
let names: ReturnType<typeof bucketNames>;
let config: PipelineConfig;
let rt: LocalRuntime;
let snapshot: ReturnType<typeof createSnapshotHandler>;

beforeAll(async () => {
  client = s3Client();
  names = bucketNames();
  await createBuckets(client, [names.src, names.out]);
  config = parseConfig({
    version: 1,
    projects: [
      {
        ...projectInput({
          source: { bucket: names.src, prefix: 'ner' },
          export: { bucket: names.out, prefix: 'exports' },
          formats: ['JSON'],
        }),
        snapshot: { formats: FORMATS, nightly: true },
      },
    ],
    settings: { shardTasks: 2, keyShards: 4 },
  });
  rt = localRuntime(client, config);
  rt.bus.subscribe(notificationRoutes(config).filter((route) => route.target === 'snapshot'));
  snapshot = createSnapshotHandler(() => rt);
  const src = rt.ctx.store(names.src);
  for (let i = 1; i <= 60; i++) {
    const o = objectsOf(lsTask(i), 'task', 'ner')[0];
    await src.put(o.key, o.body);
  }
  await syncProject(rt.ctx, config.projects[0]);
  rt.bus.take('snapshot');
});

async function objectsUnder(prefix: string): Promise<Map<string, { etag?: string; bytes: Buffer }>> {
  const store = rt.ctx.store(names.out);
  const out = new Map<string, { etag?: string; bytes: Buffer }>();
  for await (const o of store.list(prefix, { etags: true }))
    out.set(o.key.slice(prefix.length), {
      etag: o.etag,
      bytes: await readAll((await store.get(o.key)).body),
    });
  return out;
}

describe('snapshot handler: snapshots by segments on S3', () => {
  it('a nightly snapshot equals the one-pass snapshot byte for byte, and stays as it is', async () => {
    const project = config.projects[0];
    const paths = projectPaths(project);
    // The engine rendered it: no fall back to the one-pass path.
    const warnings: string[] = [];
    rt.ctx.log = (level, message) => {
      if (level === 'warn') warnings.push(message);
    };
    const r = (await snapshot({ kind: 'nightly' })) as {
      results: Array<{ exportId: number; status: string }>;
    };
    expect(r.results[0].status).toBe('completed');
    expect(warnings).toEqual([]);
    const record = await getRecord(rt.ctx, project, r.results[0].exportId);
    expect(record.converted_formats.map((c) => `${c.export_type}:${c.status}`)).toEqual(
      ['JSON', ...FORMATS].map((f) => `${f}:${f === 'YOLO' ? 'failed' : 'completed'}`),
    );
    const name = record.snapshot.name;
    const got = await objectsUnder(paths.snapshot(name));
    // More than one segment: 60 tasks in 30 shards, 10 shards per segment.
    let shards = 0;
    for await (const _ of rt.ctx.store(names.out).list(paths.taskShards)) shards++;
    expect(shards).toBeGreaterThan(20);

    const ref = await renderSnapshotOnePass(
      rt.ctx,
      project,
      'one-pass',
      project.snapshot.options,
      ['JSON', ...FORMATS],
      new Date(record.created_at),
    );
    const want = await objectsUnder(paths.snapshot('one-pass'));
    const files = (m: Map<string, unknown>) => [...m.keys()].filter((k) => k !== 'export.json').sort();
    expect(files(got)).toEqual(files(want));
    expect(files(got)).toEqual(expect.arrayContaining(['snapshot.json', 'CSV/result.csv', 'manifest.json']));
    for (const path of files(want)) {
      const w = want.get(path)!.bytes;
      const g = got.get(path)!.bytes;
      if (path === 'manifest.json')
        expect(g.toString('utf8')).toBe(w.toString('utf8').replaceAll('one-pass', name));
      else expect(g.equals(w), path).toBe(true);
    }
    expect(record.md5).toBe(createHash('md5').update(got.get('snapshot.json')!.bytes).digest('hex'));
    expect(record.md5).toBe(ref.base.md5);
    expect(record.counters).toEqual({ task_number: 60 });

    // The state changes; the create request of the completed export comes again.
    const o = objectsOf(lsTask(61), 'task', 'ner')[0];
    await rt.ctx.store(names.src).put(o.key, o.body);
    await syncProject(rt.ctx, project);
    rt.bus.take('snapshot');
    await updateRecord(rt.ctx, project, record.id, (x) => ({ ...x, status: 'in_progress' }));
    await queueRequest(rt.ctx, project, { action: 'create', exportId: record.id });
    const d = await rt.bus.deliver('snapshot', (e) => snapshot(e) as Promise<never>);
    expect(d.failed).toBe(0);
    expect((await getRecord(rt.ctx, project, record.id)).status).toBe('completed');
    const after = await objectsUnder(paths.snapshot(name));
    expect([...after.keys()].sort()).toEqual([...got.keys()].sort());
    for (const [path, v] of got) {
      expect(after.get(path)!.etag, path).toBe(v.etag);
      expect(after.get(path)!.bytes.equals(v.bytes), path).toBe(true);
    }
  }, 120_000);
});
