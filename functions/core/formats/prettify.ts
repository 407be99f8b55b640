/**
 * `prettify_result` (docs/label-studio-behaviour.md#prettified-values), shared by JSON_MIN and CSV.
 *
 * Label Studio collapses a Choices/TextArea value to its one entry when it has exactly one, and
 * otherwise keeps the whole value object (coordinates and all): a per-region transcription list
 * mixes strings and region objects (br-01). With `stableText` (fix `jsonmin-stable-text`) such a
 * value is always its list of texts (`text`) or choices (`choices`).
 */
import { deepCopy, isJsonObject, type JsonObject, type JsonValue, keysOf, setKey } from '../json/value.ts';

/** A copy of a value without its `type` (built without `delete`, which slows V8 objects down). */
function withoutType(v: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of keysOf(v)) if (k !== 'type') setKey(out, k, deepCopy(v[k]));
  return out;
}

/** The list a Choices/TextArea value holds (`choices` / `text`), as a list; undefined if neither. */
function textList(v: JsonObject): JsonValue[] | undefined {
  const key = v.type === 'Choices' ? 'choices' : v.type === 'TextArea' ? 'text' : undefined;
  if (key === undefined || !Object.hasOwn(v, key)) return undefined;
  const t = v[key];
  if (Array.isArray(t)) return deepCopy(t) as JsonValue[];
  return typeof t === 'string' ? [t] : undefined;
}

function prettifyOne(v: JsonObject, stableText: boolean): JsonValue {
  const type = v.type;
  if (stableText) {
    const list = textList(v);
    if (list) return list;
  }
  const copy = withoutType(v);
  if (type === 'Choices' && Array.isArray(copy.choices) && copy.choices.length === 1) return copy.choices[0];
  if (type === 'TextArea' && Array.isArray(copy.text) && copy.text.length === 1) return copy.text[0];
  if ((type === 'Chat' || type === 'chatmessage') && Object.hasOwn(copy, 'chatmessage'))
    return copy.chatmessage;
  return copy;
}

/**
 * True for a Choices/TextArea value that Label Studio's flattening writes as its whole value object
 * (its `choices`/`text` is not a one-entry list), while a one-entry value of the same control is
 * written as a bare string: the element shape changes (br-01). Never true for other types.
 */
export function flattensToObject(v: JsonObject): boolean {
  const key = v.type === 'Choices' ? 'choices' : v.type === 'TextArea' ? 'text' : undefined;
  if (key === undefined) return false;
  const t = v[key];
  return !(Array.isArray(t) && t.length === 1);
}

/** A control's values as JSON_MIN/CSV write them; `stableText`: fix jsonmin-stable-text. */
export function prettifyResult(values: JsonObject[], stableText = false): JsonValue {
  const out = values.map((v) => prettifyOne(v, stableText));
  const last = values[values.length - 1];
  if (values.length === 1 && isJsonObject(last) && (last.type === 'Choices' || last.type === 'TextArea')) {
    return out[0];
  }
  return out;
}
