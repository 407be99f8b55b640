/**
 * StoreSink: a file that cannot be written under its name is one reported skip (folder: too long,
 * NUL, escaping; S3: KeyTooLongError), never a failed export; other failures still fail. zipFolder
 * leaves out entries the zip format refuses.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../functions/core/object-store.ts';
import { Report } from '../../functions/core/report.ts';
import { StoreSink } from '../../functions/core/store-sink.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';
import { zipFolder } from '../../functions/storage/zip.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ls-sink-'));

async function* chunks(...parts: string[]) {
  for (const p of parts) yield Buffer.from(p);
}

/** A store that refuses keys as S3 does (over 1,024 bytes), or fails every write with `failure`. */
function s3LikeStore(failure?: Error): ObjectStore & { keys: string[] } {
  const keys: string[] = [];
  const check = (key: string) => {
    if (failure) throw failure;
    if (Buffer.byteLength(key) > 1024)
      throw Object.assign(new Error('Your key is too long'), { name: 'KeyTooLongError' });
    keys.push(key);
  };
  return {
    keys,
    description: 'fake',
    async *list() {},
    async get() {
      throw new Error('not used');
    },
    async head() {
      return undefined;
    },
    async put(key) {
      check(key);
      return {};
    },
    async putStream(key, body) {
      for await (const _ of body) check(key);
      check(key);
      return {};
    },
    async delete() {},
  };
}

describe('StoreSink over a folder', () => {
  it('writes a 255-byte name, and reports and drops a name the file system refuses', async () => {
    const dir = tmp();
    const report = new Report();
    const sink = new StoreSink(new FsObjectStore(dir), '', { report });
    const longest = `${'a'.repeat(251)}.txt`;
    await sink.writeFile(`labels/${longest}`, 'ok');
    await sink.writeFile(`labels/${'b'.repeat(300)}.txt`, 'too long');
    await sink.writeFile('labels/nul\u0000.txt', 'nul');
    await sink.copyFrom(`images/${'c'.repeat(300)}.png`, chunks('png'));
    const w = sink.open(`${'d'.repeat(300)}.json`);
    await w.write('x'.repeat(300_000));
    await w.close();
    await sink.writeFile('../escape.txt', 'out');

    expect(readFileSync(join(dir, 'labels', longest), 'utf8')).toBe('ok');
    expect(readdirSync(join(dir, 'labels'))).toEqual([longest]);
    expect(readdirSync(dir).sort()).toEqual(['labels']);
    expect(sink.files.map((f) => f.path)).toEqual([`labels/${longest}`]);
    expect(sink.exists(`labels/${'b'.repeat(300)}.txt`)).toBe(false);
    const skipped = report.toJSON().skipped;
    expect(skipped).toHaveLength(5);
    expect(skipped[0].source).toBe(`output file labels/${'b'.repeat(300)}.txt`);
    expect(skipped[0].reason).toMatch(
      /cannot be written under this name \(.*ENAMETOOLONG.*\); it is left out/,
    );
    expect(skipped[1].reason).toContain('NUL character');
    expect(skipped[4].reason).toContain('escapes the folder');
  });

  it('without a report, a name failure still rejects (callers that cannot report keep failing)', async () => {
    const sink = new StoreSink(new FsObjectStore(tmp()), '');
    await expect(sink.writeFile(`${'b'.repeat(300)}.txt`, 'x')).rejects.toThrow(/ENAMETOOLONG/);
  });
});

describe('StoreSink over an S3-like store', () => {
  it('tells writers the key budget left after its prefix', () => {
    const sink = new StoreSink(s3LikeStore(), 'exports/p/latest/r1/VOC/');
    expect(sink.maxPathBytes).toBe(1024 - 'exports/p/latest/r1/VOC/'.length);
    expect(new StoreSink({ ...s3LikeStore(), maxKeyBytes: 100 }, 'ab').maxPathBytes).toBe(97);
  });

  it('reports a KeyTooLongError as one skipped file and goes on', async () => {
    const store = s3LikeStore();
    const report = new Report();
    const sink = new StoreSink(store, 'pre/', { report });
    await sink.writeFile(`Annotations/${'x'.repeat(1100)}.xml`, '<a/>');
    await sink.writeFile('Annotations/ok.xml', '<a/>');
    expect(store.keys).toEqual(['pre/Annotations/ok.xml']);
    expect(sink.files.map((f) => f.key)).toEqual(['pre/Annotations/ok.xml']);
    expect(report.toJSON().skipped[0].reason).toContain('Your key is too long');
  });

  it('other store failures still fail the write', async () => {
    const report = new Report();
    const outage = Object.assign(new Error('We encountered an internal error'), { name: 'InternalError' });
    const sink = new StoreSink(s3LikeStore(outage), 'pre/', { report });
    await expect(sink.writeFile('a.txt', 'x')).rejects.toThrow('internal error');
    await expect(sink.copyFrom('b.png', chunks('x'))).rejects.toThrow('internal error');
    const w = sink.open('c.json');
    await w.write(Buffer.from('x'));
    await expect(w.close()).rejects.toThrow('internal error');
    expect(report.skippedCount).toBe(0);
  });
});

describe('zipFolder', () => {
  it('leaves out an entry the zip format refuses and archives the rest', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'ok.txt'), 'ok');
    writeFileSync(join(dir, 'a..b.txt'), 'dots in a name are fine');
    const zipPath = join(tmp(), 'out.zip');
    const skipped = await zipFolder(dir, ['ok.txt', 'x/../../evil.txt', 'a..b.txt'], zipPath);
    expect(skipped).toHaveLength(1);
    expect(skipped[0].path).toBe('x/../../evil.txt');
    expect(skipped[0].reason).toContain('invalid relative path');
    const listing = spawnSync(
      'python3',
      ['-c', 'import sys,zipfile; print(sorted(zipfile.ZipFile(sys.argv[1]).namelist()))', zipPath],
      { encoding: 'utf8' },
    );
    expect(listing.stdout.trim()).toBe("['a..b.txt', 'ok.txt']");
  });
});

describe('StoreSink: the files it closed', () => {
  it('lists each file with its key and size in close order; distinct paths count a rewrite once', async () => {
    const sink = new StoreSink(new FsObjectStore(tmp()), 'pre');
    expect(sink.wroteBytes()).toBe(false);
    await sink.writeFile('labels/a.txt', '');
    expect(sink.wroteBytes()).toBe(false);
    await sink.writeFile('labels/b.txt', 'bb');
    await sink.writeFile('labels/a.txt', 'aaa');
    await sink.copyFrom('audio/c.wav', chunks('c', 'cc'));
    expect(sink.files).toEqual([
      { path: 'labels/a.txt', key: 'pre/labels/a.txt', bytes: 0 },
      { path: 'labels/b.txt', key: 'pre/labels/b.txt', bytes: 2 },
      { path: 'labels/a.txt', key: 'pre/labels/a.txt', bytes: 3 },
      { path: 'audio/c.wav', key: 'pre/audio/c.wav', bytes: 3 },
    ]);
    expect(sink.closedCount).toBe(4);
    expect(sink.distinctPaths()).toEqual(['labels/a.txt', 'labels/b.txt', 'audio/c.wav']);
    expect(sink.wroteBytes()).toBe(true);
  });
});
