import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify, UJSON_COMPACT } from '../../../functions/core/json/serialize.ts';
import {
  compareIds,
  parseStorageObject,
  StorageObjectsSource,
} from '../../../functions/core/readers/storage-objects.ts';
import { Report } from '../../../functions/core/report.ts';
import { FsObjectStore } from '../../../functions/storage/fs.ts';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ls-objects-'));
  for (const [key, body] of Object.entries(files)) {
    const path = join(dir, ...key.split('/'));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, body);
  }
  return dir;
}

// Bodies as Label Studio writes them: compact json.dumps, ASCII-escaped.
const annotationObject = (id: number, taskId: number, updatedAt: string, label: string) =>
  JSON.stringify({
    id,
    result: [{ id: `r${id}`, type: 'choices', from_name: 'c', to_name: 't', value: { choices: [label] } }],
    completed_by: { id: 1, first_name: '', last_name: '', email: 'ann@example.com' },
    task: { id: taskId, data: { text: `task \u00e9 ${taskId}` }, meta: {}, project: 22 },
    was_cancelled: false,
    created_at: updatedAt,
    updated_at: updatedAt,
  });

async function readAllTasks(dir: string) {
  const report = new Report();
  const tasks = [];
  for await (const t of new StorageObjectsSource(new FsObjectStore(dir), '').tasks(report)) tasks.push(t);
  return { tasks, report };
}

describe('StorageObjectsSource', () => {
  it('task ids made of digits come out by value, leading zeros aside (QA s10b F1), others after them', async () => {
    const ids = ['100', 'abc', '007', '99', '-5', '8', '7', '07', '0'];
    expect([...ids].sort(compareIds)).toEqual(['0', '7', '07', '007', '8', '99', '100', '-5', 'abc']);
    const task = (id: number | string) => JSON.stringify({ id, data: { text: `t ${id}` }, annotations: [] });
    const dir = folder({
      'a.json': task(100),
      'b.json': task('007'),
      'c.json': task(99),
      'd.json': task(8),
      'e.json': task(7),
    });
    const { tasks } = await readAllTasks(dir);
    expect(tasks.map((t) => t.task.id)).toEqual([7, '007', 8, 99, 100]);
  });

  it('regroups annotation-layout objects (no extension) into tasks, newest updated_at winning', async () => {
    const dir = folder({
      'exports//27': annotationObject(27, 594, '2025-01-01T00:00:00.000000Z', 'old'),
      'exports//28': annotationObject(28, 594, '2025-01-02T00:00:00.000000Z', 'b'),
      'exports//30': annotationObject(30, 12, '2025-01-02T00:00:00.000000Z', 'c'),
      // the same annotation id written again under another key, newer: it wins
      'exports/again/27': annotationObject(27, 594, '2025-03-01T00:00:00.000000Z', 'new'),
    });
    const { tasks, report } = await readAllTasks(dir);
    expect(report.skippedCount).toBe(0);
    expect(tasks.map((t) => t.task.id)).toEqual([12, 594]);
    const t594 = tasks[1].task;
    expect(t594.data).toEqual({ text: 'task é 594' });
    const anns = t594.annotations as Array<{
      id: number;
      task: number;
      result: Array<{ value: { choices: string[] } }>;
    }>;
    expect(anns.map((a) => a.id)).toEqual([27, 28]);
    expect(anns[0].result[0].value.choices).toEqual(['new']);
    expect(anns[0].task).toBe(594);
  });

  it('reads task-layout objects with or without .json, detected by content', async () => {
    const task = (id: number) =>
      JSON.stringify({
        id,
        data: { text: 'x' },
        annotations: [{ id: id * 10, result: [], completed_by: { id: 1 }, updated_at: '2025' }],
        predictions: [1],
        drafts: [],
      });
    const dir = folder({ '5.json': task(5), '7': task(7) });
    const { tasks } = await readAllTasks(dir);
    expect(tasks.map((t) => [t.task.id, t.ref.source])).toEqual([
      [5, '5.json'],
      [7, '7'],
    ]);
  });

  it('reports a non-JSON object and an object of neither layout by key, and reads the rest', async () => {
    const dir = folder({
      '1': annotationObject(1, 1, '2025', 'a'),
      broken: '{"id": 3, "result": [',
      notes: '{"hello": "world"}',
    });
    const { tasks, report } = await readAllTasks(dir);
    expect(tasks).toHaveLength(1);
    expect(report.skipped.map((s) => s.source)).toEqual(['broken', 'notes']);
    expect(report.skipped[0].reason).toMatch(/^invalid JSON: unexpected end of JSON/);
    expect(report.skipped[1].reason).toMatch(/neither an annotation/);
  });

  it('streams a whole JSON export dropped into the folder', async () => {
    const dir = folder({
      'export.json': JSON.stringify([
        { id: 1, data: {}, annotations: [] },
        { id: 2, data: {}, annotations: [] },
      ]),
    });
    const { tasks } = await readAllTasks(dir);
    expect(tasks.map((t) => t.ref.source)).toEqual(['export.json[0]', 'export.json[1]']);
  });

  it('parseStorageObject keeps float literals and key order of the body', () => {
    const parsed = parseStorageObject('{"id": 1, "data": {"z": 2.0, "10": "a", "a": 1}, "annotations": []}');
    expect(parsed.layout).toBe('task');
    if (parsed.layout === 'task')
      expect(stringify(parsed.task.data, UJSON_COMPACT)).toBe('{"z":2.0,"10":"a","a":1}');
  });

  it('one task in two task-layout objects: the latest updated_at is exported, with a warning', async () => {
    const taskObject = (id: number, text: string, updatedAt: string) =>
      JSON.stringify({ id, data: { text }, annotations: [], updated_at: updatedAt });
    const dir = folder({
      'ls/7': taskObject(7, 'newer', '2025-02-01T00:00:00Z'),
      'ls/copy-of-7': taskObject(7, 'older', '2025-01-01T00:00:00Z'),
      'ls/8': taskObject(8, 'alone', '2025-01-01T00:00:00Z'),
    });
    const { tasks, report } = await readAllTasks(dir);
    expect(tasks.map((t) => [t.task.id, (t.task.data as { text: string }).text])).toEqual([
      [7, 'newer'],
      [8, 'alone'],
    ]);
    expect(report.warnings).toEqual([
      {
        source: 'ls/copy-of-7',
        taskId: '7',
        reason:
          'task 7 is also in ls/7: only the copy with the latest updated_at (the later key on a tie) is exported',
      },
    ]);
  });
});
