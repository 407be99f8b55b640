/** Helpers of the media tests (storage/media.test.ts, storage/local-files.test.ts). */
import { expect } from 'vitest';
import { MediaError } from '../../functions/core/media.ts';

/** A media body read whole, as UTF-8 text. */
export async function readText(it: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

/** The MediaError `p` rejects with (fails the test when it resolves or rejects with another error). */
export async function mediaErrorOf(p: Promise<unknown>): Promise<MediaError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MediaError);
  return err as MediaError;
}
