import { describe, expect, it } from 'vitest';
import { parseJson } from '../../functions/core/json/parse.ts';
import { type JsonObject, NumLit } from '../../functions/core/json/value.ts';
import {
  applyToRecord,
  assembleTask,
  decide,
  effectiveUpdatedAt,
  expireTombstones,
  lineTaskId,
  type Observation,
  parseRecordLine,
  recordLine,
  Shard,
  shardOf,
  type TaskRecord,
} from '../../functions/pipeline/records.ts';
import { compareSequencers } from '../../functions/pipeline/s3-events.ts';

const body = (text: string) => parseJson(text) as JsonObject;
const ann = (id: number, updated: string, extra = '') =>
  body(
    `{"id": ${id}, "result": [], "task": {"id": 5, "data": {"text": "t"}, "updated_at": "${updated}"}, "updated_at": "${updated}"${extra}}`,
  );
const live = (key: string, seq: string, updatedAt: string, b = ann(1, updatedAt)): Observation => ({
  key,
  seq,
  observedAt: '2026-01-01T00:00:00.000Z',
  live: { layout: 'annotation', taskId: '5', updatedAt, body: b },
});
const gone = (key: string, seq: string): Observation => ({
  key,
  seq,
  observedAt: '2026-01-01T00:00:00.000Z',
});

describe('compareSequencers', () => {
  it('orders hex values after left-padding, with the empty sequencer oldest', () => {
    expect(compareSequencers('0A', '00B')).toBeLessThan(0);
    expect(compareSequencers('FF', '0100')).toBeLessThan(0);
    expect(compareSequencers('00ff', '0FF')).toBe(0);
    expect(compareSequencers('', '00')).toBeLessThan(0);
    expect(compareSequencers('1', '')).toBeGreaterThan(0);
  });
});

describe('decide', () => {
  it('takes the newer updated_at, then the newer sequencer, and ignores duplicates', () => {
    const first = decide(undefined, live('k', '02', 'B'))!;
    expect(first.deleted).toBeFalsy();
    expect(decide(first, live('k', '02', 'B'))).toBeUndefined(); // duplicate
    expect(decide(first, live('k', '01', 'A'))).toBeUndefined(); // older event, older content
    expect(decide(first, live('k', '03', 'A'))).toBeUndefined(); // newer event, but older updated_at
    expect(decide(first, live('k', '01', 'C'))?.seq).toBe('01'); // newer content wins even via an older event
    expect(decide(first, live('k', '03', 'B'))?.seq).toBe('03'); // same updated_at: the sequencer decides
  });

  it('lets a deletion win only over older events, and keeps older PUTs from resurrecting', () => {
    const cur = decide(undefined, live('k', '05', 'B'))!;
    expect(decide(cur, gone('k', '04'))).toBeUndefined();
    const tomb = decide(cur, gone('k', '06'))!;
    expect(tomb.deleted).toBe(true);
    expect(decide(tomb, live('k', '05', 'Z'))).toBeUndefined(); // a late read of the old object
    expect(decide(tomb, live('k', '07', 'A'))?.deleted).toBeFalsy(); // re-created afterwards
  });

  it('applies listing reads (force) as read, unless the ETag is unchanged', () => {
    const cur = decide(undefined, { ...live('k', '09', 'B'), etag: '"e1"' })!;
    expect(decide(cur, { ...live('k', '', 'A'), etag: '"e1"', force: true })).toBeUndefined();
    const replaced = decide(cur, { ...live('k', '', 'A'), etag: '"e2"', force: true })!;
    expect(replaced.deleted).toBeFalsy();
    expect(replaced.seq).toBe('09');
    expect(decide(cur, { ...gone('k', ''), force: true })?.deleted).toBe(true);
  });
});

