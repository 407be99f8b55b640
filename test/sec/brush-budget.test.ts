/**
 * sec-08: brush output amplification. A few KB of uniform RLE masks decode to huge outputs; the
 * decoded-pixel budget per task and per run bounds that for BRUSH_TO_NUMPY/PNG/COCO, reporting the
 * regions past it, and the RLE decoder is charged before it decodes anything.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PixelBudget } from '../../functions/core/brush/budget.ts';
import { decodeRle, maskToRle } from '../../functions/core/brush/rle.ts';
import { BrushRegionError, decodeBrushMask } from '../../functions/core/formats/brush.ts';
import { exportWith } from '../helpers/export.ts';
import { brushTask } from './brush-tasks.ts';

const CASE = join(import.meta.dirname, '..', 'fixtures', 'cases', 'sec-08-brush-rle-output-amplification');
const CONFIG = readFileSync(join(CASE, 'config.xml'), 'utf8');

describe('decoded brush pixel budget', () => {
  it('charges the declared size before decoding: a refused payload is never decoded', () => {
    const rle = maskToRle(new Uint8Array(100).fill(255));
    // Cut inside the one block: decoding fails, but the budget refuses first, from the header alone.
    const cut = rle.slice(0, 9);
    expect(() => decodeRle(cut)).toThrow('RLE data ends');
    const seen: number[] = [];
    expect(() =>
      decodeRle(cut, {
        beforeDecode: (num) => {
          seen.push(num);
          throw new Error('over budget');
        },
      }),
    ).toThrow('over budget');
    expect(seen).toEqual([400]);
    const budget = new PixelBudget(150, 1000);
    const value = { original_width: 10, original_height: 10, rle };
    expect(decodeBrushMask(value, { maxPixels: 1000, budget }).mask.length).toBe(100);
    expect(() => decodeBrushMask(value, { maxPixels: 1000, budget })).toThrow(BrushRegionError);
    expect(budget.used).toBe(100); // the refused region charged nothing
  });

  for (const format of ['BRUSH_TO_NUMPY', 'BRUSH_TO_PNG'] as const) {
    it(`${format}: regions past the task budget and the run budget are reported and left out`, async () => {
      // 3 tasks × 3 regions of 40×25 = 1,000 pixels; at most 2,500 per task, 5,000 in all.
      const run = await exportWith(
        [brushTask(1, 3, 40, 25), brushTask(2, 3, 40, 25), brushTask(3, 3, 40, 25)],
        CONFIG,
        format,
        {
          brushMaxTaskPixels: 2500,
          brushMaxTotalPixels: 5000,
        },
      );
      const ext = format === 'BRUSH_TO_PNG' ? 'png' : 'npy';
      expect([...run.sink.files.keys()].sort()).toEqual([
        `task-1-annotation-1-by-1-tag-Car-0.${ext}`,
        `task-1-annotation-1-by-1-tag-Car-1.${ext}`,
        `task-2-annotation-2-by-1-tag-Car-0.${ext}`,
        `task-2-annotation-2-by-1-tag-Car-1.${ext}`,
        `task-3-annotation-3-by-1-tag-Car-0.${ext}`,
      ]);
      expect(run.report.skipped.map((s) => [s.taskId, s.reason.replace(/ \(option.*/, '')])).toEqual([
        [
          1,
          `annotation 1, "tag" region 3 (tag-Car-2) left out: the task's brush masks would decode to more than 2500 pixels`,
        ],
        [
          2,
          `annotation 2, "tag" region 3 (tag-Car-2) left out: the task's brush masks would decode to more than 2500 pixels`,
        ],
        [
          3,
          `annotation 3, "tag" region 2 (tag-Car-1) left out: the export's brush masks would decode to more than 5000 pixels`,
        ],
        [
          3,
          `annotation 3, "tag" region 3 (tag-Car-2) left out: the export's brush masks would decode to more than 5000 pixels`,
        ],
      ]);
    });
  }

  it('BRUSH_TO_COCO: the same budget, the excess reported, the JSON valid', async () => {
    const run = await exportWith(
      [brushTask(1, 3, 40, 25), brushTask(2, 3, 40, 25)],
      CONFIG,
      'BRUSH_TO_COCO',
      {
        brushMaxTaskPixels: 2000,
      },
    );
    const coco = JSON.parse(run.sink.text('result_coco.json'));
    expect(coco.annotations.map((a: { image_id: number }) => a.image_id)).toEqual([0, 0, 1, 1]);
    expect(run.report.skipped.map((s) => s.reason)).toEqual([
      `annotation 1, "tag" region 3 left out: the task's brush masks would decode to more than 2000 pixels (option brushMaxTaskPixels; 2000 used, this mask 1000)`,
      `annotation 2, "tag" region 3 left out: the task's brush masks would decode to more than 2000 pixels (option brushMaxTaskPixels; 2000 used, this mask 1000)`,
    ]);
  });

  it('the defaults are 256 Mi pixels per task and 4 Gi per run', async () => {
    const run = await exportWith([brushTask(1, 2, 40, 25)], CONFIG, 'BRUSH_TO_NUMPY');
    expect(run.sink.files.size).toBe(2);
    const { parseExportOptions } = await import('../../functions/core/formats/options.ts');
    const o = parseExportOptions({});
    expect([o.brushMaxTaskPixels, o.brushMaxTotalPixels]).toEqual([2 ** 28, 2 ** 32]);
  });
});
