/** Bounded parallelism over an array (p-limit): at most `limit` calls in flight, results in input order. */
import pLimit from 'p-limit';

/**
 * Runs `fn` over items with at most `limit` in flight; results in input order.
 *
 * On the first failure no further call starts, and the promise rejects only once the calls
 * already running have ended: nothing this map started is still working (writing an output, say)
 * when its caller cleans up, releases a lock or returns from a Lambda invocation, whose frozen
 * work would otherwise resume in the next one.
 * @throws the first error thrown by a call (the first in time).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const run = pLimit(Math.max(1, limit));
  let failure: { error: unknown } | undefined;
  const outcomes = await Promise.allSettled(
    items.map((item, index) =>
      run(async () => {
        if (failure) return undefined; // not started: an earlier call failed
        try {
          return await fn(item, index);
        } catch (error) {
          failure ??= { error };
          throw error;
        }
      }),
    ),
  );
  if (failure) throw failure.error;
  return outcomes.map((o) => (o as PromiseFulfilledResult<R>).value);
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
