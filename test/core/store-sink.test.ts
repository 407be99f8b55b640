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
