import { describe, expect, it } from 'vitest';
import { rng } from '../../../bench/generate.ts';
import { parseJson } from '../../../functions/core/json/parse.ts';
import { NumLit } from '../../../functions/core/json/value.ts';
import {
  checkTask,
  detectLayout,
  draftSchema,
  exportSchema,
  predictionSchema,
  resultSchema,
  storageAnnotationSchema,
  taskSchema,
} from '../../../functions/core/model/label-studio.ts';
import { fixture } from '../../helpers/export.ts';

describe('Label Studio data model', () => {
  it('accepts real exports from Label Studio’s converter tests, float literals and all', () => {
    for (const file of [
      'test_export_coco/data.json',
      'test_export_csv/csv_test2.json',
      'test_export_yolo/data_obb.json',
    ]) {
      expect(exportSchema.safeParse(parseJson(fixture(file))).success).toBe(true);
    }
  });

  it('validates results, predictions and drafts by shape, letting unknown fields through', () => {
    expect(
      resultSchema.safeParse({ from_name: 'l', value: { x: 1 }, original_width: 640, extra: true }).success,
    ).toBe(true);
    expect(resultSchema.safeParse({ from_name: 3 }).success).toBe(false);
    expect(
      predictionSchema.safeParse({ result: [], score: parseJson('0.5'), model_version: 'v1' }).success,
    ).toBe(true);
    expect(predictionSchema.safeParse({ result: 'no' }).success).toBe(false);
    expect(draftSchema.safeParse({ result: [], lead_time: 2 }).success).toBe(true);
  });

  it('tells the two storage layouts apart by content', () => {
    const annotation = { id: 27, result: [], completed_by: { id: 1 }, task: { id: 594, data: {} } };
    expect(detectLayout(annotation)).toBe('annotation');
    expect(storageAnnotationSchema.safeParse(annotation).success).toBe(true);
    expect(detectLayout({ id: 594, data: {}, annotations: [] })).toBe('task');
    expect(detectLayout({ hello: 1 })).toBeUndefined();
    expect(detectLayout([1])).toBeUndefined();
  });

  it('explains what makes a task invalid', () => {
    expect(checkTask({ id: 1, data: {} })).toEqual({ ok: true });
    expect(checkTask({ id: 1 })).toEqual({ ok: false, reason: 'not a Label Studio task: data is missing' });
    const bad = checkTask({ id: 1, data: {}, annotations: 'x' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/^not a Label Studio task: annotations: /);
  });

  it('gives zod’s verdict on every shape, also where it skips zod for speed', () => {
    // The verdict zod alone gives (checkTask's rule): the task schema, then each result holder.
    const zodSays = (task: unknown): boolean => {
      const r = taskSchema.safeParse(task);
      if (!r.success) return false;
      for (const key of ['annotations', 'completions', 'predictions', 'drafts'] as const)
        for (const a of r.data[key] ?? [])
          if (
            typeof a === 'object' &&
            a !== null &&
            !Array.isArray(a) &&
            !Array.isArray((a as { result?: unknown }).result)
          )
            if ((a as { result?: unknown }).result != null) return false;
      return true;
    };
    class Box {
      a = 1;
    }
    const odd: unknown[] = [
      undefined,
      null,
      0,
      -1,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '',
      '7',
      true,
      [],
      [1],
      {},
      new Box(),
      Object.create(null),
      parseJson('2.0'),
      parseJson('12345678901234567890'),
      { result: 'x' },
      { result: null },
      { result: [] },
      { result: {} },
      [{ result: 1 }],
    ];
    // A seeded walk over tasks built from those values in every field checkTask reads.
    const random = rng(7);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const holders = () => [
      undefined,
      null,
      [],
      [{ id: 1, result: [{ value: {} }] }],
      'x',
      {},
      [null, 3, 'a', [], { result: [] }],
      [{ result: 'no' }],
      [{}],
      [new Box()],
    ];
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const task: Record<string, unknown> = pick([{}, { extra: true }, Object.create(null)]);
      if (random() < 0.9) task.id = random() < 0.5 ? 1 : pick(odd);
      if (random() < 0.9) task.data = random() < 0.5 ? { image: 'a.jpg' } : pick(odd);
      for (const key of ['annotations', 'completions', 'predictions', 'drafts'])
        if (random() < 0.5) task[key] = random() < 0.8 ? pick(holders()) : pick(odd);
      const ok = zodSays(task);
      if (ok) accepted++;
      expect(checkTask(task).ok, JSON.stringify(task)).toBe(ok);
    }
    // Both verdicts occur, so the comparison says something.
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(2900);
    expect(checkTask(new Box()).ok).toBe(zodSays(new Box()));
    expect(checkTask({ id: new NumLit(1, true, '1.0'), data: {} }).ok).toBe(true);
  });
});
