/**
 * `ls-export sync --workers N` against the local S3 server: changed segments rendered by worker
 * threads (functions/cli/render-threads.ts) give the `latest/` of a render in one thread, byte for
 * byte, after a first render and after a change; a thread that fails leaves the manifest as it was,
 * releases the lock at once and marks the project dirty, and the next sync repairs `latest/`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateTask } from '../../bench/generate.ts';
import { renderWithThreads } from '../../functions/cli/render-threads.ts';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { readAll } from '../../functions/core/object-store.ts';
import { parseConfig } from '../../functions/pipeline/config.ts';
import { silentLogger } from '../../functions/pipeline/context.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { acquireLock, projectStore } from '../../functions/pipeline/state.ts';
import { createRuntime } from '../../functions/runtime/env.ts';
import { S3ObjectStore } from '../../functions/storage/s3.ts';
import { runCli } from '../helpers/cli.ts';
import { listKeys, objectsOf, projectInput, readJsonObject, tempDir } from '../pipeline/helpers.ts';
import { bucketNames, createBuckets, endpoint, s3Client } from './helpers.ts';

const FORMATS = ['JSON', 'JSON_MIN', 'CSV', 'COCO', 'YOLO', 'VOC'];

/** COCO's `info.date_created` is the render's time: two renders compare without it. */
const COCO = 'COCO/result.json';
const undated = (text: string) => text.replace(/"date_created": "[^"]*"/, '"date_created": ""');

/**
 * Every object under `latest/` but the manifest, by key below it (COCO undated), and the
 * manifest's file list (path, bytes, sha256; COCO's without either: its date_created drops the
 * microseconds when they are zero, as Python's isoformat does, so even its length varies).
 */
async function latest(store: S3ObjectStore, prefix: string) {
  const files = new Map<string, string>();
  for (const key of await listKeys(store, prefix)) {
    if (key.endsWith('manifest.json')) continue;
    const body = Buffer.from(await readAll((await store.get(key)).body));
    const path = key.slice(prefix.length);
    files.set(path, path === COCO ? undated(body.toString('utf8')) : body.toString('hex'));
  }
  const m = await readJsonObject<Manifest>(store, `${prefix}manifest.json`);
  const listed = m.formats.flatMap((f) =>
    (f.files ?? []).map((x) => {
      const path = `${f.format}/${x.path}`;
      return path === COCO ? path : `${path} ${x.bytes} ${x.sha256}`;
    }),
  );
  return { files, listed: listed.sort(), tasks: m.counts.tasks, version: m.state.version };
}

