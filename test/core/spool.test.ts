import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSpool, SPOOL_MEMORY_BYTES } from '../../functions/core/spool.ts';

async function readBack(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString('utf8');
}

describe('spool', () => {
  it('keeps small content in memory', async () => {
    const spool = createSpool();
    await spool.write('a');
    await spool.write('b');
    expect(spool.spilled).toBe(false);
    expect(spool.size).toBe(2);
    expect(await readBack(spool.drain())).toBe('ab');
  });

  it('spills to an anonymous temporary file, reads back in order, leaves nothing behind', async () => {
    // A private parent dir: other processes' temp files in the shared OS temp dir cannot disturb the count.
    const parent = mkdtempSync(join(tmpdir(), 'spool-test-'));
    try {
      const spool = createSpool({ memoryLimit: 16, dir: parent });
      const pieces = Array.from({ length: 50 }, (_, i) => `piece ${i} — ü ✓\n`);
      for (const p of pieces) await spool.write(p);
      expect(spool.spilled).toBe(true);
      // The open spill file lives under the private dir (so the emptiness below means something), name already removed.
      const open = readdirSync('/proc/self/fd').map((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          return '';
        }
      });
      expect(open.filter((t) => t.startsWith(`${parent}/ls-export-`))).toEqual([
        expect.stringMatching(/\/spool \(deleted\)$/),
      ]);
      expect(readdirSync(parent)).toEqual([]);
      expect(await readBack(spool.drain(7))).toBe(pieces.join(''));
      expect(spool.spilled).toBe(false);
      expect(readdirSync(parent)).toEqual([]);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('holds at most 1 MiB in memory by default, then spills', async () => {
    const spool = createSpool();
    const piece = 'x'.repeat(1000);
    while (spool.size < SPOOL_MEMORY_BYTES - piece.length) await spool.write(piece);
    expect(spool.spilled).toBe(false);
    await spool.write(piece);
    await spool.write(piece);
    expect(spool.spilled).toBe(true);
    expect((await readBack(spool.drain())).length).toBe(spool.size);
  });

  it('keeps many small pieces and ones larger than the buffer in order', async () => {
    const spool = createSpool({ memoryLimit: 16 * 1024 });
    const pieces = Array.from({ length: 5000 }, (_, i) => (i % 1000 === 7 ? 'é'.repeat(9000) : `${i},`));
    for (const p of pieces) await spool.write(p);
    expect(spool.spilled).toBe(true);
    expect(await readBack(spool.drain(4096))).toBe(pieces.join(''));
  });
});
