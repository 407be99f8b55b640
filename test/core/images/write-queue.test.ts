import { describe, expect, it } from 'vitest';
import { WriteQueue } from '../../../functions/core/images/write-queue.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WriteQueue', () => {
  it('keeps writes to one path in order, and the last one wins', async () => {
    const queue = new WriteQueue(8);
    const files = new Map<string, string>();
    await queue.write('a', async () => {
      await tick(20);
      files.set('a', 'first');
    });
    expect(queue.pending('a')).toBe(true);
    await queue.write('a', async () => {
      files.set('a', 'second');
    });
    await queue.write('b', async () => {
      files.set('b', 'b');
    });
    await queue.drain();
    expect(files.get('a')).toBe('second');
    expect(queue.pending('a')).toBe(false);
  });

  it('runs at most `limit` writes at once', async () => {
    const queue = new WriteQueue(3);
    let running = 0;
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      await queue.write(`f${i}`, async () => {
        running++;
        peak = Math.max(peak, running);
        await tick(2);
        running--;
      });
    }
    await queue.drain();
    expect(peak).toBe(3);
  });

  it('surfaces a failed write at the next call and at drain', async () => {
    const queue = new WriteQueue(2);
    await queue.write('x', async () => {
      throw new Error('disk full');
    });
    await tick(1);
    await expect(queue.write('y', async () => {})).rejects.toThrow('disk full');
    await expect(queue.drain()).rejects.toThrow('disk full');
  });
});
