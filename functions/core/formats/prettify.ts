/** `prettify_result` (converter spec §3.5), shared by JSON_MIN and CSV. */
import { deleteKey, deepCopy, isJsonObject, type JsonObject, type JsonValue } from '../json/value.ts';

function prettifyOne(v: JsonObject): JsonValue {
  const type = v.type;
  const copy = deepCopy(v);
  deleteKey(copy, 'type');
  if (type === 'Choices' && Array.isArray(copy.choices) && copy.choices.length === 1) return copy.choices[0];
  if (type === 'TextArea' && Array.isArray(copy.text) && copy.text.length === 1) return copy.text[0];
  if ((type === 'Chat' || type === 'chatmessage') && Object.hasOwn(copy, 'chatmessage')) return copy.chatmessage;
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
