/** `prettify_result` (converter spec §3.5), shared by JSON_MIN and CSV. */
import { deepCopy, isJsonObject, type JsonObject, type JsonValue, keysOf, setKey } from '../json/value.ts';

/** A copy of a value without its `type` (built without `delete`, which slows V8 objects down). */
function withoutType(v: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of keysOf(v)) if (k !== 'type') setKey(out, k, deepCopy(v[k]));
  return out;
}

function prettifyOne(v: JsonObject): JsonValue {
  const type = v.type;
  const copy = withoutType(v);
  if (type === 'Choices' && Array.isArray(copy.choices) && copy.choices.length === 1) return copy.choices[0];
  if (type === 'TextArea' && Array.isArray(copy.text) && copy.text.length === 1) return copy.text[0];
  if ((type === 'Chat' || type === 'chatmessage') && Object.hasOwn(copy, 'chatmessage'))
    return copy.chatmessage;
  return copy;
}

export function prettifyResult(values: JsonObject[]): JsonValue {
  const out = values.map(prettifyOne);
  const last = values[values.length - 1];
  if (values.length === 1 && isJsonObject(last) && (last.type === 'Choices' || last.type === 'TextArea')) {
    return out[0];
  }
  return out;
}
