/**
 * FsObjectStore's `newFilesInPlace` (the folder `ls-export convert` fills) and putLocalFile: a new
 * small file is created under its own name without a rename; an existing one is still replaced by a
 * rename (a descriptor open on the old file keeps reading the old bytes); local files are copied
 * byte for byte, small ones by a read and a write, larger ones by the kernel.
 */
import { execFileSync } from 'node:child_process';
import {
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FsObjectStore } from '../../functions/storage/fs.ts';

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return { ...fs, renameSync: vi.fn(fs.renameSync) };
});

const tmp = () => mkdtempSync(join(tmpdir(), 'ls-export-fs-in-place-'));
/** Every file under `dir`, relative, sorted (temporary files included). */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
const renames = () => vi.mocked(renameSync).mock.calls.length;

beforeEach(() => {
  vi.mocked(renameSync).mockClear();
});

describe('FsObjectStore with newFilesInPlace', () => {
  it('creates a new small file under its own name, without a temporary file and rename', async () => {
    const root = tmp();
    const store = new FsObjectStore(root, { newFilesInPlace: true });
    await store.put('labels/a.txt', '0 0.5 0.5 0.1 0.1\n');
    await store.put('labels/b.txt', Buffer.from('bytes'));
    expect(renames()).toBe(0);
    expect(readFileSync(join(root, 'labels/a.txt'), 'utf8')).toBe('0 0.5 0.5 0.1 0.1\n');
    expect(readFileSync(join(root, 'labels/b.txt'), 'utf8')).toBe('bytes');
    expect(filesUnder(root)).toEqual(['labels/a.txt', 'labels/b.txt']);
  });

  it('replaces an existing file by a rename: a reader of the old file still reads it whole', async () => {
    const root = tmp();
    const store = new FsObjectStore(root, { newFilesInPlace: true });
    await store.put('a.txt', 'old bytes');
    const fd = openSync(join(root, 'a.txt'), 'r');
    await store.put('a.txt', 'new');
    expect(renames()).toBe(1);
    const buf = Buffer.alloc(32);
    expect(buf.subarray(0, readSync(fd, buf, 0, 32, 0)).toString()).toBe('old bytes');
    expect(readFileSync(join(root, 'a.txt'), 'utf8')).toBe('new');
    expect(filesUnder(root)).toEqual(['a.txt']);
  });

  it('without the option, a new file is still written beside its name and renamed', async () => {
    const root = tmp();
    await new FsObjectStore(root).put('a.txt', 'x');
    expect(renames()).toBe(1);
    expect(filesUnder(root)).toEqual(['a.txt']);
  });

  it('a folder in the way: the put fails and leaves nothing behind', async () => {
    const root = tmp();
    const store = new FsObjectStore(root, { newFilesInPlace: true });
    await store.put('x/inner.txt', 'a');
    await expect(store.put('x', 'body')).rejects.toThrow();
    expect(filesUnder(root)).toEqual(['x/inner.txt']);
  });
});

describe('FsObjectStore.putLocalFile', () => {
  for (const [label, size] of [
    ['empty', 0],
    ['small (one read and write)', 3_000],
    ['at the small-copy limit', 1024 * 1024],
    ['larger (kernel copy)', 1024 * 1024 + 1],
  ] as const)
    for (const newFilesInPlace of [false, true])
      it(`${label}, newFilesInPlace ${newFilesInPlace}: the copy has the same bytes`, async () => {
        const src = join(tmp(), 'clip.wav');
        const bytes = Buffer.alloc(size);
        for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
        writeFileSync(src, bytes);
        const root = tmp();
        const store = new FsObjectStore(root, { newFilesInPlace });
        await store.putLocalFile('audio/clip.wav', src);
        expect(readFileSync(join(root, 'audio/clip.wav')).equals(bytes)).toBe(true);
        // A second copy over the first replaces it.
        writeFileSync(src, 'shorter');
        await store.putLocalFile('audio/clip.wav', src);
        expect(readFileSync(join(root, 'audio/clip.wav'), 'utf8')).toBe('shorter');
        expect(filesUnder(root)).toEqual(['audio/clip.wav']);
      });

  for (const size of [3_000, 1024 * 1024 + 1])
    it(`a link at the target's name (${size} bytes) is replaced, never written through`, async () => {
      const dir = tmp();
      const src = join(dir, 'clip.wav');
      writeFileSync(src, Buffer.alloc(size, 9));
      const victim = join(dir, 'victim.txt');
      const hardVictim = join(dir, 'hard-victim.txt');
      writeFileSync(victim, 'VICTIM');
      writeFileSync(hardVictim, 'HARD');
      const root = tmp();
      mkdirSync(join(root, 'audio'));
      symlinkSync(victim, join(root, 'audio', 'a.wav'));
      linkSync(hardVictim, join(root, 'audio', 'b.wav'));
      const store = new FsObjectStore(root, { newFilesInPlace: true });
      await store.putLocalFile('audio/a.wav', src);
      await store.putLocalFile('audio/b.wav', src);
      expect(readFileSync(victim, 'utf8')).toBe('VICTIM');
      expect(readFileSync(hardVictim, 'utf8')).toBe('HARD');
      expect(lstatSync(join(root, 'audio', 'a.wav')).isSymbolicLink()).toBe(false);
      expect(readFileSync(join(root, 'audio', 'a.wav')).length).toBe(size);
      expect(readFileSync(join(root, 'audio', 'b.wav')).length).toBe(size);
      expect(filesUnder(root)).toEqual(['audio/a.wav', 'audio/b.wav']);
    });

  it("a FIFO in the source's place is refused (EINVAL) without blocking, and nothing is written", async () => {
    const dir = tmp();
    const fifo = join(dir, 'clip.wav');
    execFileSync('mkfifo', [fifo]);
    const root = tmp();
    const store = new FsObjectStore(root, { newFilesInPlace: true });
    await expect(store.putLocalFile('audio/clip.wav', fifo)).rejects.toMatchObject({ code: 'EINVAL' });
    expect(filesUnder(root)).toEqual([]);
  });

  it('a missing source rejects with ENOENT and writes nothing', async () => {
    const root = tmp();
    const store = new FsObjectStore(root, { newFilesInPlace: true });
    await expect(store.putLocalFile('audio/a.wav', join(root, 'nope.wav'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(filesUnder(root)).toEqual([]);
  });
});
