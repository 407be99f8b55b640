/**
 * Zip records made as a render writes its files (pipeline/zip-records.ts): a record is used only
 * for the bytes and the time it was made of; stored and loaded records are the same bytes; and a
 * render of a project with zips reads no per-task file back for its zips, writing the same archive
 * as a zip made by reading every file.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { readAll } from '../../functions/core/object-store.ts';
import { Report } from '../../functions/core/report.ts';
import { readLocalHeader } from '../../functions/core/zip-archive.ts';
import type { WrittenFile } from '../../functions/pipeline/hashing-sink.ts';
import { ingestChanges } from '../../functions/pipeline/ingest.ts';
import { writeLatestZip } from '../../functions/pipeline/latest-zip.ts';
import type { Manifest } from '../../functions/pipeline/manifest.ts';
import { projectPaths } from '../../functions/pipeline/paths.ts';
import { renderLatest } from '../../functions/pipeline/render.ts';
import { recordOf, ZipRecords } from '../../functions/pipeline/zip-records.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';
import {
  change,
  fsContext,
  lsTask,
  makeConfig,
  OUT,
  objectsOf,
  readJsonObject,
  removeTempDirsOfPassedTests,
  SRC,
  tempDir,
} from './helpers.ts';
import { VersioningStore } from './versioning-store.ts';
import { sha } from './zip-files.ts';

const cleanup = removeTempDirsOfPassedTests();
const T1 = new Date('2026-12-01T01:00:00Z');
const T2 = new Date('2026-12-01T02:00:00Z');
let open: ZipRecords[] = [];
afterEach(async () => {
  await Promise.all(open.map((r) => r.dispose()));
  open = [];
});

async function records(mtime = T1, maxBytes?: number): Promise<ZipRecords> {
  const dir = await tempDir();
  cleanup(dir);
  const r = await ZipRecords.create(mtime, { dir, ...(maxBytes === undefined ? {} : { maxBytes }) });
  open.push(r);
  return r;
}

const fileOf = (path: string, body: Buffer): WrittenFile => ({
  path,
  key: `latest/YOLO/${path}`,
  bytes: body.length,
  sha256: sha(body),
});

const recordBytes = (r: { header: Buffer; data: Buffer[] }) => Buffer.concat([r.header, ...r.data]);

describe('ZipRecords', () => {
  it('gives back the record of the bytes it was made of, at its time; nothing for other bytes, times or formats', async () => {
    const z = await records();
    const body = Buffer.from('0 0.5 0.5 0.2 0.2\n'.repeat(20));
    const f = fileOf('labels\\a b.txt', body);
    await z.add('YOLO', f, body);
    const got = await z.get('YOLO', f, T1);
    const want = recordOf(f.path, body, T1);
    expect(recordBytes(got!).equals(recordBytes(want))).toBe(true);
    expect(got!.meta).toEqual(want.meta);
    expect(got!.meta.name).toBe('labels/a b.txt');
    expect(readLocalHeader(recordBytes(got!)).meta.size).toBe(body.length);
    const other = Buffer.from('1 0.5 0.5 0.2 0.2\n');
    expect(await z.get('YOLO', { ...f, sha256: sha(other) }, T1)).toBeUndefined();
    expect(await z.get('YOLO', { ...f, bytes: f.bytes + 1 }, T1)).toBeUndefined();
    expect(await z.get('YOLO', f, T2)).toBeUndefined();
    expect(await z.get('VOC', f, T1)).toBeUndefined();
    expect(await z.get('YOLO', { ...f, path: 'labels/other.txt' }, T1)).toBeUndefined();
    expect(await z.get('YOLO', { ...f, sha256Of: 'chunks' }, T1)).toBeUndefined();
    expect(z.stats).toMatchObject({ made: 1, loaded: 0, overCap: 0 });
  });

  it('a path recorded twice keeps its last bytes; records past the cap are not kept', async () => {
    const first = Buffer.from('first\n');
    const last = Buffer.from('last\n');
    const length = (path: string, b: Buffer) => recordBytes(recordOf(path, b, T1)).length;
    // Room for x.txt twice, a.txt and b.txt: c.txt passes the cap.
    const z = await records(T1, length('x.txt', first) + length('x.txt', last) + 2 * length('a.txt', first));
    await z.add('YOLO', fileOf('x.txt', first), first);
    await z.add('YOLO', fileOf('x.txt', last), last);
    expect(await z.get('YOLO', fileOf('x.txt', first), T1)).toBeUndefined();
    expect(
      recordBytes((await z.get('YOLO', fileOf('x.txt', last), T1))!).equals(
        recordBytes(recordOf('x.txt', last, T1)),
      ),
    ).toBe(true);
    for (const n of ['a', 'b', 'c']) await z.add('YOLO', fileOf(`${n}.txt`, first), first);
    expect(z.stats.overCap).toBe(1);
    expect(await z.get('YOLO', fileOf('c.txt', first), T1)).toBeUndefined();
    expect(await z.get('YOLO', fileOf('b.txt', first), T1)).toBeDefined();
  });

  it('stored by a segment worker and loaded by the commit: the same records; a cut object is refused', async () => {
    const dir = await tempDir();
    cleanup(dir);
    const store = new FsObjectStore(dir);
    const worker = await records();
    const files: Array<[WrittenFile, Buffer]> = [];
    for (let i = 0; i < 25; i++) {
      const body = Buffer.from(`${i % 4} 0.${i} 0.5 0.1 0.1\n`.repeat(i + 1));
      files.push([fileOf(`labels/img${i}.txt`, body), body]);
    }
    await Promise.all(files.map(([f, b]) => worker.add('YOLO', f, b)));
    const voc = Buffer.from('<annotation/>');
    await worker.add('VOC', fileOf('Annotations/img0.xml', voc), voc);
    const stored = await worker.storeRecords(store, 'fanout/segments/s1.zip-');
    expect(Object.keys(stored).sort()).toEqual(['VOC', 'YOLO']);
    expect(stored.YOLO!.entries).toHaveLength(25);

    const commit = await records();
    await commit.loadStored(store, 'YOLO', stored.YOLO!);
    await commit.loadStored(store, 'VOC', stored.VOC!);
    expect(commit.stats).toMatchObject({ made: 0, loaded: 26 });
    for (const [f, b] of files)
      expect(
        recordBytes((await commit.get('YOLO', f, T1))!).equals(recordBytes(recordOf(f.path, b, T1))),
      ).toBe(true);

    // A cut object, one whose record is not a record, one gone: nothing loaded, nothing thrown
    // (the zip reads those files back), and the set stops.
    const body = await readAll((await store.get(stored.YOLO!.key)).body);
    const damaged = [
      body.subarray(0, body.length - 1),
      Buffer.concat([Buffer.from('XXXX'), body.subarray(4)]),
      undefined,
    ];
    for (const d of damaged) {
      if (d) await store.put(stored.YOLO!.key, d);
      else await store.delete(stored.YOLO!.key);
      const later = await records();
      await later.loadStored(store, 'YOLO', stored.YOLO!);
      expect(later.stats).toMatchObject({ loaded: 0, failed: 1 });
      expect(await later.get('YOLO', files[0][0], T1)).toBeUndefined();
      await later.loadStored(store, 'VOC', stored.VOC!);
      expect(later.stats.loaded).toBe(0);
    }
  });

  it('a record file damaged after the fact gives no record (the zip reads the file), nothing thrown', async () => {
    const dir = await tempDir();
    cleanup(dir);
    const z = await ZipRecords.create(T1, { dir });
    open.push(z);
    const a = Buffer.from('0 0.5 0.5 0.1 0.1\n');
    const b = Buffer.from('1 0.5 0.5 0.1 0.1\n');
    await z.add('YOLO', fileOf('a.txt', a), a);
    await z.add('YOLO', fileOf('b.txt', b), b);
    const [folder] = await readdir(dir);
    const file = join(dir, folder, 'YOLO');
    const bytes = await readFile(file);
    // a.txt's header renamed (same length), b.txt's record cut off.
    bytes.write('x', 30);
    await writeFile(file, bytes.subarray(0, bytes.length - 3));
    expect(await z.get('YOLO', fileOf('a.txt', a), T1)).toBeUndefined();
    expect(await z.get('YOLO', fileOf('b.txt', b), T1)).toBeUndefined();
    expect(z.stats.failed).toBe(2);
  });

  it('a record that cannot be written (the folder gone, as with a full disk) is dropped, not thrown', async () => {
    const dir = await tempDir();
    const z = await ZipRecords.create(T1, { dir });
    open.push(z);
    const body = Buffer.from('0 0.5 0.5 0.1 0.1\n');
    await z.add('YOLO', fileOf('a.txt', body), body);
    await rm(dir, { recursive: true, force: true });
    await z.add('VOC', fileOf('b.xml', body), body);
    await z.add('VOC', fileOf('c.xml', body), body);
    expect(z.stats).toMatchObject({ made: 1, failed: 1 });
    expect(await z.get('VOC', fileOf('b.xml', body), T1)).toBeUndefined();
    // What was recorded before the failure is still good.
    expect(await z.get('YOLO', fileOf('a.txt', body), T1)).toBeDefined();
    const store = new FsObjectStore(await tempDir());
    expect(await z.storeRecords(store, 'x/')).toEqual({});
  });
});

// ---- a render ----------------------------------------------------------------------------------

async function imageProject() {
  const config = makeConfig({ kind: 'image-bbox', formats: ['JSON', 'YOLO', 'VOC'] });
  config.projects[0].latest.zip = true;
  const root = await tempDir();
  cleanup(root);
  const ctx = fsContext(root, config);
  const out = new VersioningStore(new FsObjectStore(join(root, OUT)));
  ctx.stores.set(OUT, out);
  // Every key read from the export bucket, in order.
  const gets: string[] = [];
  const get = out.get.bind(out);
  out.get = (key, range, versionId) => {
    gets.push(key);
    return get(key, range, versionId);
  };
  return { ctx, project: config.projects[0], out, gets };
}

async function putTask(p: Awaited<ReturnType<typeof imageProject>>, task: JsonObject): Promise<void> {
  const o = objectsOf(task, 'task')[0];
  await p.ctx.store(SRC).put(o.key, o.body);
  await ingestChanges(p.ctx, [change(o.key)]);
}

describe('a render of a project with zips', () => {
  it('records that cannot be made do not fail the render: the zip reads the files back (QA s11 Q1)', async () => {
    const p = await imageProject();
    for (let i = 1; i <= 12; i++) await putTask(p, lsTask(i, 1, 'image-bbox'));
    const failing = vi
      .spyOn(ZipRecords.prototype as unknown as { of: () => Promise<never> }, 'of')
      .mockRejectedValue(
        Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
      );
    try {
      const r = await renderLatest(p.ctx, p.project, { segmentShards: 2 });
      expect(r.status).toBe('rendered');
      expect(failing).toHaveBeenCalled();
      const m = r.manifest!;
      const yolo = m.formats.find((x) => x.format === 'YOLO')!;
      expect(m.timings!.zips!.YOLO).toMatchObject({
        mode: 'full',
        recordedEntries: 0,
        freshEntries: yolo.files!.length,
      });
      const zip = await readAll((await p.out.get(yolo.zip!.key)).body);
      await writeLatestZip({
        store: p.out,
        files: yolo.files!,
        key: 'check/YOLO.zip',
        mtime: new Date(m.createdAt),
        report: new Report(),
      });
      expect(zip.equals(await readAll((await p.out.get('check/YOLO.zip')).body))).toBe(true);
    } finally {
      failing.mockRestore();
    }
  });

  it('reads no per-task file back for its zips; the archive equals one made by reading every file', async () => {
    const p = await imageProject();
    for (let i = 1; i <= 30; i++) await putTask(p, lsTask(i, 1, 'image-bbox'));
    const paths = projectPaths(p.project);
    const perTask = (keys: string[]) =>
      keys.filter(
        (k) => k.startsWith(`${paths.latest}YOLO/labels/`) || k.startsWith(`${paths.latest}VOC/Annotations/`),
      );

    const check = async (m: Manifest, format: 'YOLO' | 'VOC') => {
      const f = m.formats.find((x) => x.format === format)!;
      const zip = await readAll((await p.out.get(f.zip!.key)).body);
      // The same files zipped by reading each one from the store, at the render's time.
      const r = await writeLatestZip({
        store: p.out,
        files: f.files!,
        key: `check/${format}.zip`,
        mtime: new Date(m.createdAt),
        report: new Report(),
      });
      expect(r.stats.recordedEntries).toBe(0);
      expect(zip.equals(await readAll((await p.out.get(`check/${format}.zip`)).body)), format).toBe(true);
      return f.files!;
    };

    const first = await renderLatest(p.ctx, p.project, { segmentShards: 2 });
    const m1 = first.manifest!;
    const zips = m1.timings!.zips!;
    const yolo = m1.formats.find((x) => x.format === 'YOLO')!.files!;
    const labels = yolo.filter((x) => x.path.startsWith('labels/')).length;
    const annotations = m1.formats
      .find((x) => x.format === 'VOC')!
      .files!.filter((x) => x.path.startsWith('Annotations/')).length;
    expect(labels).toBeGreaterThan(20);
    // Every file's record was made as it was written (small aggregates too: classes.txt, notes.json).
    expect(zips.YOLO).toMatchObject({ mode: 'full', entries: yolo.length, recordedEntries: yolo.length });
    expect(zips.VOC).toMatchObject({ mode: 'full', recordedEntries: annotations });
    expect(
      p.gets.filter((k) => k.startsWith(`${paths.latest}YOLO/`) || k.startsWith(`${paths.latest}VOC/`)),
    ).toEqual([]);
    expect(perTask(p.gets)).toEqual([]);
    p.gets.length = 0;
    await check(m1, 'YOLO');
    await check(m1, 'VOC');
    expect(perTask(p.gets).length).toBe(labels + annotations); // the check read them: the counter counts

    // One task changes: its two files are fresh entries, made as they were written.
    p.gets.length = 0;
    p.ctx.clock.advance(60_000);
    await putTask(p, lsTask(7, 4, 'image-bbox'));
    const second = await renderLatest(p.ctx, p.project, { segmentShards: 2 });
    const z2 = second.manifest!.timings!.zips!;
    expect(z2.YOLO).toMatchObject({ mode: 'incremental', freshEntries: 1, recordedEntries: 1 });
    expect(z2.VOC).toMatchObject({ mode: 'incremental', freshEntries: 1, recordedEntries: 1 });
    expect(perTask(p.gets)).toEqual([]);
    const m2 = await readJsonObject<Manifest>(p.out, paths.latestManifest);
    expect(m2.id).toBe(second.manifest!.id);
  });
});
