import { describe, expect, it } from 'vitest';
import { parseJson } from '../../../functions/core/json/parse.ts';
import {
  checkTask,
  detectLayout,
  draftSchema,
  exportSchema,
  predictionSchema,
  resultSchema,
  storageAnnotationSchema,
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
});
