/** Reads one source object and turns it into an observation (records.ts), detecting the layout by content. */
import type { JsonObject } from '../core/json/value.ts';
import type { ObjectStore } from '../core/object-store.ts';
import { parseStorageObject } from '../core/readers/storage-objects.ts';
import { reasonOf } from '../core/report.ts';
import { readText } from './object-text.ts';
import { effectiveUpdatedAt, type Observation } from './records.ts';

/** Target-storage objects are a few KB; anything this large is not one and is not read. */
export const MAX_OBJECT_BYTES = 64 * 1024 * 1024;

export interface ObservedObject {
  obs: Observation;
  /** Why the object could not be used (it then counts as absent and is reported). */
  malformed?: string;
  bytesRead: number;
}

export interface ObserveInput {
  key: string;
  seq: string;
  observedAt: string;
  force?: boolean;
  /** Size from the event or listing, when known. */
  size?: number;
}

/** Parses a body already read. */
export function observeText(input: ObserveInput, text: string | undefined, etag?: string): ObservedObject {
  const base = { key: input.key, seq: input.seq, observedAt: input.observedAt, force: input.force };
  if (text === undefined) return { obs: base, bytesRead: 0 };
  const bytesRead = Buffer.byteLength(text);
  if (text.trimStart().startsWith('[')) {
    return {
      obs: base,
      malformed: 'a JSON array (a whole export?), not a Label Studio target-storage object',
      bytesRead,
    };
  }
  try {
    const parsed = parseStorageObject(text);
    const body: JsonObject = parsed.layout === 'task' ? parsed.task : parsed.annotation;
    return {
      obs: {
        ...base,
        etag,
        live: {
          layout: parsed.layout,
          taskId: parsed.taskId,
          updatedAt: effectiveUpdatedAt(parsed.layout, body),
          body,
        },
      },
      bytesRead,
    };
  } catch (err) {
    return { obs: base, malformed: reasonOf(err), bytesRead };
  }
}

/** Reads the object's current content (absent → a deletion) and parses it. */
export async function observeObject(store: ObjectStore, input: ObserveInput): Promise<ObservedObject> {
  if (input.size !== undefined && input.size > MAX_OBJECT_BYTES) {
    return {
      obs: { key: input.key, seq: input.seq, observedAt: input.observedAt, force: input.force },
      malformed: `${input.size} bytes: too large for a target-storage object, not read`,
      bytesRead: 0,
    };
  }
  const r = await readText(store, input.key);
  return observeText(input, r?.text, r?.etag);
}
