/**
 * latest/ under fixed keys, written only where bytes changed, on a versioned in-memory bucket (the
 * local S3 server, fauxqs, accepts PutBucketVersioning but returns no version ids): every manifest
 * entry names a complete version; a reader of the manifest's versions sees one consistent export
 * during a render and after a failed one; deleted tasks lose their per-task files; one changed task
 * costs its own per-task files, the aggregate files and the manifest.
 */
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type GetResult,
  NotFoundError,
  type ObjectInfo,
  type ObjectStore,
  PreconditionFailedError,
  type PutOptions,
  type PutResult,
} from '../../functions/core/object-store.ts';
import { parseConfig } from '../../functions/pipeline/config.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { PublishSink } from '../../functions/pipeline/publish-sink.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import { readZip } from '../helpers/zip-reader.ts';
import { change, type FsContext, fsContext, tempDir } from './helpers.ts';

interface Version {
  id: string;
  body?: Buffer;
  etag?: string;
}

/** An in-memory versioned bucket: every write a new version id, deletes add delete markers. */
class VersionedStore implements ObjectStore {
  readonly description = 'mem://out';
  readonly versions = new Map<string, Version[]>();
  /** Keys of completed writes and deletes, in order. */
  readonly puts: string[] = [];
  readonly deletes: string[] = [];
  /** Runs before a write is stored; throw to fail it. */
  beforePut?: (key: string) => Promise<void> | void;
  private n = 0;

  current(key: string): Version | undefined {
    const v = this.versions.get(key)?.at(-1);
    return v?.body ? v : undefined;
  }

  version(key: string, id: string): Buffer | undefined {
    return this.versions.get(key)?.find((v) => v.id === id)?.body;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for (const key of [...this.versions.keys()].filter((k) => k.startsWith(prefix)).sort()) {
      const c = this.current(key);
      if (c) yield { key, size: c.body!.length, etag: c.etag };
    }
  }

  async get(key: string, range?: { start: number; end: number }, versionId?: string): Promise<GetResult> {
    const c = versionId
      ? this.versions.get(key)?.find((v) => v.id === versionId && v.body)
      : this.current(key);
    if (!c) throw new NotFoundError(key);
    const body = range ? c.body!.subarray(range.start, range.end) : c.body!;
    return {
      body: (async function* () {
        yield body;
      })(),
      etag: c.etag,
      size: body.length,
    };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const c = this.current(key);
    return c ? { key, size: c.body!.length, etag: c.etag, lastModified: new Date() } : undefined;
  }

  async put(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    await this.beforePut?.(key);
    const cur = this.current(key);
    if (options.ifNoneMatch === '*' && cur) throw new PreconditionFailedError(key);
    if (options.ifMatch && cur?.etag !== options.ifMatch) throw new PreconditionFailedError(key);
    const b = Buffer.from(body);
    const v = { id: `v${++this.n}`, body: b, etag: `"${createHash('md5').update(b).digest('hex')}"` };
    this.versions.set(key, [...(this.versions.get(key) ?? []), v]);
    this.puts.push(key);
    return { etag: v.etag, versionId: v.id };
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array | string>, o?: PutOptions): Promise<PutResult> {
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(Buffer.from(c));
    return this.put(key, Buffer.concat(parts), o);
  }

  async delete(key: string): Promise<void> {
    if (!this.versions.has(key)) return;
    this.versions.get(key)!.push({ id: `v${++this.n}` });
    this.deletes.push(key);
  }
}

const IMG = `<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image"><Label value="Car"/><Label value="Bus"/></RectangleLabels></View>`;

function taskJson(id: number, x: number): string {
  const result = [
    {
      id: 'r',
      from_name: 'label',
      to_name: 'image',
      type: 'rectanglelabels',
      original_width: 100,
      original_height: 100,
      value: { x, y: 1, width: 5, height: 5, rotation: 0, rectanglelabels: ['Car'] },
    },
  ];
  return JSON.stringify({
    id,
    data: { image: `s3://media/img${id}.jpg` },
    annotations: [
      {
        id: id * 10,
        completed_by: 1,
        result,
        created_at: '2025-01-01T00:00:00Z',
        updated_at: `2025-01-01T00:00:${String(x).padStart(2, '0')}Z`,
      },
    ],
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
  });
}

