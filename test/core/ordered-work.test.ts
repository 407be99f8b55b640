/** OrderedWork (core/ordered-work.ts): outputs in input order, at most `limit` jobs and `maxBytes` pending. */
import { describe, expect, it } from 'vitest';
import { OrderedWork } from '../../functions/core/ordered-work.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('OrderedWork', () => {
  it('releases outputs in the order jobs were added, whatever order they finish in', async () => {
    const out: number[] = [];
    const w = new OrderedWork<number>(4, (v) => {
      out.push(v);
    });
    for (const [i, ms] of [30, 5, 20, 1, 10, 0].entries()) await w.add(() => sleep(ms).then(() => i));
    await w.drain();
    expect(out).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('keeps at most `limit` jobs and, with maxBytes, at most that many announced bytes pending', async () => {
    let running = 0;
    let runningBytes = 0;
    let most = 0;
    let mostBytes = 0;
    const w = new OrderedWork<number>(8, () => {}, 100);
    const sizes = [40, 40, 40, 10, 10, 10, 10, 10, 10, 10, 10, 250, 5, 5];
    for (const [i, n] of sizes.entries())
      await w.add(async () => {
        running++;
        runningBytes += n;
        most = Math.max(most, running);
        mostBytes = Math.max(mostBytes, runningBytes);
        await sleep(2);
        running--;
        runningBytes -= n;
        return i;
      }, n);
    await w.drain();
    expect(most).toBeLessThanOrEqual(8);
    expect(most).toBeGreaterThan(2);
    // Never past the budget, except the 250-byte job, which runs alone.
    expect(mostBytes).toBe(250);
    const w2 = new OrderedWork<number>(8, () => {}, 100);
    let peak = 0;
    let now = 0;
    for (const n of sizes.filter((x) => x < 100))
      await w2.add(async () => {
        now += n;
        peak = Math.max(peak, now);
        await sleep(2);
        now -= n;
        return n;
      }, n);
    await w2.drain();
    expect(peak).toBeLessThanOrEqual(100);
    expect(peak).toBeGreaterThanOrEqual(80);
  });

  it('a failed job rejects when its turn comes; later outputs are not released before it', async () => {
    const out: number[] = [];
    const w = new OrderedWork<number>(3, (v) => {
      out.push(v);
    });
    await w.add(async () => 1);
    await w.add(async () => {
      throw new Error('job 2 failed');
    });
    await w.add(async () => 3);
    await expect(w.drain()).rejects.toThrow('job 2 failed');
    expect(out).toEqual([1]);
  });
});
