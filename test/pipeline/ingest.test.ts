import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { CONFIGS } from '../../bench/generate.ts';
import { parseLabelConfig } from '../../functions/core/config/label-config.ts';
import { runExport } from '../../functions/core/export.ts';
import { parseExportOptions } from '../../functions/core/formats/options.ts';
import { StorageObjectsSource } from '../../functions/core/readers/storage-objects.ts';
import { parseConfig } from '../../functions/pipeline/config.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import { labelConfigDigest } from '../../functions/pipeline/label-config.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import {
  LS_EXPORT_DEFAULTS,
  snapshotTransform,
  transformedSource,
} from '../../functions/pipeline/snapshot-filter.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';
import { MemorySink } from '../helpers/export.ts';
import {
  annotatedTask,
  change,
  type FsContext,
  fsContext,
  listKeys,
  makeConfig,
  nextSeq,
  OUT,
  objectsOf,
  projectInput,
  putAll,
  readJsonObject,
  readText,
  SRC,
  taskWithAnnotations,
  tempDir,
} from './helpers.ts';

let ctx: FsContext;
let root: string;

beforeEach(async () => {
  root = await tempDir();
  ctx = fsContext(root, makeConfig());
});

const paths = () => projectPaths(ctx.config.projects[0]);
const out = () => ctx.store(OUT);
const src = () => ctx.store(SRC);

async function latest(format = 'JSON', file = 'result.json'): Promise<{ manifest: Manifest; text: string }> {
  const manifest = await readJsonObject<Manifest>(out(), paths().latestManifest);
  const f = manifest.formats.find((x) => x.format === format)!.files!.find((x) => x.path === file)!;
  return { manifest, text: await readText(out(), f.key) };
}

/** What the core converter makes of the source folder as it is now (the reference result). */
async function reference(format: 'JSON' | 'CSV' = 'JSON'): Promise<string> {
  const sink = new MemorySink();
  await runExport({
    // latest/ is serialized as Label Studio's export is (users as ids): the reference is too.
    source: transformedSource(
      new StorageObjectsSource(new FsObjectStore(join(root, SRC)), 'annotations'),
      snapshotTransform(LS_EXPORT_DEFAULTS),
    ),
    schema: parseLabelConfig(CONFIGS['text-ner']),
    targets: [{ format, sink }],
    options: parseExportOptions({}),
  });
  return sink.text(format === 'JSON' ? 'result.json' : 'result.csv');
}

async function ingestKeys(keys: string[], kind: 'created' | 'removed' = 'created') {
  return ingestChanges(
    ctx,
    keys.map((k) => change(k, kind)),
  );
}