describe('ls-export sync --workers', () => {
  it('renders the changed segments on threads, byte for byte as in one thread', async () => {
    const client = s3Client();
    const names = bucketNames();
    await createBuckets(client, [names.src, names.out]);
    const src = new S3ObjectStore(client, names.src);
    const out = new S3ObjectStore(client, names.out);
    // 60 tasks, one per state shard: 6 segments of 10 shards.
    for (let i = 1; i <= 60; i++)
      for (const o of objectsOf(generateTask('image-bbox', i, 1) as JsonObject, 'task', 'ls'))
        await src.put(o.key, o.body);
    const dir = await tempDir();
    const project = (id: string) =>
      projectInput({
        kind: 'image-bbox',
        source: { bucket: names.src, prefix: 'ls' },
        export: { bucket: names.out, prefix: id },
        formats: FORMATS,
      });
    const configFile = join(dir, 'pipeline.json');
    await writeFile(
      configFile,
      JSON.stringify({
        version: 1,
        projects: [
          { ...project('one'), id: 'one' },
          { ...project('threads'), id: 'threads' },
        ],
        settings: { shardTasks: 1, keyShards: 4 },
      }),
    );
    const sync = async (id: string, workers: number) => {
      const args = [
        'sync',
        '-c',
        configFile,
        '-p',
        id,
        '--endpoint',
        endpoint(),
        '--emulate-conditional-writes',
      ];
      const r = await runCli([...args, '--workers', String(workers)]);
      expect(r.code, r.stderr).toBe(0);
      return r.stderr + r.stdout;
    };

    for (const bad of ['0', 'many']) {
      const r = await runCli(['sync', '-c', configFile, '--workers', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--workers needs a whole number from 1 to 64/);
    }
    expect(await sync('one', 1)).not.toMatch(/on \d+ threads/);
    expect(await sync('threads', 2)).toMatch(
      /latest rendered — state v1, 60 tasks, .*\(\d+ segments rendered on 2 threads\)/,
    );
    const a = await latest(out, 'one/one/latest/');
    const b = await latest(out, 'threads/threads/latest/');
    expect(a.tasks).toBe(60);
    expect(b.files.size).toBeGreaterThan(60);
    expect(b.listed).toEqual(a.listed);
    expect([...b.files.keys()].sort()).toEqual([...a.files.keys()].sort());
    for (const [k, v] of a.files) expect(b.files.get(k), k).toBe(v);

    // A change in 5 segments (tasks 1, 15, 28, 41, 55 updated; 60 deleted; 61 added).
    for (const i of [1, 15, 28, 41, 55, 61])
      for (const o of objectsOf(generateTask('image-bbox', i, 2) as JsonObject, 'task', 'ls'))
        await src.put(o.key, o.body);
    for (const o of objectsOf(generateTask('image-bbox', 60, 1) as JsonObject, 'task', 'ls'))
      await src.delete(o.key);
    await sync('one', 1);
    expect(await sync('threads', 2)).toMatch(/\((5|6) segments rendered on 2 threads\)/);
    const c = await latest(out, 'one/one/latest/');
    const d = await latest(out, 'threads/threads/latest/');
    expect(c.version).toBe(2);
    expect(d.listed).toEqual(c.listed);
    expect(d.listed).not.toEqual(b.listed);
    for (const [k, v] of c.files) expect(d.files.get(k), k).toBe(v);
    expect(d.files.size).toBe(c.files.size);
  }, 300_000);

  it('a failing thread: nothing published, the lock released at once, the next sync renders', async () => {
    const client = s3Client();
    const names = bucketNames();
    await createBuckets(client, [names.src, names.out]);
    const src = new S3ObjectStore(client, names.src);
    for (let i = 1; i <= 40; i++)
      for (const o of objectsOf(generateTask('text-ner', i, 1) as JsonObject, 'task', 'ls'))
        await src.put(o.key, o.body);
    const configJson = {
      version: 1,
      projects: [
        projectInput({
          source: { bucket: names.src, prefix: 'ls' },
          export: { bucket: names.out, prefix: 'x' },
        }),
      ],
      settings: { shardTasks: 1, keyShards: 4 },
    };
    const dir = await tempDir();
    const configFile = join(dir, 'pipeline.json');
    await writeFile(configFile, JSON.stringify(configJson));
    const base = ['sync', '-c', configFile, '--endpoint', endpoint(), '--emulate-conditional-writes'];
    expect((await runCli([...base, '--no-render'])).code).toBe(0);

    const config = parseConfig(configJson);
    const { ctx } = createRuntime({
      config,
      client,
      log: silentLogger,
      storeOptions: { emulateConditionalWrites: true },
    });
    const project = config.projects[0];
    // The threads get an endpoint where nothing listens: their first read fails.
    const spec = {
      configText: JSON.stringify(configJson),
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      emulateConditionalWrites: true,
    };
    await expect(renderWithThreads(ctx, project, spec, { workers: 2, minSegments: 2 })).rejects.toThrow(
      /segment worker thread/,
    );
    const store = new S3ObjectStore(client, names.out);
    const ps = projectStore(ctx, project);
    expect(await listKeys(store, 'x/proj/latest/manifest.json')).toEqual([]);
    expect(await listKeys(store, ps.paths.dirty)).toEqual([ps.paths.dirty]);
    // Released at once (no fence: no thread is left running).
    expect(await acquireLock(ctx, ps, 'someone-else')).toBe(true);
    await store.delete(ps.paths.lock);

    const again = await runCli([...base, '--workers', '2']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(
      /latest rendered — state v1, 40 tasks, .*\(\d+ segments rendered on 2 threads\)/,
    );
  }, 300_000);
});
