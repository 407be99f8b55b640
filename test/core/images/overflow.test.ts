/**
 * Finite percentages can overflow once scaled to pixels (1e308 % of 640 px): COCO and VOC leave
 * such a region out with a reason (images/shapes.ts OVERFLOW) instead of writing Inf/Infinity,
 * which no JSON reader loads (QA s6 newcomer F2).
 */
import { describe, expect, it } from 'vitest';
import { exportWith } from '../../helpers/export.ts';

describe('coordinates that overflow once scaled to pixels', () => {
  const config =
    '<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image"><Label value="Car"/></RectangleLabels></View>';
  const tasks = [
    {
      id: 1,
      data: { image: '/data/upload/1/a.jpg' },
      annotations: [
        {
          id: 1,
          result: [
            {
              id: 'big',
              from_name: 'label',
              to_name: 'image',
              type: 'rectanglelabels',
              original_width: 640,
              original_height: 480,
              value: { x: 1e308, y: 10, width: 1e308, height: 20, rectanglelabels: ['Car'] },
            },
            {
              id: 'ok',
              from_name: 'label',
              to_name: 'image',
              type: 'rectanglelabels',
              original_width: 640,
              original_height: 480,
              value: { x: 10, y: 10, width: 20, height: 20, rectanglelabels: ['Car'] },
            },
          ],
        },
      ],
    },
  ];

  for (const format of ['COCO', 'VOC'] as const)
    it(`${format} leaves the region out with a reason instead of writing Infinity`, async () => {
      const { sink, report } = await exportWith(tasks, config, format);
      const text = [...sink.files.values()].map((b) => b.toString('utf8')).join('\n');
      expect(text).not.toMatch(/Inf/);
      expect(report.skipped.map((s) => s.reason)).toEqual([
        expect.stringMatching(/^its coordinates overflow when scaled to pixels/),
      ]);
      if (format === 'COCO') expect(JSON.parse(sink.text('result.json')).annotations).toHaveLength(1);
      else expect(text.match(/<object>/g)).toHaveLength(1);
    });
});