let ctx: FsContext;
let out: VersionedStore;

async function setup(zip = false) {
  const config = parseConfig({
    version: 1,
    projects: [
      {
        id: 'p',
        source: { bucket: 'src', prefix: 'ls' },
        labelConfig: { inline: IMG },
        formats: ['JSON', 'YOLO', 'VOC', 'CSV'],
        export: { bucket: 'out', prefix: 'exports' },
        latest: { zip },
      },
    ],
    settings: { shardTasks: 4, keyShards: 4 },
  });
  ctx = fsContext(await tempDir(), config);
  out = new VersionedStore();
  ctx.stores.set('out', out);
}

const project = () => ctx.config.projects[0];
const paths = () => projectPaths(project());

/** Label Studio writes (or deletes) task objects; the ingest records them. */
async function ls(tasks: Record<number, number | null>) {
  const changes = [];
  for (const [id, x] of Object.entries(tasks)) {
    const key = `ls/${id}.json`;
    if (x === null) await ctx.store('src').delete(key);
    else await ctx.store('src').put(key, taskJson(Number(id), x));
    changes.push(change(key, x === null ? 'removed' : 'created', undefined, 'src'));
  }
  await ingestChanges(ctx, changes);
}

async function render(): Promise<Manifest> {
  ctx.clock.advance(60_000);
  const r = await renderLatest(ctx, project());
  expect(r.status).toBe('rendered');
  return r.manifest!;
}

const files = (m: Manifest) => m.formats.flatMap((f) => [...(f.files ?? []), ...(f.zip ? [f.zip] : [])]);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Reads an export the careful way: the manifest, then exactly the versions it names. */
function readByVersions(store: VersionedStore, m: Manifest): Map<string, Buffer> {
  const got = new Map<string, Buffer>();
  for (const f of files(m)) {
    expect(f.versionId, f.key).toBeDefined();
    const body = store.version(f.key, f.versionId!);
    expect(body, `${f.key}@${f.versionId}`).toBeDefined();
    expect(sha(body!), f.key).toBe(f.sha256);
    expect(body!.length).toBe(f.bytes);
    got.set(f.key, body!);
  }
  return got;
}

const manifestNow = () => JSON.parse(out.current(paths().latestManifest)!.body!.toString()) as Manifest;

beforeEach(() => setup());

