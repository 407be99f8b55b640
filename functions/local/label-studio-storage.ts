/**
 * What Label Studio's S3 target storage writes for a task (docs/label-studio-storage-and-api.md#object-bodies),
 * built from a task of a JSON export: one object per annotation (the Community default) or one
 * object per task (`FUTURE_SAVE_TASK_TO_STORAGE`). Bodies are Python `json.dumps` output. Used by
 * the demo, the tests and the benchmark to play Label Studio.
 */
import { PY_JSON_COMPACT, stringify } from '../core/json/serialize.ts';
import { isJsonObject, type JsonObject, type JsonValue, keysOf, setKey } from '../core/json/value.ts';

export interface StorageObject {
  key: string;
  body: string;
}

const TASK_OMIT = new Set(['annotations', 'drafts', 'predictions']);

function userObject(id: JsonValue, order: 'annotation' | 'task'): JsonValue {
  if (typeof id !== 'number') return id;
  const email = `annotator${id}@example.com`;
  const o: JsonObject = {};
  setKey(o, 'id', id);
  if (order === 'task') setKey(o, 'email', email);
  setKey(o, 'first_name', '');
  setKey(o, 'last_name', '');
  if (order === 'annotation') setKey(o, 'email', email);
  return o;
}

const join = (prefix: string, name: string) => (prefix ? `${prefix}/${name}` : name);

/** Annotation layout: `<prefix>/<annotation id>`, the task nested under `task`. */
export function annotationObjects(task: JsonObject, prefix: string): StorageObject[] {
  const nested: JsonObject = {};
  for (const k of keysOf(task)) if (!TASK_OMIT.has(k)) setKey(nested, k, task[k]);
  const annotations = (Array.isArray(task.annotations) ? task.annotations : []).filter(isJsonObject);
  setKey(
    nested,
    'is_labeled',
    annotations.some((a) => a.was_cancelled !== true),
  );
  setKey(nested, 'overlap', 1);
  return annotations.map((a) => {
    const by = a.completed_by;
    const o: JsonObject = {};
    setKey(o, 'id', a.id ?? null);
    setKey(o, 'result', a.result ?? []);
    setKey(o, 'created_username', typeof by === 'number' ? ` annotator${by}@example.com, ${by}` : '');
    setKey(o, 'created_ago', '1\u00a0minute');
    setKey(o, 'completed_by', userObject(by ?? null, 'annotation'));
    setKey(o, 'task', nested);
    for (const k of keysOf(a))
      if (!['id', 'result', 'completed_by', 'task', 'prediction', 'result_count', 'unique_id'].includes(k))
        setKey(o, k, a[k]);
    return { key: join(prefix, String(a.id)), body: stringify(o, PY_JSON_COMPACT) };
  });
}

/** Task layout: `<prefix>/<task id>.json`, all annotations inside, drafts/predictions as ids. */
export function taskObject(task: JsonObject, prefix: string, ext = '.json'): StorageObject {
  const o: JsonObject = {};
  for (const k of keysOf(task)) {
    const v = task[k];
    if (k === 'annotations' && Array.isArray(v)) {
      setKey(
        o,
        k,
        v.map((a) => {
          if (!isJsonObject(a)) return a;
          const c: JsonObject = {};
          for (const ak of keysOf(a))
            setKey(c, ak, ak === 'completed_by' ? userObject(a[ak], 'task') : a[ak]);
          return c;
        }),
      );
    } else if ((k === 'drafts' || k === 'predictions') && Array.isArray(v)) {
      setKey(
        o,
        k,
        v.map((x) => (isJsonObject(x) && x.id !== undefined ? x.id : x)),
      );
    } else setKey(o, k, v);
  }
  return { key: join(prefix, `${String(task.id)}${ext}`), body: stringify(o, PY_JSON_COMPACT) };
}
