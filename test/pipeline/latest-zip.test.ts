import { afterEach, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { type GetResult, type ObjectStore, readAll } from '../../functions/core/object-store.ts';
import { Report } from '../../functions/core/report.ts';
import type { WrittenFile } from '../../functions/pipeline/hashing-sink.ts';
import { writeLatestZip, ZipSourceError } from '../../functions/pipeline/latest-zip.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';
import { readZip } from '../helpers/zip-reader.ts';
import { removeTempDirsOfPassedTests, tempDir } from './helpers.ts';
import { LooseStore } from './loose-store.ts';
import { MemoryVersions } from './memory-versions.ts';
import { previousOf, putFile, sha, ZIP, zipBytes } from './zip-files.ts';

/** LooseStore recording every read: key and range. */
class ReadLog extends LooseStore {
  reads: Array<{ key: string; range?: { start: number; end: number } }> = [];
  override get(key: string, range?: { start: number; end: number }): Promise<GetResult> {
    this.reads.push({ key, range });
    return super.get(key, range);
  }
}

const cleanup = removeTempDirsOfPassedTests();
let dir = '';
afterEach(() => cleanup(dir));

const T1 = new Date('2026-12-01T01:00:00Z');
const T2 = new Date('2026-12-01T02:00:00Z');

async function setup() {
  dir = await tempDir();
  return new ReadLog(new FsObjectStore(dir));
}

/** 40 label files, classes.txt and notes.json. */
async function project(store: ReadLog) {
  const files: WrittenFile[] = [];
  for (let i = 0; i < 40; i++)
    files.push(
      await putFile(store, `labels/img${String(i).padStart(2, '0')}.txt`, `${i % 3} 0.5 0.5 0.${i} 0.2\n`),
    );
  files.push(await putFile(store, 'classes.txt', 'cat\ndog\nbird\n'));
  files.push(await putFile(store, 'notes.json', '{"categories": []}'));
  return files;
}

describe('writeLatestZip', () => {
  it('writes every file in path order; a reader gets each file back', async () => {
    const store = await setup();
    const files = await project(store);
    const r = await writeLatestZip({
      store,
      files: [...files].reverse(),
      key: ZIP,
      mtime: T1,
      report: new Report(),
    });
    expect(r.stats).toMatchObject({ mode: 'full', entries: 42, freshEntries: 42, reusedEntries: 0 });
    const bytes = await zipBytes(store);
    expect(r.entry).toMatchObject({ path: 'YOLO.zip', key: ZIP, bytes: bytes.length });
    expect(r.entry.sha256).toBe(sha(bytes));
    const entries = await readZip(bytes);
    expect(entries.map((e) => e.name)).toEqual(files.map((f) => f.path).sort());
    for (const e of entries)
      expect(e.data.toString()).toBe(
        (await readAll((await store.get(`latest/YOLO/${e.name}`)).body)).toString(),
      );
  });

  it('after a change reads only the changed files and the old zip’s directory; same entries as a full write', async () => {
    const store = await setup();
    const files = await project(store);
    const first = await writeLatestZip({ store, files, key: ZIP, mtime: T1, report: new Report() });
    const before = await readZip(await zipBytes(store));
    // One label changed, one added, one removed; notes.json changed.
    const next = files.filter((f) => f.path !== 'labels/img07.txt');
    next[3] = await putFile(store, next[3].path, '1 0.1 0.1 0.1 0.1\n');
    next.push(await putFile(store, 'labels/img99.txt', '2 0.9 0.9 0.1 0.1\n'));
    next[next.findIndex((f) => f.path === 'notes.json')] = await putFile(
      store,
      'notes.json',
      '{"categories": [1]}',
    );
    store.reads = [];
    const r = await writeLatestZip({
      store,
      files: next,
      key: ZIP,
      mtime: T2,
      report: new Report(),
      previous: previousOf(first.entry, files),
    });
    expect(r.stats).toMatchObject({ mode: 'incremental', entries: 42, freshEntries: 3, reusedEntries: 39 });
    // Reads: the three changed files whole; the old zip only by range (its tail, its directory,
    // and the unchanged records of this small file, put whole below 16 MiB).
    const wholeReads = store.reads.filter((x) => !x.range).map((x) => x.key);
    expect(wholeReads.sort()).toEqual([
      'latest/YOLO/labels/img03.txt',
      'latest/YOLO/labels/img99.txt',
      'latest/YOLO/notes.json',
    ]);
    expect(store.reads.filter((x) => x.range).every((x) => x.key === ZIP)).toBe(true);
    const after = await readZip(await zipBytes(store));
    // What a full write of the same files holds, entry for entry.
    const full = await writeLatestZip({
      store,
      files: next,
      key: 'latest/full.zip',
      mtime: T2,
      report: new Report(),
    });
    const reference = await readZip(await zipBytes(store, 'latest/full.zip'));
    expect(after.map((e) => [e.name, e.data.toString()])).toEqual(
      reference.map((e) => [e.name, e.data.toString()]),
    );
    expect(full.stats.mode).toBe('full');
    // Unchanged entries keep the time of the render that wrote them; changed ones get this render's.
    const time = (list: typeof after, name: string) => list.find((e) => e.name === name)!.dosTime;
    expect(time(after, 'labels/img00.txt')).toBe(time(before, 'labels/img00.txt'));
    expect(time(after, 'labels/img03.txt')).toBe(time(reference, 'labels/img03.txt'));
    expect(time(after, 'labels/img03.txt')).not.toBe(time(before, 'labels/img03.txt'));
    // The manifest entry names what the object holds.
    const bytes = await zipBytes(store);
    expect(r.entry.bytes).toBe(bytes.length);
    expect(r.entry.sha256).toBe(sha(bytes));
  });

  it('assembled by parts: runs of unchanged records are copied server-side, the rest uploaded', async () => {
    const store = await setup();
    const files = await project(store);
    const first = await writeLatestZip({ store, files, key: ZIP, mtime: T1, report: new Report() });
    const next = [...files];
    next[20] = await putFile(store, next[20].path, 'changed\n');
    const r = await writeLatestZip({
      store,
      files: next,
      key: ZIP,
      mtime: T2,
      report: new Report(),
      previous: previousOf(first.entry, files),
      minMultipartBytes: 1,
      minPartBytes: 200,
    });
    expect(r.stats).toMatchObject({ mode: 'incremental', freshEntries: 1, reusedEntries: 41 });
    expect(r.stats.copiedBytes).toBeGreaterThan(0);
    expect(r.entry.sha256Of).toBe('chunks');
    const after = await readZip(await zipBytes(store));
    expect(after.find((e) => e.name === next[20].path)!.data.toString()).toBe('changed\n');
    expect(after.length).toBe(42);
    // A second incremental write reuses the assembled zip (its sha256 of chunks does not matter).
    const again = [...next];
    again[0] = await putFile(store, again[0].path, 'again\n');
    const r2 = await writeLatestZip({
      store,
      files: again,
      key: ZIP,
      mtime: T2,
      report: new Report(),
      previous: previousOf(r.entry, next),
    });
    expect(r2.stats).toMatchObject({ mode: 'incremental', freshEntries: 1, reusedEntries: 41 });
    expect(
      (await readZip(await zipBytes(store))).find((e) => e.name === again[0].path)!.data.toString(),
    ).toBe('again\n');
  });

  it('nothing changed: the previous zip is kept, nothing read or written', async () => {
    const store = await setup();
    const files = await project(store);
    const first = await writeLatestZip({ store, files, key: ZIP, mtime: T1, report: new Report() });
    store.reads = [];
    const r = await writeLatestZip({
      store,
      files,
      key: ZIP,
      mtime: T2,
      report: new Report(),
      previous: previousOf(first.entry, files),
    });
    expect(r).toMatchObject({ entry: first.entry, written: false, stats: { mode: 'unchanged' } });
    expect(store.reads).toEqual([]);
  });

  it('files unchanged but the zip object deleted under its key: written again (QA s10b F2)', async () => {
    const store = await setup();
    const files = await project(store);
    const first = await writeLatestZip({ store, files, key: ZIP, mtime: T1, report: new Report() });
    await store.inner.delete(ZIP);
    const r = await writeLatestZip({
      store,
      files,
      key: ZIP,
      mtime: T2,
      report: new Report(),
      previous: previousOf(first.entry, files),
    });
    expect(r.written).toBe(true);
    // No versions here: the old zip cannot be read, so it is rewritten from the files.
    expect(r.stats).toMatchObject({ mode: 'full', fullReason: expect.stringMatching(/holds no bytes/) });
    expect((await readZip(await zipBytes(store))).length).toBe(files.length);
  });

  it('an older zip by another writer (yazl), or one whose size disagrees, is rewritten whole', async () => {
    const store = await setup();
    const files = await project(store);
    const z = new yazl.ZipFile();
    for (const f of files) z.addBuffer(await readAll((await store.get(f.key)).body), f.path, { mtime: T1 });
    z.end();
    const old = await readAll(z.outputStream as AsyncIterable<Uint8Array>);
    await store.put(ZIP, old);
    const oldEntry: WrittenFile = { path: 'YOLO.zip', key: ZIP, bytes: old.length, sha256: 'x' };
    const next = [...files];
    next[1] = await putFile(store, next[1].path, 'new\n');
    const r = await writeLatestZip({
      store,
      files: next,
      key: ZIP,
      mtime: T2,
      report: new Report(),
      previous: previousOf(oldEntry, files),
    });
    expect(r.stats.mode).toBe('full');
    expect(r.stats.fullReason).toMatch(/no record digest/);
    expect((await readZip(await zipBytes(store))).length).toBe(42);
    // The manifest's size is not the object's (the key was overwritten behind its back).
    const r2 = await writeLatestZip({
      store,
      files: next.slice(1),
      key: ZIP,
      mtime: T2,
      report: new Report(),
      previous: previousOf({ ...r.entry, bytes: r.entry.bytes + 1 }, next),
    });
    expect(r2.stats).toMatchObject({
      mode: 'full',
      fullReason: expect.stringMatching(/holds \d+ bytes, the manifest names/),
    });
  });

  it('a file whose object does not hold its manifest bytes fails the zip (ZipSourceError), writing nothing', async () => {
    const store = await setup();
    const files = await project(store);
    const first = await writeLatestZip({ store, files, key: ZIP, mtime: T1, report: new Report() });
    const firstBytes = await zipBytes(store);
    const next = [...files];
    next[5] = { ...(await putFile(store, next[5].path, 'new\n')), sha256: '0'.repeat(64) };
    await expect(
      writeLatestZip({
        store,
        files: next,
        key: ZIP,
        mtime: T2,
        report: new Report(),
        previous: previousOf(first.entry, files),
      }),
    ).rejects.toBeInstanceOf(ZipSourceError);
    expect((await zipBytes(store)).equals(firstBytes)).toBe(true);
  });

  it('entry names the zip format refuses are reported and left out, also in an incremental write', async () => {
    const store = await setup();
    const files = [...(await project(store)), await putFile(store, 'ok.txt', 'ok')];
    const bad: WrittenFile = { ...files[0], path: '../escape.txt' };
    const report = new Report();
    const first = await writeLatestZip({ store, files: [...files, bad], key: ZIP, mtime: T1, report });
    expect(report.toJSON().skipped.map((s) => s.source)).toEqual(['output file ../escape.txt']);
    const next = [...files];
    next[0] = await putFile(store, next[0].path, 'x\n');
    const report2 = new Report();
    const r = await writeLatestZip({
      store,
      files: [...next, bad],
      key: ZIP,
      mtime: T2,
      report: report2,
      previous: previousOf(first.entry, [...files, bad]),
    });
    expect(r.stats.mode).toBe('incremental');
    expect(report2.toJSON().skipped[0].reason).toMatch(/not a valid zip entry name \(invalid relative path/);
    expect((await readZip(await zipBytes(store))).map((e) => e.name)).not.toContain('../escape.txt');
  });
});

describe('writeLatestZip: what it refuses to trust (QA s10)', () => {
  const current = async (store: ObjectStore, key = ZIP) =>
    readZip(await readAll((await store.get(key)).body));

  it('two paths with one entry name (d/x, d\\x): the second is reported and left out, in every write', async () => {
    const store = new MemoryVersions();
    const files = [
      await putFile(store, 'd/x', 'AAAA'),
      await putFile(store, 'd\\x', 'BBBB'),
      await putFile(store, 'z.txt', 'one'),
    ];
    const r1 = new Report();
    const first = await writeLatestZip({ store, files, key: ZIP, mtime: T1, report: r1 });
    expect(r1.toJSON().skipped).toEqual([
      expect.objectContaining({
        source: 'output file d\\x',
        reason: expect.stringMatching(/entry name d\/x is another file's/),
      }),
    ]);
    const next = [files[0], files[1], await putFile(store, 'z.txt', 'two')];
    const r2 = new Report();
    const r = await writeLatestZip({
      store,
      files: next,
      key: ZIP,
      mtime: T2,
      report: r2,
      previous: previousOf(first.entry, files),
    });
    expect(r.stats.mode).toBe('incremental');
    expect((await current(store)).map((e) => [e.name, e.data.toString()])).toEqual([
      ['d/x', 'AAAA'],
      ['z.txt', 'two'],
    ]);
    expect(r2.skippedCount).toBe(1);
    // Kept as it was: the left-out file is still reported.
    const r3 = new Report();
    expect(
      (
        await writeLatestZip({
          store,
          files: next,
          key: ZIP,
          mtime: T2,
          report: r3,
          previous: previousOf(r.entry, next),
        })
      ).stats.mode,
    ).toBe('unchanged');
    expect(r3.skippedCount).toBe(1);
  });

  it('with versions, a zip deleted under its key is written again from the version the manifest names', async () => {
    const store = new MemoryVersions();
    const files = [await putFile(store, 'a.txt', 'aaaa'), await putFile(store, 'b.txt', 'bbbb')];
    const first = await writeLatestZip({ store, files, key: ZIP, mtime: T1, report: new Report() });
    await store.delete(ZIP);
    const r = await writeLatestZip({
      store,
      files,
      key: ZIP,
      mtime: T2,
      report: new Report(),
      previous: previousOf(first.entry, files),
    });
    expect(r.stats).toMatchObject({ mode: 'incremental', reusedEntries: 2, freshEntries: 0 });
    expect((await current(store)).map((e) => [e.name, e.data.toString()])).toEqual([
      ['a.txt', 'aaaa'],
      ['b.txt', 'bbbb'],
    ]);
  });

  it('reads the previous zip at the version its manifest names, not whatever the key holds now', async () => {
    const store = new MemoryVersions();
    const files = [
      await putFile(store, 'a.txt', 'aaaaaaaa'),
      await putFile(store, 'b.txt', 'qrstuvwx'),
      await putFile(store, 'c.txt', 'c'),
    ];
    const first = await writeLatestZip({ store, files, key: ZIP, mtime: T1, report: new Report() });
    expect(first.entry.versionId).toBeDefined();
    // Another zip of the same size over the key (a stray writer): records of other bytes.
    const other = [
      await putFile(store, 'a.txt', 'abcdefgh'),
      await putFile(store, 'b.txt', 'qqqqqqqq'),
      files[2],
    ];
    await writeLatestZip({ store, files: other, key: 'tmp/other.zip', mtime: T1, report: new Report() });
    await store.put(ZIP, await readAll((await store.get('tmp/other.zip')).body));
    const next = [
      await putFile(store, 'a.txt', 'aaaaaaaa'),
      await putFile(store, 'b.txt', 'qrstuvwx'),
      await putFile(store, 'c.txt', 'd'),
    ];
    for (const sizes of [{}, { minMultipartBytes: 1, minPartBytes: 1 }]) {
      const r = await writeLatestZip({
        store,
        files: next,
        key: ZIP,
        mtime: T2,
        report: new Report(),
        previous: previousOf(first.entry, files),
        ...sizes,
      });
      expect(r.stats).toMatchObject({ mode: 'incremental', reusedEntries: 2 });
      expect((await current(store)).map((e) => [e.name, e.data.toString()])).toEqual([
        ['a.txt', 'aaaaaaaa'],
        ['b.txt', 'qrstuvwx'],
        ['c.txt', 'd'],
      ]);
    }
  });

  it('a path left out as a duplicate entry name gets its own bytes once it is the file of that name (review s11 F1)', async () => {
    const store = new MemoryVersions();
    const slash = await putFile(store, 'a/b', 'XXXX');
    const backslash = await putFile(store, 'a\\b', 'YYYY');
    const other = await putFile(store, 'c.txt', 'cccc');
    const first = await writeLatestZip({
      store,
      files: [slash, backslash, other],
      key: ZIP,
      mtime: T1,
      report: new Report(),
    });
    expect((await current(store)).map((e) => [e.name, e.data.toString()])).toEqual([
      ['a/b', 'XXXX'],
      ['c.txt', 'cccc'],
    ]);
    // a/b is deleted: a\b, unchanged, is now the file named a/b; its record is not a/b's old one.
    const r = await writeLatestZip({
      store,
      files: [backslash, other],
      key: ZIP,
      mtime: T2,
      report: new Report(),
      previous: previousOf(first.entry, [slash, backslash, other]),
    });
    expect(r.stats).toMatchObject({ mode: 'incremental', reusedEntries: 1, freshEntries: 1 });
    expect((await current(store)).map((e) => [e.name, e.data.toString()])).toEqual([
      ['a/b', 'YYYY'],
      ['c.txt', 'cccc'],
    ]);
  });

  it('a zip deleted under its key is written again when only a left-out file changed (review s11 F3)', async () => {
    const store = new MemoryVersions();
    const files = [await putFile(store, 'a/b', 'XXXX'), await putFile(store, 'c.txt', 'cccc')];
    const first = await writeLatestZip({ store, files, key: ZIP, mtime: T1, report: new Report() });
    await store.delete(ZIP);
    // Same entry name as a/b: reported and left out, so the archive's bytes are the previous ones.
    const dup = await putFile(store, 'a\\b', 'YYYY');
    const r = await writeLatestZip({
      store,
      files: [...files, dup],
      key: ZIP,
      mtime: T2,
      report: new Report(),
      previous: previousOf(first.entry, files),
    });
    expect(r).toMatchObject({ written: true, stats: { mode: 'incremental', reusedEntries: 2 } });
    expect((await store.head(ZIP))?.size).toBe(first.entry.bytes);
  });
});
