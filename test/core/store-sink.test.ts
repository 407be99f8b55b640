/**
 * StoreSink batching: strings are encoded as they are written, and each batch sent to the store is
 * exactly the UTF-8 of its strings joined (surrogate pairs cut between two writes stay pairs inside
 * a batch; a surrogate left alone at a batch's end is U+FFFD, as Buffer.from writes it).
 */
import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../functions/core/object-store.ts';
import { StoreSink } from '../../functions/core/store-sink.ts';

/** A store that keeps each streamed object's chunks, as they arrived. */
function memoryStore(): ObjectStore & { chunks: Map<string, Buffer[]> } {
  const chunks = new Map<string, Buffer[]>();
  const unused = async (): Promise<never> => {
    throw new Error('not used');
  };
  return {
    chunks,
    description: 'memory',
    async *list() {},
    get: unused,
    head: unused,
    put: unused,
    delete: unused,
    async putStream(key, body) {
      const got: Buffer[] = [];
      for await (const c of body) got.push(Buffer.from(c));
      chunks.set(key, got);
      return {};
    },
  };
}

async function written(writes: Array<string | Uint8Array>): Promise<Buffer[]> {
  const store = memoryStore();
  const sink = new StoreSink(store, 'out');
  const file = sink.open('f.txt');
  for (const w of writes) await file.write(w);
  await file.close();
  expect(sink.files[0].bytes).toBe(Buffer.concat(store.chunks.get('out/f.txt')!).length);
  return store.chunks.get('out/f.txt')!;
}

describe('StoreSink string batches', () => {
  it('a surrogate pair cut between two writes is one character (4 bytes), as in the joined text', async () => {
    const [batch] = await written(['a\ud83d', '\ude00b']);
    expect(batch).toEqual(Buffer.from('a😀b'));
    expect(batch.length).toBe(6);
  });

  it('a lone high surrogate at the end, or before a non-surrogate, is U+FFFD', async () => {
    expect(Buffer.concat(await written(['x\ud83d']))).toEqual(Buffer.from([0x78, 0xef, 0xbf, 0xbd]));
    expect(Buffer.concat(await written(['\ud83d', 'y']))).toEqual(Buffer.from([0xef, 0xbf, 0xbd, 0x79]));
    expect(Buffer.concat(await written(['\ud83d', '', '\ud83d\ude00']))).toEqual(
      Buffer.from([0xef, 0xbf, 0xbd, 0xf0, 0x9f, 0x98, 0x80]),
    );
  });

  it('a batch ends where it did when strings were joined: a pair cut by the batch boundary is two U+FFFD', async () => {
    const big = 'é'.repeat(256 * 1024 - 1);
    const batches = await written([`${big}\ud83d`, '\ude00z']);
    expect(batches.map((b) => b.toString('utf8'))).toEqual([`${big}\ufffd`, '\ufffdz']);
  });

  it('a byte chunk ends the batch before it and passes as it is', async () => {
    const batches = await written(['ab\ud83d', Buffer.from([1, 2]), 'c']);
    expect(batches).toEqual([Buffer.from('ab\ufffd'), Buffer.from([1, 2]), Buffer.from('c')]);
  });
});

describe('StoreSink without a file list (keepFiles: false, the CLI without --zip)', () => {
  /** The same writes into a sink with and one without the list: a rewritten file, an empty one. */
  async function writeAll(keepFiles: boolean): Promise<StoreSink> {
    const store = { ...memoryStore(), put: async () => ({}) };
    const sink = new StoreSink(store, 'out', { keepFiles });
    expect(sink.exists('labels/a.txt')).toBe(false);
    const a = sink.open('labels/a.txt');
    await a.write('x');
    await a.close();
    await sink.writeFile('labels/b.txt', '');
    expect(sink.wroteBytes()).toBe(true);
    await sink.writeFile('labels/a.txt', 'y');
    for (let n = 0; n < 2_000; n++) await sink.writeFile(`labels/${n}.txt`, '');
    return sink;
  }

  it('counts what the file list would give and answers exists() the same, but keeps no paths', async () => {
    const [listed, counted] = [await writeAll(true), await writeAll(false)];
    expect(counted.closedCount).toBe(listed.files.length);
    expect(counted.closedCount).toBe(2_003);
    expect(counted.distinctCount).toBe(listed.distinctPaths().length);
    expect(counted.distinctCount).toBe(2_002);
    expect(listed.distinctCount).toBe(2_002);
    for (const path of ['labels/a.txt', 'labels/b.txt', 'labels/1999.txt', 'labels/2000.txt', 'a.txt'])
      expect(counted.exists(path)).toBe(listed.exists(path));
    expect(counted.exists('labels/1999.txt')).toBe(true);
    expect(() => counted.distinctPaths()).toThrow(/keepFiles: false/);
    expect(() => counted.files).toThrow(/keepFiles: false/);
  });

  it('wroteBytes() is false while every closed file is empty', async () => {
    const sink = new StoreSink({ ...memoryStore(), put: async () => ({}) }, '', { keepFiles: false });
    await sink.writeFile('manifest.json', '');
    expect(sink.wroteBytes()).toBe(false);
    await sink.writeFile('other.json', '{}');
    expect(sink.wroteBytes()).toBe(true);
  });
});