describe('ingest + render on a folder store', () => {
  it('turns annotation-layout objects into the same export as a full read of the folder', async () => {
    const objs = [1, 2, 3, 4, 5, 6, 7].flatMap((i) => objectsOf(annotatedTask(i), 'annotation'));
    await putAll(src(), objs);
    const r = await ingestKeys(objs.map((o) => o.key));
    expect(r.projects[0].error).toBeUndefined();
    expect(r.projects[0].stats?.marker).toBe('created');
    expect(await src().head('x')).toBeUndefined();
    const rendered = await renderLatest(ctx, ctx.config.projects[0]);
    expect(rendered.status).toBe('rendered');
    const { manifest, text } = await latest();
    expect(text).toBe(await reference());
    expect((await latest('CSV', 'result.csv')).text).toBe(await reference('CSV'));
    expect(manifest.counts.tasks).toBe(7);
    expect(manifest.counts.annotations).toBe(objs.length);
    expect(manifest.state.version).toBe(1);
    const json = manifest.formats.find((f) => f.format === 'JSON')!.files![0];
    expect(json.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(json.bytes).toBe(Buffer.byteLength(text));
    // Rendering again without changes is a no-op.
    expect((await renderLatest(ctx, ctx.config.projects[0])).status).toBe('up-to-date');
  });

  it('handles the task layout, updates and deletes of both layouts', async () => {
    const t1 = annotatedTask(1);
    const t2 = annotatedTask(2);
    const t3 = taskWithAnnotations(3, 2);
    await putAll(src(), [
      ...objectsOf(t1, 'task'),
      ...objectsOf(t2, 'annotation'),
      ...objectsOf(t3, 'annotation'),
    ]);
    await ingestKeys((await listKeys(src(), '')).sort());
    await renderLatest(ctx, ctx.config.projects[0]);
    const before = JSON.parse((await latest()).text) as Array<{ id: number; annotations: unknown[] }>;
    expect(before.map((t) => t.id)).toEqual([1, 2, 3]);
    // Update one annotation of task 2 (a newer updated_at), delete task 1's file and an annotation of task 3.
    const a2 = objectsOf(t2, 'annotation')[0];
    const updated = a2.body
      .replace(/"updated_at": "[^"]+"/g, '"updated_at": "2030-01-01T00:00:00.000000Z"')
      .replace('"lead_time": ', '"lead_time": 1');
    await src().put(a2.key, updated);
    await src().delete('annotations/1.json');
    const a3 = objectsOf(t3, 'annotation')[0];
    await src().delete(a3.key);
    await ingestChanges(ctx, [
      change(a2.key),
      change('annotations/1.json', 'removed'),
      change(a3.key, 'removed'),
    ]);
    await renderLatest(ctx, ctx.config.projects[0]);
    const { text, manifest } = await latest();
    expect(text).toBe(await reference());
    const after = JSON.parse(text) as Array<{ id: number; annotations: unknown[] }>;
    expect(after.map((t) => t.id)).toEqual([2, 3]);
    expect(after[1].annotations).toHaveLength(before[2].annotations.length - 1);
    expect(manifest.state.version).toBe(2);
    expect(manifest.previous).toBeDefined();
    expect(text).toContain('2030-01-01T00:00:00.000000Z');
  });

  it('gives the same state for duplicated and reordered events', async () => {
    const objs = [11, 12, 13].flatMap((i) => objectsOf(annotatedTask(i), 'annotation'));
    await putAll(src(), objs);
    const events = objs.map((o) => change(o.key));
    const del = objs[1].key;
    await src().delete(del);
    events.push(change(del, 'removed'));
    // Delivered backwards, every event twice, the delete before the create it follows.
    const shuffled = [...events].reverse().flatMap((e) => [e, e]);
    await ingestChanges(ctx, shuffled.slice(0, 5));
    await ingestChanges(ctx, shuffled.slice(5));
    await renderLatest(ctx, ctx.config.projects[0]);
    expect((await latest()).text).toBe(await reference());
    const versionBefore = (await latest()).manifest.state.version;
    // Replaying everything again changes nothing at all.
    const again = await ingestChanges(ctx, shuffled);
    expect(again.projects[0].stats?.shardsWritten).toBe(0);
    expect(again.projects[0].stats?.version).toBe(versionBefore);
  });

  it('keeps a deleted object deleted when an older read of it commits later', async () => {
    const [obj] = objectsOf(annotatedTask(21), 'annotation');
    await src().put(obj.key, obj.body);
    const putSeq = nextSeq();
    const delSeq = nextSeq();
    // The delete is processed first (the object is gone) …
    await src().delete(obj.key);
    await ingestChanges(ctx, [change(obj.key, 'removed', delSeq)]);
    // … then a slow ingest of the PUT event that had read the object before it was deleted.
    const { commitObservations } = await import('../../functions/pipeline/ingest.ts');
    const { observeText } = await import('../../functions/pipeline/observe.ts');
    const { projectStore } = await import('../../functions/pipeline/state.ts');
    const stale = observeText(
      { key: obj.key, seq: putSeq, observedAt: ctx.now().toISOString() },
      obj.body,
      '"old"',
    );
    const stats = await commitObservations(ctx, projectStore(ctx, ctx.config.projects[0]), [stale]);
    expect(stats.changedTasks).toBe(0);
    await renderLatest(ctx, ctx.config.projects[0], { force: true });
    expect((await latest()).manifest.counts.tasks).toBe(0);
  });

  it('records a malformed object (key, reason, time), acknowledges it and exports the rest', async () => {
    const objs = objectsOf(annotatedTask(31), 'annotation');
    await putAll(src(), objs);
    await src().put('annotations/999', '{"id": 999, "result": [], "task": ');
    await src().put('annotations/998', '{"hello": "world"}');
    const r = await ingestKeys([...objs.map((o) => o.key), 'annotations/999', 'annotations/998']);
    expect(r.failed(change('annotations/999'))).toBe(false);
    expect(r.projects[0].stats?.malformed).toBe(2);
    await renderLatest(ctx, ctx.config.projects[0]);
    const { manifest } = await latest();
    expect(manifest.counts.tasks).toBe(1);
    const broken = manifest.report.sourceObjects.map((e) => e.source).sort();
    expect(broken).toEqual(['annotations/998', 'annotations/999']);
    expect(manifest.report.sourceObjects[0].reason).toMatch(/seen 2026-03-01T10:15:00/);
    // Fixing the object clears the entry.
    await src().put('annotations/999', objs[0].body.replace(/"id": \d+, "result"/, '"id": 999, "result"'));
    await ingestKeys(['annotations/999']);
    await renderLatest(ctx, ctx.config.projects[0]);
    expect((await latest()).manifest.report.sourceObjects.map((e) => e.source)).toEqual(['annotations/998']);
  });

  it('treats an object deleted between the event and the read as deleted', async () => {
    const [obj] = objectsOf(annotatedTask(41), 'annotation');
    const r = await ingestKeys([obj.key]); // never written: the read finds nothing
    expect(r.projects[0].error).toBeUndefined();
    expect(r.failed(change(obj.key))).toBe(false);
    // A late PUT event of an older write must not bring it back either (the read finds nothing).
    await src().put(obj.key, obj.body);
    await src().delete(obj.key);
    await ingestKeys([obj.key]);
    await renderLatest(ctx, ctx.config.projects[0], { force: true });
    expect((await latest()).manifest.counts.tasks).toBe(0);
  });

  it('ignores keys outside every watched prefix and marks the project dirty once', async () => {
    const objs = objectsOf(annotatedTask(51), 'annotation');
    await putAll(src(), objs);
    const r = await ingestChanges(ctx, [change('elsewhere/1'), ...objs.map((o) => change(o.key))]);
    expect(r.unmatched.map((c) => c.key)).toEqual(['elsewhere/1']);
    expect(r.projects[0].stats?.marker).toBe('created');
    await src().put(objs[0].key, objs[0].body.replace('"lead_time": ', '"lead_time": 7'));
    const again = await ingestKeys([objs[0].key]);
    expect(again.projects[0].stats?.marker).toBe('exists');
    expect(await out().head(paths().dirty)).toBeDefined();
    await renderLatest(ctx, ctx.config.projects[0]);
    expect(await out().head(paths().dirty)).toBeUndefined();
  });
});

describe('latest/ serialization', () => {
  async function annotatorsOf(serialization?: 'export' | 'storage'): Promise<unknown[]> {
    const base = makeConfig();
    const config = serialization
      ? parseConfig({ ...base, projects: [{ ...projectInput(), latest: { serialization } }] })
      : base;
    ctx = fsContext(root, config);
    const task = annotatedTask(1);
    const objs = objectsOf(task, 'annotation');
    await putAll(src(), objs);
    await ingestKeys(objs.map((o) => o.key));
    await renderLatest(ctx, ctx.config.projects[0]);
    const records = JSON.parse((await latest('JSON_MIN', 'result.json')).text) as Array<{
      annotator: unknown;
    }>;
    return records.map((r) => r.annotator);
  }

  it('is Label Studio export serialization by default: annotators are user ids, as LS’s own export gives', async () => {
    const ids = (annotatedTask(1).annotations as Array<{ completed_by: number }>).map((a) => a.completed_by);
    expect(await annotatorsOf()).toEqual(ids);
  });

  it('keeps target storage as it is with serialization "storage": completed_by objects, so e-mails', async () => {
    const annotators = await annotatorsOf('storage');
    expect(annotators.length).toBeGreaterThan(0);
    for (const a of annotators) expect(a).toMatch(/@/);
  });
});

describe('label config object events', () => {
  const CONFIG_KEY = 'label-configs/proj.xml';
  let lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }>;

  beforeEach(() => {
    const config = parseConfig({
      version: 1,
      projects: [{ ...projectInput(), labelConfig: { s3: `s3://${OUT}/${CONFIG_KEY}` } }],
      settings: { shardTasks: 4, keyShards: 4 },
    });
    lines = [];
    ctx = {
      ...fsContext(root, config),
      log: (level, message, fields) => lines.push({ level, message, fields }),
    };
  });

  const configChange = (kind: 'created' | 'removed' = 'created') => change(CONFIG_KEY, kind, nextSeq(), OUT);

  it('an upload marks the project dirty once it has a state; no state yet, nothing is marked', async () => {
    await out().put(CONFIG_KEY, CONFIGS['text-ner']);
    const early = await ingestChanges(ctx, [configChange()]);
    expect(early.labelConfigs.map((l) => l.outcome)).toEqual(['no-state']);
    expect(await out().head(paths().dirty)).toBeUndefined();

    const objs = objectsOf(annotatedTask(1), 'annotation');
    await putAll(src(), objs);
    await ingestKeys(objs.map((o) => o.key));
    await out().delete(paths().dirty); // as a render does when it starts

    const c = configChange();
    const r = await ingestChanges(ctx, [c]);
    expect(r.labelConfigs).toEqual([
      {
        project: 'proj',
        bucket: OUT,
        key: CONFIG_KEY,
        outcome: 'dirty',
        marker: 'created',
        sha256: labelConfigDigest(CONFIGS['text-ner']),
      },
    ]);
    expect(r.projects).toEqual([]);
    expect(r.unmatched).toEqual([]);
    expect(r.failed(c)).toBe(false);
    const marker = await readJsonObject<{ version: number }>(out(), paths().dirty);
    expect(marker.version).toBeGreaterThan(0);
  });

  it('a malformed upload is logged with its key and reason, marks nothing, and the batch goes on', async () => {
    const objs = objectsOf(annotatedTask(1), 'annotation');
    await putAll(src(), objs);
    await ingestKeys(objs.map((o) => o.key));
    await out().delete(paths().dirty);

    await out().put(CONFIG_KEY, '<View><Labels name="ner" toName="text">');
    const bad = configChange();
    const r = await ingestChanges(ctx, [bad]);
    expect(r.labelConfigs).toHaveLength(1);
    expect(r.labelConfigs[0].outcome).toBe('invalid');
    expect(r.labelConfigs[0].reason).toMatch(/^project proj: label config unavailable: /);
    expect(r.failed(bad)).toBe(false);
    expect(await out().head(paths().dirty)).toBeUndefined();
    const logged = lines.find((l) => l.level === 'error');
    expect(logged?.fields).toMatchObject({ project: 'proj', bucket: OUT, key: CONFIG_KEY });
    expect(String(logged?.fields?.reason)).toMatch(/label config unavailable/);

    // In one batch with a task object: the object is ingested as usual.
    const more = objectsOf(annotatedTask(2), 'annotation');
    await putAll(src(), more);
    const mixed = await ingestChanges(ctx, [bad, ...more.map((o) => change(o.key))]);
    expect(mixed.labelConfigs.map((l) => l.outcome)).toEqual(['invalid']);
    expect(mixed.projects[0].stats?.changedTasks).toBe(1);
    expect(await out().head(paths().dirty)).toBeDefined();
  });

  it('a removed config marks nothing; a read failure is retried', async () => {
    const objs = objectsOf(annotatedTask(1), 'annotation');
    await putAll(src(), objs);
    await ingestKeys(objs.map((o) => o.key));
    await out().delete(paths().dirty);

    const removed = await ingestChanges(ctx, [configChange('removed')]);
    expect(removed.labelConfigs.map((l) => l.outcome)).toEqual(['removed']);
    expect(await out().head(paths().dirty)).toBeUndefined();

    await out().put(CONFIG_KEY, CONFIGS['text-ner']);
    const base = ctx.store(OUT);
    const flaky: typeof base = Object.create(base);
    flaky.get = async () => {
      throw new Error('SlowDown');
    };
    const c = configChange();
    const r = await ingestChanges({ ...ctx, store: (b) => (b === OUT ? flaky : ctx.store(b)) }, [c]);
    expect(r.labelConfigs.map((l) => [l.outcome, l.reason])).toEqual([['failed', 'SlowDown']]);
    expect(r.failed(c)).toBe(true);
    expect(await out().head(paths().dirty)).toBeUndefined();
  });
});
