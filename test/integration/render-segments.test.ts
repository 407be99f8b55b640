/**
 * latest/ by segments on the local S3 server (fauxqs): a JSON export of ~12 MB is rendered once,
 * one task in the middle changes, and the next render re-reads only that task's segment and
 * assembles result.json with real UploadPartCopy from the previous object (fauxqs has no versions,
 * so the copy source is the current object, which the render lock keeps unchanged). The result
 * equals a from-scratch render byte for byte.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { runProjectExport } from '../../functions/pipeline/export-run.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import { LS_EXPORT_DEFAULTS, snapshotTransform } from '../../functions/pipeline/snapshot-filter.ts';
import { makeConfig, objectsOf, readText } from '../pipeline/helpers.ts';
import { bucketNames, createBuckets, localRuntime, s3Client } from './helpers.ts';

const PAD = 'x'.repeat(20_000);

/** A text task with a 20 KB text, so 600 of them make a JSON export past 11 MiB. */
function bigTask(i: number, version = 1): JsonObject {
  return {
    id: i,
    data: { text: `task ${i} v${version} ${PAD}` },
    annotations: [
      {
        id: i * 10,
        result: [
          {
            id: `r${i}`,
            from_name: 'sentiment',
            to_name: 'text',
            type: 'choices',
            value: { choices: [version % 2 ? 'Positive' : 'Negative'] },
          },
        ],
        created_at: '2026-01-01T00:00:00.000000Z',
        updated_at: `2026-01-0${version}T00:00:00.000000Z`,
        completed_by: 1,
        lead_time: 1.5,
      },
    ],
    created_at: '2026-01-01T00:00:00.000000Z',
    updated_at: `2026-01-0${version}T00:00:00.000000Z`,
  } as unknown as JsonObject;
}

describe('render by segments on fauxqs', () => {
  let names: ReturnType<typeof bucketNames>;
  beforeAll(() => {
    names = bucketNames();
  });

  it('assembles the changed result.json with UploadPartCopy, byte for byte a full render', async () => {
    const client = s3Client();
    await createBuckets(client, [names.src, names.out]);
    const config = makeConfig({
      source: { bucket: names.src, prefix: 'ls' },
      export: { bucket: names.out, prefix: 'exports' },
      formats: ['JSON', 'CSV'],
      settings: { shardTasks: 20, keyShards: 4 },
    });
    const rt = localRuntime(client, config);
    const project = config.projects[0];
    const src = rt.ctx.store(names.src);
    const objs = Array.from({ length: 600 }, (_, i) => objectsOf(bigTask(i + 1), 'task', 'ls')[0]);
    for (const o of objs) await src.put(o.key, o.body);
    for (let i = 0; i < objs.length; i += 100)
      await ingestChanges(
        rt.ctx,
        objs.slice(i, i + 100).map((o, j) => ({
          bucket: names.src,
          key: o.key,
          kind: 'created' as const,
          sequencer: String(i + j + 1).padStart(8, '0'),
        })),
      );
    const opts = { segmentShards: 2, minMultipartBytes: 8 * 1024 * 1024 };
    const first = await renderLatest(rt.ctx, project, opts);
    const json = first.manifest!.formats.find((f) => f.format === 'JSON')!.files![0];
    expect(json.bytes).toBeGreaterThan(11 * 1024 * 1024);
    expect(first.manifest!.timings!.segments!.rendered).toBe(16);

    const changed = objectsOf(bigTask(301, 2), 'task', 'ls')[0];
    await src.put(changed.key, changed.body);
    await ingestChanges(rt.ctx, [
      { bucket: names.src, key: changed.key, kind: 'created', sequencer: '99999999' },
    ]);
    rt.clock.advance(60_000);
    const second = await renderLatest(rt.ctx, project, opts);
    const seg = second.manifest!.timings!.segments!;
    expect(seg.rendered).toBe(1);
    expect(second.manifest!.timings!.shardsRead).toBe(2);
    // result.json: most bytes copied server-side (result.csv too: it is as large).
    expect(seg.copiedBytes).toBeGreaterThan(5 * 1024 * 1024);
    // Around the change a part is topped up to S3's 5 MiB minimum from the previous bytes: the
    // uploaded bytes are that part (and the tails), the rest is copied; together, both files.
    // In files this small (12 MB, changed in the middle) that is about half of each file.
    const csv = second.manifest!.formats.find((f) => f.format === 'CSV')!.files![0];
    const total = second.manifest!.formats.find((f) => f.format === 'JSON')!.files![0].bytes + csv.bytes;
    expect(seg.uploadedBytes + seg.copiedBytes).toBe(total);
    expect(seg.copiedBytes).toBeGreaterThan(0.4 * total);
    const newJson = second.manifest!.formats.find((f) => f.format === 'JSON')!.files![0];
    expect(newJson.sha256Of).toBe('chunks');

    // Byte for byte what one run over every task writes.
    const paths = projectPaths(project);
    const out = rt.ctx.store(names.out);
    const fresh = `${paths.base}fresh/`;
    await runProjectExport(rt.ctx, {
      project,
      store: out,
      prefix: fresh,
      formats: project.formats,
      now: rt.clock.now(),
      transform: snapshotTransform(LS_EXPORT_DEFAULTS),
    });
    for (const [format, file] of [
      ['JSON', 'result.json'],
      ['CSV', 'result.csv'],
    ]) {
      const got = await readText(out, `${paths.latestFormat(format)}${file}`);
      const want = await readText(out, `${fresh}${format}/${file}`);
      expect(got.length).toBe(want.length);
      expect(got === want, `${format} equal`).toBe(true);
    }
    expect(await readText(out, `${paths.latestFormat('JSON')}result.json`)).toContain('task 301 v2');
  }, 240_000);
});