describe('latest/ under fixed, versioned keys', () => {
  it('writes latest/<FORMAT>/… with every file, its sha256 and its version id in the manifest', async () => {
    await ls({ 1: 10, 2: 20, 3: 30 });
    const m = await render();
    expect(m.layout).toBe('fixed');
    expect(m.prefix).toBe('exports/p/latest/');
    const keys = files(m).map((f) => f.key);
    expect(keys).toContain('exports/p/latest/JSON/result.json');
    expect(keys).toContain('exports/p/latest/YOLO/labels/img2.txt');
    expect(keys).toContain('exports/p/latest/VOC/Annotations/img3.xml');
    for (const f of files(m)) expect(out.current(f.key)?.id).toBe(f.versionId);
    readByVersions(out, m);
    expect(m.changes).toMatchObject({ written: files(m).length, unchanged: 0, deleted: 0 });
    // The in-flight record is gone once the render committed.
    expect(out.current(paths().renderInflight)).toBeUndefined();
  });

  it('after one changed task writes only its per-task files, the aggregate files and the manifest', async () => {
    await ls({ 1: 10, 2: 20, 3: 30, 4: 40 });
    const before = await render();
    await ls({ 3: 33 });
    out.puts.length = 0;
    const after = await render();
    const latestPuts = out.puts.filter((k) => k.startsWith(paths().latest)).sort();
    expect(latestPuts).toEqual(
      [
        'exports/p/latest/CSV/result.csv',
        'exports/p/latest/JSON/result.json',
        'exports/p/latest/VOC/Annotations/img3.xml',
        'exports/p/latest/YOLO/labels/img3.txt',
        'exports/p/latest/manifest.json',
      ].sort(),
    );
    // Everything else is the previous entry, same version.
    const prev = new Map(files(before).map((f) => [f.key, f]));
    for (const f of files(after)) {
      if (latestPuts.includes(f.key)) expect(f.versionId).not.toBe(prev.get(f.key)?.versionId);
      else expect(f).toEqual(prev.get(f.key));
    }
    expect(after.changes).toMatchObject({ written: 4, deleted: 0, unchanged: files(after).length - 4 });
    expect(out.current('exports/p/latest/YOLO/labels/img3.txt')!.body!.toString()).toMatch(/^1 0\.355 /);
  });

  it('deletes the per-task files of a deleted task after the manifest stops naming them', async () => {
    await ls({ 1: 10, 2: 20, 3: 30 });
    const before = await render();
    await ls({ 2: null });
    const after = await render();
    const gone = ['exports/p/latest/YOLO/labels/img2.txt', 'exports/p/latest/VOC/Annotations/img2.xml'];
    for (const k of gone) {
      expect(files(after).map((f) => f.key)).not.toContain(k);
      expect(out.current(k)).toBeUndefined();
    }
    expect(after.changes!.deleted).toBe(2);
    expect(after.counts.tasks).toBe(2);
    // The deletes came after the manifest: a reader of the older manifest still finds its versions.
    expect(out.puts.lastIndexOf(paths().latestManifest)).toBeGreaterThanOrEqual(0);
    readByVersions(out, before);
    readByVersions(out, after);
  });

  it('a reader of the manifest versions sees the previous complete export while a render overwrites the keys', async () => {
    await ls({ 1: 10, 2: 20, 3: 30 });
    const before = await render();
    const expected = readByVersions(out, before);
    await ls({ 1: 11, 2: 21, 3: null });
    const seen: Array<{ key: string; id: string }> = [];
    out.beforePut = (key) => {
      if (!key.startsWith(paths().latest) || key === paths().latestManifest) return;
      // Mid-render: whatever the keys hold now, the manifest's versions are the old export.
      const m = manifestNow();
      expect(m.id).toBe(before.id);
      expect(readByVersions(out, m)).toEqual(expected);
      seen.push({ key, id: m.id });
    };
    const after = await render();
    out.beforePut = undefined;
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(after.id).not.toBe(before.id);
    readByVersions(out, after);
  });

  it('a render failing mid-way leaves the manifest naming complete versions; the next one rewrites and sweeps', async () => {
    await ls({ 1: 10, 2: 20 });
    const before = await render();
    const expected = readByVersions(out, before);
    await ls({ 1: 12, 3: 30 });
    out.puts.length = 0;
    // Per-task files are written while tasks stream by; the CSV at the end fails.
    out.beforePut = (key) => {
      if (key.endsWith('result.csv')) throw new Error('injected failure');
    };
    await expect(renderLatest(ctx, project())).rejects.toThrow(/injected/);
    out.beforePut = undefined;
    expect(out.puts).toContain('exports/p/latest/YOLO/labels/img3.txt');
    expect(out.puts).toContain('exports/p/latest/YOLO/labels/img1.txt');
    // The manifest did not move, and every version it names is complete and verifiable.
    expect(manifestNow()).toEqual(before);
    expect(readByVersions(out, manifestNow())).toEqual(expected);
    // Keys the failed render created (task 3's files) are removed; an overwritten key's newer
    // version stays, and the in-flight record says the keys no longer match the manifest.
    expect(out.current('exports/p/latest/YOLO/labels/img3.txt')).toBeUndefined();
    expect(out.current(paths().renderInflight)).toBeDefined();
    // The retry rewrites every file (nothing can be carried over) and the folder matches again.
    const after = await render();
    expect(after.changes!.unchanged).toBe(0);
    for (const f of files(after)) expect(out.current(f.key)?.id).toBe(f.versionId);
    const listed = new Set(files(after).map((f) => f.key));
    for await (const o of out.list(paths().latest))
      if (o.key !== paths().latestManifest) expect(listed.has(o.key), o.key).toBe(true);
    expect(out.current(paths().renderInflight)).toBeUndefined();
    expect(after.counts.tasks).toBe(3);
  });

  it('keeps latest/<FORMAT>.zip for multi-file formats, rewritten only when the format changed', async () => {
    await setup(true);
    await ls({ 1: 10, 2: 20 });
    const first = await render();
    const yolo = first.formats.find((f) => f.format === 'YOLO')!;
    expect(yolo.zip?.key).toBe('exports/p/latest/YOLO.zip');
    expect(first.formats.find((f) => f.format === 'JSON')!.zip).toBeUndefined();
    const zipBody = out.version(yolo.zip!.key, yolo.zip!.versionId!)!;
    expect(zipBody.subarray(0, 2).toString()).toBe('PK');
    expect(zipBody.includes(Buffer.from('labels/img2.txt'))).toBe(true);
    // Forced with no change: nothing of latest/ but the manifest is written, the zip included.
    out.puts.length = 0;
    ctx.clock.advance(60_000);
    const again = (await renderLatest(ctx, project(), { force: true })).manifest!;
    expect(out.puts.filter((k) => k.startsWith(paths().latest))).toEqual([paths().latestManifest]);
    expect(again.formats.find((f) => f.format === 'YOLO')!.zip).toEqual(yolo.zip);
    // A change: the zip is rewritten, from the previous zip's records for the files that did not
    // change (only task 2's label file is read and deflated) plus a new directory.
    await ls({ 2: 22 });
    const third = await render();
    const yolo3 = third.formats.find((f) => f.format === 'YOLO')!;
    expect(yolo3.zip!.versionId).not.toBe(yolo.zip!.versionId);
    expect(third.timings?.zips?.YOLO).toMatchObject({
      mode: 'incremental',
      entries: yolo3.files!.length,
      freshEntries: 1,
      reusedEntries: yolo3.files!.length - 1,
    });
    const entries = await readZip(out.version(yolo3.zip!.key, yolo3.zip!.versionId!)!);
    expect(entries.map((e) => e.name)).toEqual(yolo3.files!.map((f) => f.path));
    for (const [i, f] of yolo3.files!.entries()) expect(sha(entries[i].data)).toBe(f.sha256);
    readByVersions(out, third);
  });

  it('after a failed render, the repair still reuses the zip records of the version the manifest names', async () => {
    await setup(true);
    await ls({ 1: 10, 2: 20, 3: 30 });
    const first = await render();
    const zip1 = first.formats.find((f) => f.format === 'YOLO')!.zip!;
    await ls({ 2: 22 });
    // The zip of the next render is written, then the manifest write fails: the key holds a zip
    // the manifest does not name, and the in-flight record makes the next render a repair.
    out.beforePut = (key) => {
      if (key === paths().latestManifest) throw new Error('injected failure');
    };
    await expect(render()).rejects.toThrow(/injected/);
    out.beforePut = undefined;
    expect(out.current(zip1.key)!.id).not.toBe(zip1.versionId);
    await ls({ 3: 33 });
    const repaired = await render();
    const yolo = repaired.formats.find((f) => f.format === 'YOLO')!;
    // Tasks 2 and 3 changed since the committed zip: their two labels are read, the rest reused
    // from the committed version (not from the failed render's object at the key).
    expect(repaired.timings?.zips?.YOLO).toMatchObject({
      mode: 'incremental',
      freshEntries: 2,
      reusedEntries: yolo.files!.length - 2,
    });
    const entries = await readZip(out.version(yolo.zip!.key, yolo.zip!.versionId!)!);
    expect(entries.map((e) => e.name)).toEqual(yolo.files!.map((f) => f.path));
    for (const [i, f] of yolo.files!.entries()) expect(sha(entries[i].data)).toBe(f.sha256);
    // The key holds the version the manifest names again.
    expect(out.current(yolo.zip!.key)!.id).toBe(yolo.zip!.versionId);
    readByVersions(out, repaired);
  });

  it('moves a manifest of the older layout (latest/<render id>/) to fixed keys and deletes the old folder', async () => {
    await ls({ 1: 10 });
    const oldKey = 'exports/p/latest/20260101T000000Z-v1-abcdef12/JSON/result.json';
    await out.put(oldKey, '[]');
    const old = {
      format: 1,
      kind: 'latest',
      project: 'p',
      id: '20260101T000000Z-v1-abcdef12',
      prefix: 'exports/p/latest/20260101T000000Z-v1-abcdef12/',
      state: { version: 0, updatedAt: '' },
      counts: { tasks: 0, annotations: 0 },
      formats: [
        {
          format: 'JSON',
          status: 'completed',
          files: [{ path: 'result.json', key: oldKey, bytes: 2, sha256: sha(Buffer.from('[]')) }],
        },
      ],
      options: { export: {} },
      report: { skipped: [], warnings: [], skippedCount: 0, sourceObjects: [] },
    };
    await out.put(paths().latestManifest, JSON.stringify(old));
    const m = await render();
    expect(out.current(oldKey)).toBeUndefined();
    expect(m.previous).toBe(old.id);
    expect(m.changes!.unchanged).toBe(0);
    readByVersions(out, m);
  });
});

