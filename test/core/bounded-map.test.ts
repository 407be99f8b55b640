import { describe, expect, it } from 'vitest';
import { mapLimit, settleLimit } from '../../functions/core/bounded-map.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapLimit', () => {
  it('keeps input order and never runs more than `limit` calls at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n, i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await tick(n);
      inFlight--;
      return `${i}:${n}`;
    });
    expect(out).toEqual(['0:5', '1:1', '2:4', '3:2', '4:3', '5:0']);
    expect(peak).toBe(2);
  });

  it('rejects with the first error', async () => {
    await expect(
      mapLimit([1, 2, 3], 2, async (n) => {
        if (n === 2) throw new Error('two');
        return n;
      }),
    ).rejects.toThrow('two');
  });

  it('after a failure starts no further call and settles only when the running calls have ended', async () => {
    const started: number[] = [];
    const ended: number[] = [];
    let settledWhileRunning = false;
    let running = 0;
    const result = mapLimit([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      running++;
      try {
        if (n === 1) {
          await tick(5);
          throw new Error('one');
        }
        await tick(60); // item 2, still writing when item 1 fails
        return n;
      } finally {
        running--;
        ended.push(n);
      }
    });
    result.catch(() => {
      settledWhileRunning = running > 0;
    });
    await expect(result).rejects.toThrow('one');
    expect(settledWhileRunning).toBe(false);
    expect(ended).toEqual([1, 2]);
    expect(started).toEqual([1, 2]);
  });

  it('rejects with the error that came first in time, not in input order', async () => {
    await expect(
      mapLimit([30, 5], 2, async (ms) => {
        await tick(ms);
        throw new Error(`after ${ms}`);
      }),
    ).rejects.toThrow('after 5');
  });
});

describe('settleLimit', () => {
  it('collects every outcome in order', async () => {
    const out = await settleLimit([1, 2, 3], 1, async (n) => {
      if (n === 2) throw new Error('two');
      return n * 10;
    });
    expect(out.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((out[0] as PromiseFulfilledResult<number>).value).toBe(10);
    expect(String((out[1] as PromiseRejectedResult).reason)).toMatch(/two/);
  });
});