describe('records', () => {
  it('assembles annotation objects into a task, newest nested task, annotations sorted by id', () => {
    const rec: TaskRecord = { taskId: '5', entries: [] };
    applyToRecord(rec, [
      live('p/10', '01', '2026-01-02', ann(10, '2026-01-02')),
      live('p/9', '01', '2026-01-01', ann(9, '2026-01-01')),
    ]);
    const task = assembleTask(rec)!;
    expect((task.annotations as JsonObject[]).map((a) => a.id)).toEqual([9, 10]);
    expect(task.updated_at).toBe('2026-01-02');
    expect((task.annotations as JsonObject[])[0].task).toBe(5);
  });

  it('merges annotation objects over a task object and disappears when every entry is deleted', () => {
    const taskBody = body(
      '{"id": 5, "data": {"text": "t"}, "annotations": [{"id": 9, "updated_at": "A", "result": []}], "updated_at": "A"}',
    );
    const rec: TaskRecord = { taskId: '5', entries: [] };
    applyToRecord(rec, [
      {
        key: 'p/5.json',
        seq: '01',
        observedAt: 'x',
        live: { layout: 'task', taskId: '5', updatedAt: 'A', body: taskBody },
      },
      live('p/9', '01', 'B', ann(9, 'B', ', "lead_time": 2.0')),
    ]);
    const task = assembleTask(rec)!;
    const anns = task.annotations as JsonObject[];
    expect(anns).toHaveLength(1);
    expect(anns[0].updated_at).toBe('B');
    expect(anns[0].lead_time).toBeInstanceOf(NumLit);
    applyToRecord(rec, [gone('p/5.json', '02'), gone('p/9', '02')]);
    expect(assembleTask(rec)).toBeUndefined();
    expect(expireTombstones(rec, 'y')).toBe(true);
    expect(rec.entries).toHaveLength(0);
  });

  it('round-trips a record line losslessly (2.0, key order, unicode) and reads its id without parsing', () => {
    const b = body(
      '{"id": 1, "result": [{"value": {"x": 2.0, "y": 12345678901234567890}}], "task": {"id": 12, "data": {"text": "Zoë \\u2028"}}, "9": 1, "a": 2}',
    );
    const rec: TaskRecord = { taskId: '12', entries: [] };
    applyToRecord(rec, [
      {
        key: 'p/1',
        seq: '0A',
        observedAt: 'now',
        etag: '"e"',
        live: { layout: 'annotation', taskId: '12', updatedAt: '', body: b },
      },
    ]);
    const line = recordLine(rec);
    expect(line).not.toContain('\n');
    expect(lineTaskId(line)).toBe('12');
    const back = parseRecordLine(line);
    expect(recordLine(back)).toBe(line);
    expect(line).toContain('"x":2.0,"y":12345678901234567890');
    expect(line).toMatch(/"result":.*"9":1,"a":2/);
  });

  it('shards numeric ids by range and keeps task-id order inside a shard', () => {
    expect(shardOf('7', 100)).toBe('n0000000000');
    expect(shardOf('250', 100)).toBe('n0000000002');
    expect(shardOf('abc', 100)).toBe('x');
    const s = new Shard();
    for (const id of ['10', '9', '100'])
      s.set({ taskId: id, entries: [{ key: `k${id}`, deleted: true, seq: '', observedAt: '' }] });
    expect(s.taskIds()).toEqual(['9', '10', '100']);
    expect(Shard.parse(s.serialize()).taskIds()).toEqual(['9', '10', '100']);
  });

  it('a zero-padded id sits next to its value whatever the shard size (QA s10b F1)', () => {
    const ids = ['100', '007', '99', '8', '7'];
    for (const shardTasks of [2, 100, 1000]) {
      const shards = new Map<string, Shard>();
      for (const id of ids) {
        const key = shardOf(id, shardTasks);
        if (!shards.has(key)) shards.set(key, new Shard());
        shards
          .get(key)!
          .set({ taskId: id, entries: [{ key: `k${id}`, deleted: true, seq: '', observedAt: '' }] });
      }
      // Render order: shards by key, tasks in each shard in order (state-source.ts).
      const order = [...shards.keys()].sort().flatMap((k) => shards.get(k)!.taskIds());
      expect([shardTasks, order]).toEqual([shardTasks, ['7', '007', '8', '99', '100']]);
    }
  });

  it('orders task objects by their newest annotation too', () => {
    const t = body(
      '{"id": 1, "data": {}, "updated_at": "2026-01-01", "annotations": [{"id": 2, "updated_at": "2026-02-01"}]}',
    );
    expect(effectiveUpdatedAt('task', t)).toBe('2026-02-01');
    expect(effectiveUpdatedAt('annotation', t)).toBe('2026-01-01');
  });
});
