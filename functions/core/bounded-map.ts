/** Bounded parallelism over an array (p-limit): at most `limit` calls in flight, results in input order. */
import pLimit from 'p-limit';

/**
 * Runs `fn` over items with at most `limit` in flight; results in input order.
 * @throws the first error of any call (calls already started run to their end).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const run = pLimit(Math.max(1, limit));
  return Promise.all(items.map((item, index) => run(() => fn(item, index))));
}

/** Like mapLimit, but collects each item's outcome instead of failing fast. */
export async function settleLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const run = pLimit(Math.max(1, limit));
  return Promise.allSettled(items.map((item) => run(() => fn(item))));
}
