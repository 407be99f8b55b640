import { describe, expect, it } from 'vitest';
import { rng } from '../../bench/generate.ts';
import { hashOf, PathSet } from '../../functions/core/path-set.ts';

/** Paths like the per-file formats write, with non-ASCII, empty and look-alike ones mixed in. */
function pathOf(n: number): string {
  if (n % 97 === 0) return `images/фото_${n}.jpg`;
  if (n % 89 === 0) return `labels/${'a'.repeat(n % 7)}`;
  if (n === 5) return '';
  return `labels/img_${n.toString(36)}.txt`;
}

describe('PathSet', () => {
  it('answers as a Set does over random adds, deletes and marks across many pools and table sizes', () => {
    const random = rng(7);
    const set = new PathSet();
    const model = new Set<string>();
    /** Paths ever marked (a mark outlives a delete). */
    const marked = new Set<string>();
    for (let step = 0; step < 60_000; step++) {
      const path = pathOf(Math.floor(random() * 9_000));
      const op = random();
      if (op < 0.55) {
        expect(set.add(path)).toBe(!model.has(path));
        model.add(path);
      } else if (op < 0.7) expect(set.delete(path)).toBe(model.delete(path));
      else if (op < 0.8) {
        expect(set.mark(path)).toBe(!marked.has(path));
        model.add(path);
        marked.add(path);
      } else expect(set.has(path)).toBe(model.has(path));
    }
    expect(set.size).toBe(model.size);
    for (let n = 0; n < 9_000; n++) expect(set.has(pathOf(n))).toBe(model.has(pathOf(n)));
    // More paths than one pool (1,024) and than the first table: the packed pools were searched.
    expect(model.size).toBeGreaterThan(4_000);
  });

  it('tells apart two paths of equal length and equal hash', () => {
    // A birthday search over generated names finds a pair with one 32-bit hash.
    const random = rng(11);
    const byHash = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let n = 0; n < 400_000 && !pair; n++) {
      const p = `labels/${Math.floor(random() * 2 ** 40)
        .toString(36)
        .padStart(8, '0')}.txt`;
      const other = byHash.get(hashOf(p));
      if (other !== undefined && other !== p) pair = [other, p];
      else byHash.set(hashOf(p), p);
    }
    expect(pair).toBeDefined();
    const [a, b] = pair as [string, string];
    expect(a.length).toBe(b.length);
    // In the pool still being filled (a list), then in a joined pool string.
    const small = new PathSet();
    small.add(a);
    expect(small.has(b)).toBe(false);
    expect(small.has(a)).toBe(true);
    const set = new PathSet();
    // Enough others that the first one sits in a joined pool, not the pending list.
    for (let n = 0; n < 3_000; n++) set.add(`x/${n}`);
    expect(set.add(a)).toBe(true);
    for (let n = 0; n < 3_000; n++) set.add(`y/${n}`);
    expect(set.has(b)).toBe(false);
    expect(set.add(b)).toBe(true);
    expect(set.delete(a)).toBe(true);
    expect(set.has(a)).toBe(false);
    expect(set.has(b)).toBe(true);
  });
});
