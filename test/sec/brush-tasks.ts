/** Brush inputs for the sec-08 tests, built at test size instead of stored. */
import { maskToRle } from '../../functions/core/brush/rle.ts';

/** A task of `regions` uniform W×H brush regions (as the case's gen-brush.ts, at test size). */
export function brushTask(id: number, regions: number, w: number, h: number) {
  const rle = maskToRle(new Uint8Array(w * h).fill(255));
  const result = Array.from({ length: regions }, (_, r) => ({
    id: `r${r}`,
    from_name: 'tag',
    to_name: 'image',
    type: 'brushlabels',
    original_width: w,
    original_height: h,
    value: { format: 'rle', rle, brushlabels: ['Car'] },
  }));
  return {
    id,
    data: { image: `/x/img${id}.png` },
    annotations: [{ id, completed_by: 1, result, created_at: '2025-01-01T00:00:00Z' }],
  };
}