describe('PublishSink', () => {
  it('does not write a copied media file whose bytes are unchanged, and streams one larger than the buffer', async () => {
    const store = new VersionedStore();
    const prefix = 'latest/YOLO_WITH_IMAGES/';
    const img = Buffer.alloc(3000, 7);
    async function* chunks(b: Buffer) {
      for (let i = 0; i < b.length; i += 1000) yield b.subarray(i, i + 1000);
    }
    const first = new PublishSink(store, prefix, new Map(), { bufferBytes: 2048 });
    await first.copyFrom('images/a.jpg', chunks(img.subarray(0, 2000)));
    await first.copyFrom('images/big.jpg', chunks(img));
    expect(first.stats).toEqual({ written: 2, unchanged: 0, bytesWritten: 5000 });
    const prev = new Map(first.files.map((f) => [f.path, f]));
    expect(prev.get('images/big.jpg')!.sha256).toBe(sha(img));
    store.puts.length = 0;
    const second = new PublishSink(store, prefix, prev, { bufferBytes: 2048 });
    await second.copyFrom('images/a.jpg', chunks(img.subarray(0, 2000)));
    await second.copyFrom('images/big.jpg', chunks(img));
    // The small unchanged copy is not written; the big one is streamed (not buffered) and so written.
    expect(store.puts).toEqual([`${prefix}images/big.jpg`]);
    expect(second.files.find((f) => f.path === 'images/a.jpg')).toEqual(prev.get('images/a.jpg'));
    expect(second.stats.unchanged).toBe(1);
    expect(second.exists('images/a.jpg')).toBe(true);
  });

  it('frees the path of a copy whose source fails, buffered or streamed, and lists no file for it', async () => {
    const store = new VersionedStore();
    const sink = new PublishSink(store, 'latest/COCO_WITH_IMAGES/', new Map(), { bufferBytes: 2048 });
    async function* failing(before: number) {
      yield Buffer.alloc(before, 1);
      throw new Error('connection reset');
    }
    await expect(sink.copyFrom('images/small.jpg', failing(100))).rejects.toThrow('connection reset');
    await expect(sink.copyFrom('images/big.jpg', failing(5000))).rejects.toThrow('connection reset');
    expect(sink.exists('images/small.jpg')).toBe(false);
    expect(sink.exists('images/big.jpg')).toBe(false);
    expect(sink.files).toEqual([]);
    expect(sink.stats.written).toBe(0);
  });
});
