/**
 * FsObjectStore.put: small bodies take the synchronous path, large ones the asynchronous one; both
 * write beside the target and rename (no temporary file left, even when the write fails), return
 * the body's MD5 as the ETag and honour conditional writes.
 */

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PreconditionFailedError, readAll } from '../../functions/core/object-store.ts';
import { OutputNameError } from '../../functions/core/output-names.ts';
import { FsObjectStore } from '../../functions/storage/fs.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ls-export-fs-'));
const md5 = (b: Uint8Array | string) => `"${createHash('md5').update(b).digest('hex')}"`;
/** Every file under `dir`, relative, sorted (temporary files included). */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();

describe('FsObjectStore.put', () => {
  for (const [label, size] of [
    ['small (synchronous write)', 1_000],
    ['at the synchronous limit', 64 * 1024],
    ['large (asynchronous write)', 64 * 1024 + 1],
  ] as const)
    it(`${label}: the bytes land at the key, nothing else in the folder, ETag is the MD5`, async () => {
      const root = tmp();
      const store = new FsObjectStore(root);
      const body = Buffer.alloc(size, 7);
      const r = await store.put('labels/a/b.txt', body);
      expect(readFileSync(join(root, 'labels/a/b.txt')).equals(body)).toBe(true);
      expect(r.etag).toBe(md5(body));
      // Overwritten in place, still one file.
      await store.put('labels/a/b.txt', 'second');
      expect(readFileSync(join(root, 'labels/a/b.txt'), 'utf8')).toBe('second');
      expect(filesUnder(root)).toEqual(['labels/a/b.txt']);
    });

  it('a failed small write throws and leaves no temporary file', async () => {
    if (process.getuid?.() === 0) {
      // root ignores folder permissions: make the target a folder instead, so the rename fails.
      const root = tmp();
      const store = new FsObjectStore(root);
      await store.put('x/inner.txt', 'a');
      await expect(store.put('x', 'body')).rejects.toThrow();
      expect(filesUnder(root)).toEqual(['x/inner.txt']);
      return;
    }
    const root = tmp();
    const store = new FsObjectStore(root);
    await store.put('ro/seed.txt', 'a');
    chmodSync(join(root, 'ro'), 0o500);
    try {
      await expect(store.put('ro/b.txt', 'body')).rejects.toThrow();
    } finally {
      chmodSync(join(root, 'ro'), 0o700);
    }
    expect(filesUnder(root)).toEqual(['ro/seed.txt']);
  });

  it('honours IfNoneMatch and IfMatch on the synchronous path', async () => {
    const store = new FsObjectStore(tmp());
    const first = await store.put('lock.json', '{"a":1}', { ifNoneMatch: '*' });
    await expect(store.put('lock.json', '{"a":2}', { ifNoneMatch: '*' })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    await expect(store.put('lock.json', '{"a":3}', { ifMatch: '"nope"' })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    await store.put('lock.json', '{"a":4}', { ifMatch: first.etag });
    expect((await store.head('lock.json'))?.etag).toBe(md5('{"a":4}'));
  });

  it('a text body: the ETag is the MD5 of its UTF-8 bytes (computed when read)', async () => {
    const store = new FsObjectStore(tmp());
    for (const text of ['', 'abc', 'Ölfass ✓ 😀', 'x'.repeat(70_000)]) {
      const r = await store.put('t.txt', text);
      expect(r.etag).toBe(md5(Buffer.from(text, 'utf8')));
      expect({ ...r }).toEqual({ etag: md5(Buffer.from(text, 'utf8')) });
    }
  });

  it('keys with empty, . and .. segments, and long ones, land where join puts them', async () => {
    const root = `${tmp()}/out/`; // a trailing separator in the root, too
    const store = new FsObjectStore(root);
    const long = 'é'.repeat(120); // 240 bytes: a legal segment, but past the short-key way
    const keys = [
      'a.txt',
      'd/e/f.xml',
      '/lead.txt',
      'd//double.txt',
      'd/./dot.txt',
      'd/x/../up.txt',
      `d/${long}`,
    ];
    for (const key of keys) await store.put(key, key);
    for (const key of keys) expect(readFileSync(join(root, key), 'utf8')).toBe(key);
    expect(filesUnder(root.slice(0, -1))).toEqual(
      ['a.txt', 'd/double.txt', 'd/dot.txt', 'd/e/f.xml', 'd/up.txt', `d/${long}`, 'lead.txt'].sort(),
    );
    await expect(store.put(`d/${'é'.repeat(128)}`, 'x')).rejects.toBeInstanceOf(OutputNameError);
    await expect(store.put('d/a\0b', 'x')).rejects.toBeInstanceOf(OutputNameError);
    await expect(store.put('d/../../out2.txt', 'x')).rejects.toBeInstanceOf(OutputNameError);
  });

  it('refuses a key that escapes the folder before writing anything', async () => {
    const root = tmp();
    const store = new FsObjectStore(root);
    await expect(store.put('../outside.txt', 'x')).rejects.toBeInstanceOf(OutputNameError);
    expect(filesUnder(root)).toEqual([]);
  });
});

describe('FsObjectStore.list: what a folder holds besides files and folders', () => {
  it('lists a symbolic link to a file as an object; names a link to a folder, a dangling link and a FIFO', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ls-fs-list-'));
    const outside = mkdtempSync(join(tmpdir(), 'ls-fs-target-'));
    writeFileSync(join(outside, 'task.json'), '{"id": 1}');
    writeFileSync(join(root, 'a.json'), '{"id": 2}');
    symlinkSync(join(outside, 'task.json'), join(root, 'linked.json'));
    symlinkSync(outside, join(root, 'dir-link'));
    symlinkSync(join(outside, 'missing.json'), join(root, 'dangling.json'));
    execFileSync('mkfifo', [join(root, 'pipe.json')]);
    const store = new FsObjectStore(root);
    const keys: string[] = [];
    for await (const o of store.list('')) keys.push(o.key);
    expect(keys).toEqual(['a.json', 'linked.json']);
    expect(new TextDecoder().decode(await readAll((await store.get('linked.json')).body))).toBe('{"id": 1}');
    expect([...store.notListed].sort((x, y) => (x.key < y.key ? -1 : 1))).toEqual([
      { key: 'dangling.json', kind: 'a symbolic link to nothing' },
      { key: 'dir-link', kind: 'a symbolic link to a folder' },
      { key: 'pipe.json', kind: 'a FIFO' },
    ]);
  });
});
